//! The charts of a comparison.

use super::{Axis, Chart, Drawing, Series, time_axis};
use crate::report::RunReport;
use crate::report::comparison::ComparisonReport;

/// Every chart of a comparison: per baseline release, the adoption of every scenario's
/// paired release on one chart; then the paired differences as a forest plot.
/// `runs[i]` is the report of `report.scenarios[i]` (the baseline first).
pub fn compare_charts(report: &ComparisonReport, runs: &[&RunReport]) -> Vec<Chart> {
    let Some(base) = runs.first() else {
        return Vec::new();
    };
    let horizon = base.report.scenario.horizon_hours;
    let (x, unit) = time_axis(horizon, "since the start");
    let mut charts: Vec<Chart> = (0..base.adoption.len())
        .map(|k| {
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
                    line: run.adoption[j].iter().map(|b| (b.hours / unit, b.mean)).collect(),
                    band: run.adoption[j]
                        .iter()
                        .map(|b| (b.hours / unit, b.p5, b.p95))
                        .collect(),
                    markers: Vec::new(),
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
                    x: x.clone(),
                    y: Axis {
                        label: "share of installed instances".into(),
                        range: (0.0, 1.0),
                    },
                    series,
                    references: Vec::new(),
                },
            }
        })
        .collect();
    let rows: Vec<(String, f64, f64, f64)> = report
        .entries
        .iter()
        // Figures in hours only: counts (left_behind) do not share the axis.
        .filter(|e| e.figure != "left_behind")
        .filter_map(|e| {
            let mean = e.difference.mean?;
            let [lo, hi] = e.difference.ci95?;
            Some((
                if report.scenarios.len() > 2 {
                    format!(
                        "{}, release {}: {}",
                        e.scenario,
                        e.release,
                        short(&e.figure)
                    )
                } else {
                    format!("release {}: {}", e.release, short(&e.figure))
                },
                mean,
                lo,
                hi,
            ))
        })
        .collect();
    if !rows.is_empty() {
        let reach = rows
            .iter()
            .map(|r| r.2.abs().max(r.3.abs()))
            .fold(1.0, f64::max)
            * 1.1;
        charts.push(Chart {
            name: "differences".into(),
            title: format!(
                "Paired differences: {} minus {}",
                if report.scenarios.len() > 2 {
                    "each alternative".to_string()
                } else {
                    report.scenarios[1].clone()
                },
                report.baseline
            ),
            caption: "Each row is one figure of one release that both scenarios observed: the dot is the mean paired difference over replications (other minus baseline, hours), the bar its 95% confidence interval; a bar that does not cross the dashed zero line is a significant difference, and left of it the alternative is faster.".into(),
            drawing: Drawing::Forest {
                x: Axis {
                    label: "difference in hours (negative: faster than the baseline)".into(),
                    range: (-reach, reach),
                },
                rows,
            },
        });
    }
    charts
}

fn short(figure: &str) -> String {
    match figure
        .strip_prefix("time_to_share_hours[")
        .and_then(|p| p.strip_suffix(']'))
        .and_then(|p| p.parse::<f64>().ok())
    {
        Some(p) => format!("time to {}%", p * 100.0),
        None if figure == "coexistence_hours" => "coexistence".into(),
        None => figure.to_string(),
    }
}
