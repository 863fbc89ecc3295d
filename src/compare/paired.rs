//! The statistics of a paired comparison: each side's summary, the paired difference
//! with its confidence interval, restricted times and the sign test.

use serde::Serialize;

use crate::model::Figure;
use crate::stats::{Summary, sign_test_p_value, students_t_quantile, t_critical_95};

/// One policy's side of a comparison, from its per-replication values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Side {
    /// Mean over the replications where the figure was observed (hours after this
    /// side's own release deploy, or a count or share).
    pub mean: Option<f64>,
    /// Replications where the figure was observed.
    pub n: u64,
    /// Replications where the figure was censored.
    pub censored: u64,
    /// Time figures: the mean on the baseline release's clock with censored
    /// replications counted as the horizon (the restricted mean; a lower bound of the
    /// mean when some were censored). `null` for counts and shares.
    pub restricted_mean: Option<f64>,
}

/// `other - baseline`, replication by replication: the paired t statistics of the
/// values a figure is compared on.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairedDifference {
    /// Replications in which both values are defined (the differences are over these).
    pub pairs: u64,
    /// Replications in which either value is undefined.
    pub censored_pairs: u64,
    /// Mean of the paired differences.
    pub mean: Option<f64>,
    /// 95% confidence interval of the mean paired difference (paired t).
    pub ci95: Option<[f64; 2]>,
    /// Welch's interval from the same replications, ignoring the pairing.
    pub unpaired_ci95: Option<[f64; 2]>,
    /// Unpaired CI width over paired CI width (`null` when the paired width is 0).
    pub unpaired_to_paired_width: Option<f64>,
    /// The paired CI excludes 0.
    pub significant: Option<bool>,
}

/// Which of two time figures came first, replication by replication, a censored one
/// counting as later than any observed one; with the exact two-sided binomial p-value
/// of the sign test over the replications that were not tied.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SignTest {
    /// Replications in which the alternative got there first.
    pub other_first: u64,
    /// Replications in which the baseline got there first.
    pub baseline_first: u64,
    /// Replications in which both got there at the same instant or neither did.
    pub ties: u64,
    /// The sign test's two-sided p-value (`null` when every replication was a tie).
    pub p_value: Option<f64>,
}

/// Which policy a compared figure favours. Every compared figure is better lower (a
/// shorter time, fewer instances left on old versions).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Better {
    /// The baseline, significantly.
    Baseline,
    /// The alternative, significantly.
    Other,
    /// Neither: the difference is not significant at these replications.
    Neither,
}

/// What a compared figure measures, which fixes its unit and how it is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// A time to an event, censored at the horizon: compared on the restricted mean.
    Hours,
    /// A count of instances.
    Instances,
    /// A share of the active instances, from 0 to 1.
    Share,
}

impl Unit {
    /// What a figure named in `check`'s vocabulary measures (`left_behind@1`,
    /// `coexistence@0`, `latency:0.5@0`, ...): counts and shares by name, every other
    /// figure a time.
    pub fn of_name(name: &str) -> Unit {
        match name.split('@').next().unwrap_or_default() {
            "left_behind" | "left_over" => Unit::Instances,
            "left_over_share" => Unit::Share,
            _ => Unit::Hours,
        }
    }

    /// What a figure measures.
    pub fn of(figure: Figure) -> Unit {
        match figure {
            Figure::PublishedAfter | Figure::TimeToShare(_) | Figure::Coexistence => Unit::Hours,
            Figure::LeftBehind | Figure::LeftOver => Unit::Instances,
            Figure::LeftOverShare => Unit::Share,
        }
    }
}

pub(super) fn side(values: &[Option<f64>], restricted: Option<&[Option<f64>]>) -> Side {
    let s = Summary::of(values.iter().copied());
    Side {
        mean: s.mean,
        n: s.n,
        censored: s.censored,
        restricted_mean: restricted.and_then(|r| Summary::of(r.iter().copied()).mean),
    }
}

