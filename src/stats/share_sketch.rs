//! Summaries of shares (values in [0, 1]) whose size does not grow with how many values
//! they summarise, and whose state depends only on the multiset of values added, never
//! on their order: so sketches built on any number of threads, or in shards merged in
//! any grouping, are identical bit for bit.
//!
//! A cell keeps its distinct values exactly while they are few (shares of a fixed field
//! take few values); past [`DISTINCT_LIMIT`] it counts values on a fixed grid of
//! `1 / GRID`, and its quantiles are then within [`SKETCH_ERROR`] of the exact ones. Both
//! forms keep only occupied values, as sorted (value, count) pairs.
//!
//! Why not a published quantile sketch: `DDSketch` (`sketches-ddsketch`) spends its
//! relative-error buckets near zero, where a share needs none, and its stored state
//! cannot be checked before use, so a crafted part file could make a merge panic. A
//! grid on [0, 1] states its error in the units the reports print (share points) and
//! can be validated field by field.

use serde::{Deserialize, Serialize};

/// Grid steps per unit share once a sketch holds too many distinct values.
pub(super) const GRID: u32 = 2048;

/// The most distinct values a [`ShareSketch`] keeps exactly.
pub(super) const DISTINCT_LIMIT: usize = 64;

/// The most a `ShareSketch` quantile can differ from the exact interpolated quantile
/// of the same values: half a grid step (and 0 while the values are kept exactly).
pub const SKETCH_ERROR: f64 = 0.5 / GRID as f64;

/// The fraction bits of [`ExactSum`].
const FRACTION_BITS: i32 = 52;

/// Shares and how often each occurred: exact values, or grid steps.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Values {
    /// Distinct values, increasing, with their counts.
    Exact(Vec<f64>, Vec<u32>),
    /// Occupied grid steps (value `step / GRID`), increasing, with their counts.
    Grid(Vec<u16>, Vec<u32>),
}

/// The shares of one cell over replications, summarised for quantiles, with the exact
/// least and greatest value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ShareSketch {
    values: Values,
    /// The least value added.
    min: f64,
    /// The greatest value added.
    max: f64,
}

