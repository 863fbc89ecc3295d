//! Command-line arguments, validated once by clap and then passed on as typed values.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// How long will old and new versions of a cloud app live side by side?
#[derive(Debug, Parser)]
#[command(name = "rollout-sim", version, about, long_about = None)]
#[command(after_help = "Exit codes: 0 ok, 1 a check failed, 2 bad input or usage.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a scenario and write its reports.
    Run(RunArgs),
    /// Check a scenario file without running it.
    Validate {
        /// The scenario file (JSON).
        scenario: PathBuf,
    },
    /// List the platform presets with their timings and sources.
    Presets,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A human-readable table.
    Table,
    /// `report.json` on stdout.
    Json,
}

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The scenario file (JSON).
    pub scenario: PathBuf,
    /// Output directory [default: output/<scenario name>].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Override the scenario's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Override the number of replications.
    #[arg(long)]
    pub replications: Option<u64>,
    /// Override the number of instances.
    #[arg(long)]
    pub instances: Option<u64>,
    /// Worker threads [default: all cores]. Results do not depend on it.
    #[arg(long)]
    pub threads: Option<NonZeroUsize>,
    /// What to print on stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Print engine and phase statistics (events, events per second, peak pending
    /// events, wall time per phase, peak memory) on stderr.
    #[arg(long)]
    pub stats: bool,
    /// Print nothing on stdout or stderr unless there is an error.
    #[arg(long, short)]
    pub quiet: bool,
}
