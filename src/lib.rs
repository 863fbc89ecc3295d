//! rollout-sim: how long do old and new versions of an Atlassian cloud app coexist?
//!
//! A discrete-event, Monte Carlo model of how a vendor's change travels from the deploy
//! through the Marketplace (descriptor polls, Forge detection, licensing reviews) to
//! every customer instance (UPM polls, maintenance-window slips, admins who approve,
//! reject or ignore), and of how long the vendor must therefore serve both versions. The
//! model is specified in `docs/model.md`; `GUIDE.md` documents scenarios, commands and reports.
//!
//! # How a run flows
//!
//! 1. [`scenario::load`] reads a JSON file (bounded, duplicate keys refused), applies
//!    command-line overrides, and validates it section by section into a typed
//!    [`scenario::Scenario`]; every error names its file and field.
//! 2. [`montecarlo::run`] simulates the replications on rayon's pool. Each replication
//!    draws its publication times ([`model::Publication`]), then simulates every
//!    instance on its own tiny event queue ([`engine::ShortQueue`], keyed by time and
//!    insertion order) with the [`model::InstanceModel`]; an observer tallies what
//!    happened into per-replication figures ([`model::ReleaseFigures`]). Every random
//!    draw is addressed by (seed, replication, purpose, slot) in `draws`, so results
//!    do not depend on threads, chunking or shards.
//! 3. [`report::RunReport::build`] summarises the figures over replications (censoring
//!    kept explicit, Kaplan-Meier for latencies) and [`report::verdict`] turns them into
//!    sentences a planner acts on; each [`export::Exporter`] writes one file,
//!    [`charts`] draws the figures (plotters, a font built in) for `report.html`, and
//!    [`output::OutputDir`] publishes them all or nothing.
//! 4. Beyond one machine, [`shard`] splits the replications (or a sweep's grid points
//!    times replications) into blocks that batch-system tasks run, streams each block's
//!    figures to a checksummed part file, and merges complete sets of parts back into
//!    the run output the unsplit command would have had.
//! 5. [`commands`] strings these steps together per command (`run`, `compare`,
//!    `sweep`, `merge`, `check`, `plan`, `fit`, `trace`, `init`): typed options in, a
//!    typed outcome out. The binary turns arguments into those options and prints
//!    outcomes.
//!
//! # Where each piece lives
//!
//! Layers, each knowing only the ones below it:
//! - [`time`], [`engine`], [`stats`], [`input`] (and the private `draws`,
//!   `fingerprint` and `memory`): generic building blocks (typed durations, the event
//!   queue, summaries, bounded and duplicate-free reading of input files;
//!   counter-based random streams, SHA-256 as hex, the memory available);
//! - [`platform`]: the Marketplace's vocabulary (versions, numbering rules, change kinds,
//!   permissions and the rules about them);
//! - [`delay`]: the delay laws admins act after, each in one file (parameters, file
//!   form, sampler, and for `fit` its parameterisation and CDF);
//! - [`scenario`]: the validated input and the platform presets;
//! - [`model`]: the platform and the people, producing per-replication figures;
//! - [`montecarlo`]: replications in parallel, precision batches;
//! - [`shard`]: the split across machines, part files and their merge;
//! - [`fit`]: admin profiles estimated from the observed adoption of a past release
//!   (maximum likelihood over the model's own platform part, profile intervals,
//!   bootstrap goodness of fit), and the scenario that uses them;
//! - [`compare`], [`sweep`], [`check`], [`plan`]: decisions: paired policy comparison,
//!   parameter grids, regression checks against baselines, and the policy that best
//!   meets a goal under constraints (ranking and selection);
//! - [`report`]: what a run, comparison, sweep or check found, and the verdicts read off
//!   it; [`export`]: one file per output format behind one trait, and the console
//!   tables; [`charts`]: the charts and their pages' pictures; [`output`]: the
//!   all-or-nothing output folder and the seal on files rollout-sim wrote;
//! - [`commands`]: each command as a function from typed options to a typed outcome;
//!   the binary (`src/main.rs` and `src/cli/`) only parses, calls and prints.
//!
//! What is `pub` is the API (`examples/`, the tests and the binary use it); what the
//! crate uses internally is `pub(crate)`. The compiler holds this line: the lints
//! `unreachable_pub` and `unnameable_types` are on (`Cargo.toml`, `[lints]`).
//!
//! Runnable uses of the library are in `examples/`: `read_a_figure`,
//! `compare_policies` and `custom_report`.
//!
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

pub mod charts;
pub mod check;
pub mod commands;
pub mod compare;
pub mod delay;
mod draws;
pub mod engine;
pub mod export;
mod fingerprint;
pub mod fit;
pub mod input;
mod memory;
pub mod model;
pub mod montecarlo;
pub mod output;
pub mod plan;
pub mod platform;
pub mod report;
pub mod scenario;
pub mod shard;
pub mod stats;
pub mod sweep;
pub mod time;
