//! Regression checks: a run compared with a stored baseline, and assertions on figures.
//!
//! A baseline holds fingerprints (an exact test: any change of behaviour shows) and every
//! headline figure's per-replication values (a statistical test: two seeds of a
//! stochastic model legitimately differ). Runs with the same seed share their draws
//! replication by replication, so each figure is tested on paired differences: a paired
//! t-test on the replications where both runs observed it, and an exact sign test on the
//! replications where exactly one of them was censored. The family-wise error over every
//! test of every scenario is held at `alpha` by Holm's step-down procedure.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::fingerprint::{hex, sha256_hex};
use crate::model::{Figure, FigureRef, InstanceModel, LATENCY_QUANTILES, VersionTable, record};
use crate::montecarlo::RunOutput;
use crate::scenario::{ExpectStat, Scenario};
use crate::stats::{
    Summary, quantile_with_censoring, sign_test_p_value, students_t_quantile,
    students_t_two_sided_p,
};

/// The version of the baseline file format; a newer one is refused.
pub const BASELINE_SCHEMA: u32 = 1;

/// Instances of replication 0 whose event sequence the event fingerprint covers.
pub const EVENT_FINGERPRINT_INSTANCES: u64 = 1_000;

/// Why a baseline could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// There is no baseline file for the scenario.
    #[error("no baseline for this scenario; create it with --update")]
    Missing,
    /// The file could not be read (not a regular file, too large, not UTF-8).
    #[error("cannot read the baseline: {0}")]
    Unreadable(crate::input::InputError),
    /// Not valid JSON, a repeated key, or not a baseline's shape.
    #[error("corrupt or truncated baseline ({0}); recreate it with --update")]
    Corrupt(String),
    /// Written by a newer rollout-sim.
    #[error(
        "baseline schema {0} is newer than this rollout-sim reads ({BASELINE_SCHEMA}); use a newer rollout-sim"
    )]
    Newer(u64),
    /// A schema number no rollout-sim wrote (missing, zero, or not a whole number).
    #[error(
        "baseline schema {0} is not one this rollout-sim reads ({BASELINE_SCHEMA}); recreate it with --update"
    )]
    UnknownSchema(String),
    /// A baseline of another scenario.
    #[error("a baseline of scenario {found:?}, not {expected:?}")]
    OtherScenario {
        /// The scenario the baseline is of.
        found: String,
        /// The scenario checked.
        expected: String,
    },
}

/// Parses a baseline's text: JSON with each key once, of a schema this version reads.
pub fn parse_baseline(text: &str) -> Result<Baseline, BaselineError> {
    let value =
        crate::input::parse_json(text).map_err(|e| BaselineError::Corrupt(e.to_string()))?;
    // Exactly the schema this version writes: a newer one says to upgrade, anything
    // else (missing, 0, a string) is not a baseline any rollout-sim wrote.
    match value["schema_version"].as_u64() {
        Some(schema) if schema == u64::from(BASELINE_SCHEMA) => {}
        Some(schema) if schema > u64::from(BASELINE_SCHEMA) => {
            return Err(BaselineError::Newer(schema));
        }
        _ => {
            let shown = match &value["schema_version"] {
                serde_json::Value::Null => "(none)".to_string(),
                other => crate::input::echo(&other.to_string()),
            };
            return Err(BaselineError::UnknownSchema(shown));
        }
    }
    serde_json::from_value(value).map_err(|e| BaselineError::Corrupt(e.to_string()))
}

/// Reads the baseline at `path` of the scenario named `scenario`.
pub fn read_baseline(path: &std::path::Path, scenario: &str) -> Result<Baseline, BaselineError> {
    let text = crate::input::read_bounded(path).map_err(|e| match e {
        crate::input::InputError::Io(io) if io.kind() == std::io::ErrorKind::NotFound => {
            BaselineError::Missing
        }
        other => BaselineError::Unreadable(other),
    })?;
    let base = parse_baseline(&text)?;
    if base.scenario != scenario {
        return Err(BaselineError::OtherScenario {
            found: crate::input::echo(&base.scenario),
            expected: scenario.to_string(),
        });
    }
    Ok(base)
}

