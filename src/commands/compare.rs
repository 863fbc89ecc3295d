//! `compare`: release policies run on common random numbers and paired replication by
//! replication, published as `comparison.json`, `comparison.csv`, charts and a page.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use super::resources::pool;
use super::{Presentation, Simulation, folder_or_default, precision_target};
use crate::charts::{chart_files, compare_charts, draw_all};
use crate::compare::{Compared, compare as compare_runs};
use crate::export::comparison::{ComparisonCsv, ComparisonJson};
use crate::export::html::comparison_page;
use crate::export::{self, Exporter};
use crate::montecarlo::{self, Precision, Progress, RunOutput};
use crate::output::OutputDir;
use crate::report::RunReport;
use crate::report::comparison::ComparisonReport;
use crate::scenario::{self, Scenario};

/// What `compare` is asked to do.
#[derive(Clone, Debug)]
pub struct CompareOptions {
    /// The baseline scenario first, then the alternatives.
    pub scenarios: Vec<PathBuf>,
    /// Overrides (applied to every scenario), threads and precision.
    pub simulation: Simulation,
    /// Stated release pairs (baseline index, alternative index): once for every
    /// alternative, or once per alternative; empty to pair by label or change set.
    pub pairs: Vec<Vec<(usize, usize)>>,
    /// The output folder; `output/compare-<baseline name>` when `None`.
    pub out: Option<PathBuf>,
    /// Replace an output folder rollout-sim did not write.
    pub force: bool,
    /// Charts and page.
    pub presentation: Presentation,
}

/// What `compare` published.
#[derive(Debug)]
pub struct ComparedPolicies {
    /// The comparison, as `comparison.json` holds it.
    pub report: ComparisonReport,
    /// The folder written.
    pub folder: PathBuf,
}

/// Compares the scenarios of `options`.
pub fn compare(options: &CompareOptions, progress: &dyn Progress) -> Result<ComparedPolicies> {
    let sim = &options.simulation;
    let scenarios: Vec<Scenario> = options
        .scenarios
        .iter()
        .map(|p| scenario::load(p, &sim.overrides))
        .collect::<Result<_, _>>()?;
    let base = &scenarios[0];
    for (s, path) in scenarios.iter().zip(&options.scenarios).skip(1) {
        for (field, a, b) in [
            ("seed", base.seed, s.seed),
            (
                "replications",
                u64::from(base.replications),
                u64::from(s.replications),
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
                    options.scenarios[0].display()
                );
            }
        }
    }
    // The pairing is known before anything runs: an ambiguous one costs no time.
    let pairings = crate::compare::pairings(&scenarios, &options.pairs)?;
    let targets: Vec<_> = scenarios
        .iter()
        .map(|s| precision_target(sim.precision.as_ref(), s))
        .collect::<Result<_>>()?;
    let out_dir = folder_or_default(options.out.as_deref(), &format!("compare-{}", base.name));
    let files: Vec<_> = options
        .scenarios
        .iter()
        .map(PathBuf::as_path)
        .zip(&scenarios)
        .collect();
    let pool = pool(sim, &files)?;
    let mut out =
        OutputDir::prepare(&out_dir, options.force).context("cannot write the comparison")?;
    let cap = targets[0].map_or(u64::from(base.replications), |t| t.max_replications);
    progress.start(cap * scenarios.len() as u64);

    let (outputs, precision) = pool.install(|| match targets[0] {
        // Stop when the paired difference of the figure is precise enough for every
        // alternative: the question a comparison asks.
        Some(t0) => {
            let figure = format!("difference of {}", t0.figure.name(&base.report.thresholds));
            let (outs, outcome) =
                montecarlo::run_in_batches(&scenarios, &t0, figure, progress, |outs| {
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
                .map(|s| montecarlo::run_range(s, 0..cap, progress))
                .collect(),
            None,
        ),
    });
    let end = outputs.first().map_or(0, |o| o.replications.len() as u64);
    let runs: Vec<(Scenario, RunOutput)> = scenarios.iter().cloned().zip(outputs).collect();

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
    export::write_all(&mut out, &report, &exporters).context("cannot write the comparison")?;
    if options.presentation.charts {
        let run_reports: Vec<RunReport> = runs
            .iter()
            .map(|(s, run)| RunReport::build(s, run, None))
            .collect();
        let refs: Vec<&RunReport> = run_reports.iter().collect();
        let drawn = draw_all(compare_charts(&report, &refs), options.presentation.png);
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
    Ok(ComparedPolicies {
        report,
        folder: out_dir,
    })
}
