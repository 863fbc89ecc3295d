//! `rollout-sim compare`.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use super::{Bar, CompareArgs, overrides, pool, precision_target};
use crate::compare::{Compared, compare as compare_runs};
use crate::montecarlo::{self, Precision, RunOutput};
use crate::report::charts::{chart_files, compare_charts, draw_all};
use crate::report::comparison::{
    ComparisonCsv, ComparisonJson, ComparisonReport, comparison_verdicts, render_comparison_table,
};
use crate::report::html::comparison_page;
use crate::report::output::OutputDir;
use crate::report::{Exporter, RunReport, precision_line};
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
    // The pairing is known before anything runs: an ambiguous one costs no time.
    let pairings = crate::compare::pairings(&scenarios, &args.pair)?;
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

    let (outputs, precision) = pool.install(|| match targets[0] {
        // Stop when the paired difference of the figure is precise enough for every
        // alternative: the question a comparison asks.
        Some(t0) => {
            let figure = format!("difference of {}", t0.figure.name(&base.report.thresholds));
            let (outs, outcome) =
                montecarlo::run_in_batches(&scenarios, &t0, figure, &bar, |outs| {
                    let diffs: Vec<_> = outs[1..]
                        .iter()
                        .zip(&targets[1..])
                        .zip(&scenarios[1..])
                        .map(|((run, t), other)| {
                            let t = t.expect("every scenario has a target");
                            Compared::of(base, other, t0.figure, t.figure).difference(
                                &outs[0].figure_values(t0.figure),
                                &run.figure_values(t.figure),
                            )
                        })
                        .collect();
                    Precision {
                        half_width: diffs
                            .iter()
                            .map(|d| d.ci95.map(|[lo, hi]| (hi - lo) / 2.0))
                            .try_fold(0.0f64, |acc, h| h.map(|h| acc.max(h))),
                        never_observed: diffs.iter().any(|d| d.pairs == 0),
                    }
                });
            (outs, Some(outcome))
        }
        None => (
            scenarios
                .iter()
                .map(|s| montecarlo::run_range(s, 0..cap, &bar))
                .collect(),
            None,
        ),
    });
    let end = outputs.first().map_or(0, |o| o.replications.len() as u64);
    let runs: Vec<(Scenario, RunOutput)> = scenarios.iter().cloned().zip(outputs).collect();
    drop(bar);

    let comparison = compare_runs(&runs, pairings);
    let names = scenarios.iter().map(|s| s.name.clone()).collect();
    let report = ComparisonReport::new(
        names,
        base.seed,
        end,
        base.population.instances,
        comparison,
        precision,
    );
    let exporters: Vec<Box<dyn Exporter<ComparisonReport>>> =
        vec![Box::new(ComparisonJson), Box::new(ComparisonCsv)];
    out.write_reports(&report, &exporters)
        .context("cannot write the comparison")?;
    if !args.charts.no_charts {
        let run_reports: Vec<RunReport> = runs
            .iter()
            .map(|(s, run)| RunReport::build(s, run, None))
            .collect();
        let refs: Vec<&RunReport> = run_reports.iter().collect();
        let drawn = draw_all(compare_charts(&report, &refs), args.charts.png);
        let mut files = chart_files(&drawn);
        files.push((
            "comparison.html".into(),
            comparison_page(&report, &drawn).into_bytes(),
        ));
        for (name, bytes) in files {
            out.write_file(&name, |w| w.write_all(&bytes))
                .context("cannot write the comparison")?;
        }
    }
    out.publish().context("cannot write the comparison")?;
    if !args.sim.quiet {
        for verdict in comparison_verdicts(&report) {
            outln!("{verdict}");
        }
        outln!("");
        out!("{}", render_comparison_table(&report));
        if let Some(p) = &report.precision {
            outln!("\n{}", precision_line(p));
        }
        outln!("\nfull results: {}", out_dir.display());
    }
    Ok(())
}
