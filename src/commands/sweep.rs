//! `sweep`: a grid over scenario values addressed by JSON path, every point run and its
//! headline figures published as `sweep.json`, `sweep.csv`, charts and a page (or, as
//! one shard of a larger sweep, its part file).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use rayon::prelude::*;

use super::resources::pool;
use super::run::write_part;
use super::{PartWritten, Presentation, Simulation, folder_or_default, precision_target};
use crate::charts::{chart_files, draw_all, sweep_charts};
use crate::export::html::sweep_page;
use crate::export::sweep::{SweepCsv, SweepJson};
use crate::export::{self, Exporter};
use crate::montecarlo::{self, Progress};
use crate::output::OutputDir;
use crate::report::Report;
use crate::report::sweep::{SweepPoint, SweepReport};
use crate::scenario::{self, Overrides, Scenario, ScenarioError, Setting};
use crate::shard::{Job, PartCommand, PartHeader, PartWriter, PointPart, ShardSpec};
use crate::sweep::{Axis, grid, load_sweep_file};

/// What `sweep` is asked to do.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// The scenario file.
    pub scenario: PathBuf,
    /// The axes given on the command line.
    pub axes: Vec<Axis>,
    /// A sweep file whose axes follow those.
    pub file: Option<PathBuf>,
    /// Overrides, threads and precision (per grid point).
    pub simulation: Simulation,
    /// The output folder; `output/sweep-<scenario name>` when `None`.
    pub out: Option<PathBuf>,
    /// Replace an output folder rollout-sim did not write.
    pub force: bool,
    /// Charts and page.
    pub presentation: Presentation,
    /// Run only this shard of the grid's replications, into a part file.
    pub shard: Option<ShardSpec>,
}

/// What `sweep` did.
#[derive(Debug)]
pub enum SweepOutcome {
    /// The sweep's reports were published.
    Published(PublishedSweep),
    /// A shard's part file was written.
    Part(PartWritten),
}

/// A sweep's published reports.
#[derive(Debug)]
pub struct PublishedSweep {
    /// The sweep, as `sweep.json` holds it.
    pub report: SweepReport,
    /// The folder written.
    pub folder: PathBuf,
}

