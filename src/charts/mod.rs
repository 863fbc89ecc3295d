//! Charts: the report's figures as pictures a planner can paste into a slide.
//!
//! Each chart is a [`Drawing`] (its data, already reduced to what is drawn) rendered by
//! plotters to SVG, and on request to PNG from the same drawing. Text is measured with
//! `DejaVu` Sans embedded in the binary, never a system font, so the same report gives
//! byte-identical SVG on every machine. Colours are the Okabe-Ito palette (distinct
//! under the common colour blindnesses) and series differ in lightness and line style
//! too, so they survive greyscale printing.

mod compare;
mod drift;
mod fit;
mod plan;
mod render;
mod run;
mod sweep;

pub(crate) use compare::compare_charts;
pub(crate) use drift::drift_chart;
pub(crate) use fit::fit_chart;
pub(crate) use plan::plan_charts;
pub use run::run_charts;
pub(crate) use sweep::sweep_charts;

use crate::output::NamedFile;

/// A chart of a report: its file name, a sentence that says how to read it, and what is
/// drawn.
pub struct Chart {
    /// The file stem under `charts/` (`adoption` gives `charts/adoption.svg`).
    pub name: String,
    /// The chart's heading.
    pub title: String,
    /// How to read it, in one sentence.
    pub caption: String,
    /// What is drawn.
    pub drawing: Drawing,
}

/// A time or value axis: its label and range.
#[derive(Clone, Debug, Default)]
pub struct Axis {
    /// The label, with its unit.
    pub label: String,
    /// The drawn range.
    pub range: (f64, f64),
    /// Values are shares from 0 to 1, labelled as percent (planners read 90%, not 0.9).
    pub percent: bool,
    /// A time axis's instant at 0 and its unit in hours: each tick then also shows
    /// its date ("10 · Mar 12"), the calendar beside the count of days.
    pub dates: Option<(chrono::DateTime<chrono::Utc>, f64)>,
}

impl Axis {
    /// An axis of shares from 0 to 100%.
    pub fn share(label: impl Into<String>) -> Axis {
        Axis {
            label: label.into(),
            range: (0.0, 1.0),
            percent: true,
            dates: None,
        }
    }

    /// This time axis with each tick's date, counted from `origin` in units of
    /// `unit_hours`.
    pub fn dated(self, origin: chrono::DateTime<chrono::Utc>, unit_hours: f64) -> Axis {
        Axis {
            dates: Some((origin, unit_hours)),
            ..self
        }
    }

    /// A tick's label: percent for shares; otherwise a whole number without decimals
    /// ("10", not "10.0") and at most three decimals.
    fn tick(&self, v: f64) -> String {
        if self.percent {
            return format!("{:.0}%", v * 100.0);
        }
        let text = format!("{v:.3}");
        let text = text.trim_end_matches('0').trim_end_matches('.');
        let number = if text == "-0" { "0" } else { text };
        match self.dates {
            Some((origin, unit)) => {
                let at = origin
                    + chrono::Duration::milliseconds((v * unit * 3_600_000.0).round() as i64);
                // Days: the date; hours: the weekday and time.
                let date = if unit >= 24.0 {
                    at.format("%b %d")
                } else {
                    at.format("%a %H:%M")
                };
                format!("{number} · {date}")
            }
            None => number.to_string(),
        }
    }
}

/// One series of a line chart: a mean line with an optional band around it.
#[derive(Clone, Debug)]
pub struct Series {
    /// The legend's name.
    pub label: String,
    /// (x, y) points of the line.
    pub line: Vec<(f64, f64)>,
    /// (x, low, high) of the band; empty for none.
    pub band: Vec<(f64, f64, f64)>,
    /// x positions of vertical markers in the series' colour (e.g. a recommended window).
    pub markers: Vec<f64>,
    /// The palette index of its colour: a version keeps one colour on every chart of a
    /// run. `None`: the series' position.
    pub colour: Option<usize>,
}

