//! `rollout-sim sweep`.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use rayon::prelude::*;

use super::{Bar, SweepArgs, overrides, pool, precision_target};
use crate::montecarlo;
use crate::report::output::OutputDir;
use crate::report::sweep_out::{SweepCsv, SweepJson, SweepPoint, SweepReport, render_sweep_table};
use crate::report::{Exporter, RunReport};
use crate::scenario::{self, ScenarioError};
use crate::sweep::{Axis, grid, load_sweep_file};

pub fn sweep(args: &SweepArgs) -> Result<()> {
    let mut axes: Vec<Axis> = args
        .axes
        .iter()
        .map(|a| Axis::parse(a).map_err(|e| anyhow!("--set {e}")))
        .collect::<Result<_>>()?;
    if let Some(file) = &args.file {
        axes.extend(
            load_sweep_file(file)
                .map_err(|e| anyhow!("{}: {}: {}", file.display(), e.field, e.message))?,
        );
    }
    if axes.is_empty() {
        bail!("a sweep needs at least one axis: --set PATH=V1,V2,... or --file SWEEP.json");
    }
    let base = overrides(&args.sim, &[])?;
    let points = grid(&axes);
    // Validate every grid point before running any.
    let scenarios = points
        .iter()
        .enumerate()
        .map(|(i, settings)| {
            let mut ov = base.clone();
            ov.settings.extend(settings.iter().cloned());
            let described: Vec<String> = settings
                .iter()
                .map(|s| format!("{}={}", s.path, s.value))
                .collect();
            scenario::load(&args.scenario, &ov).map_err(|e: ScenarioError| {
                anyhow!("grid point {i} ({}): {e}", described.join(", "))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let targets: Vec<_> = scenarios
        .iter()
        .map(|s| precision_target(&args.sim, s))
        .collect::<Result<_>>()?;
    let name = scenarios[0].name.clone();
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(format!("sweep-{name}")));
    let files: Vec<_> = scenarios
        .iter()
        .map(|s| (args.scenario.as_path(), s))
        .collect();
    let pool = pool(&args.sim, &files, &base)?;
    let mut out = OutputDir::prepare(&out_dir, args.force).context("cannot write the sweep")?;
    let total: u64 = scenarios
        .iter()
        .zip(&targets)
        .map(|(s, t)| t.map_or(s.replications as u64, |t| t.max_replications))
        .sum();
    let bar = Bar::new(&args.sim, total, "replications");
    let reports: Vec<RunReport> = pool.install(|| {
        scenarios
            .par_iter()
            .zip(&targets)
            .map(|(s, target)| match target {
                Some(t) => {
                    let (out, outcome) = montecarlo::run_to_precision(s, t, &bar);
                    RunReport::build(s, &out, Some(outcome))
                }
                None => RunReport::build(s, &montecarlo::run(s, &bar), None),
            })
            .collect()
    });
    drop(bar);
    let sweep_points = points
        .iter()
        .zip(&reports)
        .enumerate()
        .map(|(i, (settings, r))| {
            SweepPoint::new(
                i,
                settings
                    .iter()
                    .map(|s| (s.path.clone(), s.value.clone()))
                    .collect(),
                r,
            )
        })
        .collect();
    let report = SweepReport::new(
        name,
        axes.iter().map(|a| a.path.clone()).collect(),
        sweep_points,
    );
    let exporters: Vec<Box<dyn Exporter<SweepReport>>> =
        vec![Box::new(SweepJson), Box::new(SweepCsv)];
    out.write_reports(&report, &exporters)
        .context("cannot write the sweep")?;
    out.publish().context("cannot write the sweep")?;
    if !args.sim.quiet {
        out!("{}", render_sweep_table(&report));
        outln!("\nfull results: {}", out_dir.display());
    }
    Ok(())
}
