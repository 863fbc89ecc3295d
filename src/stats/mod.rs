//! Statistics shared by the Monte Carlo driver and the reports: summaries over
//! replications (with censoring) and latency histograms with Kaplan-Meier estimates.

mod distributions;
mod histogram;
mod normal;
mod select;
mod share_sketch;
pub(crate) mod sweep_key;

pub use distributions::{
    binomial_cdf, gamma_cdf, gamma_quantile, normal_cdf, sign_test_p_value, students_t_quantile,
    students_t_two_sided_p,
};
pub use histogram::{LatencyHistogram, SurvivalPoint};
pub(crate) use normal::standard_normal_quantile;
pub(crate) use select::values_at_ranks;
pub use share_sketch::SKETCH_ERROR;
pub(crate) use share_sketch::{ExactSum, ShareSketch};

/// Quantile of sorted data by linear interpolation between order statistics
/// (Hyndman and Fan type 7, the default of R and `NumPy`).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// [`quantile_sorted`] of data in any order: the same value by selecting the two order
/// statistics it needs (linear time) instead of sorting. Reorders `values`.
pub fn quantile_unsorted(values: &mut [f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let h = (values.len() - 1) as f64 * q;
    let lo = h.floor() as usize;
    let (_, at, above) = values.select_nth_unstable_by(lo, f64::total_cmp);
    let a = *at;
    // The next order statistic is the least of those above; none above: the last itself.
    let b = above.iter().copied().min_by(f64::total_cmp).unwrap_or(a);
    Some(a + (h - lo as f64) * (b - a))
}

/// The `p` quantile of Student's t with `n - 1` degrees of freedom (`None` below two
/// values): the one-sided critical value at confidence `p`.
pub fn t_quantile(n: usize, p: f64) -> Option<f64> {
    if n < 2 {
        return None;
    }
    Some(students_t_quantile(p, (n - 1) as f64))
}

/// The two-sided 95% Student t critical value for `n - 1` degrees of freedom.
pub fn t_critical_95(n: usize) -> Option<f64> {
    t_quantile(n, 0.975)
}

/// One figure summarised over replications (`STAT` in the report contract).
///
/// `n` values were observed; `censored` did not happen before the horizon. Every
/// statistic is over the observed values and is `null` when there are none; `std` and
/// `ci95` need at least two.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Summary {
    /// Observed values.
    pub n: u64,
    /// Values that did not happen before the horizon.
    pub censored: u64,
    /// Mean of the observed values.
    pub mean: Option<f64>,
    /// Sample standard deviation.
    pub std: Option<f64>,
    /// 95% confidence interval of the mean (Student's t).
    pub ci95: Option<[f64; 2]>,
    /// Smallest observed value.
    pub min: Option<f64>,
    /// 5th percentile.
    pub p5: Option<f64>,
    /// Median.
    pub p50: Option<f64>,
    /// 95th percentile.
    pub p95: Option<f64>,
    /// Largest observed value.
    pub max: Option<f64>,
}

impl Summary {
    /// Summarises values, `None` meaning censored.
    pub fn of(values: impl IntoIterator<Item = Option<f64>>) -> Summary {
        let mut censored = 0;
        let mut observed = Vec::new();
        for v in values {
            match v {
                Some(x) => observed.push(x),
                None => censored += 1,
            }
        }
        observed.sort_by(f64::total_cmp);
        let n = observed.len();
        let mean = (n > 0).then(|| observed.iter().sum::<f64>() / n as f64);
        let std = mean.filter(|_| n >= 2).map(|m| {
            (observed.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (n - 1) as f64).sqrt()
        });
        let ci95 = match (mean, std, t_critical_95(n)) {
            (Some(m), Some(s), Some(t)) => {
                let half = t * s / (n as f64).sqrt();
                Some([m - half, m + half])
            }
            _ => None,
        };
        let q = |p| quantile_sorted(&observed, p);
        Summary {
            n: n as u64,
            censored,
            mean,
            std,
            ci95,
            min: observed.first().copied(),
            p5: q(0.05),
            p50: q(0.5),
            p95: q(0.95),
            max: observed.last().copied(),
        }
    }
}

/// The q-quantile of values some of which are censored (known only to exceed every
/// observed value, as figures that did not happen before the horizon do).
///
/// Censored values sort above everything; the quantile is defined only when its
/// interpolation does not touch them. `None` means too many are censored to say.
pub fn quantile_with_censoring(values: &[Option<f64>], q: f64) -> Option<f64> {
    let mut observed: Vec<f64> = values.iter().flatten().copied().collect();
    observed.sort_by(f64::total_cmp);
    let total = values.len();
    if total == 0 {
        return None;
    }
    let h = (total - 1) as f64 * q;
    let hi = (h.floor() as usize + 1).min(total - 1);
    let needed = if h.fract() == 0.0 { h as usize } else { hi };
    if needed >= observed.len() {
        return None;
    }
    // All indices used by the interpolation are observed, so this equals type 7 on the
    // full (censored-at-infinity) sample.
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(total - 1).min(observed.len() - 1);
    Some(observed[lo] + h.fract() * (observed[hi] - observed[lo]))
}