/// Runs the sweep of `options`.
pub fn sweep(options: &SweepOptions, progress: &dyn Progress) -> Result<SweepOutcome> {
    let sim = &options.simulation;
    let mut axes = options.axes.clone();
    if let Some(file) = &options.file {
        axes.extend(
            load_sweep_file(file)
                .map_err(|e| anyhow!("{}: {}: {}", file.display(), e.field, e.message))?,
        );
    }
    if axes.is_empty() {
        bail!("a sweep needs at least one axis: --set PATH=V1,V2,... or --file SWEEP.json");
    }
    let base = &sim.overrides;
    let text = scenario::read(&options.scenario)?;
    crate::sweep::checked_grid_size(&axes).map_err(|e| anyhow!("{e}"))?;
    let points = grid(&axes);
    // Validate every grid point before running any.
    let scenarios = point_scenarios(&text, &options.scenario, base, &points, "grid point ")?;
    let targets: Vec<_> = scenarios
        .iter()
        .map(|s| precision_target(sim.precision.as_ref(), s))
        .collect::<Result<_>>()?;
    let name = scenarios[0].name.clone();
    let files: Vec<_> = scenarios
        .iter()
        .map(|s| (options.scenario.as_path(), s))
        .collect();
    if let Some(spec) = &options.shard {
        if targets.iter().any(Option::is_some) {
            bail!(
                "--shard cannot be combined with --precision: precision mode decides how many replications to run from all those run before, so its replications cannot be split in advance; shard a fixed --replications instead"
            );
        }
        let shard = spec.resolve(|name| std::env::var(name).ok())?;
        let out_dir = folder_or_default(options.out.as_deref(), &format!("sweep-{name}-parts"));
        let pool = pool(sim, &files)?;
        // Work items: every grid point's replications, points in order.
        let sizes: Vec<u64> = scenarios
            .iter()
            .map(|s| u64::from(s.replications))
            .collect();
        let total: u64 = sizes.iter().sum();
        let mine = shard.range(total);
        let mut first = 0;
        let blocks: Vec<(usize, std::ops::Range<u64>)> = sizes
            .iter()
            .enumerate()
            .filter_map(|(point, &size)| {
                let (start, end) = (first, first + size);
                first = end;
                let (lo, hi) = (mine.start.max(start), mine.end.min(end));
                (lo < hi).then(|| (point, lo - start..hi - start))
            })
            .collect();
        let job = Job::new(&options.scenario, text, base, &axes);
        let header = PartHeader::new(
            PartCommand::Sweep,
            &name,
            scenarios[0].seed,
            shard,
            total,
            &job,
        );
        let part = write_part(&out_dir, shard, options.force, |file| {
            let mut part = PartWriter::start(file, header, &job)?;
            progress.start(mine.end - mine.start);
            // As many grid points at once as threads, written in order as they finish:
            // memory holds a few points, however many the shard has.
            for chunk in blocks.chunks(pool.current_num_threads()) {
                let shares: Vec<PointPart> = pool.install(|| {
                    chunk
                        .par_iter()
                        .map(|(point, range)| {
                            let mut run =
                                montecarlo::run_range(&scenarios[*point], range.clone(), progress);
                            // A sweep reports no version mix: the part need not carry it.
                            run.mix.skip();
                            PointPart::of(*point, &run)
                        })
                        .collect()
                });
                for share in &shares {
                    part.point(share)?;
                }
            }
            part.finish()
        })?;
        return Ok(SweepOutcome::Part(part));
    }
    let out_dir = folder_or_default(options.out.as_deref(), &format!("sweep-{name}"));
    let pool = pool(sim, &files)?;
    let out = OutputDir::prepare(&out_dir, options.force).context("cannot write the sweep")?;
    progress.start(
        scenarios
            .iter()
            .zip(&targets)
            .map(|(s, t)| t.map_or(u64::from(s.replications), |t| t.max_replications))
            .sum(),
    );
    let sweep_points: Vec<SweepPoint> = pool.install(|| {
        scenarios
            .par_iter()
            .zip(&targets)
            .zip(&points)
            .enumerate()
            .map(|(i, ((s, target), settings))| {
                let report = match target {
                    Some(t) => {
                        let (out, outcome) = montecarlo::run_to_precision(s, t, progress);
                        Report::build(s, &out, Some(outcome))
                    }
                    None => Report::build(s, &montecarlo::run(s, progress), None),
                };
                sweep_point(i, settings, report)
            })
            .collect()
    });
    publish_sweep(name, &axes, sweep_points, out, options.presentation).map(SweepOutcome::Published)
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

/// The scenario of every grid point, each validated, before anything runs; an error
/// names the point as `noun` ("grid point ", "candidate #") before its index and values.
pub(super) fn point_scenarios(
    text: &str,
    file: &Path,
    base: &Overrides,
    points: &[Vec<Setting>],
    noun: &str,
) -> Result<Vec<Scenario>> {
    points
        .iter()
        .enumerate()
        .map(|(i, settings)| {
            let mut ov = base.clone();
            ov.settings.extend(settings.iter().cloned());
            let described: Vec<String> = settings
                .iter()
                .map(|s| format!("{}={}", s.path, s.value))
                .collect();
            scenario::parse(text, file, &ov)
                .map_err(|e: ScenarioError| anyhow!("{noun}{i} ({}): {e}", described.join(", ")))
        })
        .collect()
}

/// Writes and publishes the sweep's reports.
pub(super) fn publish_sweep(
    name: String,
    axes: &[Axis],
    sweep_points: Vec<SweepPoint>,
    mut out: OutputDir,
    presentation: Presentation,
) -> Result<PublishedSweep> {
    let axes: Vec<(String, usize)> = axes
        .iter()
        .map(|a| (a.path.clone(), a.values.len()))
        .collect();
    let report = SweepReport::new(name, &axes, sweep_points);
    let exporters: Vec<Box<dyn Exporter<SweepReport>>> =
        vec![Box::new(SweepJson), Box::new(SweepCsv)];
    export::write_all(&mut out, &report, &exporters).context("cannot write the sweep")?;
    if presentation.charts {
        let drawn = draw_all(sweep_charts(&report), presentation.png);
        let mut files = chart_files(&drawn);
        files.push((
            "sweep.html".into(),
            sweep_page(&report, &drawn).into_bytes(),
        ));
        for (name, bytes) in files {
            out.write_file(&name, |w| w.write_all(&bytes))
                .context("cannot write the sweep")?;
        }
    }
    let folder = out.target().to_path_buf();
    out.publish().context("cannot write the sweep")?;
    Ok(PublishedSweep { report, folder })
}
