//! Comparing release policies with common random numbers.
//!
//! Scenarios that share a seed and population draw the same instances, phases and admin
//! decisions in every replication, so the per-replication difference of a figure between
//! two policies cancels most of the noise. The paired confidence interval is therefore
//! much narrower than an unpaired one computed from the same replications; both are
//! reported, so the gain is visible.
//!
//! A time that did not happen before the horizon is data, not a gap: times are compared
//! on the restricted mean up to the horizon, on the baseline release's clock, with a
//! sign test on which got there first ([`restricted`], [`sign_test`]); releases pair by
//! what they are, or the comparison refuses ([`Pairing::of`]).

mod paired;
mod pairing;

use serde::Serialize;

use crate::model::{Figure, FigureRef};
use crate::montecarlo::RunOutput;
use crate::scenario::Scenario;

use paired::side;
pub use paired::{Better, PairedDifference, Side, SignTest, Unit, paired, restricted, sign_test};
pub use pairing::{Pairing, PairingError, pairings, parse_pairs};

/// One figure of one release, compared between the baseline and another scenario.
#[derive(Clone, Debug, PartialEq, Serialize)]
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
    /// `time_to_share_hours[0.9]`, `coexistence_hours`, `left_behind`,
    /// `left_over_at_horizon` or `left_over_share_at_horizon`.
    pub figure: String,
    /// What the figure measures.
    pub unit: Unit,
    /// When the baseline release was deployed (RFC 3339, UTC): the origin of the
    /// compared times.
    pub baseline_deployed_at: String,
    /// Hours from the baseline release's deploy to the paired release's deploy: time
    /// figures are compared on the baseline release's clock, so a later deploy counts.
    pub deploy_offset_hours: f64,
    /// Time figures: the horizon in hours after the baseline release's deploy, where
    /// censored replications are counted; `null` for counts and shares.
    pub restricted_to_hours: Option<f64>,
    /// The baseline's side.
    pub baseline: Side,
    /// The other scenario's side.
    pub other: Side,
    /// The paired difference `other - baseline` of the compared values: for time
    /// figures the restricted values on the baseline's clock (every replication
    /// paired), otherwise the figure itself.
    pub difference: PairedDifference,
    /// Time figures: which got there first, replication by replication.
    pub sign_test: Option<SignTest>,
    /// Time figures of releases deployed at different times: the paired difference
    /// measured from each release's own deploy instead (both restricted to the
    /// shorter of their horizons), which the deploy offset does not enter; `null`
    /// otherwise.
    pub since_own_deploy: Option<PairedDifference>,
    /// Which policy the figure favours, from the paired interval.
    pub better: Better,
}

impl ComparisonEntry {
    /// Whether the difference is significant.
    pub fn significant(&self) -> bool {
        self.better != Better::Neither
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

/// The figures compared for a release present in both scenarios: (name, the
/// baseline's figure, the other's).
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
    out.push((
        "left_over_at_horizon".into(),
        Figure::LeftOver,
        Figure::LeftOver,
    ));
    out.push((
        "left_over_share_at_horizon".into(),
        Figure::LeftOverShare,
        Figure::LeftOverShare,
    ));
    out
}

/// One release figure compared: baseline release `k` of `base` against release `j` of
/// `other`, their per-replication values given.
pub struct Compared<'a> {
    /// The baseline scenario.
    pub base: &'a Scenario,
    /// The other scenario.
    pub other: &'a Scenario,
    /// The baseline's release.
    pub k: usize,
    /// The other's release.
    pub j: usize,
    /// What the figure measures.
    pub unit: Unit,
}

impl<'a> Compared<'a> {
    /// Figure `fb` of `other` compared with figure `fa` of `base`.
    pub fn of(base: &'a Scenario, other: &'a Scenario, fa: FigureRef, fb: FigureRef) -> Self {
        Compared {
            base,
            other,
            k: fa.release,
            j: fb.release,
            unit: Unit::of(fa.figure),
        }
    }

    /// Hours from the baseline release's deploy to the other's.
    pub fn deploy_offset(&self) -> f64 {
        self.other.releases[self.j].at.as_hours() - self.base.releases[self.k].at.as_hours()
    }

    /// The horizon, in hours after the baseline release's deploy.
    pub fn horizon(&self) -> f64 {
        self.base.horizon.as_hours() - self.base.releases[self.k].at.as_hours()
    }