impl Default for ShareSketch {
    fn default() -> Self {
        ShareSketch {
            values: Values::Exact(Vec::new(), Vec::new()),
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

fn step_of(share: f64) -> u16 {
    (share.clamp(0.0, 1.0) * f64::from(GRID)).round() as u16
}

/// Adds `count` at `key` in sorted parallel vectors.
fn add_at<K: PartialOrd + Copy>(keys: &mut Vec<K>, counts: &mut Vec<u32>, key: K, count: u32) {
    let at = keys.partition_point(|k| *k < key);
    if keys.get(at) == Some(&key) {
        counts[at] = counts[at].saturating_add(count);
    } else {
        keys.insert(at, key);
        counts.insert(at, count);
    }
}

impl ShareSketch {
    /// Values added so far.
    pub(crate) fn count(&self) -> u64 {
        let counts = match &self.values {
            Values::Exact(_, c) | Values::Grid(_, c) => c,
        };
        counts.iter().map(|&c| u64::from(c)).sum()
    }

    /// Adds one share (clamped to [0, 1]).
    pub(crate) fn add(&mut self, share: f64) {
        let share = share.clamp(0.0, 1.0);
        self.add_count(share, 1);
        self.min = self.min.min(share);
        self.max = self.max.max(share);
    }

    fn add_count(&mut self, share: f64, count: u32) {
        match &mut self.values {
            Values::Exact(values, counts) => {
                add_at(values, counts, share, count);
                if values.len() > DISTINCT_LIMIT {
                    self.move_to_grid();
                }
            }
            Values::Grid(steps, counts) => add_at(steps, counts, step_of(share), count),
        }
    }

    /// Moves exact values onto the grid (for good: the form depends only on the values).
    fn move_to_grid(&mut self) {
        if let Values::Exact(values, counts) = &self.values {
            let (mut steps, mut grid) = (Vec::new(), Vec::new());
            for (&v, &c) in values.iter().zip(counts) {
                add_at(&mut steps, &mut grid, step_of(v), c);
            }
            self.values = Values::Grid(steps, grid);
        }
    }

    /// Adds every value of `other`.
    pub(crate) fn merge(&mut self, other: &ShareSketch) {
        match &other.values {
            Values::Exact(values, counts) => {
                for (&v, &c) in values.iter().zip(counts) {
                    self.add_count(v, c);
                }
            }
            Values::Grid(steps, counts) => {
                self.move_to_grid();
                if let Values::Grid(mine, grid) = &mut self.values {
                    for (&s, &c) in steps.iter().zip(counts) {
                        add_at(mine, grid, s, c);
                    }
                }
            }
        }
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// The `k`-th smallest value (from 0).
    fn order_statistic(&self, k: u64) -> f64 {
        let mut seen = 0u64;
        match &self.values {
            Values::Exact(values, counts) => {
                for (&v, &c) in values.iter().zip(counts) {
                    seen += u64::from(c);
                    if seen > k {
                        return v;
                    }
                }
            }
            Values::Grid(steps, counts) => {
                for (&s, &c) in steps.iter().zip(counts) {
                    seen += u64::from(c);
                    if seen > k {
                        return f64::from(s) / f64::from(GRID);
                    }
                }
            }
        }
        self.max
    }

    /// The `q` quantile by the same interpolation as [`super::quantile_sorted`]: exact
    /// while the values are kept exactly, else each order statistic taken at its grid
    /// step (within [`SKETCH_ERROR`]) and the result kept inside the values' exact range.
    /// `None` when empty.
    pub(crate) fn quantile(&self, q: f64) -> Option<f64> {
        let n = self.count();
        if n == 0 {
            return None;
        }
        let h = (n - 1) as f64 * q;
        let lo = h.floor() as u64;
        let hi = (lo + 1).min(n - 1);
        let (a, b) = (self.order_statistic(lo), self.order_statistic(hi));
        Some((a + (h - lo as f64) * (b - a)).clamp(self.min, self.max))
    }

    /// Whether a stored sketch (from a part file) is one that adding shares could make.
    pub(crate) fn is_well_formed(&self) -> bool {
        let (first, last, counts) = match &self.values {
            Values::Exact(values, counts) => {
                let ok = values.len() == counts.len()
                    && values.len() <= DISTINCT_LIMIT
                    && values.windows(2).all(|w| w[0] < w[1]);
                if !ok {
                    return false;
                }
                (values.first().copied(), values.last().copied(), counts)
            }
            Values::Grid(steps, counts) => {
                let ok = steps.len() == counts.len()
                    && !steps.is_empty()
                    && steps.windows(2).all(|w| w[0] < w[1])
                    && steps.last().is_some_and(|&s| u32::from(s) <= GRID);
                if !ok {
                    return false;
                }
                let at = |s: Option<&u16>| s.map(|&s| f64::from(s) / f64::from(GRID));
                let (lo, hi) = (at(steps.first()), at(steps.last()));
                // The exact ends must fall on the first and last occupied steps.
                let fits = |v: f64, s: Option<f64>| {
                    s.is_some_and(|s| f64::from(step_of(v)) / f64::from(GRID) == s)
                };
                if !(fits(self.min, lo) && fits(self.max, hi)) {
                    return false;
                }
                (Some(self.min), Some(self.max), counts)
            }
        };
        match (first, last) {
            (None, None) => self.min == f64::INFINITY && self.max == f64::NEG_INFINITY,
            (Some(lo), Some(hi)) => {
                counts.iter().all(|&c| c > 0)
                    && (0.0..=1.0).contains(&lo)
                    && lo <= hi
                    && hi <= 1.0
                    && lo == self.min
                    && hi == self.max
            }
            _ => false,
        }
    }
}

/// A sum of shares in fixed point (each rounded to `2^-52`), so that adding the same
/// values in any order or grouping gives the same total to the last bit. The rounding
/// moves a mean by less than `2^-53`, below what an `f64` mean can show.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ExactSum(u128);

impl ExactSum {
    /// Adds one share (clamped to [0, 1]).
    pub(crate) fn add(&mut self, share: f64) {
        let fixed = (share.clamp(0.0, 1.0) * 2f64.powi(FRACTION_BITS)).round() as u128;
        self.0 = self.0.saturating_add(fixed);
    }

    /// Adds another sum.
    pub(crate) fn merge(&mut self, other: ExactSum) {
        self.0 = self.0.saturating_add(other.0);
    }

    /// The mean of the `n` values added (0 for none).
    pub(crate) fn mean(&self, n: u64) -> f64 {
        if n == 0 {
            return 0.0;
        }
        self.0 as f64 / 2f64.powi(FRACTION_BITS) / n as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::quantile_sorted;
    use rand_chacha::rand_core::{RngCore, SeedableRng};

    fn shares(seed: u64, n: usize) -> Vec<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        // Concentrated like a version's share at one hour, with ties and the ends.
        (0..n)
            .map(|i| match i % 50 {
                0 => 0.0,
                1 => 1.0,
                _ => {
                    let u = (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
                    0.3 + 0.05 * u.powi(3)
                }
            })
            .collect()
    }

    #[test]
    fn quantiles_are_within_half_a_grid_step_of_the_exact_ones() {
        for n in [1, 2, 3, 20, 999, 5000] {
            let values = shares(n as u64, n);
            let mut sketch = ShareSketch::default();
            values.iter().for_each(|&v| sketch.add(v));
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            for q in [0.0, 0.05, 0.5, 0.95, 1.0] {
                let exact = quantile_sorted(&sorted, q).unwrap();
                let got = sketch.quantile(q).unwrap();
                assert!(
                    (got - exact).abs() <= SKETCH_ERROR + 1e-15,
                    "n {n} q {q}: {got} vs {exact}"
                );
            }
            assert_eq!(sketch.quantile(0.0), Some(sorted[0]));
            assert_eq!(sketch.quantile(1.0), Some(sorted[n - 1]));
            assert!(sketch.is_well_formed());
        }
        assert_eq!(ShareSketch::default().quantile(0.5), None);
        assert!(ShareSketch::default().is_well_formed());
    }

    #[test]
    fn any_order_and_grouping_gives_the_same_bits() {
        let values = shares(7, 3000);
        let (mut whole, mut sum) = (ShareSketch::default(), ExactSum::default());
        values.iter().for_each(|&v| {
            whole.add(v);
            sum.add(v);
        });
        for split in [1, 700, 2999] {
            // The second half first, then merged into the first.
            let (mut a, mut b) = (ShareSketch::default(), ShareSketch::default());
            let (mut sa, mut sb) = (ExactSum::default(), ExactSum::default());
            values[split..].iter().rev().for_each(|&v| {
                b.add(v);
                sb.add(v);
            });
            values[..split].iter().for_each(|&v| {
                a.add(v);
                sa.add(v);
            });
            b.merge(&a);
            sb.merge(sa);
            assert_eq!(b, whole);
            assert_eq!(sb, sum);
        }
        let float_mean = values.iter().sum::<f64>() / values.len() as f64;
        assert!((sum.mean(values.len() as u64) - float_mean).abs() < 1e-13);
    }

    #[test]
    fn malformed_sketches_are_recognised() {
        let mut s = ShareSketch::default();
        s.add(0.25);
        s.add(0.5);
        assert!(s.is_well_formed());
        let mut wrong = s.clone();
        wrong.min = 0.75;
        assert!(!wrong.is_well_formed());
        let mut wrong = s.clone();
        wrong.values = Values::Exact(vec![0.5, 0.25], vec![1, 1]);
        assert!(!wrong.is_well_formed());
        let mut wrong = s.clone();
        wrong.values = Values::Exact(vec![0.25, 0.5], vec![1, 0]);
        assert!(!wrong.is_well_formed());
        let mut grid = ShareSketch::default();
        (0..=100).for_each(|i| grid.add(f64::from(i) / 100.0));
        assert!(matches!(grid.values, Values::Grid(..)) && grid.is_well_formed());
        let mut wrong = grid.clone();
        wrong.values = Values::Grid(vec![0, 9000], vec![1, 1]);
        assert!(!wrong.is_well_formed());
    }
}
