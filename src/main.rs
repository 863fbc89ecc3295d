//! The `rollout-sim` binary: parse the command line and hand off to the library.

use std::process::ExitCode;

use rollout_sim::cli::{Cli, execute};

fn main() -> ExitCode {
    execute(Cli::parse_with_color())
}
