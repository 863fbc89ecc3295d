//! The charts of a sweep.

use serde_json::Value;

use super::{Axis, Chart, Drawing, Series};
use crate::report::Stat;
use crate::report::sweep::{SweepPoint, SweepReport};
use crate::time::SimDuration;

/// A swept value as a number: itself, or hours for a duration such as `"12h"`.
fn numeric(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| duration_hours(v))
}

/// A swept value that is a duration, in hours.
fn duration_hours(v: &Value) -> Option<f64> {
    v.as_str()
        .and_then(|s| SimDuration::parse(s).ok())
        .map(SimDuration::as_hours)
}

/// A point's mean is drawn only when at least this share of its replications observed
/// the figure: the mean of the few replications that finished before the horizon is
/// the mean of the fastest ones, not of the policy.
pub(super) const MIN_OBSERVED_SHARE: f64 = 0.5;

/// The headline figures a sweep charts: (file stem, label, the figure of a release).
type FigureOf = fn(&crate::report::sweep::SweepRelease) -> Option<&Stat>;
const FIGURES: [(&str, &str, FigureOf); 3] = [
    ("coexistence", "coexistence window (hours)", |r| {
        Some(&r.coexistence_hours)
    }),
    ("time-to-90", "time to 90% of instances (hours)", |r| {
        r.time_to_share_hours
            .iter()
            .find(|(k, _)| (k.0 - 0.9).abs() < 1e-12)
            .map(|(_, s)| s)
    }),
    (
        "left-over",
        "instances still on older versions at the horizon",
        |r| Some(&r.left_over_at_horizon),
    ),
];

/// Whether enough replications observed the figure for its mean to be drawn.
fn drawable(stat: &Stat) -> bool {
    stat.n > 0 && stat.n as f64 >= MIN_OBSERVED_SHARE * (stat.n + stat.censored) as f64
}

/// Per headline figure of the last release, the figure against the first axis's value
/// (its mean with the 95% CI as a band), one line per value of the second axis if there
/// is one. Grid points whose first-axis value is not a number or duration are drawn in
/// grid order.
pub(crate) fn sweep_charts(report: &SweepReport) -> Vec<Chart> {
    let Some(first_axis) = report.axes.first() else {
        return Vec::new();
    };
    let x = FirstAxis::of(report, first_axis);
    let groups = lines_by_second_axis(report);
    let mut charts = heat_maps(report, &x.values);
    let lines = FIGURES
        .iter()
        .filter_map(|&(name, label, figure)| figure_chart(name, label, figure, &groups, &x));
    charts.splice(0..0, lines);
    charts
}

/// A grid point's value of axis `axis`.
fn value_of(p: &SweepPoint, axis: usize) -> Option<Value> {
    p.settings.get(axis).map(|(_, v)| v.clone())
}

/// The first axis: its values in grid order, and where each sits on the charts' x axis
/// (the value itself when every value is a number or duration, else its grid position).
struct FirstAxis<'a> {
    name: &'a str,
    values: Vec<Value>,
    numeric: bool,
}

impl<'a> FirstAxis<'a> {
    fn of(report: &SweepReport, name: &'a str) -> FirstAxis<'a> {
        let numeric = report
            .points
            .iter()
            .all(|p| value_of(p, 0).as_ref().and_then(numeric).is_some());
        let mut values: Vec<Value> = Vec::new();
        for p in &report.points {
            if let Some(v) = value_of(p, 0)
                && !values.contains(&v)
            {
                values.push(v);
            }
        }
        FirstAxis {
            name,
            values,
            numeric,
        }
    }

    /// Where value `v` sits on the x axis.
    fn x(&self, v: &Value) -> f64 {
        if self.numeric {
            numeric(v).unwrap_or(0.0)
        } else {
            self.values.iter().position(|f| f == v).unwrap_or(0) as f64
        }
    }

    /// The x axis: labelled, and a little wider than the values.
    fn axis(&self) -> Axis {
        let (lo, hi) = self
            .values
            .iter()
            .map(|v| self.x(v))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
                (a.min(x), b.max(x))
            });
        let pad = ((hi - lo) * 0.05).max(0.5);
        let name = self.name;
        let label = if !self.numeric {
            let order: Vec<String> = self.values.iter().map(text).collect();
            format!("{name} (grid order: {})", order.join(", "))
        } else if self.values.iter().any(|v| duration_hours(v).is_some()) {
            format!("{name} (hours)")
        } else {
            name.to_string()
        };
        Axis {
            label,
            range: (lo - pad, hi + pad),
            ..Axis::default()
        }
    }
}

