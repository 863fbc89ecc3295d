//! `rollout-sim run`.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};

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
