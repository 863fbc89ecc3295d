//! Comparing release policies with common random numbers.
//!
//! Scenarios that share a seed and population draw the same instances, phases and admin
//! decisions in every replication, so the per-replication difference of a figure between
//! two policies cancels most of the noise. The paired confidence interval is therefore
//! much narrower than an unpaired one computed from the same replications; both are
//! reported, so the gain is visible.

use serde::Serialize;
use statrs::distribution::{Binomial, ContinuousCDF, DiscreteCDF, StudentsT};

use crate::model::{Figure, FigureRef};
use crate::montecarlo::RunOutput;
use crate::scenario::Scenario;
use crate::stats::{Summary, t_critical_95};

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
    /// What a figure measures.
    pub fn of(figure: Figure) -> Unit {
        match figure {
            Figure::PublishedAfter | Figure::TimeToShare(_) | Figure::Coexistence => Unit::Hours,
            Figure::LeftBehind | Figure::LeftOver => Unit::Instances,
            Figure::LeftOverShare => Unit::Share,
        }
    }
}

fn side(values: &[Option<f64>], restricted: Option<&[Option<f64>]>) -> Side {
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
        StudentsT::new(0.0, 1.0, df).map_or(f64::NAN, |s| s.inverse_cdf(0.975)) * se2.sqrt()
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
    let p_value = (n > 0).then(|| {
        let binomial = Binomial::new(0.5, n).expect("0.5 is a probability");
        let k = other_first.min(baseline_first);
        (2.0 * binomial.cdf(k)).min(1.0)
    });
    SignTest {
        other_first,
        baseline_first,
        ties,
        p_value,
    }
}

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

/// How the releases of one alternative were paired with the baseline's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Pairing {
    /// The other scenario's name.
    pub scenario: String,
    /// `stated` (`--pair`), `label` (equal labels written in both files) or
    /// `change set` (the k-th release with a change set with the k-th with the same).
    pub by: &'static str,
    /// (baseline release, other release).
    pub pairs: Vec<(usize, usize)>,
    /// Labels of the baseline's releases that have no partner.
    pub unpaired_baseline: Vec<String>,
    /// Labels of the other scenario's releases that have no partner.
    pub unpaired_other: Vec<String>,
}

/// Two release lists whose releases cannot be paired without the user saying how.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error(
    "cannot tell which releases of {other} are which of the baseline {baseline}: {reason}.\n  {baseline}: {baseline_list}\n  {other}: {other_list}\nstate the pairing with --pair BASELINE=OTHER,... (release indices, such as --pair 0=1), or give the releases the same \"label\" in both files"
)]
pub struct PairingError {
    /// The baseline scenario's name.
    pub baseline: String,
    /// The other scenario's name.
    pub other: String,
    /// Why the pairing is ambiguous.
    pub reason: String,
    /// The baseline's releases, described.
    pub baseline_list: String,
    /// The other scenario's releases, described.
    pub other_list: String,
}

/// A stated pairing, `B=A,...` with release indices: `0=1,1=2` pairs the baseline's
/// release 0 with the alternative's release 1, and 1 with 2.
pub fn parse_pairs(text: &str) -> Result<Vec<(usize, usize)>, String> {
    text.split(',')
        .map(|pair| {
            let parse = |s: &str| s.trim().parse::<usize>().ok();
            pair.split_once('=')
                .and_then(|(b, a)| Some((parse(b)?, parse(a)?)))
                .ok_or_else(|| {
                    format!(
                        "\"{}\" is not a pair; expected BASELINE=ALTERNATIVE release indices, such as 0=1,1=2",
                        crate::scenario::input::echo(pair)
                    )
                })
        })
        .collect()
}

/// The identity of a release when no label is written: its change kinds and, for a
/// backport, its line.
fn identity(r: &crate::scenario::ReleaseSpec) -> (crate::platform::ChangeSet, Option<u32>) {
    (r.changes, r.line)
}

