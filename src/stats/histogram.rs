//! A log-linear histogram of latencies with right-censoring, and the Kaplan-Meier
//! estimate it supports.
//!
//! Pooling the latency of every instance of every replication would need memory that
//! grows with instances x replications. Counts in bins whose width is at most 1/128 of
//! their lower edge (exact below 256 ms) keep the memory fixed, merge by addition (so
//! the result does not depend on the order replications finish in), and bound the
//! quantile error to 0.8% of the value.

use crate::time::SimDuration;

const EXACT_BELOW: u64 = 256;
const SUB_BUCKETS: u64 = 128;

fn bin_of(ms: u64) -> usize {
    if ms < EXACT_BELOW {
        return ms as usize;
    }
    let msb = 63 - u64::from(ms.leading_zeros());
    let shift = msb - 7;
    let sub = ms >> shift;
    (EXACT_BELOW + (shift - 1) * SUB_BUCKETS + (sub - SUB_BUCKETS)) as usize
}

/// `[lo, hi)` of a bin, in milliseconds.
fn bin_bounds(bin: usize) -> (u64, u64) {
    let b = bin as u64;
    if b < EXACT_BELOW {
        return (b, b + 1);
    }
    let j = b - EXACT_BELOW;
    let shift = j / SUB_BUCKETS + 1;
    let sub = j % SUB_BUCKETS + SUB_BUCKETS;
    (sub << shift, (sub + 1) << shift)
}

/// Latencies (events) and censoring times, binned.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LatencyHistogram {
    events: Vec<u64>,
    censored: Vec<u64>,
    max_event: Option<SimDuration>,
}

/// One step of a Kaplan-Meier curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SurvivalPoint {
    /// The upper edge of the bin: the survival holds just after this time.
    pub at: SimDuration,
    /// Estimated fraction still waiting.
    pub survival: f64,
    /// 95% pointwise band (Greenwood's variance on the log-log scale).
    pub lower: f64,
    /// Upper end of the 95% band.
    pub upper: f64,
    /// Instances still waiting at the start of the bin.
    pub at_risk: u64,
}

/// Grows `counts` to hold `bins` bins, and no more: the memory estimate counts a
/// histogram at its bins (see [`LatencyHistogram::bytes_below`]), so the vector must not
/// keep the doubling slack of an amortised growth. Growing is rare: the longest latency
/// so far, in random order, is beaten about ln(n) times in n records.
fn grow_exact(counts: &mut Vec<u64>, bins: usize) {
    if counts.len() < bins {
        counts.reserve_exact(bins - counts.len());
        counts.resize(bins, 0);
    }
}

fn bump(counts: &mut Vec<u64>, bin: usize, by: u64) {
    grow_exact(counts, bin + 1);
    counts[bin] += by;
}

impl LatencyHistogram {
    /// The most bytes a histogram of latencies and censorings shorter than `horizon`
    /// holds: its two count vectors at the bin of `horizon` (a release's latencies and
    /// observation times never exceed the horizon).
    pub fn bytes_below(horizon: SimDuration) -> u128 {
        let bins = bin_of(horizon.as_millis().max(0) as u64) as u128 + 1;
        2 * bins * std::mem::size_of::<u64>() as u128
    }

    /// An instance updated after `latency`.
    pub fn record_event(&mut self, latency: SimDuration) {
        bump(
            &mut self.events,
            bin_of(latency.as_millis().max(0) as u64),
            1,
        );
        self.max_event = self.max_event.max(Some(latency));
    }

    /// The instance was still waiting (or left) after `observed_for`.
    pub fn record_censored(&mut self, observed_for: SimDuration) {
        bump(
            &mut self.censored,
            bin_of(observed_for.as_millis().max(0) as u64),
            1,
        );
    }

    /// A histogram from its bin counts and longest latency (as [`counts`](Self::counts)
    /// gives them), e.g. read back from a part file.
    pub fn from_counts(
        events: Vec<u64>,
        censored: Vec<u64>,
        max_event: Option<SimDuration>,
    ) -> LatencyHistogram {
        LatencyHistogram {
            events,
            censored,
            max_event,
        }
    }

    /// Whether the counts can be read without overflow: no bin past the longest
    /// representable latency, and a total that fits in 64 bits (true of every histogram
    /// a run builds; checked for histograms read back from files).
    pub fn is_well_formed(&self) -> bool {
        let bins = bin_of(i64::MAX as u64) + 1;
        self.events.len() <= bins
            && self.censored.len() <= bins
            && self
                .events
                .iter()
                .chain(&self.censored)
                .try_fold(0u64, |sum, c| sum.checked_add(*c))
                .is_some()
    }

