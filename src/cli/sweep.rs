//! `rollout-sim sweep`.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use rayon::prelude::*;

use super::{Bar, SweepArgs, overrides, pool, precision_target};
use crate::montecarlo;
use crate::report::output::OutputDir;
use crate::report::sweep_out::{SweepCsv, SweepJson, SweepPoint, SweepReport};
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
        out!("{}", render(&report));
        outln!("\nfull results: {}", out_dir.display());
    }
    Ok(())
}

fn value_text(v: &serde_json::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

fn mean_ci(s: &crate::stats::Summary) -> String {
    match (s.mean, s.ci95, s.censored) {
        (Some(m), Some([lo, hi]), 0) => format!("{m:.1} [{lo:.1}, {hi:.1}]"),
        (Some(m), _, 0) => format!("{m:.1}"),
        (Some(m), _, c) => format!("{m:.1} ({c} censored)"),
        (None, _, _) => "censored".to_string(),
    }
}

/// One line per grid point: the last release's headline figures.
fn render(report: &SweepReport) -> String {
    let mut out = format!(
        "sweep of {} over {}\n",
        report.scenario,
        report.axes.join(" x ")
    );
    if let Some(last) = report.points.first().and_then(|p| p.releases.last()) {
        out.push_str(&format!(
            "release {} ({}); hours after deploy, mean [95% CI]\n\n",
            last.index, last.label
        ));
    }
    for p in &report.points {
        let settings: Vec<String> = p
            .settings
            .iter()
            .map(|(k, v)| format!("{k}={}", value_text(v)))
            .collect();
        let Some(last) = p.releases.last() else {
            continue;
        };
        let mut line = format!("{:>3}  {}", p.index, settings.join(", "));
        if let Some((share, s)) = last.time_to_share_hours.iter().next() {
            line.push_str(&format!("  to {}%: {}", share.0 * 100.0, mean_ci(s)));
        }
        line.push_str(&format!(
            "  coexistence: {}",
            mean_ci(&last.coexistence_hours)
        ));
        if let Some(l) = &last.left_behind {
            line.push_str(&format!("  left behind: {}", mean_ci(l)));
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}
