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

//! # Example
//!
//! Simulate a Connect descriptor change and ask how long old and new versions coexist:
//!
//! ```
//! use std::path::Path;
//! use rollout_sim::{montecarlo, report::RunReport, scenario};
//!
//! let json = r#"{
//!     "name": "doc-example", "platform": "connect", "start": "2026-03-02T14:00:00Z",
//!     "horizon": "3d", "seed": 1, "replications": 20, "initial_version": "1.4.2",
//!     "population": {"instances": 500},
//!     "releases": [{"at": "0h", "changes": ["other"]}]
//! }"#;
//! let s = scenario::parse(json, Path::new("example.json"), &Default::default()).unwrap();
//! let run = montecarlo::run(&s, &());
//! let report = RunReport::build(&s, &run, None);
//! let window = &report.report.releases[0].coexistence_hours;
//! // An automatic Connect change is everywhere within 33 hours, in every replication.
//! assert_eq!(window.censored, 0);
//! assert!(window.max.unwrap() <= 33.0);
//! ```

pub mod cli;
pub mod compare;
pub mod draws;
pub mod engine;
pub mod model;
pub mod montecarlo;
pub mod platform;
pub mod report;
pub mod scenario;
pub mod stats;
pub mod sweep;
pub mod time;