/// What a baseline stores of one run. Small: no per-instance data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// The version of the baseline file format ([`BASELINE_SCHEMA`]).
    pub schema_version: u32,
    /// The rollout-sim version that wrote the baseline.
    pub tool_version: String,
    /// The scenario's name.
    pub scenario: String,
    /// SHA-256 of the scenario file's canonical JSON (keys sorted, `$schema` dropped).
    pub scenario_sha256: String,
    /// The seed the baseline run used.
    pub seed: u64,
    /// Replications in the baseline run.
    pub replications: u64,
    /// Initial instances in the baseline run.
    pub instances: u64,
    /// SHA-256 of each report file, the tool version left out.
    pub output_sha256: BTreeMap<String, String>,
    /// SHA-256 of the canonical (time, instance, event) sequence of the first
    /// [`EVENT_FINGERPRINT_INSTANCES`] instances of replication 0.
    pub event_sha256: String,
    /// Per figure (`coexistence@1`, `share:0.9@0`, `latency:0.5@0` (each replication's
    /// median instance latency), ...): its value in each replication (hours, or a count
    /// for `left_behind`), `null` where censored.
    pub figures: BTreeMap<String, Vec<Option<f64>>>,
}

/// Every headline figure of every release.
pub fn figure_refs(scenario: &Scenario) -> Vec<FigureRef> {
    use crate::model::Figure;
    let mut out = Vec::new();
    for release in 0..scenario.releases.len() {
        let mut figures = vec![Figure::PublishedAfter];
        figures.extend((0..scenario.report.thresholds.len()).map(Figure::TimeToShare));
        figures.push(Figure::Coexistence);
        if scenario.policy.drop_old_support_after.is_some() {
            figures.push(Figure::LeftBehind);
        }
        figures.push(Figure::LeftOver);
        out.extend(
            figures
                .into_iter()
                .map(|figure| FigureRef { release, figure }),
        );
    }
    out
}

impl Baseline {
    /// The baseline of a finished run; `output_sha256` fingerprints its report files
    /// (see `report::output_fingerprints`) and `canonical_scenario` is the file's JSON
    /// text in canonical form (see [`canonical_json`](crate::input::canonical_json)).
    pub fn of(
        scenario: &Scenario,
        run: &RunOutput,
        output_sha256: BTreeMap<String, String>,
        canonical_scenario: &str,
    ) -> Baseline {
        let mut figures: BTreeMap<String, Vec<Option<f64>>> = figure_refs(scenario)
            .into_iter()
            .map(|f| (f.name(&scenario.report.thresholds), run.figure_values(f)))
            .collect();
        // Each replication's instance-latency quantiles (Kaplan-Meier).
        for (i, q) in LATENCY_QUANTILES.iter().enumerate() {
            for k in 0..scenario.releases.len() {
                let values = run
                    .replications
                    .iter()
                    .map(|r| r.latency_quantiles[k][i].map(crate::time::SimDuration::as_hours))
                    .collect();
                figures.insert(format!("latency:{q}@{k}"), values);
            }
        }
        Baseline {
            schema_version: BASELINE_SCHEMA,
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario: scenario.name.clone(),
            scenario_sha256: sha256_hex(canonical_scenario.as_bytes()),
            seed: scenario.seed,
            replications: run.replications.len() as u64,
            instances: scenario.population.instances,
            output_sha256,
            event_sha256: event_fingerprint(scenario),
            figures,
        }
    }
}

/// The hash of what happened to the first instances of replication 0, as `OMNeT`++'s
/// fingerprints: any change of behaviour moves it, even one no summary shows.
pub fn event_fingerprint(scenario: &Scenario) -> String {
    let plan = VersionTable::new(scenario);
    let model = InstanceModel::new(scenario, &plan);
    let (_, lives) = record(&model, 0, 0..EVENT_FINGERPRINT_INSTANCES);
    let mut hasher = Sha256::new();
    for life in &lives {
        hasher.update(format!(
            "{} install {} v{}\n",
            life.installed_at.as_millis(),
            life.instance,
            life.first_version
        ));
        for (t, h) in &life.happenings {
            hasher.update(format!("{} {} {h:?}\n", t.as_millis(), life.instance));
        }
    }
    hex(&hasher.finalize())
}

