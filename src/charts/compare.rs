//! The charts of a comparison.

use super::{Axis, Chart, Drawing, Series};
use crate::compare::Unit;
use crate::report::RunReport;
use crate::report::comparison::{ComparisonReport, figure_title};

/// Every chart of a comparison: per baseline release, the adoption of every scenario's
/// paired release on one chart; then the paired differences as a forest plot.
/// `runs[i]` is the report of `report.scenarios[i]` (the baseline first).
pub(crate) fn compare_charts(report: &ComparisonReport, runs: &[&RunReport]) -> Vec<Chart> {
    let Some(base) = runs.first() else {
        return Vec::new();
    };
    let mut charts: Vec<Chart> = (0..base.adoption.len())
        .map(|k| adoption_chart(report, runs, k))
        .collect();
    for (unit, name, axis, what) in [
        (
            Unit::Hours,
            "differences",
            "difference in hours (negative: sooner than the baseline)",
            "hours on the baseline's clock, a replication that did not get there counted at the horizon",
        ),
        (
            Unit::Instances,
            "differences-instances",
            "difference in instances (negative: fewer than the baseline)",
            "instances",
        ),
    ] {
        charts.extend(differences_chart(report, unit, name, axis, what));
    }
    charts
}

/// Baseline release `k`'s adoption beside that of each alternative's paired release.
fn adoption_chart(report: &ComparisonReport, runs: &[&RunReport], k: usize) -> Chart {
    let base = runs[0];
    let (x, unit) = super::run::since_start(base, base.report.scenario.horizon_hours);
    let mut series = Vec::new();
    for (i, run) in runs.iter().enumerate() {
        let paired = if i == 0 {
            Some(k)
        } else {
            report
                .pairings
                .iter()
                .find(|p| p.scenario == report.scenarios[i])
                .and_then(|p| p.pairs.iter().find(|(b, _)| *b == k).map(|&(_, o)| o))
        };
        let Some(j) = paired.filter(|&j| j < run.adoption.len()) else {
            continue;
        };
        series.push(Series {
            label: format!(
                "{}: {} ({})",
                report.scenarios[i], run.report.releases[j].label, run.report.releases[j].version
            ),
            line: run.adoption[j]
                .iter()
                .map(|b| (b.hours / unit, b.mean))
                .collect(),
            band: run.adoption[j]
                .iter()
                .map(|b| (b.hours / unit, b.p5, b.p95))
                .collect(),
            markers: Vec::new(),
            colour: None,
        });
    }
    let r = &base.report.releases[k];
    Chart {
        name: format!("adoption-{k}"),
        title: format!("Release {k} ({}): adoption under each policy", r.label),
        caption: format!(
            "The share of installed instances on release {k}'s version or later under each scenario (mean over replications, band from the 5th to the 95th percentile): the curve further left reaches instances sooner."
        ),
        drawing: Drawing::Lines {
            x,
            y: Axis::share("share of installed instances"),
            series,
            references: Vec::new(),
        },
    }
}

/// The paired differences of the figures in `unit` as a forest plot (`name`, its x
/// `axis` label, the unit said as `what`); `None` when no figure in the unit has one.
fn differences_chart(
    report: &ComparisonReport,
    unit: Unit,
    name: &str,
    axis: &str,
    what: &str,
) -> Option<Chart> {
    let rows: Vec<(String, f64, f64, f64)> = report
        .entries
        .iter()
        .filter(|e| e.unit == unit)
        .filter_map(|e| {
            let mean = e.difference.mean?;
            let [lo, hi] = e.difference.ci95?;
            let mut label = if report.scenarios.len() > 2 {
                format!(
                    "{}, release {}: {}",
                    e.scenario,
                    e.release,
                    figure_title(&e.figure)
                )
            } else {
                format!("release {}: {}", e.release, figure_title(&e.figure))
            };
            if e.baseline.censored + e.other.censored > 0 {
                let reached = |s: &crate::compare::Side| format!("{}/{}", s.n, s.n + s.censored);
                label += &format!(
                    " (reached {} vs {})",
                    reached(&e.baseline),
                    reached(&e.other)
                );
            }
            Some((label, mean, lo, hi))
        })
        .collect();
    if rows.is_empty() {
        return None;
    }
    let reach = rows
        .iter()
        .map(|r| r.2.abs().max(r.3.abs()))
        .fold(1.0, f64::max)
        * 1.1;
    Some(Chart {
        name: name.into(),
        title: format!(
            "Paired differences: {} minus {}",
            if report.scenarios.len() > 2 {
                "each alternative".to_string()
            } else {
                report.scenarios[1].clone()
            },
            report.baseline
        ),
        caption: format!(
            "Each row is one compared figure of one release: the dot is the mean paired difference over replications (alternative minus baseline, in {what}), the bar its 95% confidence interval; a bar that does not cross the dashed zero line is a significant difference, and left of it the alternative is better. Rows marked 'reached' had replications that did not get there before the horizon (baseline vs alternative)."
        ),
        drawing: Drawing::Forest {
            x: Axis {
                label: axis.into(),
                range: (-reach, reach),
                ..Axis::default()
            },
            rows,
        },
    })
}
