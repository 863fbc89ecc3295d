//! `sweep`: a grid over scenario values addressed by JSON path, every point run and its
//! headline figures published as `sweep.json`, `sweep.csv`, charts and a page (or, as
//! one shard of a larger sweep, its part file).

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use rayon::prelude::*;

pub use super::publish::PublishedSweep;
use super::publish::{publish_sweep, sweep_point};
use super::resources::pool;
use super::{Destination, Simulation, point_scenarios, precision_target};
use crate::montecarlo::{self, Progress};
use crate::report::Report;
use crate::report::sweep::SweepPoint;
use crate::scenario::{self, Scenario};
use crate::shard::{self, Job, PartCommand, PartHeader, PartWriter, PointPart, ShardSpec};
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
    /// Where to write (`output/sweep-<scenario name>` by default), and the charts and page.
    pub destination: Destination,
    /// Run only this shard of the grid's replications, into a part file.
    pub shard: Option<ShardSpec>,
}

/// What `sweep` did.
#[derive(Debug)]
pub enum SweepOutcome {
    /// The sweep's reports were published.
    Published(PublishedSweep),
    /// A shard's part file was written.
    Part(shard::PartWritten),
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
        let job = Job::new(&options.scenario, text, base, &axes);
        let part = run_shard(options, spec, &job, &scenarios, progress)?;
        return Ok(SweepOutcome::Part(part));
    }
    let pool = pool(sim, &files)?;
    let (_, out) = options
        .destination
        .prepare(&format!("sweep-{name}"), "sweep")?;
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
    publish_sweep(
        name,
        &axes,
        sweep_points,
        out,
        options.destination.presentation,
    )
    .map(SweepOutcome::Published)
}

/// Runs this shard's block of the grid's replications (every grid point's, points in
/// order) and writes its part file.
fn run_shard(
    options: &SweepOptions,
    spec: &ShardSpec,
    job: &Job,
    scenarios: &[Scenario],
    progress: &dyn Progress,
) -> Result<shard::PartWritten> {
    let shard = spec.resolve(|name| std::env::var(name).ok())?;
    let name = &scenarios[0].name;
    let out_dir = options.destination.folder(&format!("sweep-{name}-parts"));
    let files: Vec<_> = scenarios
        .iter()
        .map(|s| (options.scenario.as_path(), s))
        .collect();
    let pool = pool(&options.simulation, &files)?;
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
    let header = PartHeader::new(
        PartCommand::Sweep,
        name,
        scenarios[0].seed,
        shard,
        total,
        job,
    );
    shard::write_part(&out_dir, shard, options.destination.force, |file| {
        let mut part = PartWriter::start(file, header, job)?;
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
    })
    .context("cannot write the part file")
}
