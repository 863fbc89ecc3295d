//! Reports: what a run, comparison, sweep or check found, summarised over replications.
//!
//! [`RunReport::build`] turns a run's per-replication figures into the public contract
//! (`report.json`), with censoring kept explicit; [`verdict`] reads it as sentences a
//! planner acts on. How the reports are written (one file per format) is in
//! `export`, how they are drawn in `charts`, and how the files reach the disk all or
//! nothing in `output`. Nothing here knows about the command line or output formats.

mod calendar;
pub mod check;
pub mod comparison;
mod contract;
pub mod plan;
pub mod sweep;
pub mod verdict;

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::mix::{AdoptionCell, VersionCell};
use crate::model::{ReleaseFigures, VersionTable};
use crate::montecarlo::PrecisionOutcome;
use crate::montecarlo::RunOutput;
use crate::scenario::Scenario;
use crate::stats::{LatencyHistogram, Summary, quantile_with_censoring};
use crate::time::SimDuration;

pub use calendar::{CalendarReport, Instant};
pub use contract::{
    Band, CompatWindow, CutoffReport, LatencyQuantiles, MixRow, ReleaseReport, ScenarioInfo,
    ThresholdKey, Tool,
};

/// A figure over replications as the reports write it (`STAT` in `report.json`): the
/// statistics layer's summary, serialised as it is.
pub type Stat = Summary;

/// How a `--precision` run ended, as the reports write it.
pub type PrecisionReport = PrecisionOutcome;

/// The version of the `report.json` contract. Keys are only ever added.
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize)]
/// What `run` writes to `report.json`: the public report contract.
pub struct Report {
    /// The version of the report contract ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The tool that wrote the report.
    pub tool: Tool,
    /// What was simulated.
    pub scenario: ScenarioInfo,
    /// Per release, its figures over replications.
    pub releases: Vec<ReleaseReport>,
    /// How a `--precision` run ended; `null` for a fixed number of replications.
    pub precision: Option<PrecisionReport>,
    /// The platform cut-off, if the scenario has one.
    pub cutoff: Option<CutoffReport>,
    /// Things the reader must know to read the figures right (e.g. a free -> paid
    /// release without an approval deadline can never end its coexistence).
    pub warnings: Vec<String>,
}

/// What the reader must know to read the figures right.
fn warnings(scenario: &Scenario) -> Vec<String> {
    let mut out = Vec::new();
    if scenario.policy.uninstall_unapproved_after.is_none() {
        for (k, r) in scenario.releases.iter().enumerate() {
            if r.changes.licensing {
                out.push(format!(
                    "release {k} ({}) moves from free to paid but policy.uninstall_unapproved_after is unset: \
                     instances whose admins never approve keep the free version until the horizon, so its \
                     coexistence cannot end (the Marketplace page says they must uninstall, but sets no date)",
                    r.label
                ));
            }
        }
    }
    out
}

/// Everything the exporters, the charts and the table need.
pub struct RunReport {
    /// The `report.json` contract.
    pub report: Report,
    /// The version mix over time (for `timeseries.csv`).
    pub mix: Vec<MixRow>,
    /// Per release, pooled latency (for `latency.csv`).
    pub latency: Vec<LatencyHistogram>,
    /// The quantile of the recommended window (for the table's heading).
    pub compat_window_quantile: f64,
    /// Per release, its adoption at every sample.
    pub adoption: Vec<Vec<Band>>,
    /// Per release, each replication's coexistence window in hours (`None`: censored).
    pub coexistence: Vec<Vec<Option<f64>>>,
    /// The sentences a planner acts on, release by release, then the cut-off's.
    pub verdicts: Vec<verdict::VerdictGroup>,
    /// The answer first, one sentence per release: when the older versions can be
    /// switched off, as a date, or what is left at the horizon.
    pub headline: Vec<String>,
    /// The scenario's parameters in force: (name, value, where it comes from).
    pub parameters: Vec<(String, String, String)>,
}

fn hours(d: Option<SimDuration>) -> Option<f64> {
    d.map(SimDuration::as_hours)
}

