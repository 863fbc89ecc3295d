//! `check`: scenarios run and compared with their baselines (fingerprints, then a
//! statistical test per figure with Holm's correction) and their `expect` assertions;
//! or, with `update`, their baselines written.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

use super::resources::pool;
use super::{Simulation, expand_folders};
use crate::charts::drift_chart;
use crate::check::{self, Baseline, FigureTest};
use crate::export::output_fingerprints;
use crate::input;
use crate::montecarlo::{self, Progress, RunOutput};
use crate::output::{FileSet, NamedFile, OutputDir, seal, sealed};
use crate::report::RunReport;
use crate::report::check::{CheckReport, ScenarioCheck, Verdict};
use crate::scenario::{self, Scenario};

/// What `check` is asked to do.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Scenario files, or folders whose `*.json` scenarios are all checked.
    pub scenarios: Vec<PathBuf>,
    /// The folder of baselines (`<scenario name>.json`).
    pub baseline: Option<PathBuf>,
    /// Write each scenario's baseline instead of comparing (needs `baseline`).
    pub update: bool,
    /// Fail on any fingerprint change, not only on statistical drift.
    pub exact: bool,
    /// Family-wise error rate over every figure of every scenario (Holm).
    pub alpha: f64,
    /// Write a GitHub-flavoured Markdown summary here.
    pub markdown: Option<PathBuf>,
    /// Write a `JUnit` XML report here.
    pub junit: Option<PathBuf>,
    /// Write a chart of every drifted figure into this folder.
    pub charts: Option<PathBuf>,
    /// Replace targets rollout-sim did not write (or that were changed since).
    pub force: bool,
    /// Overrides (applied to every scenario) and threads; a precision target is refused.
    pub simulation: Simulation,
}

/// What `check` did.
#[derive(Debug)]
pub enum CheckOutcome {
    /// Baselines written: (scenario file, baseline file) each.
    Updated(Vec<(PathBuf, PathBuf)>),
    /// Scenarios checked, every file asked for written; [`CheckReport::counts`] tells
    /// drift and scenarios that could not be checked.
    Checked(CheckReport),
}

/// Runs the check of `options`.
pub fn check(args: &CheckOptions, progress: &dyn Progress) -> Result<CheckOutcome> {
    if args.simulation.precision.is_some() {
        bail!("--precision cannot be used with check: a baseline pins the replications");
    }
    let scenarios = read_scenarios(args)?;
    check_targets(args, &scenarios)?;
    // Every file is staged as it is made and published together at the end: all of
    // them or none.
    let mut files = FileSet::new(args.force);
    let mut charts_dir = match &args.charts {
        Some(dir) => Some(OutputDir::prepare(dir, args.force).context("cannot write the charts")?),
        None => None,
    };
    // Per scenario with a baseline: the baseline's and the new run's figures, to chart
    // what drifted.
    let mut figures: BTreeMap<String, (Baseline, Baseline)> = BTreeMap::new();
    let refs: Vec<_> = scenarios.iter().map(|(p, s, _)| (p.as_path(), s)).collect();
    let pool = pool(&args.simulation, &refs)?;
    progress.start(
        scenarios
            .iter()
            .map(|(_, s, _)| u64::from(s.replications))
            .sum(),
    );

    let mut report = CheckReport {
        alpha: args.alpha,
        exact: args.exact,
        scenarios: Vec::new(),
    };
    let mut updated = Vec::new();
    for (path, s, canonical) in &scenarios {
        let run = pool.install(|| montecarlo::run(s, progress));
        let mut run_report = RunReport::build(s, &run, None);
        let new = Baseline::of(s, &run, output_fingerprints(&mut run_report), canonical);
        if args.update {
            let dir = args
                .baseline
                .as_deref()
                .context("--update needs --baseline")?;
            let target = dir.join(format!("{}.json", s.name));
            let text = seal::seal_json_object(&(serde_json::to_string_pretty(&new)? + "\n"));
            files
                .stage(&target, sealed, |f| f.write_all(text.as_bytes()))
                .context("cannot write the baseline")?;
            updated.push((path.clone(), target));
            continue;
        }
        let (entry, compared) = check_scenario(args, path, s, &run, new)?;
        if let (Some(pair), Some(_)) = (compared, &args.charts) {
            figures.insert(s.name.clone(), pair);
        }
        report.scenarios.push(entry);
    }
    if args.update {
        files.commit().context("cannot write the baselines")?;
        return Ok(CheckOutcome::Updated(updated));
    }
    judge_drift(&mut report, args.alpha);
    if let Some(dir) = charts_dir.take() {
        dir.publish_files(drift_charts(&report, &figures))
            .context("cannot write the charts")?;
    }
    if let Some(path) = &args.markdown {
        let text = seal::seal_markdown(&report.markdown());
        files.stage(path, sealed, |f| f.write_all(text.as_bytes()))?;
    }
    if let Some(path) = &args.junit {
        let text = seal::seal_xml(&report.junit());
        files.stage(path, sealed, |f| f.write_all(text.as_bytes()))?;
    }
    files.commit().context("cannot write the check's files")?;
    Ok(CheckOutcome::Checked(report))
}

/// Every scenario, read and validated before any runs, with its canonical JSON text.
fn read_scenarios(args: &CheckOptions) -> Result<Vec<(PathBuf, Scenario, String)>> {
    let ov = &args.simulation.overrides;
    scenario_files(&args.scenarios)?
        .into_iter()
        .map(|path| {
            let s = scenario::load(&path, ov)?;
            let canonical = input::canonical_json(input::parse_json(&input::read_bounded(&path)?)?);
            Ok((path, s, canonical))
        })
        .collect()
}

