//! `rollout-sim sweep`.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use rayon::prelude::*;

use super::{Bar, SweepArgs, overrides, pool, precision_target};
use crate::montecarlo;
use crate::report::sweep_out::{SweepCsv, SweepJson, SweepPoint, SweepReport};
use crate::report::{Exporter, RunReport, output};
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
    let pool = pool(&args.sim, &scenarios.iter().collect::<Vec<_>>())?;
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
    output::write_atomically(&out_dir, &report, &exporters).context("cannot write the sweep")?;
    if !args.sim.quiet {
        print!("{}", render(&report));
        println!("\nfull results: {}", out_dir.display());
    }
    Ok(())
}

/// One line per grid point: the last release's coexistence window and recommendation.
fn render(report: &SweepReport) -> String {
    let mut out = format!(
        "sweep of {} over {}\n\n",
        report.scenario,
        report.axes.join(" x ")
    );
    for p in &report.points {
        let settings: Vec<String> = p.settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let Some(last) = p.releases.last() else {
            continue;
        };
        let c = &last.coexistence_hours;
        let coexist = match (c.mean, c.ci95) {
            (Some(m), Some([lo, hi])) => format!("{m:.1} h [{lo:.1}, {hi:.1}]"),
            (Some(m), None) => format!("{m:.1} h"),
            _ => "censored".to_string(),
        };
        let window = last
            .recommended_compat_window_hours
            .map_or("-".into(), |w| format!("{w:.1} h"));
        out.push_str(&format!(
            "{:>3}  {:<50} release {} coexistence {coexist}, censored {}/{}, window {window}\n",
            p.index,
            settings.join(", "),
            last.index,
            c.censored,
            c.n + c.censored
        ));
    }
    out
}
