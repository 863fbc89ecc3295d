//! `rollout-sim check`: parse, run, compare with baselines, print; exit 1 on drift.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

use super::{Bar, CheckArgs, expand_folders, overrides, pool};
use crate::check::{self, BASELINE_SCHEMA, Baseline, FigureTest};
use crate::montecarlo;
use crate::report::charts::drift_chart;
use crate::report::check_out::{CheckReport, ScenarioCheck, Verdict};
use crate::report::output::OutputDir;
use crate::report::{RunReport, output_fingerprints};
use crate::scenario::{self, Scenario, input};

/// Runs the check; `Ok(true)` when every scenario is identical or equivalent and every
/// expectation holds, `Ok(false)` on drift, `Err` when something could not be checked.
pub fn check(args: &CheckArgs) -> Result<bool> {
    if args.sim.precision.is_some() {
        bail!("--precision cannot be used with check: a baseline pins the replications");
    }
    let files = scenario_files(&args.scenarios)?;
    let ov = overrides(&args.sim, &args.settings)?;
    // Every scenario is read and validated before any runs.
    let scenarios: Vec<(PathBuf, Scenario, String)> = files
        .into_iter()
        .map(|path| {
            let s = scenario::load(&path, &ov)?;
            let canonical = input::canonical_json(input::parse_json(&input::read_bounded(&path)?)?);
            Ok((path, s, canonical))
        })
        .collect::<Result<_>>()?;
    // Every file the check will write is checked before any work: it may replace only
    // a file it wrote itself.
    if let Some(path) = &args.markdown {
        ensure_ours(
            path,
            &|text| text.contains("rollout-sim check"),
            "Markdown summary",
        )?;
    }
    if let Some(path) = &args.junit {
        let ours = |text: &str| text.contains("name=\"rollout-sim check\"");
        ensure_ours(path, &ours, "JUnit report")?;
    }
    if let (true, Some(dir)) = (args.update, &args.baseline) {
        for (_, s, _) in &scenarios {
            let path = dir.join(format!("{}.json", s.name));
            ensure_ours(&path, &is_baseline, "rollout-sim baseline")?;
        }
    }
    let mut charts_dir = match &args.charts {
        Some(dir) => Some(OutputDir::prepare(dir, false).context("cannot write the charts")?),
        None => None,
    };
    // Per scenario with a baseline: the baseline's and the new run's figures, to chart
    // what drifted.
    let mut figures: BTreeMap<String, (Baseline, Baseline)> = BTreeMap::new();
    let refs: Vec<_> = scenarios.iter().map(|(p, s, _)| (p.as_path(), s)).collect();
    let pool = pool(&args.sim, &refs, &ov)?;
    let total = scenarios
        .iter()
        .map(|(_, s, _)| u64::from(s.replications))
        .sum();
    let bar = Bar::new(&args.sim, total, "replications");

    let mut report = CheckReport {
        alpha: args.alpha,
        exact: args.exact,
        scenarios: Vec::new(),
    };
    for (path, s, canonical) in &scenarios {
        let run = pool.install(|| montecarlo::run(s, &bar));
        let mut run_report = RunReport::build(s, &run, None);
        let new = Baseline::of(s, &run, output_fingerprints(&mut run_report), canonical);
        if args.update {
            let dir = args.baseline.as_deref().expect("clap requires --baseline");
            write_baseline(dir, &new)?;
            if !args.sim.quiet {
                outln!(
                    "{}: baseline written to {}",
                    path.display(),
                    dir.join(format!("{}.json", s.name)).display()
                );
            }
            continue;
        }
        let mut entry = ScenarioCheck {
            scenario: s.name.clone(),
            verdict: Verdict::Identical,
            tests: Vec::new(),
            exact_differences: Vec::new(),
            expectations: Vec::new(),
            error: None,
        };
        match check::evaluate_expectations(s, &run) {
            Ok(results) => entry.expectations = results,
            Err(e) => bail!("{}: {e}", path.display()),
        }
        if let Some(dir) = &args.baseline {
            match read_baseline(dir, s) {
                Ok(base) => {
                    compare(&base, &new, args.exact, &mut entry);
                    if args.charts.is_some() {
                        figures.insert(s.name.clone(), (base, new));
                    }
                }
                Err(e) => {
                    entry.verdict = Verdict::Error;
                    entry.error = Some(format!("{e:#}"));
                }
            }
        }
        report.scenarios.push(entry);
    }
    drop(bar);
    if args.update {
        return Ok(true);
    }
    // One family over every figure of every scenario.
    let mut tests: Vec<FigureTest> = report
        .scenarios
        .iter_mut()
        .flat_map(|s| std::mem::take(&mut s.tests))
        .collect();
    check::holm(&mut tests, args.alpha);
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
    if let Some(mut dir) = charts_dir.take() {
        for t in report
            .scenarios
            .iter()
            .flat_map(|s| &s.tests)
            .filter(|t| t.drifted)
        {
            let Some((base, new)) = figures.get(&t.scenario) else {
                continue;
            };
            let (Some(b), Some(n)) = (base.figures.get(&t.figure), new.figures.get(&t.figure))
            else {
                continue;
            };
            let chart = drift_chart(&t.scenario, &t.figure, t.test, t.p_value, b, n);
            dir.write_file(&format!("{}.svg", chart.name), |w| {
                w.write_all(chart.svg().as_bytes())
            })
            .context("cannot write the charts")?;
        }
        dir.publish().context("cannot write the charts")?;
    }
    if let Some(path) = &args.markdown {
        write_atomic(path, report.markdown().as_bytes())?;
    }
    if let Some(path) = &args.junit {
        write_atomic(path, report.junit().as_bytes())?;
    }
    if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
        out!("{}", report.github_annotations());
    }
    if !args.sim.quiet {
        out!("{}", report.table());
    }
    let (drifted, errors) = report.counts();
    if errors > 0 {
        let names: Vec<String> = report
            .scenarios
            .iter()
            .filter_map(|s| s.error.as_ref().map(|e| format!("{}: {e}", s.scenario)))
            .collect();
        bail!("{}", names.join("; "));
    }
    Ok(drifted == 0)
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
    let text = input::read_bounded(&path).map_err(|e| match e {
        input::InputError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => anyhow!(
            "{}: no baseline for this scenario; create it with --update",
            path.display()
        ),
        other => anyhow!("{}: cannot read the baseline: {other}", path.display()),
    })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        anyhow!("{}: corrupt or truncated baseline (invalid JSON at line {}, column {}); recreate it with --update", path.display(), e.line(), e.column())
    })?;
    let schema = value["schema_version"].as_u64().unwrap_or(0);
    if schema > u64::from(BASELINE_SCHEMA) {
        bail!(
            "{}: baseline schema {schema} is newer than this rollout-sim reads ({BASELINE_SCHEMA}); use a newer rollout-sim",
            path.display()
        );
    }
    let base: Baseline = serde_json::from_value(value).map_err(|e| {
        anyhow!(
            "{}: corrupt baseline ({e}); recreate it with --update",
            path.display()
        )
    })?;
    if base.scenario != s.name {
        bail!(
            "{}: a baseline of scenario {:?}, not {:?}",
            path.display(),
            base.scenario,
            s.name
        );
    }
    Ok(base)
}

