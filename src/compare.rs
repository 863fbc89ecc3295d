//! Comparing release policies with common random numbers.
//!
//! Scenarios that share a seed and population draw the same instances, phases and admin
//! decisions in every replication, so the per-replication difference of a figure between
//! two policies cancels most of the noise. The paired confidence interval is therefore
//! much narrower than an unpaired one computed from the same replications; both are
//! reported, so the gain is visible.

use statrs::distribution::{ContinuousCDF, StudentsT};

use crate::model::{Figure, FigureRef};
use crate::montecarlo::RunOutput;
use crate::scenario::Scenario;
use crate::stats::{Summary, t_critical_95};

/// One policy's side of a comparison.
#[derive(Clone, Debug, PartialEq)]
pub struct Side {
    /// Mean over the replications where the figure was observed.
    pub mean: Option<f64>,
    /// Replications where the figure was observed.
    pub n: u64,
    /// Replications where the figure was censored.
    pub censored: u64,
}

/// `other - baseline`, replication by replication.
#[derive(Clone, Debug, PartialEq)]
pub struct PairedDifference {
    /// The baseline scenario's side.
    pub baseline: Side,
    /// The other scenario's side.
    pub other: Side,
    /// Replications in which both were observed (the differences are over these).
    pub pairs: u64,
    /// Replications in which either side was censored.
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

fn side(values: &[Option<f64>]) -> Side {
    let s = Summary::of(values.iter().copied());
    Side {
        mean: s.mean,
        n: s.n,
        censored: s.censored,
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

/// The paired difference `other - baseline` of one figure over replications.
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
        baseline: side(baseline),
        other: side(other),
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
        StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |s| s.inverse_cdf(0.975)) * se2.sqrt()
    } else {
        0.0
    };
    result.unpaired_ci95 = Some([d - unpaired_half, d + unpaired_half]);
    result.unpaired_to_paired_width = (half > 0.0).then(|| unpaired_half / half);
    result
}

/// One figure of one release, compared between the baseline and another scenario.
#[derive(Clone, Debug, PartialEq)]
pub struct ComparisonEntry {
    /// The other scenario's name.
    pub scenario: String,
    /// The baseline's release index.
    pub release: usize,
    /// The paired release's index in the other scenario.
    pub other_release: usize,
    /// The baseline release's label.
    pub baseline_label: String,
    /// The paired release's label in the other scenario.
    pub label: String,
    /// `time_to_share_hours[0.9]`, `coexistence_hours` or `left_behind`.
    pub figure: String,
    /// The figure's paired difference.
    pub difference: PairedDifference,
}

/// How the releases of one alternative were paired with the baseline's.
#[derive(Clone, Debug, PartialEq)]
pub struct Pairing {
    /// The other scenario's name.
    pub scenario: String,
    /// `label` (equal labels written in both files) or `index` (release k with k).
    pub by: &'static str,
    /// (baseline release, other release).
    pub pairs: Vec<(usize, usize)>,
    /// Labels of the baseline's releases that have no partner.
    pub unpaired_baseline: Vec<String>,
    /// Labels of the other scenario's releases that have no partner.
    pub unpaired_other: Vec<String>,
}

impl Pairing {
    /// Pairs by label when every release of both scenarios has a written label and at
    /// least one label is shared; otherwise by index.
    pub fn of(base: &Scenario, other: &Scenario) -> Pairing {
        let labelled = |s: &Scenario| s.releases.iter().all(|r| r.label_given);
        let by_label: Vec<(usize, usize)> = base
            .releases
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                other
                    .releases
                    .iter()
                    .position(|o| o.label == r.label)
                    .map(|j| (i, j))
            })
            .collect();
        let (by, pairs) = if labelled(base) && labelled(other) && !by_label.is_empty() {
            ("label", by_label)
        } else {
            let n = base.releases.len().min(other.releases.len());
            ("index", (0..n).map(|k| (k, k)).collect())
        };
        let unpaired = |s: &Scenario, paired: &dyn Fn(usize) -> bool| {
            s.releases
                .iter()
                .enumerate()
                .filter(|(k, _)| !paired(*k))
                .map(|(_, r)| r.label.clone())
                .collect()
        };
        Pairing {
            scenario: other.name.clone(),
            by,
            unpaired_baseline: unpaired(base, &|k| pairs.iter().any(|p| p.0 == k)),
            unpaired_other: unpaired(other, &|k| pairs.iter().any(|p| p.1 == k)),
            pairs,
        }
    }
}

