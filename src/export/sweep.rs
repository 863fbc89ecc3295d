//! `sweep.json`, `sweep.csv` (one row per grid point and release) and the sweep table.

use std::io::{self, Write};

use serde_json::Value;

use super::Exporter;
use super::json::{cell, write_pretty};
use crate::report::Stat;
use crate::report::sweep::SweepReport;

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