fn describe(s: &Scenario) -> String {
    s.releases
        .iter()
        .enumerate()
        .map(|(k, r)| {
            format!(
                "#{k} \"{}\" ({}{} at {:.1} h)",
                r.label,
                r.changes.names().join(" + "),
                r.line
                    .map_or(String::new(), |l| format!(", backport to line {l}")),
                r.at.as_hours()
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

impl Pairing {
    /// Pairs the releases of `other` with the baseline's: as `stated` (baseline index,
    /// other index) when given; by label when every release of both has a written
    /// label; otherwise by change set, the k-th release with a change set with the
    /// k-th release with the same one, which must pair every release of both lists.
    /// Anything else is ambiguous: a [`PairingError`] naming both lists. (Versions
    /// are not used: they are derived from the change kinds, so equal change sets
    /// already give equal versions, and an equal number reached by different changes
    /// does not name the same release.)
    pub fn of(
        base: &Scenario,
        other: &Scenario,
        stated: Option<&[(usize, usize)]>,
    ) -> Result<Pairing, PairingError> {
        let error = |reason: String| PairingError {
            baseline: base.name.clone(),
            other: other.name.clone(),
            reason,
            baseline_list: describe(base),
            other_list: describe(other),
        };
        let (by, pairs): (&'static str, Vec<(usize, usize)>) = if let Some(stated) = stated {
            for &(b, o) in stated {
                if b >= base.releases.len() || o >= other.releases.len() {
                    return Err(error(format!(
                        "--pair {b}={o} names a release that does not exist (the baseline has {}, {} has {})",
                        base.releases.len(),
                        other.name,
                        other.releases.len()
                    )));
                }
                let used = |f: &dyn Fn(&(usize, usize)) -> bool| {
                    stated.iter().filter(|p| f(p)).count() > 1
                };
                if used(&|p| p.0 == b) || used(&|p| p.1 == o) {
                    return Err(error(format!(
                        "--pair pairs a release twice ({b}={o}); each release pairs with at most one"
                    )));
                }
            }
            ("stated", stated.to_vec())
        } else if base
            .releases
            .iter()
            .chain(&other.releases)
            .all(|r| r.label_given)
        {
            let repeated = |s: &Scenario| {
                s.releases
                    .iter()
                    .enumerate()
                    .find(|(k, r)| s.releases[..*k].iter().any(|q| q.label == r.label))
                    .map(|(_, r)| r.label.clone())
            };
            if let Some(label) = repeated(base).or_else(|| repeated(other)) {
                return Err(error(format!(
                    "the label \"{label}\" names two releases of one list"
                )));
            }
            let pairs: Vec<(usize, usize)> = base
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
            if pairs.is_empty() {
                return Err(error("no label is written in both lists".into()));
            }
            ("label", pairs)
        } else {
            let mut pairs = Vec::new();
            for (i, r) in base.releases.iter().enumerate() {
                let nth = base.releases[..i]
                    .iter()
                    .filter(|q| identity(q) == identity(r))
                    .count();
                if let Some(j) = other
                    .releases
                    .iter()
                    .enumerate()
                    .filter(|(_, o)| identity(o) == identity(r))
                    .nth(nth)
                    .map(|(j, _)| j)
                {
                    pairs.push((i, j));
                }
            }
            if pairs.len() != base.releases.len() || pairs.len() != other.releases.len() {
                return Err(error(
                    "their releases are not labelled in both files and their change sets differ"
                        .into(),
                ));
            }
            ("change set", pairs)
        };
        let unpaired = |s: &Scenario, paired: &dyn Fn(usize) -> bool| {
            s.releases
                .iter()
                .enumerate()
                .filter(|(k, _)| !paired(*k))
                .map(|(_, r)| r.label.clone())
                .collect()
        };
        Ok(Pairing {
            scenario: other.name.clone(),
            by,
            unpaired_baseline: unpaired(base, &|k| pairs.iter().any(|p| p.0 == k)),
            unpaired_other: unpaired(other, &|k| pairs.iter().any(|p| p.1 == k)),
            pairs,
        })
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

/// The figures compared for a release present in both scenarios: (name, unit, the
/// baseline's figure, the other's).
fn figures(baseline: &Scenario, other: &Scenario) -> Vec<(String, Unit, Figure, Figure)> {
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
                Unit::Hours,
                Figure::TimeToShare(i),
                Figure::TimeToShare(j),
            ));
        }
    }
    out.push((
        "coexistence_hours".into(),
        Unit::Hours,
        Figure::Coexistence,
        Figure::Coexistence,
    ));
    if baseline.policy.drop_old_support_after.is_some()
        && other.policy.drop_old_support_after.is_some()
    {
        out.push((
            "left_behind".into(),
            Unit::Instances,
            Figure::LeftBehind,
            Figure::LeftBehind,
        ));
    }
    out.push((
        "left_over_at_horizon".into(),
        Unit::Instances,
        Figure::LeftOver,
        Figure::LeftOver,
    ));
    out.push((
        "left_over_share_at_horizon".into(),
        Unit::Share,
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
}

/// How each alternative's releases pair with the baseline's (`scenarios[0]`), as
/// [`Pairing::of`] says; `stated` is empty, one pairing for every alternative, or one
/// per alternative in order.
pub fn pairings(
    scenarios: &[Scenario],
    stated: &[Vec<(usize, usize)>],
) -> Result<Vec<Pairing>, PairingError> {
    let alternatives = scenarios.len().saturating_sub(1);
    if stated.len() > 1 && stated.len() != alternatives {
        return Err(PairingError {
            baseline: scenarios[0].name.clone(),
            other: scenarios[1..]
                .iter()
                .map(|s| s.name.clone())
                .collect::<Vec<_>>()
                .join(", "),
            reason: format!(
                "--pair is given {} times for {alternatives} alternatives; give it once for all, or once per alternative",
                stated.len()
            ),
            baseline_list: describe(&scenarios[0]),
            other_list: scenarios[1..]
                .iter()
                .map(describe)
                .collect::<Vec<_>>()
                .join("; "),
        });
    }
    scenarios[1..]
        .iter()
        .enumerate()
        .map(|(i, other)| {
            let stated = stated.get(i).or(stated.first()).map(Vec::as_slice);
            Pairing::of(&scenarios[0], other, stated)
        })
        .collect()
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
            for (name, unit, fa, fb) in figures(base, other) {
                let values = |run: &RunOutput, release: usize, figure: Figure| {
                    run.figure_values(FigureRef { release, figure })
                };
                let (raw_b, raw_o) = (values(base_run, k, fa), values(run, j, fb));
                let compared = Compared {
                    base,
                    other,
                    k,
                    j,
                    unit,
                };
                let (b, o) = compared.values(&raw_b, &raw_o);
                let difference = paired(&b, &o);
                let better = better_of(&difference);
                let time = unit == Unit::Hours;
                let offset = compared.deploy_offset();
                let since_own_deploy = (time && offset != 0.0).then(|| {
                    let own = compared.horizon() - offset.max(0.0);
                    paired(&restricted(&raw_b, 0.0, own), &restricted(&raw_o, 0.0, own))
                });
                entries.push(ComparisonEntry {
                    scenario: other.name.clone(),
                    release: k,
                    other_release: j,
                    baseline_label: base.releases[k].label.clone(),
                    label: other.releases[j].label.clone(),
                    figure: name,
                    unit,
                    baseline_deployed_at: base
                        .instant(base.releases[k].at)
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    deploy_offset_hours: offset,
                    restricted_to_hours: time.then(|| compared.horizon()),
                    baseline: side(&raw_b, time.then_some(b.as_slice())),
                    other: side(&raw_o, time.then_some(o.as_slice())),
                    sign_test: time.then(|| sign_test(&b, &o)),
                    since_own_deploy,
                    difference,
                    better,
                });
            }
            if cutoff == Some((k, j)) {
                let affected = |run: &RunOutput| -> Vec<Option<f64>> {
                    run.replications
                        .iter()
                        .map(|r| r.cutoff_affected.map(|n| n as f64))
                        .collect()
                };
                let (b, o) = (affected(base_run), affected(run));
                let difference = paired(&b, &o);
                entries.push(ComparisonEntry {
                    scenario: other.name.clone(),
                    release: k,
                    other_release: j,
                    baseline_label: base.releases[k].label.clone(),
                    label: other.releases[j].label.clone(),
                    figure: "cutoff_affected".into(),
                    unit: Unit::Instances,
                    baseline_deployed_at: base
                        .instant(base.releases[k].at)
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    deploy_offset_hours: 0.0,
                    restricted_to_hours: None,
                    baseline: side(&b, None),
                    other: side(&o, None),
                    sign_test: None,
                    since_own_deploy: None,
                    better: better_of(&difference),
                    difference,
                });
            }
        }
    }
    Comparison { entries, pairings }
}

/// Which policy a paired difference favours (lower is better).
fn better_of(difference: &PairedDifference) -> Better {
    match (difference.significant, difference.mean) {
        (Some(true), Some(d)) if d < 0.0 => Better::Other,
        (Some(true), Some(_)) => Better::Baseline,
        _ => Better::Neither,
    }
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
    }
}
