//! `run`: simulate a scenario and publish its reports (or, as one shard of a larger
//! run, its part file).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::resources::pool;
use super::{PartWritten, Presentation, Simulation, folder_or_default, precision_target};
use crate::export::{self, events::write_event_log, stats};
use crate::montecarlo::{self, PrecisionOutcome, Progress, RunOutput};
use crate::output::{self, OutputDir};
use crate::report::RunReport;
use crate::scenario::{self, Scenario};
use crate::shard::{self, Job, PartCommand, PartHeader, PartWriter, PointPart, Shard, ShardSpec};

/// The most instance lives `--events` records.
pub const MAX_EVENT_LIVES: u64 = 1_000_000;

/// What `run` is asked to do.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The scenario file (`-` for standard input).
    pub scenario: PathBuf,
    /// Overrides, threads and precision.
    pub simulation: Simulation,
    /// The output folder; `output/<scenario name>` when `None`.
    pub out: Option<PathBuf>,
    /// Replace an output folder rollout-sim did not write.
    pub force: bool,
    /// Charts and page.
    pub presentation: Presentation,
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
    Part(PartWritten),
}

/// A run's published reports.
pub struct PublishedRun {
    /// The report, as `report.json` holds it.
    pub report: RunReport,
    /// The folder written.
    pub folder: PathBuf,
    /// The `--stats` block, when asked for.
    pub stats: Option<String>,
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
        let out_dir =
            folder_or_default(options.out.as_deref(), &format!("{}-parts", scenario.name));
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
        let part = write_part(&out_dir, shard, options.force, |file| {
            let mut part = PartWriter::start(file, header, &job)?;
            let range = shard.range(total);
            progress.start(range.end - range.start);
            let run = pool.install(|| montecarlo::run_range(&scenario, range, progress));
            part.point(&PointPart::of(0, &run))?;
            part.finish()
        })?;
        return Ok(RunOutcome::Part(part));
    }
    let out_dir = folder_or_default(options.out.as_deref(), &scenario.name);
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
    let out = OutputDir::prepare(&out_dir, options.force).context("cannot write the reports")?;
    progress.start(target.map_or(u64::from(scenario.replications), |t| t.max_replications));
    let (output, precision) = pool.install(|| match &target {
        Some(t) => {
            let (out, outcome) = montecarlo::run_to_precision(&scenario, t, progress);
            (out, Some(outcome))
        }
        None => (montecarlo::run(&scenario, progress), None),
    });
    let finish = Finish {
        presentation: options.presentation,
        events: options.events,
        stats: options.stats,
    };
    publish_run(&scenario, &output, precision, out, &finish)
        .map(|run| RunOutcome::Published(Box::new(run)))
}

/// What to do once a run's replications are in: from `run` or from `merge`.
pub(super) struct Finish {
    pub presentation: Presentation,
    pub events: bool,
    pub stats: bool,
}

/// Builds the run's reports, writes and publishes them.
pub(super) fn publish_run(
    scenario: &Scenario,
    output: &RunOutput,
    precision: Option<PrecisionOutcome>,
    mut out: OutputDir,
    finish: &Finish,
) -> Result<PublishedRun> {
    let aggregation_started = Instant::now();
    let report = RunReport::build(scenario, output, precision);
    let aggregation = aggregation_started.elapsed();
    let output_started = Instant::now();
    export::write_all(&mut out, &report, &export::standard_exporters())
        .context("cannot write the reports")?;
    for (name, bytes) in
        export::presentation_files(&report, finish.presentation.charts, finish.presentation.png)
    {
        out.write_file(&name, |w| w.write_all(&bytes))
            .context("cannot write the reports")?;
    }
    if finish.events {
        out.write_file("events.jsonl", |w| write_event_log(scenario, w))
            .context("cannot write the event log")?;
    }
    let folder = out.target().to_path_buf();
    out.publish().context("cannot write the reports")?;
    let stats = finish.stats.then(|| {
        let phases = stats::Phases {
            aggregation,
            output: output_started.elapsed(),
        };
        stats::render(output, scenario, &phases)
    });
    Ok(PublishedRun {
        report,
        folder,
        stats,
    })
}

/// Writes a shard's part file into `dir`, beside the other shards' parts: `write` runs
/// the shard and streams its part once every check has passed.
pub(super) fn write_part(
    dir: &Path,
    shard: Shard,
    force: bool,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<PartWritten> {
    let name = shard.file_name();
    output::write_single_file(dir, &name, force, shard::is_part_file, write)
        .context("cannot write the part file")?;
    Ok(PartWritten {
        file: dir.join(&name),
        folder: dir.to_path_buf(),
    })
}
