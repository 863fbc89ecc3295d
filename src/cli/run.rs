//! `rollout-sim run`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use super::{Bar, Format, RunArgs, overrides, pool, precision_target, stats};
use crate::montecarlo;
use crate::report::{self, JsonReport, RunReport, output};
use crate::scenario;

pub fn run(args: &RunArgs) -> Result<()> {
    let scenario = scenario::load(&args.scenario, &overrides(&args.sim, &args.settings)?)?;
    let target = precision_target(&args.sim, &scenario)?;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&scenario.name));
    if args.events.is_some() {
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
    let pool = pool(&args.sim, &[&scenario])?;
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
    output::write_atomically(&out_dir, &report, &report::standard_exporters())
        .context("cannot write the reports")?;
    if let Some(path) = &args.events {
        write_events(&scenario, path)
            .with_context(|| format!("cannot write the event log {}", path.display()))?;
    }
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
                print!("{}", report::render_table(&report));
                println!("\nfull results: {}", out_dir.display());
            }
            Format::Json => print!("{}", output::render(&JsonReport, &report)?),
        }
    }
    Ok(())
}

/// The most instance lives `--events` records.
const MAX_EVENT_LIVES: u64 = 1_000_000;

/// Every event of every replication as JSON Lines, written to a temporary file first and
/// renamed into place, so a failed run leaves no partial log.
fn write_events(scenario: &crate::scenario::Scenario, path: &std::path::Path) -> Result<()> {
    use crate::model::{InstanceModel, ReleasePlan, record};
    use crate::report::events::{instance_records, release_records, write_json_lines};
    let plan = ReleasePlan::new(scenario);
    let model = InstanceModel::new(scenario, &plan);
    let tmp = path.with_extension("partial");
    let file = std::fs::File::create(&tmp)?;
    let mut w = std::io::BufWriter::new(file);
    for replication in 0..scenario.replications as u64 {
        // Every member: ids past the last one are skipped.
        let (ctx, lives) = record(&model, replication, 0..u64::MAX);
        write_json_lines(
            &release_records(&model, &ctx.publication, replication),
            &mut w,
        )?;
        for life in &lives {
            write_json_lines(&instance_records(&model, replication, life), &mut w)?;
        }
    }
    w.into_inner().map_err(|e| e.into_error())?.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}
