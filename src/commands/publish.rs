//! What `run` and `merge` publish for a run, and `sweep` and `merge` for a sweep: the
//! reports built from the replications, written and published all or nothing.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};

use super::Presentation;
use crate::charts::{chart_files, draw_all, sweep_charts};
use crate::export::html::sweep_page;
use crate::export::sweep::{SweepCsv, SweepJson};
use crate::export::{self, Exporter, events::write_event_log, run_stats};
use crate::montecarlo::{PrecisionOutcome, RunOutput};
use crate::output::OutputDir;
use crate::report::sweep::{SweepPoint, SweepReport};
use crate::report::{Report, RunReport};
use crate::scenario::{Scenario, Setting};
use crate::sweep::Axis;

/// A run's published reports.
pub struct PublishedRun {
    /// The report, as `report.json` holds it.
    pub report: RunReport,
    /// The folder written.
    pub folder: PathBuf,
    /// The `--stats` block, when asked for.
    pub stats: Option<String>,
}

/// A sweep's published reports.
#[derive(Debug)]
pub struct PublishedSweep {
    /// The sweep, as `sweep.json` holds it.
    pub report: SweepReport,
    /// The folder written.
    pub folder: PathBuf,
}

/// What a run publishes beyond its data files, once its replications are in (from
/// `run` or from `merge`).
pub(super) struct RunExtras {
    /// Charts and page.
    pub presentation: Presentation,
    /// `events.jsonl`, the event log.
    pub events: bool,
    /// The `--stats` block.
    pub stats: bool,
}

/// Builds the run's reports, writes and publishes them.
pub(super) fn publish_run(
    scenario: &Scenario,
    output: &RunOutput,
    precision: Option<PrecisionOutcome>,
    mut out: OutputDir,
    extras: &RunExtras,
) -> Result<PublishedRun> {
    let aggregation_started = Instant::now();
    let report = RunReport::build(scenario, output, precision);
    let aggregation = aggregation_started.elapsed();
    let output_started = Instant::now();
    export::write_all(&mut out, &report, &export::standard_exporters())
        .context("cannot write the reports")?;
    if extras.events {
        out.write_file("events.jsonl", |w| write_event_log(scenario, w))
            .context("cannot write the event log")?;
    }
    let folder = out.target().to_path_buf();
    let presentation = &extras.presentation;
    out.publish_files(export::presentation_files(
        &report,
        presentation.charts,
        presentation.png,
    ))
    .context("cannot write the reports")?;
    let stats = extras.stats.then(|| {
        let phases = run_stats::Phases {
            aggregation,
            output: output_started.elapsed(),
        };
        run_stats::render(output, scenario, &phases)
    });
    Ok(PublishedRun {
        report,
        folder,
        stats,
    })
}

/// Grid point `index`'s headline figures: all a sweep keeps of a point's run.
pub(super) fn sweep_point(index: usize, settings: &[Setting], report: Report) -> SweepPoint {
    SweepPoint::new(
        index,
        settings
            .iter()
            .map(|s| (s.path.clone(), s.value.clone()))
            .collect(),
        report,
    )
}

/// Writes and publishes the sweep's reports.
pub(super) fn publish_sweep(
    name: String,
    axes: &[Axis],
    sweep_points: Vec<SweepPoint>,
    out: OutputDir,
    presentation: Presentation,
) -> Result<PublishedSweep> {
    let axes: Vec<(String, usize)> = axes
        .iter()
        .map(|a| (a.path.clone(), a.values.len()))
        .collect();
    let report = SweepReport::new(name, &axes, sweep_points);
    let mut files = vec![SweepJson.to_file(&report), SweepCsv.to_file(&report)];
    if presentation.charts {
        let drawn = draw_all(sweep_charts(&report), presentation.png);
        files.extend(chart_files(&drawn));
        files.push((
            "sweep.html".into(),
            sweep_page(&report, &drawn).into_bytes(),
        ));
    }
    let folder = out.target().to_path_buf();
    out.publish_files(files).context("cannot write the sweep")?;
    Ok(PublishedSweep { report, folder })
}
