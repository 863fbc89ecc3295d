//! The plan's chart: every candidate's goal figure with its 95% CI, the best marked.

use super::{Axis, Chart, Drawing};
use crate::plan::Status;
use crate::report::plan::PlanReport;

/// The goal figure of every candidate that ran, with its CI (a forest plot).
pub(crate) fn plan_chart(report: &PlanReport) -> Chart {
    let rows: Vec<(String, f64, f64, f64)> = report
        .candidates
        .iter()
        .filter_map(|c| {
            let mean = c.result.goal.mean?;
            let [lo, hi] = c.result.goal.ci95.unwrap_or([mean, mean]);
            let mark = match c.result.status {
                Status::Best => " (best)",
                Status::Contender => " (not separated)",
                Status::Infeasible { .. } => " (misses a constraint)",
                _ => "",
            };
            Some((
                format!(
                    "#{} {}{mark}",
                    c.result.index,
                    report.describe(c.result.index)
                ),
                mean,
                lo,
                hi,
            ))
        })
        .collect();
    let lo = rows.iter().map(|r| r.2).fold(0.0f64, f64::min);
    let hi = rows.iter().map(|r| r.3).fold(0.0f64, f64::max);
    Chart {
        name: "candidates".into(),
        title: format!("{} by candidate (mean, 95% CI)", report.goal.figure),
        caption: "Each candidate's goal figure over the replications it ran; screened-out candidates ran fewer, so their intervals are wider.".into(),
        drawing: Drawing::Forest {
            x: Axis {
                label: report.goal.figure.clone(),
                range: (lo, hi.max(lo + 1.0)),
                ..Axis::default()
            },
            rows,
        },
    }
}
