//! `run`: simulate a scenario and publish its reports (or, as one shard of a larger
//! run, its part file).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

pub use super::publish::PublishedRun;
use super::publish::{RunExtras, publish_run};
use super::resources::pool;
use super::{Destination, Simulation, precision_target};
use crate::montecarlo::{self, Progress};
use crate::scenario::{self};
use crate::shard::{self, Job, PartCommand, PartHeader, PartWriter, PointPart, ShardSpec};

/// The most instance lives `--events` records.
pub const MAX_EVENT_LIVES: u64 = 1_000_000;

/// What `run` is asked to do.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The scenario file (`-` for standard input).
    pub scenario: PathBuf,
    /// Overrides, threads and precision.
    pub simulation: Simulation,
    /// Where to write (`output/<scenario name>` by default), and the charts and page.
    pub destination: Destination,
    /// Also write `events.jsonl` (small runs only).
    pub events: bool,
    /// Measure the phases for `--stats`.
    pub stats: bool,
    /// Run only this shard of the replications, into a part file.
    pub shard: Option<ShardSpec>,
}

/// What `run` did.
pub enum RunOutcome {
    /// The reports were published.
    Published(Box<PublishedRun>),
    /// A shard's part file was written.
    Part(shard::PartWritten),
}

/// Runs `options.scenario`; `progress` hears of every replication (after `start` with
/// their number).
pub fn run(options: &RunOptions, progress: &dyn Progress) -> Result<RunOutcome> {
    let ov = &options.simulation.overrides;
    let text = scenario::read(&options.scenario)?;
    let scenario = scenario::parse(&text, &options.scenario, ov)?;
    let target = precision_target(options.simulation.precision.as_ref(), &scenario)?;
    if let Some(spec) = &options.shard {
        if target.is_some() || options.events {
            bail!(
                "--shard cannot be combined with {}: {}",
                if options.events {
                    "--events"
                } else {
                    "--precision"
                },
                if options.events {
                    "the event log is for small runs; write it with an unsharded run"
                } else {
                    "precision mode decides how many replications to run from all those run before, so its replications cannot be split in advance; shard a fixed --replications instead"
                }
            );
        }
        let shard = spec.resolve(|name| std::env::var(name).ok())?;
        let out_dir = options
            .destination
            .folder(&format!("{}-parts", scenario.name));
        let pool = pool(
            &options.simulation,
            &[(options.scenario.as_path(), &scenario)],
        )?;
        let total = u64::from(scenario.replications);
        let job = Job::new(&options.scenario, text, ov, &[]);
        let header = PartHeader::new(
            PartCommand::Run,
            &scenario.name,
            scenario.seed,
            shard,
            total,
            &job,
        );
        let part = shard::write_part(&out_dir, shard, options.destination.force, |file| {
            let mut part = PartWriter::start(file, header, &job)?;
            let range = shard.range(total);
            progress.start(range.end - range.start);
            let run = pool.install(|| montecarlo::run_range(&scenario, range, progress));
            part.point(&PointPart::of(0, &run))?;
            part.finish()
        })
        .context("cannot write the part file")?;
        return Ok(RunOutcome::Part(part));
    }
    if options.events {
        let lives = scenario
            .population
            .instances
            .saturating_mul(u64::from(scenario.replications));
        if lives > MAX_EVENT_LIVES || target.is_some() {
            bail!(
                "--events is for small runs: at most {MAX_EVENT_LIVES} instance lives (got {} instances x {} replications), \
                 without --precision; lower --instances or --replications",
                scenario.population.instances,
                scenario.replications
            );
        }
    }
    let pool = pool(
        &options.simulation,
        &[(options.scenario.as_path(), &scenario)],
    )?;
    // Every output path is checked, and the staging folder made, before any work.
    let (_, out) = options.destination.prepare(&scenario.name, "reports")?;
    progress.start(target.map_or(u64::from(scenario.replications), |t| t.max_replications));
    let (output, precision) = pool.install(|| match &target {
        Some(t) => {
            let (out, outcome) = montecarlo::run_to_precision(&scenario, t, progress);
            (out, Some(outcome))
        }
        None => (montecarlo::run(&scenario, progress), None),
    });
    let extras = RunExtras {
        presentation: options.destination.presentation,
        events: options.events,
        stats: options.stats,
    };
    publish_run(&scenario, &output, precision, out, &extras)
        .map(|run| RunOutcome::Published(Box::new(run)))
}