/// Whether a file's text is a baseline (of any schema).
fn is_baseline(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text)
        .is_ok_and(|v| v.get("schema_version").is_some() && v.get("figures").is_some())
}

/// Refuses a path the check would write if something other than a `what` written by
/// rollout-sim stands there (`ours` recognises its text).
fn ensure_ours(path: &Path, ours: &dyn Fn(&str) -> bool, what: &str) -> Result<()> {
    if path.is_dir() {
        bail!("{}: is a folder; name a file", path.display());
    }
    if path.exists() && !fs::read_to_string(path).is_ok_and(|t| ours(&t)) {
        bail!(
            "{}: exists and is not a {what}; refusing to replace it (remove it or name another file)",
            path.display()
        );
    }
    Ok(())
}

/// Writes a baseline (its path was checked by [`ensure_ours`] before the run).
fn write_baseline(dir: &Path, b: &Baseline) -> Result<()> {
    fs::create_dir_all(dir)
        .with_context(|| format!("{}: cannot create the folder", dir.display()))?;
    let text = serde_json::to_string_pretty(b)? + "\n";
    write_atomic(&dir.join(format!("{}.json", b.scenario)), text.as_bytes())
}

/// Writes a file whole or not at all: a temporary file beside it, then a rename.
fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let name = path
        .file_name()
        .ok_or_else(|| anyhow!("{}: not a file name", path.display()))?
        .to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.partial-{}", std::process::id()));
    let result = fs::write(&tmp, bytes).and_then(|()| fs::rename(&tmp, path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.with_context(|| format!("{}: cannot write", path.display()))
}
