//! The plan's charts: every candidate's goal figure with its 95% CI, the best marked;
//! and, with a constraint, the goal traded against the constrained figure, with the
//! Pareto front.

use super::{Axis, Chart, Drawing};
use crate::plan::{Direction, Relation, Status};
use crate::report::plan::PlanReport;

/// The plan's charts: the candidates' goal figure, and the trade-off with the first
/// constraint when there is one.
pub(crate) fn plan_charts(report: &PlanReport) -> Vec<Chart> {
    let mut charts = vec![goal_chart(report)];
    charts.extend(pareto_chart(report));
    charts
}

/// The goal figure against the first constraint's figure, one point per candidate, the
/// candidates no other beats on both joined as the Pareto front.
fn pareto_chart(report: &PlanReport) -> Option<Chart> {
    let constraint = report.constraints.first()?;
    let points: Vec<(usize, f64, f64)> = report
        .candidates
        .iter()
        .filter_map(|c| {
            Some((
                c.result.index,
                c.result.constraints.first()?.estimate?,
                c.result.goal.mean?,
            ))
        })
        .collect();
    if points.len() < 2 {
        return None;
    }
    // Lower is better on both axes, after turning maximised figures round.
    let gx = match constraint.relation {
        Relation::AtMost => 1.0,
        Relation::AtLeast => -1.0,
    };
    let gy = match report.goal.direction {
        Direction::Minimize => 1.0,
        Direction::Maximize => -1.0,
    };
    let dominated = |a: &(usize, f64, f64)| {
        points.iter().any(|b| {
            gx * b.1 <= gx * a.1
                && gy * b.2 <= gy * a.2
                && (gx * b.1 < gx * a.1 || gy * b.2 < gy * a.2)
        })
    };
    let span = |v: &mut dyn Iterator<Item = f64>| {
        let (lo, hi) = v.fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), x| {
            (l.min(x), h.max(x))
        });
        let pad = ((hi - lo) * 0.1).max(1e-6);
        (lo - pad, hi + pad)
    };
    let mut xs = points.iter().map(|p| p.1).chain([constraint.limit]);
    let x_range = span(&mut xs);
    let y_range = span(&mut points.iter().map(|p| p.2));
    Some(Chart {
        name: "pareto".into(),
        title: format!("{} against {}", report.goal.figure, constraint.figure),
        caption: format!(
            "One point per candidate: its {} (estimate) across, its goal figure up; the line joins the candidates no other candidate beats on both, the dashed line is the limit of '{}'.",
            constraint.figure, constraint.text
        ),
        drawing: Drawing::Scatter {
            x: Axis {
                label: format!("{} ({})", constraint.figure, constraint.stat.name()),
                range: x_range,
                ..Axis::default()
            },
            y: Axis {
                label: report.goal.figure.clone(),
                range: y_range,
                ..Axis::default()
            },
            points: points
                .iter()
                .map(|p| (format!("#{}", p.0), p.1, p.2, !dominated(p)))
                .collect(),
            limit: Some((constraint.limit, constraint.text.clone())),
        },
    })
}

/// The goal figure of every candidate that ran, with its CI (a forest plot).
fn goal_chart(report: &PlanReport) -> Chart {
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
