//! `rollout-sim trace`: one instance's timeline.

use anyhow::{Result, bail};

use super::{TraceArgs, TraceFormat, parse_settings};
use crate::model::{InstanceModel, ReleasePlan, record};
use crate::report::events::{instance_records, release_records, render_trace, write_json_lines};
use crate::scenario::{self, Overrides};

pub fn trace(args: &TraceArgs) -> Result<()> {
    let overrides = Overrides {
        seed: args.seed,
        settings: parse_settings(&args.settings)?,
        ..Overrides::default()
    };
    let s = scenario::load(&args.scenario, &overrides)?;
    super::stats::check_trace_memory(&args.scenario, &s, &overrides)?;
    if args.replication >= s.replications as u64 {
        bail!(
            "--replication {}: the scenario has replications 0 to {}",
            args.replication,
            s.replications - 1
        );
    }
    let plan = ReleasePlan::new(&s);
    let model = InstanceModel::new(&s, &plan);
    let (ctx, lives) = record(&model, args.replication, args.instance..args.instance + 1);
    let Some(life) = lives.first() else {
        bail!(
            "--instance {}: replication {} has instances 0 to {} ({} at start, the rest new installs)",
            args.instance,
            args.replication,
            ctx.members() - 1,
            s.population.instances
        );
    };
    let mut records = release_records(&model, &ctx.publication, args.replication);
    records.extend(instance_records(
        &model,
        &ctx.publication,
        args.replication,
        life,
    ));
    records.sort_by(|a, b| a.hours.total_cmp(&b.hours));
    match args.format {
        TraceFormat::Text => out!("{}", render_trace(&model, args.replication, life, &records)),
        TraceFormat::Json => write_json_lines(&records, &mut std::io::stdout().lock())?,
    }
    Ok(())
}
