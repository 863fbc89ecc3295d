//! The charts of a run.

use super::{Axis, Chart, Drawing, Series, time_axis};
use crate::report::RunReport;

/// The palette index of a version: its place in the version mix, so that a version has
/// one colour on every chart of the run.
fn version_colour(report: &RunReport, version: &str) -> Option<usize> {
    let versions = report.report.releases.len() + 1;
    report
        .mix
        .iter()
        .take(versions)
        .position(|r| r.version == version)
}

/// The time axis since the start, up to `hours`, with each tick's date (UTC): the
/// calendar beside the count of days or hours.
pub(super) fn since_start(report: &RunReport, hours: f64) -> (Axis, f64) {
    let (axis, unit) = time_axis(hours, "since the start (dates in UTC)");
    match chrono::DateTime::parse_from_rfc3339(&report.report.scenario.start) {
        Ok(start) => (axis.dated(start.with_timezone(&chrono::Utc), unit), unit),
        Err(_) => (axis, unit),
    }
}

/// Bins of the coexistence histogram.
const HISTOGRAM_BINS: usize = 24;

fn release_name(report: &RunReport, k: usize) -> String {
    let r = &report.report.releases[k];
    format!("{k}: {} ({})", r.label, r.version)
}

/// Every chart of a run, in reading order.
pub fn run_charts(report: &RunReport) -> Vec<Chart> {
    let mut charts = vec![adoption(report), version_mix(report), survival(report)];
    charts.extend((0..report.report.releases.len()).map(|k| coexistence(report, k)));
    charts.extend(installed(report));
    charts
}

fn adoption(report: &RunReport) -> Chart {
    let horizon = report.report.scenario.horizon_hours;
    let (x, unit) = since_start(report, horizon);
    let series = report
        .adoption
        .iter()
        .enumerate()
        .map(|(k, bands)| {
            let r = &report.report.releases[k];
            let deployed = bands_deploy(report, k);
            Series {
                label: release_name(report, k),
                line: bands.iter().map(|b| (b.hours / unit, b.mean)).collect(),
                band: bands
                    .iter()
                    .map(|b| (b.hours / unit, b.p5, b.p95))
                    .collect(),
                markers: r
                    .recommended_compat_window
                    .hours
                    .map(|h| (deployed + h) / unit)
                    .into_iter()
                    .collect(),
                colour: version_colour(report, &r.version),
            }
        })
        .collect();
    Chart {
        name: "adoption".into(),
        title: "Adoption: share on each release's version or later".into(),
        caption: format!(
            "The share of installed instances on each release's version or a later one: the line is the mean over {} replications, the band runs from the 5th to the 95th percentile, dashed grey lines are the report's thresholds and each dashed vertical line ends the release's recommended compatibility window.",
            report.report.scenario.replications
        ),
        drawing: Drawing::Lines {
            x,
            y: Axis::share("share of installed instances"),
            series,
            references: threshold_lines(report),
        },
    }
}

/// The thresholds as reference lines, labelled where a label has room (0.99, 0.999 and
/// 1 would print over each other).
fn threshold_lines(report: &RunReport) -> Vec<(f64, String)> {
    let mut last_labelled = f64::NEG_INFINITY;
    // Every release reports the same thresholds, in increasing order.
    report.report.releases[0]
        .time_to_share_hours
        .keys()
        .map(|k| {
            let t = k.0;
            if t - last_labelled >= 0.04 {
                last_labelled = t;
                (t, format!("{}%", t * 100.0))
            } else {
                (t, String::new())
            }
        })
        .collect()
}

/// Hours from the start to release `k`'s deploy.
fn bands_deploy(report: &RunReport, k: usize) -> f64 {
    let start = chrono::DateTime::parse_from_rfc3339(&report.report.scenario.start);
    let deployed = chrono::DateTime::parse_from_rfc3339(&report.report.releases[k].deployed_at);
    match (start, deployed) {
        (Ok(s), Ok(d)) => (d - s).num_seconds() as f64 / 3600.0,
        _ => 0.0,
    }
}

fn version_mix(report: &RunReport) -> Chart {
    let (x, unit) = since_start(report, report.report.scenario.horizon_hours);
    let versions = report.report.releases.len() + 1;
    let layers = (0..versions)
        .map(|v| {
            let rows: Vec<_> = report.mix.iter().skip(v).step_by(versions).collect();
            (
                rows.first().map_or(String::new(), |r| r.version.clone()),
                rows.iter()
                    .map(|r| (r.hours / unit, r.cell.mean_share))
                    .collect(),
            )
        })
        .collect();
    Chart {
        name: "version-mix".into(),
        title: "Version mix: which versions the service must speak".into(),
        caption: "The mean share of installed instances on each version over time, stacked to 100%: every coloured layer is a version the vendor's service still has to serve.".into(),
        drawing: Drawing::Stacked { x, layers },
    }
}

