//! `rollout-sim compare`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use super::{Bar, CompareArgs, overrides, pool, precision_target};
use crate::compare::compare as compare_runs;
use crate::montecarlo::{self, PrecisionOutcome, RunOutput};
use crate::report::Exporter;
use crate::report::comparison::{
    ComparisonCsv, ComparisonJson, ComparisonReport, render_comparison_table,
};
use crate::report::output::OutputDir;
use crate::scenario::{self, Scenario};

pub fn compare(args: &CompareArgs) -> Result<()> {
    let ov = overrides(&args.sim, &[])?;
    let scenarios: Vec<Scenario> = args
        .scenarios
        .iter()
        .map(|p| scenario::load(p, &ov))
        .collect::<Result<_, _>>()?;
    let base = &scenarios[0];
    for (s, path) in scenarios.iter().zip(&args.scenarios).skip(1) {
        for (field, a, b) in [
            ("seed", base.seed, s.seed),
            (
                "replications",
                base.replications as u64,
                s.replications as u64,
            ),
            (
                "population.instances",
                base.population.instances,
                s.population.instances,
            ),
        ] {
            if a != b {
                bail!(
                    "{}: {field}: {b} differs from the baseline's {a} ({}); compared scenarios must share seed, replications and \
                     population.instances for common random numbers (--seed, --replications and --instances set them for all)",
                    path.display(),
                    args.scenarios[0].display()
                );
            }
        }
    }
    let targets: Vec<_> = scenarios
        .iter()
        .map(|s| precision_target(&args.sim, s))
        .collect::<Result<_>>()?;
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(format!("compare-{}", base.name)));
    let files: Vec<_> = args
        .scenarios
        .iter()
        .map(|p| p.as_path())
        .zip(&scenarios)
        .collect();
    let pool = pool(&args.sim, &files, &ov)?;
    let mut out =
        OutputDir::prepare(&out_dir, args.force).context("cannot write the comparison")?;
    let cap = targets[0].map_or(base.replications as u64, |t| t.max_replications);
    let bar = Bar::new(&args.sim, cap * scenarios.len() as u64, "replications");

    let mut end = (base.replications as u64).min(cap);
    let mut runs: Vec<(Scenario, RunOutput)> = pool.install(|| {
        scenarios
            .iter()
            .map(|s| (s.clone(), montecarlo::run_range(s, 0..end, &bar)))
            .collect()
    });
    let mut precision: Option<PrecisionOutcome> = None;
    if let Some(t0) = targets[0] {
        // Stop when the paired difference of the figure is precise enough for every
        // alternative: the question a comparison asks.
        loop {
            let achieved = runs[1..]
                .iter()
                .zip(&targets[1..])
                .map(|((_, run), t)| {
                    let t = t.expect("every scenario has a target");
                    let d = crate::compare::paired(
                        &runs[0].1.figure_values(t0.figure),
                        &run.figure_values(t.figure),
                    );
                    d.ci95.map(|[lo, hi]| (hi - lo) / 2.0)
                })
                .try_fold(0.0f64, |acc, h| h.map(|h| acc.max(h)));
            let met = achieved.is_some_and(|h| h <= t0.half_width);
            if met || end >= t0.max_replications {
                precision = Some(PrecisionOutcome {
                    figure: format!("difference of {}", t0.figure.name(&base.report.thresholds)),
                    target_half_width: t0.half_width,
                    achieved_half_width: achieved,
                    replications: end,
                    met,
                });
                break;
            }
            let next = (end + t0.batch.max(1)).min(t0.max_replications);
            runs = pool.install(|| {
                runs.into_iter()
                    .map(|(s, run)| {
                        let more = montecarlo::run_range(&s, end..next, &bar);
                        (s, run.merge(more))
                    })
                    .collect()
            });
            end = next;
        }
    }
    drop(bar);

    let entries = compare_runs(&runs);
    let names = scenarios.iter().map(|s| s.name.clone()).collect();
    let report = ComparisonReport::new(
        names,
        base.seed,
        end,
        base.population.instances,
        entries,
        precision,
    );
    let exporters: Vec<Box<dyn Exporter<ComparisonReport>>> =
        vec![Box::new(ComparisonJson), Box::new(ComparisonCsv)];
    out.write_reports(&report, &exporters)
        .context("cannot write the comparison")?;
    out.publish().context("cannot write the comparison")?;
    if !args.sim.quiet {
        out!("{}", render_comparison_table(&report));
        if let Some(p) = &report.precision {
            outln!(
                "\nprecision: {} replications, half-width {} (target {}){}",
                p.replications,
                p.achieved_half_width
                    .map_or("n/a".into(), |h| format!("{h:.3}")),
                p.target_half_width,
                if p.met {
                    ""
                } else {
                    ": target NOT met at --max-replications"
                }
            );
        }
        outln!("\nfull results: {}", out_dir.display());
    }
    Ok(())
}