/// What a chart draws.
#[derive(Clone, Debug)]
pub enum Drawing {
    /// Lines with bands, and dashed horizontal reference lines.
    Lines {
        /// The x axis.
        x: Axis,
        /// The y axis.
        y: Axis,
        /// The series, one colour each.
        series: Vec<Series>,
        /// (y, label) of horizontal reference lines.
        references: Vec<(f64, String)>,
    },
    /// Shares stacked to 1 over time, one layer per label.
    Stacked {
        /// The x axis.
        x: Axis,
        /// (label, (x, share) points), bottom layer first.
        layers: Vec<(String, Vec<(f64, f64)>)>,
    },
    /// A histogram of values with a marked value and its interval.
    Histogram {
        /// The value axis.
        x: Axis,
        /// (low, high, count) of each bin.
        bins: Vec<(f64, f64, u64)>,
        /// A marked value with its interval: (label, value, low, high).
        marker: Option<(String, f64, Option<f64>, Option<f64>)>,
        /// Written across the plot when there is nothing to draw, saying why.
        note: Option<String>,
    },
    /// A value per cell of a two-way grid, coloured on a perceptually even scale.
    HeatMap {
        /// The columns' axis label and the label of each column.
        x: (String, Vec<String>),
        /// The rows' axis label and the label of each row.
        y: (String, Vec<String>),
        /// `cells[row][column]`; `None` where the value is censored in every replication.
        cells: Vec<Vec<Option<f64>>>,
    },
    /// Points of two figures, one per candidate, the non-dominated ones joined: the
    /// Pareto front when two figures are traded.
    Scatter {
        /// The x axis.
        x: Axis,
        /// The y axis.
        y: Axis,
        /// (label, x, y, on the front).
        points: Vec<(String, f64, f64, bool)>,
        /// (value, label) of a vertical limit line, when there is one.
        limit: Option<(f64, String)>,
    },
    /// Estimates with intervals, one row each, against a zero line.
    Forest {
        /// The value axis.
        x: Axis,
        /// (label, estimate, low, high).
        rows: Vec<(String, f64, f64, f64)>,
    },
}

/// An axis over `[0, max]` hours, in hours or days as fits the range.
pub fn time_axis(max_hours: f64, what: &str) -> (Axis, f64) {
    if max_hours > 96.0 {
        (
            Axis {
                label: format!("days {what}"),
                range: (0.0, max_hours / 24.0),
                ..Axis::default()
            },
            24.0,
        )
    } else {
        (
            Axis {
                label: format!("hours {what}"),
                range: (0.0, max_hours.max(1.0)),
                ..Axis::default()
            },
            1.0,
        )
    }
}

/// A chart rendered once: its SVG (for its file and the HTML pages alike) and, when asked
/// for, its PNG.
pub struct Drawn {
    /// The chart.
    pub chart: Chart,
    /// Its SVG document.
    pub svg: String,
    /// Its PNG, with `--png`.
    pub png: Option<Vec<u8>>,
}

/// Renders each of `charts` once: SVG, and PNG too with `png`.
pub fn draw_all(charts: Vec<Chart>, png: bool) -> Vec<Drawn> {
    charts
        .into_iter()
        .map(|chart| Drawn {
            svg: chart.svg(),
            png: png.then(|| chart.png()),
            chart,
        })
        .collect()
}

/// The files of drawn charts, as (path under the output folder, bytes).
pub fn chart_files(drawn: &[Drawn]) -> Vec<NamedFile> {
    let mut out = Vec::new();
    for d in drawn {
        out.push((
            format!("charts/{}.svg", d.chart.name),
            d.svg.clone().into_bytes(),
        ));
        if let Some(png) = &d.png {
            out.push((format!("charts/{}.png", d.chart.name), png.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_whole_numbers_or_percent() {
        let plain = Axis::default();
        assert_eq!(plain.tick(10.0), "10");
        assert_eq!(plain.tick(2.5), "2.5");
        assert_eq!(plain.tick(0.125), "0.125");
        assert_eq!(plain.tick(-0.0), "0");
        let share = Axis::share("s");
        assert_eq!(share.tick(0.9), "90%");
        assert_eq!(share.tick(1.0), "100%");
        let origin = chrono::DateTime::parse_from_rfc3339("2026-03-02T14:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let days = Axis::default().dated(origin, 24.0);
        assert_eq!(days.tick(10.0), "10 · Mar 12");
        let hours = Axis::default().dated(origin, 1.0);
        assert_eq!(hours.tick(20.0), "20 · Tue 10:00");
    }
}
