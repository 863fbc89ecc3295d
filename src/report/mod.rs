//! Reports: summaries over replications and the files a run writes.
//!
//! [`RunReport::build`] turns a run's per-replication figures into the public contract;
//! each output format is one [`Exporter`] in its own file; [`output::OutputDir`] stages
//! and publishes them so that a failed or interrupted run never leaves a half-written
//! directory.
//! Nothing here knows about the command line.

mod calendar;
pub mod charts;
pub mod check_out;
pub mod comparison;
pub mod events;
pub mod fit_out;
pub mod html;
mod json;
mod latency_csv;
mod markdown;
pub mod output;
pub mod seal;
mod summary_table;
mod survival_csv;
pub mod sweep_out;
mod table;
mod timeseries_csv;
pub mod verdict;

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;

use crate::fingerprint::sha256_hex;
use crate::model::mix::{AdoptionCell, VersionCell};
use crate::model::{ReleaseFigures, ReleasePlan};
use crate::montecarlo::PrecisionOutcome;
use crate::montecarlo::RunOutput;
use crate::scenario::Scenario;
use crate::stats::{LatencyHistogram, Summary, quantile_ci, quantile_with_censoring};
use crate::time::SimDuration;

pub use calendar::{CalendarReport, Instant};
pub use json::JsonReport;
pub use latency_csv::LatencyCsv;
pub use markdown::SummaryMarkdown;
use summary_table::{SummaryTable, share_cells, threshold_heading, thresholds};
pub use survival_csv::SurvivalCsv;
pub use table::{precision_line, render_table};
pub use timeseries_csv::TimeseriesCsv;

/// A figure over replications as the reports write it (`STAT` in `report.json`): the
/// report's own type, so the statistics layer carries no output format.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Stat {
    /// Replications in which the figure was observed.
    pub n: u64,
    /// Replications in which it did not happen before the horizon.
    pub censored: u64,
    /// Mean of the observed values.
    pub mean: Option<f64>,
    /// Sample standard deviation (at least two values).
    pub std: Option<f64>,
    /// 95% confidence interval of the mean (Student's t; at least two values).
    pub ci95: Option<[f64; 2]>,
    /// Smallest observed value.
    pub min: Option<f64>,
    /// 5th percentile of the observed values.
    pub p5: Option<f64>,
    /// Median of the observed values.
    pub p50: Option<f64>,
    /// 95th percentile of the observed values.
    pub p95: Option<f64>,
    /// Largest observed value.
    pub max: Option<f64>,
}

impl Stat {
    /// Summarises values over replications, `None` meaning censored.
    pub fn of(values: impl IntoIterator<Item = Option<f64>>) -> Stat {
        Summary::of(values).into()
    }
}

impl From<Summary> for Stat {
    fn from(s: Summary) -> Stat {
        Stat {
            n: s.n,
            censored: s.censored,
            mean: s.mean,
            std: s.std,
            ci95: s.ci95,
            min: s.min,
            p5: s.p5,
            p50: s.p50,
            p95: s.p95,
            max: s.max,
        }
    }
}

/// How a `--precision` run ended, as the reports write it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PrecisionReport {
    /// The figure's name.
    pub figure: String,
    /// The half-width asked for.
    pub target_half_width: f64,
    /// The half-width reached.
    pub achieved_half_width: Option<f64>,
    /// Replications run in all.
    pub replications: u64,
    /// Whether the target was reached.
    pub met: bool,
    /// Why the run stopped short of the target, when more replications could not help.
    pub stopped_because: Option<String>,
}

impl From<PrecisionOutcome> for PrecisionReport {
    fn from(p: PrecisionOutcome) -> Self {
        PrecisionReport {
            figure: p.figure,
            target_half_width: p.target_half_width,
            achieved_half_width: p.achieved_half_width,
            replications: p.replications,
            met: p.met,
            stopped_because: p.stopped_because,
        }
    }
}

/// The version of the `report.json` contract. Keys are only ever added.
pub const SCHEMA_VERSION: u32 = 1;

/// One output format of a report of type `R` (a run's by default).
pub trait Exporter<R = RunReport> {
    /// The file name inside the output directory.
    fn file_name(&self) -> &'static str;
    /// Writes the report in this format.
    fn write(&self, report: &R, out: &mut dyn Write) -> io::Result<()>;
}

