//! `sweep.json` and `sweep.csv`: one row per grid point.

use std::collections::BTreeMap;
use std::io::{self, Write};

use serde::Serialize;
use serde_json::Value;

use super::json::{cell, write_pretty};
use super::{Exporter, PrecisionReport, Report, SCHEMA_VERSION, Stat, ThresholdKey, Tool};

#[derive(Clone, Debug, Serialize)]
/// What `sweep` writes to `sweep.json`.
pub struct SweepReport {
    /// The version of the report contract ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The tool that wrote the report.
    pub tool: Tool,
    /// The swept scenario's name.
    pub scenario: String,
    /// The path of each axis that takes several values, in order.
    pub axes: Vec<String>,
    /// Settings given a single value (`--set PATH=V`): the same at every point, so
    /// shown once here and not in each point's `settings`.
    pub fixed: Vec<(String, Value)>,
    /// Every grid point, the first axis varying slowest.
    pub points: Vec<SweepPoint>,
}

#[derive(Clone, Debug, Serialize)]
/// The figures at one grid point.
pub struct SweepPoint {
    /// The point's index in the grid.
    pub index: usize,
    /// The value of each axis at this point, in axis order.
    pub settings: Vec<(String, Value)>,
    /// Replications run at the point.
    pub replications: u32,
    /// Per release, its headline figures.
    pub releases: Vec<SweepRelease>,
    /// How a `--precision` run ended at this point; `null` otherwise.
    pub precision: Option<PrecisionReport>,
}

/// The headline figures of one release at one grid point (the same `STAT`s as `report.json`).
#[derive(Clone, Debug, Serialize)]
pub struct SweepRelease {
    /// The release's index.
    pub index: usize,
    /// The release's label.
    pub label: String,
    /// The version it deploys.
    pub version: String,
    /// Hours to each threshold share, as in `report.json`.
    pub time_to_share_hours: BTreeMap<ThresholdKey, Stat>,
    /// Hours of coexistence, as in `report.json`.
    pub coexistence_hours: Stat,
    /// Instances left behind at the drop date, as in `report.json`.
    pub left_behind: Option<Stat>,
    /// Instances still older than the release at the horizon, as in `report.json`.
    pub left_over_at_horizon: Stat,
    /// Their share of the active instances, as in `report.json`.
    pub left_over_share_at_horizon: Stat,
    /// The recommended compatibility window in hours.
    pub recommended_compat_window_hours: Option<f64>,
}

impl SweepPoint {
    /// The point `index` with axis values `settings`, from the run's report.
    pub fn new(index: usize, settings: Vec<(String, Value)>, report: Report) -> Self {
        SweepPoint {
            index,
            settings,
            replications: report.scenario.replications,
            precision: report.precision,
            releases: report
                .releases
                .into_iter()
                .map(|r| SweepRelease {
                    index: r.index,
                    label: r.label,
                    version: r.version,
                    time_to_share_hours: r.time_to_share_hours,
                    coexistence_hours: r.coexistence_hours,
                    left_behind: r.left_behind,
                    left_over_at_horizon: r.left_over_at_horizon,
                    left_over_share_at_horizon: r.left_over_share_at_horizon,
                    recommended_compat_window_hours: r.recommended_compat_window_hours,
                })
                .collect(),
        }
    }
}

impl SweepReport {
    /// The sweep report of `scenario` over `axes` (path and number of values, in
    /// order): axes of one value become `fixed` and leave the points' settings.
    pub fn new(scenario: String, axes: &[(String, usize)], mut points: Vec<SweepPoint>) -> Self {
        let is_fixed = |path: &str| axes.iter().any(|(p, n)| p == path && *n == 1);
        let fixed = points.first().map_or_else(Vec::new, |p| {
            p.settings
                .iter()
                .filter(|(path, _)| is_fixed(path))
                .cloned()
                .collect()
        });
        for p in &mut points {
            p.settings.retain(|(path, _)| !is_fixed(path));
        }
        SweepReport {
            schema_version: SCHEMA_VERSION,
            tool: Tool::this(),
            scenario,
            axes: axes
                .iter()
                .filter(|(_, n)| *n > 1)
                .map(|(p, _)| p.clone())
                .collect(),
            fixed,
            points,
        }
    }
}

/// `sweep.json`.
pub struct SweepJson;

impl Exporter<SweepReport> for SweepJson {
    fn file_name(&self) -> &'static str {
        "sweep.json"
    }
    fn write(&self, report: &SweepReport, out: &mut dyn Write) -> io::Result<()> {
        write_pretty(report, out)
    }
}

/// `sweep.csv`: one row per grid point and release.
pub struct SweepCsv;

fn stat_cells(s: &Stat) -> [String; 5] {
    [
        cell(s.mean),
        cell(s.ci95.map(|c| c[0])),
        cell(s.ci95.map(|c| c[1])),
        s.n.to_string(),
        s.censored.to_string(),
    ]
}