    /// The values compared, baseline's then other's: time figures restricted on the
    /// baseline release's clock, counts and shares as they are.
    pub fn values(
        &self,
        base: &[Option<f64>],
        other: &[Option<f64>],
    ) -> (Vec<Option<f64>>, Vec<Option<f64>>) {
        match self.unit {
            Unit::Hours => (
                restricted(base, 0.0, self.horizon()),
                restricted(other, self.deploy_offset(), self.horizon()),
            ),
            Unit::Instances | Unit::Share => (base.to_vec(), other.to_vec()),
        }
    }

    /// The paired difference of the compared values.
    pub fn difference(&self, base: &[Option<f64>], other: &[Option<f64>]) -> PairedDifference {
        let (b, o) = self.values(base, other);
        paired(&b, &o)
    }

    /// The entry of figure `name` from each side's per-replication values.
    fn entry(&self, name: String, raw_b: &[Option<f64>], raw_o: &[Option<f64>]) -> ComparisonEntry {
        let (base, other, k, j) = (self.base, self.other, self.k, self.j);
        let (b, o) = self.values(raw_b, raw_o);
        let difference = paired(&b, &o);
        let time = self.unit == Unit::Hours;
        let offset = self.deploy_offset();
        let since_own_deploy = (time && offset != 0.0).then(|| {
            let own = self.horizon() - offset.max(0.0);
            paired(&restricted(raw_b, 0.0, own), &restricted(raw_o, 0.0, own))
        });
        ComparisonEntry {
            scenario: other.name.clone(),
            release: k,
            other_release: j,
            baseline_label: base.releases[k].label.clone(),
            label: other.releases[j].label.clone(),
            figure: name,
            unit: self.unit,
            baseline_deployed_at: base
                .instant(base.releases[k].at)
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            deploy_offset_hours: offset,
            restricted_to_hours: time.then(|| self.horizon()),
            baseline: side(raw_b, time.then_some(b.as_slice())),
            other: side(raw_o, time.then_some(o.as_slice())),
            sign_test: time.then(|| sign_test(&b, &o)),
            since_own_deploy,
            better: Better::of(&difference),
            difference,
        }
    }
}

/// Compares every scenario after the first with the first (the baseline), release by
/// release (`pairings[i]` pairs alternative `i + 1`, see [`pairings`]) and figure by
/// figure.
pub fn compare(runs: &[(Scenario, RunOutput)], pairings: Vec<Pairing>) -> Comparison {
    let (base, base_run) = &runs[0];
    let mut entries = Vec::new();
    for ((other, run), pairing) in runs[1..].iter().zip(&pairings) {
        // The other policy date: instances a cut-off broke or uninstalled, when both
        // scenarios have one. It is the whole scenario's figure, shown with the last
        // paired release.
        let cutoff = (base.policy.cutoff.is_some() && other.policy.cutoff.is_some())
            .then(|| pairing.pairs.last().copied())
            .flatten();
        for &(k, j) in &pairing.pairs {
            for (name, fa, fb) in figures(base, other) {
                let values = |run: &RunOutput, release: usize, figure: Figure| {
                    run.figure_values(FigureRef { release, figure })
                };
                let compared = Compared {
                    base,
                    other,
                    k,
                    j,
                    unit: Unit::of(fa),
                };
                entries.push(compared.entry(name, &values(base_run, k, fa), &values(run, j, fb)));
            }
            if cutoff == Some((k, j)) {
                let affected = |run: &RunOutput| -> Vec<Option<f64>> {
                    run.replications
                        .iter()
                        .map(|r| r.cutoff_affected.map(|n| n as f64))
                        .collect()
                };
                let compared = Compared {
                    base,
                    other,
                    k,
                    j,
                    unit: Unit::Instances,
                };
                entries.push(compared.entry(
                    "cutoff_affected".into(),
                    &affected(base_run),
                    &affected(run),
                ));
            }
        }
    }
    Comparison { entries, pairings }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_runs_differ_by_exactly_zero() {
        let v: Vec<Option<f64>> = (0..10).map(|i| Some(f64::from(i) * 1.7)).collect();
        let d = paired(&v, &v);
        assert_eq!(d.mean, Some(0.0));
        assert_eq!(d.ci95, Some([0.0, 0.0]));
        assert_eq!(d.significant, Some(false));
    }

    #[test]
    fn pairing_removes_shared_noise() {
        // other = baseline + 1 + small noise: the paired CI is tight around 1, the
        // unpaired one is as wide as the spread of the baseline.
        let base: Vec<Option<f64>> = (0..30).map(|i| Some(f64::from(i * 7 % 30))).collect();
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
    }
}