fn mean_var(x: &[f64]) -> (f64, f64) {
    let n = x.len() as f64;
    let m = x.iter().sum::<f64>() / n;
    (
        m,
        x.iter().map(|v| (v - m) * (v - m)).sum::<f64>() / (n - 1.0),
    )
}

/// The paired difference `other - baseline` of one figure over replications, over the
/// replications where both values are defined.
pub fn paired(baseline: &[Option<f64>], other: &[Option<f64>]) -> PairedDifference {
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for (x, y) in baseline.iter().zip(other) {
        if let (Some(x), Some(y)) = (x, y) {
            a.push(*x);
            b.push(*y);
        }
    }
    let pairs = a.len();
    let diffs: Vec<f64> = a.iter().zip(&b).map(|(x, y)| y - x).collect();
    let mut result = PairedDifference {
        pairs: pairs as u64,
        censored_pairs: (baseline.len() - pairs) as u64,
        mean: None,
        ci95: None,
        unpaired_ci95: None,
        unpaired_to_paired_width: None,
        significant: None,
    };
    if pairs == 0 {
        return result;
    }
    let (d, var_d) = if pairs > 1 {
        mean_var(&diffs)
    } else {
        (diffs[0], f64::NAN)
    };
    result.mean = Some(d);
    let Some(t) = t_critical_95(pairs) else {
        return result;
    };
    let n = pairs as f64;
    let half = t * (var_d / n).sqrt();
    result.ci95 = Some([d - half, d + half]);
    result.significant = Some(d - half > 0.0 || d + half < 0.0);
    let ((_, va), (_, vb)) = (mean_var(&a), mean_var(&b));
    let se2 = va / n + vb / n;
    let unpaired_half = if se2 > 0.0 {
        let df = se2 * se2 / ((va / n).powi(2) / (n - 1.0) + (vb / n).powi(2) / (n - 1.0));
        students_t_quantile(0.975, df) * se2.sqrt()
    } else {
        0.0
    };
    result.unpaired_ci95 = Some([d - unpaired_half, d + unpaired_half]);
    result.unpaired_to_paired_width = (half > 0.0).then(|| unpaired_half / half);
    result
}

/// A time figure on the baseline release's clock (`offset`: hours from the baseline
/// release's deploy to this side's), restricted to `horizon` hours after the baseline
/// release's deploy: a censored replication counts as the horizon, so every
/// replication has a value and one that never finished is later than any that did.
pub fn restricted(values: &[Option<f64>], offset: f64, horizon: f64) -> Vec<Option<f64>> {
    values
        .iter()
        .map(|v| Some(v.map_or(horizon, |h| (h + offset).min(horizon))))
        .collect()
}

/// The sign test of two restricted time figures (see [`restricted`]).
pub fn sign_test(baseline: &[Option<f64>], other: &[Option<f64>]) -> SignTest {
    let (mut other_first, mut baseline_first, mut ties) = (0u64, 0u64, 0u64);
    for (b, o) in baseline.iter().zip(other) {
        match (b, o) {
            (Some(b), Some(o)) if o < b => other_first += 1,
            (Some(b), Some(o)) if b < o => baseline_first += 1,
            _ => ties += 1,
        }
    }
    let n = other_first + baseline_first;
    let p_value = (n > 0).then(|| sign_test_p_value(other_first, baseline_first));
    SignTest {
        other_first,
        baseline_first,
        ties,
        p_value,
    }
}

impl Better {
    /// Which policy a paired difference `other - baseline` favours (lower is better).
    pub fn of(difference: &PairedDifference) -> Better {
        match (difference.significant, difference.mean) {
            (Some(true), Some(d)) if d < 0.0 => Better::Other,
            (Some(true), Some(_)) => Better::Baseline,
            _ => Better::Neither,
        }
    }
}
