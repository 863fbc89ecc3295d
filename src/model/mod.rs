//! The rollout model: Marketplace publication, UPM polls, maintenance slips, admins.
//!
//! It knows nothing about output formats: it produces per-replication figures and
//! latency histograms, which `report` summarises and writes.

mod admin;
pub(crate) mod calendar;
mod figures;
mod instance;
mod marketplace;
pub mod mix;
mod record;
pub(crate) mod replication;
mod tally;
mod versions;

pub use admin::AdminPlan;
pub use figures::FigureRef;
pub use figures::{Figure, FigureParseError, FigureProblem, ReleaseFigures};
pub use instance::{
    Attributes, Happening, InstanceModel, Member, Observer, UninstallCause, UpdateCause, Workspace,
};
pub use marketplace::Publication;
pub use record::{Life, record};
pub(crate) use replication::LATENCY_QUANTILES;
pub use replication::arrivals;
pub use replication::{ReplicationContext, ReplicationPhases, ReplicationResult};
pub use versions::VersionTable;

/// Simulates replication `index` of `model` in full (its instances, tallies, mix and
/// figures) and returns its figures: one replication's whole work, as the benchmarks
/// time it.
pub fn run_replication(model: &InstanceModel<'_>, index: u64) -> ReplicationResult {
    replication::run(model, index).result
}
