//! `rollout-sim run`.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::{Bar, ChartOptions, Format, RunArgs, overrides, pool, precision_target, stats};
use crate::montecarlo::{self, PrecisionOutcome, RunOutput};
use crate::report::events::write_event_log;
use crate::report::output::{self, OutputDir};
use crate::report::{self, JsonReport, RunReport, SummaryMarkdown};
use crate::scenario::{self, Scenario};
use crate::shard::{self, Job, PartCommand, PartHeader, PartWriter, PointPart, Shard};

pub fn run(args: &RunArgs) -> Result<()> {
    let ov = overrides(&args.sim, &args.settings)?;
    let text = scenario::read(&args.scenario)?;
    let scenario = scenario::parse(&text, &args.scenario, &ov)?;
    let target = precision_target(&args.sim, &scenario)?;
    if let Some(spec) = &args.shard {
        if target.is_some() || args.events {
            bail!(
                "--shard cannot be combined with {}: {}",
                if args.events {
                    "--events"
                } else {
                    "--precision"
                },
                if args.events {
                    "the event log is for small runs; write it with an unsharded run"
                } else {
                    "precision mode decides how many replications to run from all those run before, so its replications cannot be split in advance; shard a fixed --replications instead"
                }
            );
        }
        let shard = spec.resolve(|name| std::env::var(name).ok())?;
        let out_dir = args
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("output").join(format!("{}-parts", scenario.name)));
        let pool = pool(&args.sim, &[(args.scenario.as_path(), &scenario)], &ov)?;
        let total = u64::from(scenario.replications);
        let job = Job::new(&args.scenario, text, &ov, &[]);
        let header = PartHeader::new(
            PartCommand::Run,
            &scenario.name,
            scenario.seed,
            shard,
            total,
            &job,
        );
        return write_part(&out_dir, shard, args.force, args.sim.quiet, |file| {
            let mut part = PartWriter::start(file, header, &job)?;
            let range = shard.range(total);
            let bar = Bar::new(&args.sim, range.end - range.start, "replications");
            let run = pool.install(|| montecarlo::run_range(&scenario, range, &bar));
            drop(bar);
            part.point(&PointPart::of(0, &run))?;
            part.finish()
        });
    }
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&scenario.name));
    if args.events {
        let lives = scenario
            .population
            .instances
            .saturating_mul(scenario.replications as u64);
        if lives > MAX_EVENT_LIVES || target.is_some() {
            bail!(
                "--events is for small runs: at most {MAX_EVENT_LIVES} instance lives (got {} instances x {} replications), \
                 without --precision; lower --instances or --replications",
                scenario.population.instances,
                scenario.replications
            );
        }
    }
    let pool = pool(&args.sim, &[(args.scenario.as_path(), &scenario)], &ov)?;
    // Every output path is checked, and the staging folder made, before any work.
    let out = OutputDir::prepare(&out_dir, args.force).context("cannot write the reports")?;
    let total = target.map_or(scenario.replications as u64, |t| t.max_replications);
    let bar = Bar::new(&args.sim, total, "replications");
    let (output, precision) = pool.install(|| match &target {
        Some(t) => {
            let (out, outcome) = montecarlo::run_to_precision(&scenario, t, &bar);
            (out, Some(outcome))
        }
        None => (montecarlo::run(&scenario, &bar), None),
    });
    drop(bar);
    let finish = Finish {
        format: args.format,
        quiet: args.sim.quiet,
        events: args.events,
        stats: args.stats,
        charts: args.charts,
    };
    publish_run(&scenario, &output, precision, out, &finish)
}

/// What to do once a run's replications are in: from `run` or from `merge`.
pub(super) struct Finish {
    pub format: Format,
    pub quiet: bool,
    pub events: bool,
    pub stats: bool,
    pub charts: ChartOptions,
}

/// Builds the run's reports, writes and publishes them, and prints the summary.
pub(super) fn publish_run(
    scenario: &Scenario,
    output: &RunOutput,
    precision: Option<PrecisionOutcome>,
    mut out: OutputDir,
    finish: &Finish,
) -> Result<()> {
    let aggregation_started = Instant::now();
    let report = RunReport::build(scenario, output, precision);
    let aggregation = aggregation_started.elapsed();
    let output_started = Instant::now();
    out.write_reports(&report, &report::standard_exporters())
        .context("cannot write the reports")?;
    for (name, bytes) in
        report::presentation_files(&report, !finish.charts.no_charts, finish.charts.png)
    {
        out.write_file(&name, |w| w.write_all(&bytes))
            .context("cannot write the reports")?;
    }
    if finish.events {
        out.write_file("events.jsonl", |w| write_event_log(scenario, w))
            .context("cannot write the event log")?;
    }
    let out_dir = out.target().to_path_buf();
    out.publish().context("cannot write the reports")?;
    if finish.stats {
        let phases = stats::Phases {
            aggregation,
            output: output_started.elapsed(),
        };
        eprint!("{}", stats::render(output, scenario, &phases));
    }
    if !finish.quiet {
        match finish.format {
            Format::Table => {
                out!("{}", report::render_table(&report));
                outln!("\nfull results: {}", out_dir.display());
            }
            Format::Json => out!("{}", output::render(&JsonReport, &report)?),
            Format::Markdown => out!("{}", output::render(&SummaryMarkdown, &report)?),
        }
    }
    Ok(())
}

/// Writes a shard's part file into `dir`, beside the other shards' parts: `write` runs
/// the shard and streams its part once every check has passed.
pub(super) fn write_part(
    dir: &Path,
    shard: Shard,
    force: bool,
    quiet: bool,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<()> {
    let name = shard.file_name();
    output::write_single_file(dir, &name, force, shard::is_part_file, write)
        .context("cannot write the part file")?;
    if !quiet {
        outln!(
            "wrote {}; when every shard has run: rollout-sim merge {}",
            dir.join(&name).display(),
            dir.display()
        );
    }
    Ok(())
}

/// The most instance lives `--events` records.
const MAX_EVENT_LIVES: u64 = 1_000_000;
