//! The rollout model: Marketplace publication, UPM polls, maintenance slips, admins.
//!
//! It knows nothing about output formats: it produces per-replication figures and
//! latency histograms, which `report` summarises and writes.

mod admin;
mod calendar;
mod figures;
mod instance;
mod marketplace;
pub mod mix;
mod plan;
mod record;
pub mod replication;
mod tally;

pub use figures::{Figure, FigureRef, ReleaseFigures};
pub use instance::{
    Attributes, Happening, InstanceModel, Member, Observer, UninstallCause, UpdateCause, Workspace,
};
pub use marketplace::Publication;
pub use plan::{ReleasePlan, VersionId};
pub use record::{Life, Recorder, record};
pub use replication::{LATENCY_QUANTILES, ReplicationContext, ReplicationResult, arrivals};