/// One figure's test between the baseline and a new run.
#[derive(Clone, Debug, PartialEq)]
pub struct FigureTest {
    /// The scenario's name.
    pub scenario: String,
    /// The figure tested, as `check` names it (e.g. `coexistence@1`).
    pub figure: String,
    /// `mean` (paired t-test of the values) or `censored` (sign test on the
    /// replications where exactly one run was censored).
    pub test: &'static str,
    /// The baseline's mean (or censored count), `None` when never observed.
    pub baseline_mean: Option<f64>,
    /// The new run's mean (or censored count), `None` when never observed.
    pub new_mean: Option<f64>,
    /// New minus baseline (of means, or of censored counts).
    pub difference: Option<f64>,
    /// 95% confidence interval of `difference`.
    pub ci95: Option<[f64; 2]>,
    /// Two-sided p-value of the test, before Holm's adjustment.
    pub p_value: f64,
    /// Set by Holm's procedure over the whole family.
    pub drifted: bool,
}

impl FigureTest {
    /// The unit of the test's values: hours for times, instances for counts, a share
    /// (0 to 1) for shares, replications for the censored-count test.
    pub fn unit(&self) -> &'static str {
        if self.test == "censored" {
            return "replications censored";
        }
        match crate::compare::Unit::of_name(&self.figure) {
            crate::compare::Unit::Instances => "instances",
            crate::compare::Unit::Share => "share",
            crate::compare::Unit::Hours => "h",
        }
    }

    /// A value of the test in its unit: `12.345 h`, `3.000 instances`; `-` when missing.
    pub fn value(&self, x: Option<f64>) -> String {
        x.map_or("-".into(), |v| format!("{v:.3} {}", self.unit()))
    }
}

/// Paired t-test of `new - base` over the replications both observed.
fn paired_t(base: &[Option<f64>], new: &[Option<f64>]) -> (Option<f64>, Option<[f64; 2]>, f64) {
    let d: Vec<f64> = base
        .iter()
        .zip(new)
        .filter_map(|(a, b)| Some((*b)? - (*a)?))
        .collect();
    let n = d.len() as f64;
    if d.is_empty() {
        return (None, None, 1.0);
    }
    let mean = d.iter().sum::<f64>() / n;
    if d.len() < 2 {
        return (Some(mean), None, if mean == 0.0 { 1.0 } else { 0.0 });
    }
    let var = d.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    let se = (var / n).sqrt();
    if se == 0.0 {
        // Every pair moved by the same amount: no sampling error explains a shift.
        let ci = Some([mean, mean]);
        return (Some(mean), ci, if mean == 0.0 { 1.0 } else { 0.0 });
    }
    let p = students_t_two_sided_p(mean / se, n - 1.0);
    let half = students_t_quantile(0.975, n - 1.0) * se;
    (
        Some(mean),
        Some([mean - half, mean + half]),
        p.clamp(0.0, 1.0),
    )
}

/// Exact two-sided sign test on the discordant pairs (censored in one run only).
fn sign_test(base: &[Option<f64>], new: &[Option<f64>]) -> (i64, f64) {
    let (mut only_new, mut only_base) = (0u64, 0u64);
    for (a, b) in base.iter().zip(new) {
        match (a.is_none(), b.is_none()) {
            (false, true) => only_new += 1,
            (true, false) => only_base += 1,
            _ => {}
        }
    }
    let p = sign_test_p_value(only_new, only_base);
    (only_new as i64 - only_base as i64, p)
}