    /// The bin counts of updates and of censorings, and the longest latency.
    pub fn counts(&self) -> (&[u64], &[u64], Option<SimDuration>) {
        (&self.events, &self.censored, self.max_event)
    }

    /// Adds another histogram's counts to this one.
    pub fn merge(&mut self, other: &LatencyHistogram) {
        for (mine, theirs) in [
            (&mut self.events, &other.events),
            (&mut self.censored, &other.censored),
        ] {
            grow_exact(mine, theirs.len());
            // Saturating: counts read back from part files are input too.
            mine.iter_mut()
                .zip(theirs)
                .for_each(|(m, t)| *m = m.saturating_add(*t));
        }
        self.max_event = self.max_event.max(other.max_event);
    }

    /// Instances that updated.
    pub fn event_count(&self) -> u64 {
        self.events.iter().sum()
    }

    /// Instances censored (still waiting or gone).
    pub fn censored_count(&self) -> u64 {
        self.censored.iter().sum()
    }

    /// The largest latency observed, exactly.
    pub fn max_event(&self) -> Option<SimDuration> {
        self.max_event
    }

    /// Fraction of instances whose latency was censored.
    pub fn censored_fraction(&self) -> Option<f64> {
        let total = self.event_count() + self.censored_count();
        (total > 0).then(|| self.censored_count() as f64 / total as f64)
    }

    /// The Kaplan-Meier steps, one per bin with events, in time order. Within a bin,
    /// events are taken before censorings (the usual convention for ties).
    fn kaplan_meier(&self) -> Vec<KaplanMeierStep> {
        let mut at_risk = self.event_count() + self.censored_count();
        let mut survival = 1.0;
        let mut greenwood = 0.0;
        let mut steps = Vec::new();
        for bin in 0..self.events.len().max(self.censored.len()) {
            let d = self.events.get(bin).copied().unwrap_or(0);
            let c = self.censored.get(bin).copied().unwrap_or(0);
            if d > 0 && at_risk > 0 {
                let n = at_risk as f64;
                let before = survival;
                survival *= 1.0 - d as f64 / n;
                if at_risk > d {
                    greenwood += d as f64 / (n * (n - d as f64));
                }
                steps.push(KaplanMeierStep {
                    bin,
                    before,
                    after: survival,
                    greenwood,
                    at_risk,
                });
            }
            at_risk -= d + c;
        }
        steps
    }

    /// The Kaplan-Meier curve, one point per bin with events, with its pointwise band.
    pub fn survival_curve(&self) -> Vec<SurvivalPoint> {
        self.kaplan_meier()
            .into_iter()
            .map(|step| {
                let (lower, upper) = log_log_band(step.after, step.greenwood);
                SurvivalPoint {
                    at: SimDuration::from_millis(bin_bounds(step.bin).1 as i64),
                    survival: step.after,
                    lower,
                    upper,
                    at_risk: step.at_risk,
                }
            })
            .collect()
    }

    /// The latency by which a fraction `q` of instances had updated, by Kaplan-Meier,
    /// interpolated within its bin; `None` when the curve never falls that far (the
    /// quantile lies beyond the censoring).
    pub fn quantile(&self, q: f64) -> Option<SimDuration> {
        self.quantiles(&[q])[0]
    }

    /// [`quantile`](Self::quantile) at each of `qs`, from one Kaplan-Meier pass.
    pub fn quantiles(&self, qs: &[f64]) -> Vec<Option<SimDuration>> {
        let steps = self.kaplan_meier();
        qs.iter()
            .map(|&q| {
                let step = steps.iter().find(|s| 1.0 - s.after >= q - 1e-12)?;
                let (lo, hi) = bin_bounds(step.bin);
                let frac = ((q - (1.0 - step.before)) / (step.before - step.after)).clamp(0.0, 1.0);
                let value = lo as f64 + frac * (hi - lo) as f64;
                let capped = self
                    .max_event
                    .map_or(value, |m| value.min(m.as_millis_f64()));
                Some(SimDuration::from_millis_f64(capped))
            })
            .collect()
    }
}

/// One step of a Kaplan-Meier curve: the survival just before and just after the events
/// of one bin, Greenwood's sum so far, and how many were at risk.
struct KaplanMeierStep {
    bin: usize,
    before: f64,
    after: f64,
    greenwood: f64,
    at_risk: u64,
}