impl Exporter<SweepReport> for SweepCsv {
    fn file_name(&self) -> &'static str {
        "sweep.csv"
    }
    /// Wide: one row per grid point; for each release and figure, mean, CI bounds, the
    /// observed and the censored count.
    fn write(&self, report: &SweepReport, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        let Some(first) = report.points.first() else {
            return w.flush();
        };
        let mut header: Vec<String> = vec!["point".into()];
        header.extend(report.axes.iter().cloned());
        header.push("replications".into());
        for r in &first.releases {
            let mut figure = |name: String| {
                for part in ["mean", "ci_lo", "ci_hi", "n", "censored"] {
                    header.push(format!("r{}.{name}.{part}", r.index));
                }
            };
            for p in r.time_to_share_hours.keys() {
                figure(format!("time_to_share[{}]", p.0));
            }
            figure("coexistence".into());
            if r.left_behind.is_some() {
                figure("left_behind".into());
            }
            figure("left_over_at_horizon".into());
            figure("left_over_share_at_horizon".into());
            header.push(format!("r{}.recommended_compat_window", r.index));
        }
        w.write_record(&header)?;
        for point in &report.points {
            let mut row: Vec<String> = vec![point.index.to_string()];
            row.extend(point.settings.iter().map(|(_, v)| match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            }));
            row.push(point.replications.to_string());
            for r in &point.releases {
                for s in r.time_to_share_hours.values() {
                    row.extend(stat_cells(s));
                }
                row.extend(stat_cells(&r.coexistence_hours));
                if let Some(l) = &r.left_behind {
                    row.extend(stat_cells(l));
                }
                row.extend(stat_cells(&r.left_over_at_horizon));
                row.extend(stat_cells(&r.left_over_share_at_horizon));
                row.push(cell(r.recommended_compat_window_hours));
            }
            w.write_record(&row)?;
        }
        w.flush()
    }
}

fn value_text(v: &serde_json::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

fn mean_ci(s: &Stat) -> String {
    mean_ci_with(s, |m| format!("{m:.1}"))
}

/// A mean with its CI, each number formatted by `f`; when some replications were
/// censored, how many of all the mean rests on instead of the CI.
fn mean_ci_with(s: &Stat, f: impl Fn(f64) -> String) -> String {
    match (s.mean, s.ci95, s.censored) {
        (Some(m), Some([lo, hi]), 0) => format!("{} [{}, {}]", f(m), f(lo), f(hi)),
        (Some(m), _, 0) => f(m),
        (Some(m), _, c) => format!("{} (from {} of {}; {c} censored)", f(m), s.n, s.n + c),
        (None, _, _) => "censored".to_string(),
    }
}

/// The table `sweep` prints: the fixed settings once, then one line per grid point
/// with the last release's headline figures.
pub fn render_sweep_table(report: &SweepReport) -> String {
    let mut out = format!(
        "sweep of {} over {}\n",
        report.scenario,
        if report.axes.is_empty() {
            "no varying axis".to_string()
        } else {
            report.axes.join(" x ")
        }
    );
    if !report.fixed.is_empty() {
        let fixed: Vec<String> = report
            .fixed
            .iter()
            .map(|(k, v)| format!("{k}={}", value_text(v)))
            .collect();
        out.push_str(&format!("fixed at every point: {}\n", fixed.join(", ")));
    }
    if let Some(last) = report.points.first().and_then(|p| p.releases.last()) {
        out.push_str(&format!(
            "release {} ({}); hours after deploy, mean [95% CI]; window: the recommended compatibility window; left over: instances still older at the horizon\n\n",
            last.index, last.label
        ));
    }
    for p in &report.points {
        let settings: Vec<String> = p
            .settings
            .iter()
            .map(|(k, v)| format!("{k}={}", value_text(v)))
            .collect();
        let Some(last) = p.releases.last() else {
            continue;
        };
        let mut line = format!("{:>3}  {}", p.index, settings.join(", "));
        if let Some((share, s)) = last.time_to_share_hours.iter().next() {
            line.push_str(&format!("  to {}%: {}", share.0 * 100.0, mean_ci(s)));
        }
        line.push_str(&format!(
            "  coexistence: {}  window: {}",
            mean_ci(&last.coexistence_hours),
            last.recommended_compat_window_hours
                .map_or("censored".to_string(), |h| format!("{h:.1}"))
        ));
        if let Some(l) = &last.left_behind {
            line.push_str(&format!("  left behind: {}", mean_ci(l)));
        }
        line.push_str(&format!(
            "  left over: {} ({})",
            mean_ci_with(&last.left_over_at_horizon, |m| format!("{m:.0}")),
            last.left_over_share_at_horizon
                .mean
                .map_or("-".into(), |m| format!("{:.1}%", m * 100.0))
        ));
        out.push_str(&line);
        out.push('\n');
    }
    out
}