/// Every file the check will write, checked before any work: it may replace only a file
/// it wrote itself and that nobody changed since (its seal), unless forced.
fn check_targets(args: &CheckOptions, scenarios: &[(PathBuf, Scenario, String)]) -> Result<()> {
    let targets = args.markdown.iter().chain(&args.junit).cloned();
    let baselines: Vec<PathBuf> = match (args.update, &args.baseline) {
        (true, Some(dir)) => scenarios
            .iter()
            .map(|(_, s, _)| dir.join(format!("{}.json", s.name)))
            .collect(),
        _ => Vec::new(),
    };
    for path in targets.chain(baselines) {
        FileSet::check(&path, args.force, sealed).context("cannot write the check's files")?;
    }
    Ok(())
}

/// One scenario's check: its expectations, and its run against its baseline when there
/// is one (then also the baseline and the new figures, to chart what drifted).
fn check_scenario(
    args: &CheckOptions,
    path: &Path,
    s: &Scenario,
    run: &RunOutput,
    new: Baseline,
) -> Result<(ScenarioCheck, Option<(Baseline, Baseline)>)> {
    let mut entry = ScenarioCheck {
        scenario: s.name.clone(),
        file: path.display().to_string(),
        verdict: Verdict::Identical,
        tests: Vec::new(),
        exact_differences: Vec::new(),
        expectations: Vec::new(),
        error: None,
    };
    match check::evaluate_expectations(s, run) {
        Ok(results) => entry.expectations = results,
        Err(e) => bail!("{}: {e}", path.display()),
    }
    let mut compared = None;
    if let Some(dir) = &args.baseline {
        match read_baseline(dir, s) {
            Ok(base) => {
                compare(&base, &new, args.exact, &mut entry);
                compared = Some((base, new));
            }
            Err(e) => {
                entry.verdict = Verdict::Error;
                entry.error = Some(format!("{e:#}"));
            }
        }
    }
    Ok((entry, compared))
}

/// The tests of every figure of every scenario as one family (Holm's correction at
/// `alpha`), and each scenario's verdict from them and its expectations.
fn judge_drift(report: &mut CheckReport, alpha: f64) {
    let mut tests: Vec<FigureTest> = report
        .scenarios
        .iter_mut()
        .flat_map(|s| std::mem::take(&mut s.tests))
        .collect();
    check::holm(&mut tests, alpha);
    for s in &mut report.scenarios {
        s.tests = tests
            .iter()
            .filter(|t| t.scenario == s.scenario)
            .cloned()
            .collect();
        let moved = s.tests.iter().any(|t| t.drifted) || !s.exact_differences.is_empty();
        let failed = s.expectations.iter().any(|e| !e.held);
        if s.verdict != Verdict::Error && (moved || failed) {
            s.verdict = Verdict::Drifted;
        }
    }
}

/// One chart per drifted figure: its baseline and new distributions.
fn drift_charts(
    report: &CheckReport,
    figures: &BTreeMap<String, (Baseline, Baseline)>,
) -> Vec<NamedFile> {
    report
        .scenarios
        .iter()
        .flat_map(|s| &s.tests)
        .filter(|t| t.drifted)
        .filter_map(|t| {
            let (base, new) = figures.get(&t.scenario)?;
            let (b, n) = (base.figures.get(&t.figure)?, new.figures.get(&t.figure)?);
            let chart = drift_chart(&t.scenario, &t.figure, t.test, t.p_value, b, n);
            Some((format!("{}.svg", chart.name), chart.svg().into_bytes()))
        })
        .collect()
}

/// Sets the verdict of a scenario that has a baseline: identical fingerprints, or the
/// statistical (or, with `exact`, fingerprint) comparison.
fn compare(base: &Baseline, new: &Baseline, exact: bool, entry: &mut ScenarioCheck) {
    if base.output_sha256 == new.output_sha256 && base.event_sha256 == new.event_sha256 {
        entry.verdict = Verdict::Identical;
        return;
    }
    entry.verdict = Verdict::Equivalent;
    if exact {
        let files = base
            .output_sha256
            .iter()
            .filter(|(name, hash)| new.output_sha256.get(*name) != Some(hash))
            .map(|(name, _)| name.clone());
        let events = (base.event_sha256 != new.event_sha256).then(|| {
            format!(
                "events of the first {} instances",
                check::EVENT_FINGERPRINT_INSTANCES
            )
        });
        let figures = base
            .figures
            .iter()
            .filter(|(name, values)| new.figures.get(*name) != Some(values))
            .map(|(name, _)| format!("figure {name}"));
        entry.exact_differences = files.chain(events).chain(figures).collect();
    } else {
        entry.tests = check::test_figures(&entry.scenario, base, new);
    }
}

/// The scenario files named, folders expanded to their `*.json` (schemas excepted), in
/// name order.
fn scenario_files(args: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let is_scenario = |p: &Path| {
        p.extension().is_some_and(|e| e == "json") && !p.to_string_lossy().ends_with(".schema.json")
    };
    expand_folders(args, is_scenario, "scenario files (*.json)")
}

fn read_baseline(dir: &Path, s: &Scenario) -> Result<Baseline> {
    let path = dir.join(format!("{}.json", s.name));
    check::read_baseline(&path, &s.name).map_err(|e| anyhow!("{}: {e}", path.display()))
}
