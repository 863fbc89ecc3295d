//! rollout-sim: how long do old and new versions of an Atlassian cloud app coexist?
//!
//! A discrete-event, Monte Carlo model of how a vendor's change travels through the
//! Marketplace (descriptor polls, Forge detection, reviews), each customer instance's UPM
//! polls, maintenance-window slips and admins' approvals. See `shared/MODEL.md` for the
//! model and the README for the scenario format and reports.
//!
//! Layers, each knowing only the ones below it:
//! - [`time`], [`engine`], [`draws`], [`stats`]: generic building blocks;
//! - [`scenario`]: the validated input;
//! - [`model`]: the platform and the people, producing per-replication figures;
//! - [`montecarlo`]: replications in parallel, precision mode;
//! - [`compare`], [`sweep`]: decisions: paired policy comparison, parameter grids;
//! - [`report`]: summaries and output formats;
//! - [`cli`]: the command line.

pub mod cli;
pub mod compare;
pub mod draws;
pub mod engine;
pub mod model;
pub mod montecarlo;
pub mod report;
pub mod scenario;
pub mod stats;
pub mod sweep;
pub mod time;