/// A distribution-free confidence interval for the q-quantile from order statistics.
///
/// With `B ~ Binomial(n, q)`, the interval `[X_(l), X_(u)]` covers the true quantile with
/// probability `P(l <= B < u) >= confidence` (for continuous data). Censored values sort
/// above every observed one: a bound that lands on one is `None` (beyond the horizon),
/// as is a lower bound when `n` is too small to have one.
pub fn quantile_ci(values: &[Option<f64>], q: f64, confidence: f64) -> (Option<f64>, Option<f64>) {
    let n = values.len() as u64;
    let mut observed: Vec<f64> = values.iter().flatten().copied().collect();
    observed.sort_by(f64::total_cmp);
    if n == 0 {
        return (None, None);
    }
    let alpha = 1.0 - confidence;
    if !(0.0..=1.0).contains(&q) {
        return (None, None);
    }
    // P(B <= k) rises with k, so each bound is a binary search over 1..=n.
    let cdf_below = |order: u64| binomial_cdf(order - 1, n, q);
    let orders: Vec<u64> = (1..=n).collect();
    // l: the largest order (1-based) with P(B <= l - 1) <= alpha/2.
    let l = orders
        .partition_point(|&l| cdf_below(l) <= alpha / 2.0)
        .checked_sub(1)
        .map(|i| orders[i]);
    // u: the smallest order with P(B <= u - 1) >= 1 - alpha/2.
    let u = orders
        .get(orders.partition_point(|&u| cdf_below(u) < 1.0 - alpha / 2.0))
        .copied();
    let order = |k: u64| observed.get(k as usize - 1).copied();
    (l.and_then(order), u.and_then(order))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type7_quantiles_match_numpy() {
        let data = [1.0, 2.0, 3.0, 4.0, 10.0];
        // numpy.quantile([1,2,3,4,10], [0, .05, .5, .95, 1]) = 1, 1.2, 3, 8.8, 10
        let got: Vec<f64> = [0.0, 0.05, 0.5, 0.95, 1.0]
            .iter()
            .map(|&q| quantile_sorted(&data, q).unwrap())
            .collect();
        let want = [1.0, 1.2, 3.0, 8.8, 10.0];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
    }

    #[test]
    fn summary_counts_censored_and_uses_student_t() {
        let s = Summary::of([Some(1.0), Some(2.0), Some(3.0), None]);
        assert_eq!((s.n, s.censored), (3, 1));
        assert_eq!(s.mean, Some(2.0));
        assert_eq!(s.std, Some(1.0));
        // t(0.975, 2 df) = 4.302653
        let [lo, hi] = s.ci95.unwrap();
        assert!((hi - 2.0 - 4.302_653 / 3f64.sqrt()).abs() < 1e-5);
        assert!((2.0 - lo - (hi - 2.0)).abs() < 1e-12);
    }

    #[test]
    fn summary_of_nothing_observed_is_null() {
        let s = Summary::of([None, None]);
        assert_eq!((s.n, s.censored), (0, 2));
        assert!(s.mean.is_none() && s.p50.is_none() && s.ci95.is_none());
        let one = Summary::of([Some(4.0)]);
        assert_eq!(one.mean, Some(4.0));
        assert!(one.std.is_none() && one.ci95.is_none());
    }

    #[test]
    fn order_statistic_interval_for_the_median_of_20() {
        // Binomial(20, 1/2): P(B <= 5) = 0.0207 <= 0.025 < P(B <= 6) = 0.0577, so l = 6
        // and by symmetry u = 15: the classic [X_(6), X_(15)].
        let v: Vec<Option<f64>> = (1..=20).map(|i| Some(f64::from(i))).collect();
        assert_eq!(quantile_ci(&v, 0.5, 0.95), (Some(6.0), Some(15.0)));
        // Censor the top 6: the upper bound lands on a censored value.
        let c: Vec<Option<f64>> = (1..=20)
            .map(|i| (i <= 14).then_some(f64::from(i)))
            .collect();
        assert_eq!(quantile_ci(&c, 0.5, 0.95), (Some(6.0), None));
    }

    #[test]
    fn censored_quantile_is_defined_only_below_the_censored_mass() {
        let mut v: Vec<Option<f64>> = (1..=19).map(|i| Some(f64::from(i))).collect();
        v.push(None); // 20 values, the largest censored
        // h = 19 * 0.9 = 17.1 -> between the 18th and 19th observed: 18.1
        assert!((quantile_with_censoring(&v, 0.9).unwrap() - 18.1).abs() < 1e-12);
        // h = 19 * 0.95 = 18.05 touches index 19, which is censored.
        assert_eq!(quantile_with_censoring(&v, 0.95), None);
        let all: Vec<Option<f64>> = (1..=20).map(|i| Some(f64::from(i))).collect();
        assert_eq!(
            quantile_with_censoring(&all, 0.95),
            quantile_sorted(&(1..=20).map(f64::from).collect::<Vec<_>>(), 0.95)
        );
    }

    #[test]
    fn selection_gives_the_quantiles_a_sort_gives() {
        // Deterministic data with ties, of every length up to 60.
        for n in 1..60usize {
            let data: Vec<f64> = (0..n).map(|i| ((i * 7919) % 13) as f64 / 4.0).collect();
            let mut sorted = data.clone();
            sorted.sort_by(f64::total_cmp);
            for q in [0.0, 0.05, 0.1, 0.5, 0.9, 0.95, 1.0] {
                let mut scratch = data.clone();
                assert_eq!(
                    quantile_unsorted(&mut scratch, q),
                    quantile_sorted(&sorted, q),
                    "n {n}, q {q}"
                );
            }
        }
        assert_eq!(quantile_unsorted(&mut [], 0.5), None);
    }
}