/// Kolmogorov's log(-log S) transform keeps the band inside [0, 1].
fn log_log_band(survival: f64, greenwood: f64) -> (f64, f64) {
    if survival <= 0.0 || survival >= 1.0 {
        return (survival, survival);
    }
    let ln_s = libm::log(survival);
    let se = (greenwood / (ln_s * ln_s)).sqrt();
    let lower = libm::pow(survival, libm::exp(1.959_964 * se));
    let upper = libm::pow(survival, libm::exp(-1.959_964 * se));
    (lower, upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bins_tile_the_line_without_gaps() {
        let mut expected_lo = 0;
        for bin in 0..3000 {
            let (lo, hi) = bin_bounds(bin);
            assert_eq!(lo, expected_lo, "bin {bin}");
            assert!(hi > lo);
            assert_eq!(bin_of(lo), bin);
            assert_eq!(bin_of(hi - 1), bin);
            if lo >= EXACT_BELOW {
                assert!((hi - lo) as f64 <= lo as f64 / 128.0 + 1e-9);
            }
            expected_lo = hi;
        }
    }

    #[test]
    fn without_censoring_quantiles_are_the_empirical_ones() {
        let mut h = LatencyHistogram::default();
        for ms in 1..=100 {
            h.record_event(SimDuration::from_millis(ms));
        }
        // exact 1 ms bins below 256 ms: the 50% point is reached inside the bin of 50 ms
        let q50 = h.quantile(0.5).unwrap().as_millis();
        assert!((50..=51).contains(&q50), "{q50}");
        assert_eq!(h.quantile(1.0).unwrap().as_millis(), 100);
        assert_eq!(h.censored_fraction(), Some(0.0));
    }

    #[test]
    fn kaplan_meier_handles_censoring() {
        // Classic example: events at 1,2,3 with censoring at 2 (after the event) and 4.
        let mut h = LatencyHistogram::default();
        for ms in [1, 2, 3] {
            h.record_event(SimDuration::from_millis(ms));
        }
        h.record_censored(SimDuration::from_millis(2));
        h.record_censored(SimDuration::from_millis(4));
        let curve = h.survival_curve();
        // S(1) = 4/5, S(2) = 4/5*3/4 = 3/5, S(3) = 3/5*(1-1/2) = 3/10
        let s: Vec<f64> = curve.iter().map(|p| p.survival).collect();
        for (got, want) in s.iter().zip([0.8, 0.6, 0.3]) {
            assert!((got - want).abs() < 1e-12, "{s:?}");
        }
        assert!(
            curve
                .iter()
                .all(|p| p.lower <= p.survival && p.survival <= p.upper)
        );
        assert!(h.quantile(0.8).is_none(), "S never falls below 0.3");
        assert_eq!(h.censored_fraction(), Some(0.4));
    }

    #[test]
    fn merging_is_order_independent() {
        let mut a = LatencyHistogram::default();
        let mut b = LatencyHistogram::default();
        a.record_event(SimDuration::from_hours(3));
        b.record_event(SimDuration::from_millis(7));
        b.record_censored(SimDuration::from_days(9));
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab, ba);
    }

    #[test]
    fn a_histogram_never_holds_more_than_its_bound_for_the_horizon() {
        let horizon = SimDuration::from_days(30);
        let bound = LatencyHistogram::bytes_below(horizon);
        let held = |h: &LatencyHistogram| 8 * (h.events.capacity() + h.censored.capacity()) as u128;
        // Latencies rising to the horizon one bin at a time (the worst growth order),
        // then merged into another: capacity stays the bins, never the doubled slack.
        let mut rising = LatencyHistogram::default();
        let mut ms = 1u64;
        while ms < horizon.as_millis() as u64 {
            rising.record_event(SimDuration::from_millis(ms as i64));
            rising.record_censored(SimDuration::from_millis(ms as i64));
            ms = ms + ms / 200 + 1;
        }
        rising.record_event(horizon);
        rising.record_censored(horizon);
        assert!(held(&rising) <= bound, "{} > {bound}", held(&rising));
        assert_eq!(
            held(&rising),
            bound,
            "filled to the horizon, it is the bound"
        );
        let mut merged = LatencyHistogram::default();
        merged.record_event(SimDuration::from_hours(1));
        merged.merge(&rising);
        assert!(held(&merged) <= bound);
    }
}
