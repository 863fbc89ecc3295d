//! `rollout-sim run`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::{Bar, Format, RunArgs, overrides, pool, precision_target, stats};
use crate::montecarlo;
use crate::report::events::write_event_log;
use crate::report::output::{self, OutputDir};
use crate::report::{self, JsonReport, RunReport};
use crate::scenario;

pub fn run(args: &RunArgs) -> Result<()> {
    let ov = overrides(&args.sim, &args.settings)?;
    let scenario = scenario::load(&args.scenario, &ov)?;
    let target = precision_target(&args.sim, &scenario)?;
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
    let mut out = OutputDir::prepare(&out_dir, args.force).context("cannot write the reports")?;
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

    let aggregation_started = Instant::now();
    let report = RunReport::build(&scenario, &output, precision);
    let aggregation = aggregation_started.elapsed();
    let output_started = Instant::now();
    out.write_reports(&report, &report::standard_exporters())
        .context("cannot write the reports")?;
    if args.events {
        out.write_file("events.jsonl", |w| write_event_log(&scenario, w))
            .context("cannot write the event log")?;
    }
    out.publish().context("cannot write the reports")?;
    if args.stats {
        let phases = stats::Phases {
            aggregation,
            output: output_started.elapsed(),
        };
        eprint!("{}", stats::render(&output, &scenario, &phases));
    }
    if !args.sim.quiet {
        match args.format {
            Format::Table => {
                out!("{}", report::render_table(&report));
                outln!("\nfull results: {}", out_dir.display());
            }
            Format::Json => out!("{}", output::render(&JsonReport, &report)?),
        }
    }
    Ok(())
}

/// The most instance lives `--events` records.
const MAX_EVENT_LIVES: u64 = 1_000_000;
