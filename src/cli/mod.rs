//! The command line: parse, hand off to the library, print, and map errors to exit codes.
//!
//! Exit codes are a contract: 0 ok, 1 a check failed, 2 bad input or usage (clap uses 2
//! for usage errors too).

mod args;
mod stats;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

pub use args::{Cli, Command, Format, RunArgs};

use crate::montecarlo::{self, Progress};
use crate::report::{self, JsonReport, RunReport, output};
use crate::scenario::{self, Overrides, presets};

/// Exit code for bad input, usage errors and failures to write output.
pub const EXIT_ERROR: u8 = 2;

/// Runs a parsed command line and returns the process exit code.
pub fn execute(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Run(args) => run(&args),
        Command::Validate { scenario } => validate(&scenario),
        Command::Presets => {
            print!("{}", presets_text());
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn validate(path: &std::path::Path) -> Result<()> {
    let s = scenario::load(path, &Overrides::default())?;
    println!(
        "{}: ok ({} on {}, {} instances, {} releases, {} replications)",
        path.display(),
        s.name,
        s.platform.name(),
        s.population.instances,
        s.releases.len(),
        s.replications
    );
    Ok(())
}

struct Bar(ProgressBar);

impl Progress for Bar {
    fn replication_done(&self) {
        self.0.inc(1);
    }
}

fn run(args: &RunArgs) -> Result<()> {
    let overrides = Overrides {
        seed: args.seed,
        replications: args.replications,
        instances: args.instances,
    };
    let scenario = scenario::load(&args.scenario, &overrides)?;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(&scenario.name));

    let bar = ProgressBar::with_draw_target(
        Some(scenario.replications as u64),
        if args.quiet || !std::io::stderr().is_terminal() {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{spinner} replications {pos}/{len} {wide_bar} {elapsed}")
            .expect("valid template"),
    );
    let mut pool = rayon::ThreadPoolBuilder::new();
    if let Some(n) = args.threads {
        pool = pool.num_threads(n.get());
    }
    let pool = pool.build().context("cannot start worker threads")?;
    stats::check_memory(&scenario, pool.current_num_threads())?;
    let progress = Bar(bar);
    let output = pool.install(|| montecarlo::run(&scenario, &progress));
    progress.0.finish_and_clear();

    let aggregation_started = Instant::now();
    let report = RunReport::build(&scenario, &output);
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
    if !args.quiet {
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

/// The text of `rollout-sim presets`.
pub fn presets_text() -> String {
    let mut out = String::new();
    for p in presets::all() {
        out.push_str(&format!("{}: {}\n", p.name, p.summary));
        for (param, value, source) in p.sources {
            out.push_str(&format!("  {param:<20} {value:<30} {source}\n"));
        }
        out.push('\n');
    }
    out
}