fn survival(report: &RunReport) -> Chart {
    let curves: Vec<_> = report
        .latency
        .iter()
        .map(crate::stats::LatencyHistogram::survival_curve)
        .collect();
    let longest = curves
        .iter()
        .filter_map(|c| c.last().map(|p| p.at.as_hours()))
        .fold(1.0, f64::max)
        .min(report.report.scenario.horizon_hours);
    let (x, unit) = time_axis(longest, "after the deploy");
    let series = curves
        .iter()
        .enumerate()
        .map(|(k, curve)| {
            let mut line = vec![(0.0, 1.0)];
            let mut band = vec![(0.0, 1.0, 1.0)];
            for p in curve {
                let at = p.at.as_hours() / unit;
                line.push((at, p.survival));
                band.push((at, p.lower, p.upper));
            }
            Series {
                label: release_name(report, k),
                line,
                band,
                markers: Vec::new(),
                colour: version_colour(report, &report.report.releases[k].version),
            }
        })
        .collect();
    Chart {
        name: "survival".into(),
        title: "Still waiting: instances not yet updated (Kaplan-Meier)".into(),
        caption: "The fraction of instances still on an older version against the time since each release's deploy, pooled over replications (Kaplan-Meier, with its 95% band); a curve that levels off above zero means some instances never update.".into(),
        drawing: Drawing::Lines {
            x,
            y: Axis::share("share of instances still waiting"),
            series,
            references: Vec::new(),
        },
    }
}

fn coexistence(report: &RunReport, k: usize) -> Chart {
    let values: Vec<f64> = report.coexistence[k].iter().flatten().copied().collect();
    let censored = report.coexistence[k].len() - values.len();
    let window = &report.report.releases[k].recommended_compat_window;
    let max = values
        .iter()
        .copied()
        .chain(window.hours)
        .chain(window.ci95.iter().flatten().copied())
        .fold(1.0, f64::max);
    let min = values
        .iter()
        .copied()
        .chain(window.ci95.iter().flatten().copied())
        .fold(max, f64::min);
    let note = values.is_empty().then(|| {
        format!(
            "The coexistence never ended before the horizon in any of the {censored} replications: no window to draw."
        )
    });
    let (mut x, unit) = if values.is_empty() {
        // Nothing to draw: the axis spans the time after the deploy the run covered.
        time_axis(
            (report.report.scenario.horizon_hours - bands_deploy(report, k)).max(1.0),
            "after the deploy",
        )
    } else {
        time_axis(max * 1.05, "after the deploy")
    };
    if !values.is_empty() {
        // Start near the smallest value: the spread is what the chart shows.
        x.range.0 = (min * 0.95 / unit).min(x.range.1 * 0.9);
    }
    let width = (x.range.1 - x.range.0) / HISTOGRAM_BINS as f64;
    let mut counts = [0u64; HISTOGRAM_BINS];
    for v in &values {
        let bin = ((v / unit - x.range.0) / width) as usize;
        counts[bin.min(HISTOGRAM_BINS - 1)] += 1;
    }
    let bins = counts
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            (
                x.range.0 + i as f64 * width,
                x.range.0 + (i + 1) as f64 * width,
                n,
            )
        })
        .collect();
    let pct = window.quantile * 100.0;
    Chart {
        name: format!("coexistence-{k}"),
        title: format!(
            "Release {}: coexistence window over {} replications{}",
            release_name(report, k),
            values.len() + censored,
            if censored > 0 {
                format!(" ({censored} never ended)")
            } else {
                String::new()
            }
        ),
        caption: format!(
            "How long older versions stayed in use after release {k}'s deploy, one count per replication; the red line is the recommended window (the {pct:.0}th percentile) and the shaded span its 95% confidence interval. Replications where the coexistence never ended before the horizon are counted in the title, not drawn."
        ),
        drawing: Drawing::Histogram {
            x,
            bins,
            marker: window.hours.map(|h| {
                (
                    format!("recommended window ({pct:.0}th percentile)"),
                    h / unit,
                    window.ci95[0].map(|v| v / unit),
                    window.ci95[1].map(|v| v / unit),
                )
            }),
            note,
        },
    }
}

/// The installed count over time, when churn or a cut-off changes it.
fn installed(report: &RunReport) -> Option<Chart> {
    let versions = report.report.releases.len() + 1;
    let points: Vec<(f64, f64)> = report
        .mix
        .iter()
        .step_by(versions)
        .map(|r| (r.hours, r.cell.mean_installed))
        .collect();
    let (lo, hi) = points
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), p| {
            (lo.min(p.1), hi.max(p.1))
        });
    if points.is_empty() || hi - lo < 0.5 {
        return None;
    }
    let (x, unit) = since_start(report, report.report.scenario.horizon_hours);
    Some(Chart {
        name: "installed".into(),
        title: "Installed instances".into(),
        caption: "The mean number of installed instances over time: new installs and uninstalls (churn) and cut-offs that uninstall change it.".into(),
        drawing: Drawing::Lines {
            x,
            y: Axis {
                label: "installed instances".into(),
                range: (0.0, hi * 1.1),
                ..Axis::default()
            },
            series: vec![Series {
                label: "installed (mean)".into(),
                line: points.iter().map(|&(h, n)| (h / unit, n)).collect(),
                band: Vec::new(),
                markers: Vec::new(),
                colour: None,
            }],
            references: Vec::new(),
        },
    })
}