impl Report {
    /// The `report.json` contract of a run of `scenario`: what a sweep keeps of each grid
    /// point, without the version mix, charts and verdicts of [`RunReport::build`].
    pub fn build(
        scenario: &Scenario,
        run: &RunOutput,
        precision: Option<PrecisionOutcome>,
    ) -> Report {
        let plan = &run.plan;
        let reps = &run.replications;
        let releases: Vec<ReleaseReport> = scenario
            .releases
            .iter()
            .enumerate()
            .map(|(k, release)| {
                let figures = || reps.iter().map(move |r| &r.releases[k]);
                // One summary per threshold of a per-threshold figure.
                let by_threshold = |figure: &dyn Fn(&ReleaseFigures) -> &[Option<SimDuration>]| {
                    scenario
                        .report
                        .thresholds
                        .iter()
                        .enumerate()
                        .map(|(i, &p)| {
                            (
                                ThresholdKey(p),
                                Stat::of(figures().map(|f| hours(figure(f)[i]))),
                            )
                        })
                        .collect::<BTreeMap<_, _>>()
                };
                let coexistence: Vec<Option<f64>> =
                    figures().map(|f| hours(f.coexistence)).collect();
                let latency = &run.latency[k];
                let quantiles = latency.quantiles(&[0.5, 0.9, 0.99]);
                let mut release_report = ReleaseReport {
                    index: k,
                    label: release.label.clone(),
                    from_version: plan.versions[plan.from_version[k]].to_string(),
                    version: plan.versions[plan.version_of(k)].to_string(),
                    needs_approval: plan.needs_approval[k],
                    deployed_at: scenario
                        .instant(release.at)
                        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    published_after_hours: Stat::of(figures().map(|f| hours(f.published_after))),
                    time_to_share_hours: by_threshold(&|f: &ReleaseFigures| &f.time_to_share),
                    time_to_weighted_share_hours: (!scenario.population.weight_units().is_empty())
                        .then(|| by_threshold(&|f: &ReleaseFigures| &f.time_to_weighted_share)),
                    coexistence_hours: Stat::of(coexistence.iter().copied()),
                    instance_latency_hours: LatencyQuantiles {
                        p50: hours(quantiles[0]),
                        p90: hours(quantiles[1]),
                        p99: hours(quantiles[2]),
                        max: hours(latency.max_event()).filter(|_| latency.censored_count() == 0),
                        censored_fraction: latency.censored_fraction(),
                    },
                    left_behind: scenario
                        .policy
                        .drop_old_support_after
                        .map(|_| Stat::of(figures().map(|f| f.left_behind.map(|n| n as f64)))),
                    left_over_at_horizon: Stat::of(figures().map(|f| Some(f.left_over as f64))),
                    left_over_share_at_horizon: Stat::of(
                        figures().map(|f| Some(f.left_over_share())),
                    ),
                    recommended_compat_window_hours: quantile_with_censoring(
                        &coexistence,
                        scenario.report.compat_window_quantile,
                    ),
                    recommended_compat_window: CompatWindow::of(
                        &coexistence,
                        scenario.report.compat_window_quantile,
                    ),
                    calendar: CalendarReport::default(),
                };
                release_report.calendar = CalendarReport::of(scenario, &release_report);
                release_report
            })
            .collect();
        Report {
            schema_version: SCHEMA_VERSION,
            tool: Tool::this(),
            scenario: ScenarioInfo {
                name: scenario.name.clone(),
                platform: scenario.preset,
                seed: scenario.seed,
                replications: run.replications.len() as u32,
                instances: scenario.population.instances,
                start: scenario
                    .start
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                horizon_hours: scenario.horizon.as_hours(),
            },
            releases,
            precision,
            cutoff: scenario.policy.cutoff.map(|c| CutoffReport {
                at_hours: c.at.as_hours(),
                below: plan.cutoff_below.map(|v| v.to_string()).unwrap_or_default(),
                action: match c.action {
                    crate::scenario::CutoffAction::Broken => "broken",
                    crate::scenario::CutoffAction::Uninstall => "uninstall",
                },
                affected: Stat::of(reps.iter().map(|r| r.cutoff_affected.map(|n| n as f64))),
            }),
            warnings: warnings(scenario),
        }
    }
}

