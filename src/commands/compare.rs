//! `compare`: release policies run on common random numbers and paired replication by
//! replication, published as `comparison.json`, `comparison.csv`, charts and a page.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use super::resources::pool;
use super::{Destination, Presentation, Simulation, precision_target};
use crate::charts::{chart_files, compare_charts, draw_all};
use crate::compare::{Compared, Pairing, compare as compare_runs};
use crate::export::Exporter;
use crate::export::comparison::{ComparisonCsv, ComparisonJson};
use crate::export::html::comparison_page;
use crate::montecarlo::{self, Precision, PrecisionOutcome, Progress, RunOutput};
use crate::output::NamedFile;
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
    /// Where to write (`output/compare-<baseline name>` by default), and the charts and page.
    pub destination: Destination,
}

/// What `compare` published.
#[derive(Debug)]
pub struct ComparedPolicies {
    /// The comparison, as `comparison.json` holds it.
    pub report: ComparisonReport,
    /// The folder written.
    pub folder: PathBuf,
}

/// What compared scenarios must share for common random numbers.
pub const CRN_FIELDS: &str = "compared scenarios must share seed, replications and population.instances for common random numbers (--seed, --replications and --instances set them for all)";

/// The first field `other` does not share with `base` among those common random
/// numbers need: (its name, the baseline's value, the other's).
pub fn unpaired_field(base: &Scenario, other: &Scenario) -> Option<(&'static str, u64, u64)> {
    [
        ("seed", base.seed, other.seed),
        (
            "replications",
            u64::from(base.replications),
            u64::from(other.replications),
        ),
        (
            "population.instances",
            base.population.instances,
            other.population.instances,
        ),
    ]
    .into_iter()
    .find(|(_, a, b)| a != b)
}

/// The comparison of `runs` (the baseline first, all on common random numbers) and its
/// files, `comparison.json` and `comparison.csv`, with the charts and
/// `comparison.html` when `presentation` asks for charts.
pub fn comparison_outputs(
    runs: &[(Scenario, RunOutput)],
    pairings: Vec<Pairing>,
    precision: Option<PrecisionOutcome>,
    presentation: &Presentation,
) -> (ComparisonReport, Vec<NamedFile>) {
    let base = &runs[0].0;
    let end = runs[0].1.replications.len() as u64;
    let comparison = compare_runs(runs, pairings);
    let names = runs.iter().map(|(s, _)| s.name.clone()).collect();
    let report = ComparisonReport::new(
        names,
        base.seed,
        end,
        base.population.instances,
        comparison,
        precision,
    );
    let mut files = vec![
        ComparisonJson.to_file(&report),
        ComparisonCsv.to_file(&report),
    ];
    if presentation.charts {
        let run_reports: Vec<RunReport> = runs
            .iter()
            .map(|(s, run)| RunReport::build(s, run, None))
            .collect();
        let refs: Vec<&RunReport> = run_reports.iter().collect();
        let drawn = draw_all(compare_charts(&report, &refs), presentation.png);
        files.extend(chart_files(&drawn));
        files.push((
            "comparison.html".into(),
            comparison_page(&report, &drawn).into_bytes(),
        ));
    }
    (report, files)
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
        if let Some((field, a, b)) = unpaired_field(base, s) {
            bail!(
                "{}: {field}: {b} differs from the baseline's {a} ({}); {CRN_FIELDS}",
                path.display(),
                options.scenarios[0].display()
            );
        }
    }
    // The pairing is known before anything runs: an ambiguous one costs no time.
    let pairings = crate::compare::pairings(&scenarios, &options.pairs)?;
    let targets: Vec<_> = scenarios
        .iter()
        .map(|s| precision_target(sim.precision.as_ref(), s))
        .collect::<Result<_>>()?;
    let destination = &options.destination;
    let files: Vec<_> = options
        .scenarios
        .iter()
        .map(PathBuf::as_path)
        .zip(&scenarios)
        .collect();
    let pool = pool(sim, &files)?;
    let (out_dir, out) = destination.prepare(&format!("compare-{}", base.name), "comparison")?;
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
    let runs: Vec<(Scenario, RunOutput)> = scenarios.iter().cloned().zip(outputs).collect();
    let (report, files) = comparison_outputs(&runs, pairings, precision, &destination.presentation);
    out.publish_files(files)
        .context("cannot write the comparison")?;
    Ok(ComparedPolicies {
        report,
        folder: out_dir,
    })
}