/// The tests of every figure of one scenario (paired by replication index).
pub fn test_figures(scenario: &str, base: &Baseline, new: &Baseline) -> Vec<FigureTest> {
    let mut out = Vec::new();
    let names: std::collections::BTreeSet<&String> =
        base.figures.keys().chain(new.figures.keys()).collect();
    for name in names {
        let (b, n) = match (base.figures.get(name), new.figures.get(name)) {
            (Some(b), Some(n)) => (b, n),
            (b, _) => {
                // A figure that appears or disappears is a change no sampling explains.
                out.push(FigureTest {
                    scenario: scenario.into(),
                    figure: name.clone(),
                    test: if b.is_none() { "added" } else { "removed" },
                    baseline_mean: None,
                    new_mean: None,
                    difference: None,
                    ci95: None,
                    p_value: 0.0,
                    drifted: false,
                });
                continue;
            }
        };
        let m = b.len().min(n.len());
        let (b, n) = (&b[..m], &n[..m]);
        let (diff, ci, p) = paired_t(b, n);
        out.push(FigureTest {
            scenario: scenario.into(),
            figure: name.clone(),
            test: "mean",
            baseline_mean: Summary::of(b.iter().copied()).mean,
            new_mean: Summary::of(n.iter().copied()).mean,
            difference: diff,
            ci95: ci,
            p_value: p,
            drifted: false,
        });
        let (censored_diff, p) = sign_test(b, n);
        if censored_diff != 0 || b.iter().chain(n).any(Option::is_none) {
            out.push(FigureTest {
                scenario: scenario.into(),
                figure: name.clone(),
                test: "censored",
                baseline_mean: Some(b.iter().filter(|v| v.is_none()).count() as f64),
                new_mean: Some(n.iter().filter(|v| v.is_none()).count() as f64),
                difference: Some(censored_diff as f64),
                ci95: None,
                p_value: p,
                drifted: false,
            });
        }
    }
    out
}

/// Holm's step-down procedure: marks as drifted the tests whose p-values are rejected
/// at family-wise error `alpha`.
pub fn holm(tests: &mut [FigureTest], alpha: f64) {
    let mut order: Vec<usize> = (0..tests.len()).collect();
    order.sort_by(|&a, &b| tests[a].p_value.total_cmp(&tests[b].p_value));
    let m = tests.len();
    for (rank, &i) in order.iter().enumerate() {
        if tests[i].p_value <= alpha / (m - rank) as f64 {
            tests[i].drifted = true;
        } else {
            break;
        }
    }
}

/// The result of one expectation.
#[derive(Clone, Debug, PartialEq)]
pub struct ExpectationResult {
    /// The scenario's name.
    pub scenario: String,
    /// The figure the expectation names, as written.
    pub figure: String,
    /// The statistic bounded: `mean`, `p5`, `p50`, `p95` or `max`.
    pub stat: &'static str,
    /// The statistic's value in this run (`None`: never observed).
    pub value: Option<f64>,
    /// The lower bound, when given.
    pub min: Option<f64>,
    /// The upper bound, when given.
    pub max: Option<f64>,
    /// Whether the value lay within the bounds.
    pub held: bool,
    /// Why it failed, in words.
    pub reason: Option<String>,
}

/// An expectation names a figure that does not exist.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("expect[{index}].figure: {message}")]
pub struct UnknownFigure {
    /// The expectation's index in the scenario's `expect` list.
    pub index: usize,
    /// Why the figure name was refused.
    pub message: String,
}