impl<R> dyn Exporter<R> + '_ {
    /// Writes into a byte buffer (for tests and stdout); writing to memory cannot fail.
    pub fn to_bytes(&self, report: &R) -> Vec<u8> {
        let mut buf = Vec::new();
        self.write(report, &mut buf).expect("writing to memory");
        buf
    }
}

/// The files that present a run to people, beside the data files: `summary.md`, and
/// with `charts` the charts under `charts/` (SVG, and PNG with `png`) and `report.html`,
/// as (path under the output folder, bytes).
pub fn presentation_files(report: &RunReport, charts: bool, png: bool) -> Vec<(String, Vec<u8>)> {
    let summary: &dyn Exporter = &SummaryMarkdown;
    let mut files = vec![(summary.file_name().to_string(), summary.to_bytes(report))];
    if charts {
        let drawn = charts::draw_all(charts::run_charts(report), png);
        files.push((
            "report.html".to_string(),
            html::run_page(report, &drawn).into_bytes(),
        ));
        files.extend(charts::chart_files(&drawn));
    }
    files
}

/// A mean over replications as the tables print it: marked `*` when some replications
/// were censored, `censored` when all were.
fn mean_marked(s: &Stat) -> String {
    match (s.mean, s.censored) {
        (None, _) => "censored".into(),
        (Some(m), 0) => format!("{m:.1}"),
        (Some(m), _) => format!("{m:.1}*"),
    }
}

/// SHA-256 of each file [`standard_exporters`] write, the tool version left out: a
/// release of the tool that does not change behaviour keeps the fingerprints (for
/// regression baselines). The report gets its version back afterwards.
pub fn output_fingerprints(report: &mut RunReport) -> BTreeMap<String, String> {
    let tool = std::mem::replace(
        &mut report.report.tool,
        Tool {
            name: env!("CARGO_PKG_NAME"),
            version: "",
        },
    );
    let fingerprints = standard_exporters()
        .iter()
        .map(|e| {
            let e: &dyn Exporter = e.as_ref();
            (e.file_name().to_string(), sha256_hex(&e.to_bytes(report)))
        })
        .collect();
    report.report.tool = tool;
    fingerprints
}

/// Every file a run writes, in a fixed order.
pub fn standard_exporters() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(JsonReport),
        Box::new(TimeseriesCsv),
        Box::new(LatencyCsv),
        Box::new(SurvivalCsv),
    ]
}

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

/// Instances still below the cut-off version when it takes effect (`affected`: a `STAT`
/// over replications, censored when the cut-off is past the horizon).
#[derive(Clone, Debug, Serialize)]
pub struct CutoffReport {
    /// When the cut-off takes effect, in hours after the start.
    pub at_hours: f64,
    /// The version below which instances stop working.
    pub below: String,
    /// `broken` or `uninstall`.
    pub action: &'static str,
    /// Instances below `below` at the cut-off, over replications.
    pub affected: Stat,
}

#[derive(Clone, Debug, Serialize)]
/// The tool that wrote a report.
pub struct Tool {
    /// `rollout-sim`.
    pub name: &'static str,
    /// Its version.
    pub version: &'static str,
}