/// A comparison: every paired figure, and how each alternative was paired.
#[derive(Clone, Debug, PartialEq)]
pub struct Comparison {
    /// Every figure of every paired release, alternative by alternative.
    pub entries: Vec<ComparisonEntry>,
    /// One pairing per alternative, in the order given.
    pub pairings: Vec<Pairing>,
}

/// The figures compared for a release present in both scenarios.
fn figures(baseline: &Scenario, other: &Scenario) -> Vec<(String, Figure, Figure)> {
    let mut out = Vec::new();
    for (i, p) in baseline.report.thresholds.iter().enumerate() {
        if let Some(j) = other
            .report
            .thresholds
            .iter()
            .position(|q| (q - p).abs() < 1e-12)
        {
            out.push((
                format!("time_to_share_hours[{p}]"),
                Figure::TimeToShare(i),
                Figure::TimeToShare(j),
            ));
        }
    }
    out.push((
        "coexistence_hours".into(),
        Figure::Coexistence,
        Figure::Coexistence,
    ));
    if baseline.policy.drop_old_support_after.is_some()
        && other.policy.drop_old_support_after.is_some()
    {
        out.push(("left_behind".into(), Figure::LeftBehind, Figure::LeftBehind));
    }
    out
}

/// Compares every scenario after the first with the first (the baseline), release by
/// release (paired as [`Pairing::of`] says) and figure by figure.
pub fn compare(runs: &[(Scenario, RunOutput)]) -> Comparison {
    let (base, base_run) = &runs[0];
    let mut entries = Vec::new();
    let mut pairings = Vec::new();
    for (other, run) in &runs[1..] {
        let pairing = Pairing::of(base, other);
        for &(k, j) in &pairing.pairs {
            for (name, fa, fb) in figures(base, other) {
                let values = |run: &RunOutput, release: usize, figure: Figure| {
                    run.figure_values(FigureRef { release, figure })
                };
                entries.push(ComparisonEntry {
                    scenario: other.name.clone(),
                    release: k,
                    other_release: j,
                    baseline_label: base.releases[k].label.clone(),
                    label: other.releases[j].label.clone(),
                    figure: name,
                    difference: paired(&values(base_run, k, fa), &values(run, j, fb)),
                });
            }
        }
        pairings.push(pairing);
    }
    Comparison { entries, pairings }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_runs_differ_by_exactly_zero() {
        let v: Vec<Option<f64>> = (0..10).map(|i| Some(i as f64 * 1.7)).collect();
        let d = paired(&v, &v);
        assert_eq!(d.mean, Some(0.0));
        assert_eq!(d.ci95, Some([0.0, 0.0]));
        assert_eq!(d.significant, Some(false));
    }

    #[test]
    fn pairing_removes_shared_noise() {
        // other = baseline + 1 + small noise: the paired CI is tight around 1, the
        // unpaired one is as wide as the spread of the baseline.
        let base: Vec<Option<f64>> = (0..30).map(|i| Some((i * 7 % 30) as f64)).collect();
        let other: Vec<Option<f64>> = base
            .iter()
            .enumerate()
            .map(|(i, v)| v.map(|x| x + 1.0 + (i % 3) as f64 * 0.01))
            .collect();
        let d = paired(&base, &other);
        let [lo, hi] = d.ci95.unwrap();
        assert!(lo > 0.99 && hi < 1.03, "{lo} {hi}");
        assert!(d.unpaired_to_paired_width.unwrap() > 100.0);
        assert_eq!(d.significant, Some(true));
    }

    #[test]
    fn censored_replications_are_counted_not_paired() {
        let a = [Some(1.0), None, Some(3.0), Some(4.0)];
        let b = [Some(2.0), Some(5.0), None, Some(6.0)];
        let d = paired(&a, &b);
        assert_eq!((d.pairs, d.censored_pairs), (2, 2));
        assert_eq!(d.mean, Some(1.5));
        assert_eq!((d.baseline.censored, d.other.censored), (1, 1));
    }
}
