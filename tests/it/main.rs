//! The integration tests, one binary with a module per behaviour (as nexosim groups its
//! own): the library and the command line seen from outside.

// Scenario builders take `json!` values by value, as the macro makes them.
#![allow(clippy::needless_pass_by_value)]

mod admins;
mod bad_data;
mod bad_input;
// The recipes are shell scripts for Linux runners, run here by bash.
#[cfg(unix)]
mod ci_recipe;
#[cfg(unix)]
mod ci_runners;
mod command_line;
mod common;
mod comparisons;
#[cfg(unix)]
mod container;
mod conveniences;
mod determinism;
mod docs;
mod file_safety;
mod fit_command;
mod fitting;
mod forecasting;
mod house;
mod live_page;
mod memory_limits;
mod model_facts;
mod permission_gate;
mod planner_answers;
mod planning;
mod platform_rules;
mod presentation;
mod presets_churn_and_traces;
mod properties;
mod regression_check;
mod release;
#[cfg(unix)]
mod release_archives;
mod sharding;
mod slurm;
mod trust;
mod vendor_data;
mod verdicts;