impl Tool {
    /// This build of rollout-sim.
    pub fn this() -> Self {
        Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
/// What a run simulated.
pub struct ScenarioInfo {
    /// The scenario's name.
    pub name: String,
    /// `connect` or `forge`.
    pub platform: &'static str,
    /// The seed of the first replication's draws.
    pub seed: u64,
    /// Replications run.
    pub replications: u32,
    /// Initial instances per replication.
    pub instances: u64,
    /// The scenario's start (RFC 3339, UTC).
    pub start: String,
    /// Simulated hours after the start.
    pub horizon_hours: f64,
}

#[derive(Clone, Debug, Serialize)]
/// One release's figures over replications.
pub struct ReleaseReport {
    /// The release's index in the scenario.
    pub index: usize,
    /// The release's label.
    pub label: String,
    /// The version it replaces.
    pub from_version: String,
    /// The version it deploys.
    pub version: String,
    /// Whether instances on `from_version` need an admin's approval.
    pub needs_approval: bool,
    /// When it was deployed (RFC 3339, UTC).
    pub deployed_at: String,
    /// Hours from the deploy to the Marketplace's publication.
    pub published_after_hours: Stat,
    /// Keyed by threshold share, in increasing order ("0.5", ..., "1").
    pub time_to_share_hours: BTreeMap<ThresholdKey, Stat>,
    /// The same by segment weight; `null` when every segment weighs 1.
    pub time_to_weighted_share_hours: Option<BTreeMap<ThresholdKey, Stat>>,
    /// Hours from the deploy until at most the tolerance of active instances are older.
    pub coexistence_hours: Stat,
    /// Instance latency pooled over replications.
    pub instance_latency_hours: LatencyQuantiles,
    /// Instances older than the release when the vendor drops support; `null` without a drop date.
    pub left_behind: Option<Stat>,
    /// Active instances still older than the release at the horizon (never censored).
    pub left_over_at_horizon: Stat,
    /// The same as a share of the active instances at the horizon.
    pub left_over_share_at_horizon: Stat,
    /// The recommended compatibility window in hours (the same as `recommended_compat_window.hours`).
    pub recommended_compat_window_hours: Option<f64>,
    /// The time figures as calendar instants.
    pub calendar: CalendarReport,
    /// The recommended compatibility window with its confidence interval.
    pub recommended_compat_window: CompatWindow,
}

/// The recommended compatibility window: a quantile over replications of the
/// coexistence window, with a distribution-free 95% CI from order statistics.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompatWindow {
    /// The quantile over replications (`report.compat_window_quantile`).
    pub quantile: f64,
    /// The window in hours; `null` when too many replications were censored.
    pub hours: Option<f64>,
    /// `null` bounds: the lower one needs more replications, the upper one lies beyond
    /// the horizon (censored replications).
    pub ci95: [Option<f64>; 2],
    /// Why `hours` is `null`, when it is.
    pub reason: Option<String>,
}

impl CompatWindow {
    /// The window at `quantile` of per-replication coexistence values (`None`: censored).
    pub fn of(coexistence: &[Option<f64>], quantile: f64) -> Self {
        let hours = quantile_with_censoring(coexistence, quantile);
        let (lo, hi) = quantile_ci(coexistence, quantile, 0.95);
        let censored = coexistence.iter().filter(|v| v.is_none()).count();
        let reason = hours.is_none().then(|| {
            format!(
                "{censored} of {} replications still had older instances at the horizon, more than the {:.0}% the quantile allows",
                coexistence.len(),
                (1.0 - quantile) * 100.0
            )
        });
        CompatWindow {
            quantile,
            hours,
            ci95: [lo, hi],
            reason,
        }
    }
}

/// A threshold share as a report key: ordered by value, printed in shortest form.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThresholdKey(pub f64);

impl Eq for ThresholdKey {}
impl PartialOrd for ThresholdKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ThresholdKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}
impl Serialize for ThresholdKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// Pooled instance latency by Kaplan-Meier; a quantile is `null` when the survival
/// curve never falls that far before the horizon.
#[derive(Clone, Debug, Serialize)]
pub struct LatencyQuantiles {
    /// Median hours from deploy to update.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// Longest observed latency.
    pub max: Option<f64>,
    /// Share of instances still waiting (or gone) at the end of their observation.
    pub censored_fraction: Option<f64>,
}

/// One row of the version mix over time.
#[derive(Clone, Debug, PartialEq)]
pub struct MixRow {
    /// Hours after the start.
    pub hours: f64,
    /// The version.
    pub version: String,
    /// The version's shares and counts at the sample, over replications.
    pub cell: VersionCell,
}

/// A release's adoption at one sample: the share of installed instances on its version
/// or a later one, over replications.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    /// Hours after the scenario's start.
    pub hours: f64,
    /// Mean share.
    pub mean: f64,
    /// 5th percentile of the share over replications.
    pub p5: f64,
    /// 95th percentile of the share over replications.
    pub p95: f64,
    /// Mean count of installed instances not yet on the release (what a cut-off at
    /// this time would break).
    pub mean_behind: f64,
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
            precision: precision.map(PrecisionReport::from),
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
fn version_mix(scenario: &Scenario, plan: &ReleasePlan, cells: Vec<VersionCell>) -> Vec<MixRow> {
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