impl RunReport {
    /// Builds every report of a run of `scenario`.
    pub fn build(
        scenario: &Scenario,
        run: &RunOutput,
        precision: Option<PrecisionOutcome>,
    ) -> RunReport {
        let report = Report::build(scenario, run, precision);
        let summary = run.mix.summarise();
        let adoption = adoption(scenario, summary.adoption);
        let coexistence: Vec<Vec<Option<f64>>> = (0..scenario.releases.len())
            .map(|k| {
                run.replications
                    .iter()
                    .map(|r| hours(r.releases[k].coexistence))
                    .collect()
            })
            .collect();
        let quantile = scenario.report.compat_window_quantile;
        let mut verdicts: Vec<verdict::VerdictGroup> = report
            .releases
            .iter()
            .zip(&adoption)
            .map(|(r, a)| verdict::release_verdicts(scenario, r, a, quantile))
            .collect();
        verdicts.extend(report.cutoff.as_ref().map(|c| verdict::VerdictGroup {
            title: "Cut-off".into(),
            sentences: vec![verdict::cutoff_verdict(c)],
        }));
        let headline = report
            .releases
            .iter()
            .zip(&adoption)
            .map(|(r, a)| verdict::headline(scenario, r, a, quantile))
            .collect();
        RunReport {
            headline,
            report,
            mix: version_mix(scenario, &run.plan, summary.versions),
            latency: run.latency.clone(),
            compat_window_quantile: quantile,
            adoption,
            coexistence,
            verdicts,
            parameters: parameters(scenario),
        }
    }
}

/// Per release and sample: the share of installed instances on the release's version or
/// a later one, over replications.
fn adoption(scenario: &Scenario, cells: Vec<Vec<AdoptionCell>>) -> Vec<Vec<Band>> {
    let every = scenario.report.sample_every.as_hours();
    cells
        .into_iter()
        .map(|cells| {
            cells
                .into_iter()
                .enumerate()
                .map(|(j, c)| Band {
                    hours: every * j as f64,
                    mean: c.mean,
                    p5: c.p5,
                    p95: c.p95,
                    mean_behind: c.mean_behind,
                })
                .collect()
        })
        .collect()
}

/// The scenario's parameters in force, with where each comes from: the preset's
/// documented values (marked when the scenario changed one), then the field.
fn parameters(scenario: &Scenario) -> Vec<(String, String, String)> {
    let mut rows = Vec::new();
    if let Some(preset) = crate::scenario::presets::by_name(scenario.preset) {
        let documented = preset.rows();
        let in_force = crate::scenario::presets::Preset {
            timing: scenario.timing.clone(),
            ..preset
        }
        .rows();
        for ((name, value, source), (_, documented_value, _)) in
            in_force.into_iter().zip(documented)
        {
            let source = if value == documented_value {
                source.to_string()
            } else {
                format!("set by the scenario ({documented_value} in the preset)")
            };
            rows.push((name.to_string(), value, source));
        }
    }
    for s in &scenario.population.segments {
        let a = &s.admin;
        rows.push((
            format!("segment {}", s.name),
            format!(
                "{:.0}% of instances; admins {}: approve {:.0}%, reject {:.0}%, ignore {:.0}%",
                s.share * 100.0,
                a.name,
                a.approve * 100.0,
                a.reject * 100.0,
                (1.0 - a.approve - a.reject).max(0.0) * 100.0
            ),
            "scenario (assumption)".into(),
        ));
    }
    let churn = scenario.population.churn;
    if churn != Default::default() {
        rows.push((
            "churn".into(),
            format!(
                "{} installs per day, uninstall rate {} per day",
                churn.installs_per_day, churn.uninstall_rate_per_day
            ),
            "scenario (assumption)".into(),
        ));
    }
    if let Some(d) = scenario.policy.drop_old_support_after {
        rows.push((
            "policy.drop_old_support_after".into(),
            d.to_string(),
            "scenario".into(),
        ));
    }
    rows
}

/// Mean and 5%/95% share of each version at each sample, over replications.
fn version_mix(scenario: &Scenario, plan: &VersionTable, cells: Vec<VersionCell>) -> Vec<MixRow> {
    let versions = plan.version_count();
    let every = scenario.report.sample_every.as_hours();
    cells
        .into_iter()
        .enumerate()
        .map(|(i, c)| MixRow {
            hours: every * (i / versions) as f64,
            version: plan.versions[i % versions].to_string(),
            cell: c,
        })
        .collect()
}