/// The grid points by the value of the second axis (one group when there is none), in
/// grid order.
fn lines_by_second_axis(report: &SweepReport) -> Vec<(String, Vec<&SweepPoint>)> {
    let mut groups: Vec<(String, Vec<&SweepPoint>)> = Vec::new();
    for p in &report.points {
        let key = match (report.axes.get(1), value_of(p, 1)) {
            (Some(axis), Some(v)) => format!("{axis} = {}", text(&v)),
            _ => "mean with 95% CI".to_string(),
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, points)) => points.push(p),
            None => groups.push((key, vec![p])),
        }
    }
    groups
}

/// One headline figure against the first axis, a line per group; `None` when no point
/// has it.
fn figure_chart(
    name: &str,
    label: &str,
    figure: FigureOf,
    groups: &[(String, Vec<&SweepPoint>)],
    x: &FirstAxis,
) -> Option<Chart> {
    let mut top: f64 = 1.0;
    let mut hidden: Vec<String> = Vec::new();
    let series: Vec<Series> = groups
        .iter()
        .map(|(key, points)| {
            let mut line = Vec::new();
            let mut band = Vec::new();
            for p in points {
                let Some(stat) = p.releases.last().and_then(figure) else {
                    continue;
                };
                if stat.n + stat.censored > 0 && !drawable(stat) {
                    hidden.push(format!(
                        "point {} ({} of {})",
                        p.index,
                        stat.n,
                        stat.n + stat.censored
                    ));
                    continue;
                }
                let (Some(at), Some(mean)) = (value_of(p, 0).map(|v| x.x(&v)), stat.mean) else {
                    continue;
                };
                let [l, h] = stat.ci95.unwrap_or([mean, mean]);
                top = top.max(h);
                line.push((at, mean));
                band.push((at, l, h));
            }
            line.sort_by(|a, b| a.0.total_cmp(&b.0));
            band.sort_by(|a, b| a.0.total_cmp(&b.0));
            Series {
                label: key.clone(),
                line,
                band,
                markers: Vec::new(),
                colour: None,
            }
        })
        .filter(|s| !s.line.is_empty())
        .collect();
    if series.is_empty() {
        return None;
    }
    Some(Chart {
        name: name.into(),
        title: format!("{label} against {}", x.name),
        caption: format!(
            "The last release's {label} at each grid point: the line joins the means over replications and the band is their 95% confidence interval{}. {}",
            if groups.len() > 1 {
                ", one line per value of the second axis"
            } else {
                ""
            },
            if hidden.is_empty() {
                "Every drawn point rests on at least half of its replications; censored replications are left out of the mean.".to_string()
            } else {
                format!(
                    "Not drawn, because fewer than half of their replications reached the figure before the horizon (observed of all): {}.",
                    hidden.join(", ")
                )
            }
        ),
        drawing: Drawing::Lines {
            x: x.axis(),
            y: Axis {
                label: label.into(),
                range: (0.0, top * 1.1),
                ..Axis::default()
            },
            series,
            references: Vec::new(),
        },
    })
}

/// With two axes: per headline figure, a heat map of its mean over the grid (columns:
/// the first axis, rows: the second).
fn heat_maps(report: &SweepReport, firsts: &[Value]) -> Vec<Chart> {
    let [first_axis, second_axis] = report.axes.as_slice() else {
        return Vec::new();
    };
    let mut seconds: Vec<Value> = Vec::new();
    for p in &report.points {
        if let Some((_, v)) = p.settings.get(1)
            && !seconds.contains(v)
        {
            seconds.push(v.clone());
        }
    }
    FIGURES
        .iter()
        .map(|&(name, label, figure)| {
            let cells = seconds
                .iter()
                .map(|second| {
                    firsts
                        .iter()
                        .map(|first| {
                            report
                                .points
                                .iter()
                                .find(|p| {
                                    p.settings.first().map(|s| &s.1) == Some(first)
                                        && p.settings.get(1).map(|s| &s.1) == Some(second)
                                })
                                .and_then(|p| p.releases.last().and_then(figure))
                                .filter(|s| drawable(s))
                                .and_then(|s| s.mean)
                        })
                        .collect()
                })
                .collect();
            Chart {
                name: format!("{name}-map"),
                title: format!("{label}: {first_axis} x {second_axis}"),
                caption: format!(
                    "The last release's {label}, mean over replications, at every grid point: lighter is larger; grey cells are those where fewer than half of the replications reached the figure before the horizon."
                ),
                drawing: Drawing::HeatMap {
                    x: (first_axis.clone(), firsts.iter().map(text).collect()),
                    y: (second_axis.clone(), seconds.iter().map(text).collect()),
                    cells,
                },
            }
        })
        .collect()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
