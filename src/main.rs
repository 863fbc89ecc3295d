//! The `rollout-sim` binary: parse the command line, hand off to the library's
//! commands, print what they return, and map errors to the exit codes of the contract.

mod cli;

use std::process::ExitCode;

use cli::{Cli, execute};

fn main() -> ExitCode {
    execute(Cli::parse_with_color())
}
