//! `trace`: one instance's timeline in one replication, to answer "why did this
//! instance wait?".

use std::path::PathBuf;

use anyhow::{Result, bail};

use super::check_trace_memory;
use crate::export::events::{EventRecord, instance_records, release_records, render_trace};
use crate::model::{InstanceModel, VersionTable, record};
use crate::scenario::{self, Overrides};

/// What `trace` is asked to do.
#[derive(Clone, Debug)]
pub struct TraceOptions {
    /// The scenario file.
    pub scenario: PathBuf,
    /// Seed and `--set` values.
    pub overrides: Overrides,
    /// The replication (0-based).
    pub replication: u64,
    /// The instance (0-based; new installs follow the initial instances).
    pub instance: u64,
}

/// One instance's timeline.
#[derive(Clone, Debug)]
pub struct Timeline {
    /// Everything that happened to the instance and to the releases, in time order.
    pub records: Vec<EventRecord>,
    /// The timeline as people read it.
    pub text: String,
}

/// Traces the instance of `options`.
pub fn trace(options: &TraceOptions) -> Result<Timeline> {
    let s = scenario::load(&options.scenario, &options.overrides)?;
    check_trace_memory(&options.scenario, &s, &options.overrides)?;
    if options.replication >= u64::from(s.replications) {
        bail!(
            "--replication {}: the scenario has replications 0 to {}",
            options.replication,
            s.replications - 1
        );
    }
    let plan = VersionTable::new(&s);
    let model = InstanceModel::new(&s, &plan);
    let (ctx, lives) = record(
        &model,
        options.replication,
        options.instance..options.instance.saturating_add(1),
    );
    let Some(life) = lives.first() else {
        bail!(
            "--instance {}: replication {} has instances 0 to {} ({} at start, the rest new installs)",
            options.instance,
            options.replication,
            ctx.members() - 1,
            s.population.instances
        );
    };
    let mut records = release_records(&model, &ctx.publication, options.replication);
    records.extend(instance_records(
        &model,
        &ctx.publication,
        options.replication,
        life,
    ));
    records.sort_by(|a, b| a.hours.total_cmp(&b.hours));
    let text = render_trace(&model, options.replication, life, &records);
    Ok(Timeline { records, text })
}