/// Evaluates a scenario's expectations on a run.
pub fn evaluate_expectations(
    scenario: &Scenario,
    run: &RunOutput,
) -> Result<Vec<ExpectationResult>, UnknownFigure> {
    let releases = scenario.releases.len();
    scenario
        .expect
        .iter()
        .enumerate()
        .map(|(index, e)| {
            let (value, censored) = if let Some(rest) = e.figure.strip_prefix("recommended_compat_window") {
                let release = match rest.strip_prefix('@') {
                    Some(k) => k.parse::<usize>().ok().filter(|&k| k < releases),
                    None if rest.is_empty() => Some(releases - 1),
                    None => None,
                }
                .ok_or_else(|| UnknownFigure {
                    index,
                    message: format!("{:?}: no such release (there are {releases})", e.figure),
                })?;
                // As the report computes it: the quantile over replications, censored
                // replications counted as beyond every observed value.
                let coexistence = run.figure_values(FigureRef {
                    release,
                    figure: Figure::Coexistence,
                });
                let hours = quantile_with_censoring(
                    &coexistence,
                    scenario.report.compat_window_quantile,
                );
                (hours, u64::from(hours.is_none()))
            } else {
                let figure = FigureRef::parse(&e.figure, &scenario.report.thresholds, releases)
                    .map_err(|e| UnknownFigure { index, message: format!("{e}; or recommended_compat_window@K") })?;
                let s = Summary::of(run.figure_values(figure));
                let value = match e.stat {
                    ExpectStat::Mean => s.mean,
                    ExpectStat::P5 => s.p5,
                    ExpectStat::P50 => s.p50,
                    ExpectStat::P95 => s.p95,
                    ExpectStat::Max => s.max,
                };
                (value, s.censored)
            };
            let reason = if censored > 0 && e.max.is_some() {
                Some(format!(
                    "censored in {censored} replication(s): it did not happen before the horizon, so it exceeds any max"
                ))
            } else {
                match value {
                    None => Some("no observed value".into()),
                    Some(v) if e.max.is_some_and(|m| v > m) => Some(format!("{v:.3} is above the max {}", e.max.unwrap_or_default())),
                    Some(v) if e.min.is_some_and(|m| v < m) => Some(format!("{v:.3} is below the min {}", e.min.unwrap_or_default())),
                    Some(_) => None,
                }
            };
            Ok(ExpectationResult {
                scenario: scenario.name.clone(),
                figure: e.figure.clone(),
                stat: e.stat.name(),
                value,
                min: e.min,
                max: e.max,
                held: reason.is_none(),
                reason,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test(p: f64) -> FigureTest {
        FigureTest {
            scenario: "s".into(),
            figure: format!("{p}"),
            test: "mean",
            baseline_mean: None,
            new_mean: None,
            difference: None,
            ci95: None,
            p_value: p,
            drifted: false,
        }
    }

    #[test]
    fn holm_steps_down_and_stops_at_the_first_acceptance() {
        // m = 4, alpha = 0.05: thresholds 0.0125, 0.0167, 0.025, 0.05.
        let mut t = vec![test(0.01), test(0.04), test(0.015), test(0.03)];
        holm(&mut t, 0.05);
        let drifted: Vec<bool> = t.iter().map(|t| t.drifted).collect();
        assert_eq!(
            drifted,
            [true, false, true, false],
            "0.03 > 0.025 stops the procedure"
        );
    }

    #[test]
    fn paired_t_sees_a_small_shift_that_the_spread_would_hide() {
        let base: Vec<Option<f64>> = (0..40)
            .map(|i| Some(10.0 + f64::from(i % 7) * 3.0))
            .collect();
        let new: Vec<Option<f64>> = base
            .iter()
            .enumerate()
            .map(|(i, v)| v.map(|x| x * 1.02 + (i % 3) as f64 * 0.001))
            .collect();
        let (diff, ci, p) = paired_t(&base, &new);
        assert!(diff.unwrap() > 0.0 && ci.unwrap()[0] > 0.0);
        assert!(p < 1e-10, "{p}");
        let (_, _, p_same) = paired_t(&base, &base);
        assert_eq!(p_same, 1.0);
    }

    #[test]
    fn a_baseline_is_read_only_at_the_schema_this_version_writes() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/baselines/connect-micro.json");
        let text = std::fs::read_to_string(path).unwrap();
        assert!(parse_baseline(&text).is_ok());
        let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let with = |doc: &mut serde_json::Value, schema: serde_json::Value| {
            doc["schema_version"] = schema;
            parse_baseline(&doc.to_string())
        };
        let newer = with(&mut doc, (BASELINE_SCHEMA + 1).into());
        assert!(
            matches!(newer, Err(BaselineError::Newer(n)) if n == u64::from(BASELINE_SCHEMA) + 1)
        );
        for unknown in [0.into(), "1".into(), (-1).into(), 1.5.into()] {
            let e = with(&mut doc, unknown).unwrap_err();
            assert!(matches!(e, BaselineError::UnknownSchema(_)), "{e}");
        }
        doc.as_object_mut().unwrap().remove("schema_version");
        let e = parse_baseline(&doc.to_string()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!(
                "baseline schema (none) is not one this rollout-sim reads ({BASELINE_SCHEMA}); recreate it with --update"
            )
        );
    }

    #[test]
    fn the_sign_test_counts_only_discordant_censoring() {
        let base = [Some(1.0), None, None, Some(2.0)];
        let new = [None, None, Some(3.0), Some(2.0)];
        assert_eq!(sign_test(&base, &new), (0, 1.0));
        let base = vec![Some(1.0); 12];
        let new = vec![None; 12];
        let (diff, p) = sign_test(&base, &new);
        assert_eq!(diff, 12);
        assert!((p - 2.0 * 0.5f64.powi(12)).abs() < 1e-12);
    }
}
