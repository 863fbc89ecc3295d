//! `rollout-sim fit`: admin profiles recovered from data that rollout-sim simulated at
//! known parameters (at seeds other than the fit's), through the whole loop a user
//! follows: `run --events`, `fit --from-events` (or a CSV), `fitted-scenario.json`.

use crate::common::cli;
use std::fs;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::common::tree;

/// A Connect scope change deployed at 01:30 UTC, inside the default maintenance window
/// of UTC sites (so the 4 h slip is part of the platform part), observed for 30 days.
pub(crate) fn truth(segments: Value, admins: Value, instances: u64) -> Value {
    json!({
        "name": "fit-truth",
        "platform": "connect",
        "start": "2026-03-02T01:30:00Z",
        "horizon": "30d",
        "seed": 1,
        "replications": 1,
        "initial_version": "1.0.0",
        "population": {"instances": instances, "segments": segments},
        "admins": admins,
        "releases": [{"at": "0h", "changes": ["other"], "label": "fix"},
                     {"at": "0h", "changes": ["scopes"], "label": "add write scope"}]
    })
}

/// One segment whose admins approve 70% of the time (10% reject, the rest ignore) after
/// a lognormal delay with median 48 h and sigma 1.
pub(crate) fn one_segment(instances: u64) -> Value {
    truth(
        json!([{"name": "sites", "share": 1.0, "admin": "truth"}]),
        json!({"truth": {"approve": 0.7, "reject": 0.1, "delay": {"lognormal": {"median": "2d", "sigma": 1.0}}}}),
        instances,
    )
}

pub(crate) fn write_scenario(dir: &Path, doc: &Value) -> PathBuf {
    let path = dir.join("truth.json");
    fs::write(&path, serde_json::to_string_pretty(doc).unwrap()).unwrap();
    path
}

/// Simulates the scenario at `seed` and returns its event log.
pub(crate) fn simulate(dir: &Path, scenario: &Path, seed: u64) -> PathBuf {
    let out = dir.join(format!("sim-{seed}"));
    cli()
        .args([
            "run",
            scenario.to_str().unwrap(),
            "--events",
            "--no-charts",
            "-q",
            "--seed",
        ])
        .arg(seed.to_string())
        .arg("--out")
        .arg(&out)
        .assert()
        .success();
    out.join("events.jsonl")
}

/// Runs `fit` with `args` into `out` and returns its `fit.json`.
pub(crate) fn fit(scenario: &Path, out: &Path, args: &[&str]) -> Value {
    cli()
        .args([
            "fit",
            scenario.to_str().unwrap(),
            "-q",
            "--out",
            out.to_str().unwrap(),
            "--seed",
            "99",
        ])
        .args(args)
        .assert()
        .success();
    serde_json::from_slice(&fs::read(out.join("fit.json")).unwrap()).unwrap()
}

/// Fits the event log `events` (`--from-events`, no bootstrap) with `extra` arguments.
pub(crate) fn fit_events(scenario: &Path, out: &Path, events: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "--from-events",
        events.to_str().unwrap(),
        "--bootstrap",
        "0",
    ];
    args.extend(extra);
    fit(scenario, out, &args)
}

pub(crate) fn estimate(v: &Value) -> (f64, f64, f64) {
    (
        v["estimate"].as_f64().unwrap(),
        v["ci95"][0].as_f64().unwrap_or(f64::NEG_INFINITY),
        v["ci95"][1].as_f64().unwrap_or(f64::INFINITY),
    )
}

/// The length of a quantity's 95% interval.
pub(crate) fn width(v: &Value) -> f64 {
    let (_, lo, hi) = estimate(v);
    hi - lo
}

pub(crate) fn covers(v: &Value, truth: f64) -> bool {
    let (_, lo, hi) = estimate(v);
    lo <= truth && truth <= hi
}

/// Whether `truth` lies inside the 99.9% interval implied by the reported 95% one: each
/// side stretched by z(0.9995) / z(0.975) = 3.2905 / 1.9600. One data set's 95% interval
/// misses the truth 5% of the time, too often for a test that looks at one data set; this
/// one misses it 0.1% of the time. The 95% coverage itself is tested over 20 data sets
/// (`intervals_cover_the_truth_in_at_least_17_of_20_data_sets`).
pub(crate) fn plausible(v: &Value, truth: f64) -> bool {
    let (estimate, lo, hi) = estimate(v);
    let stretch = 3.2905 / 1.9600;
    estimate - stretch * (estimate - lo) <= truth && truth <= estimate + stretch * (hi - estimate)
}

#[test]
fn intervals_cover_the_truth_in_at_least_17_of_20_data_sets() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), &one_segment(1500));
    let (mut approve_covered, mut median_covered) = (0, 0);
    let (mut approves, mut medians) = (Vec::new(), Vec::new());
    for seed in 1001..1021 {
        let events = simulate(dir.path(), &scenario, seed);
        let out = dir.path().join(format!("fit-{seed}"));
        let f = fit_events(
            &scenario,
            &out,
            &events,
            &["--family", "lognormal", "--no-charts"],
        );
        let seg = &f["segments"][0];
        approve_covered += usize::from(covers(&seg["approve"], 0.7));
        median_covered += usize::from(covers(&seg["delay"]["median_hours"], 48.0));
        approves.push(estimate(&seg["approve"]).0);
        medians.push(estimate(&seg["delay"]["median_hours"]).0);
    }
    // A 95% interval misses 17 or more times out of 20 with probability 1.6%.
    assert!(
        approve_covered >= 17,
        "approve covered {approve_covered}/20"
    );
    assert!(median_covered >= 17, "median covered {median_covered}/20");
    // The estimates scatter around the truth: their mean lies within three standard
    // errors of the mean.
    for (values, truth) in [(&approves, 0.7), (&medians, 48.0)] {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let sd = (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        assert!(
            (mean - truth).abs() <= 3.0 * sd / n.sqrt(),
            "mean {mean} vs {truth} (sd {sd})"
        );
    }
}

#[test]
fn censored_observation_still_recovers_the_profile_and_ignoring_censoring_does_not() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), &one_segment(3000));
    let events = simulate(dir.path(), &scenario, 2001);
    let lognormal = ["--family", "lognormal", "--no-charts"];
    let full = fit_events(&scenario, &dir.path().join("full"), &events, &lognormal);
    // Stopped 60 h after the deploy: about half of the approving admins have not acted.
    let short_args = [&lognormal[..], &["--until", "60"]].concat();
    let short = fit_events(&scenario, &dir.path().join("short"), &events, &short_args);
    let (full_seg, short_seg) = (&full["segments"][0], &short["segments"][0]);
    assert_eq!(short["observed"]["until_hours"], 60.0);
    for seg in [full_seg, short_seg] {
        assert!(plausible(&seg["approve"], 0.7), "{seg}");
        assert!(plausible(&seg["delay"]["median_hours"], 48.0), "{seg}");
    }
    assert!(width(&short_seg["approve"]) > 1.5 * width(&full_seg["approve"]));
    assert!(width(&short_seg["delay"]["median_hours"]) > width(&full_seg["delay"]["median_hours"]));
    // Ignoring censoring: the share updated by 60 h taken as the approve share, and the
    // median of the delays seen taken as the median delay. Both fall far below the truth
    // and outside the censoring-aware intervals.
    let rows = fs::read_to_string(dir.path().join("short/observed.csv")).unwrap();
    let updated: Vec<f64> = rows
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(2) == Some("true"))
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    let naive_approve = updated.len() as f64 / 3000.0;
    let (_, lo, _) = estimate(&short_seg["approve"]);
    assert!(
        naive_approve < lo && naive_approve < 0.5,
        "naive {naive_approve}, interval from {lo}"
    );
    let mut sorted = updated.clone();
    sorted.sort_by(f64::total_cmp);
    // Less the platform part's mean (publication 2.5 h, slip 4 h, half a poll 12 h).
    let naive_median = sorted[sorted.len() / 2] - 18.5;
    let (_, lo, _) = estimate(&short_seg["delay"]["median_hours"]);
    assert!(
        naive_median < lo && naive_median < 30.0,
        "naive {naive_median}, interval from {lo}"
    );
}

#[test]
fn aggregate_shares_recover_the_profile_with_wider_intervals() {
    // Daily shares carry less information than each instance's time, so their intervals
    // are wider in expectation; one data set can reverse that (the field-wide publication
    // draw moves both widths a lot), so the widths are compared on average over six.
    let seeds: Vec<u64> = (3001..3007).collect();
    let (mut median_ratio, mut sigma_ratio) = (0.0, 0.0);
    for &seed in &seeds {
        let (a, r) = aggregate_and_per_instance_fits(seed);
        assert!(plausible(&a["approve"], 0.7), "seed {seed}: {a}");
        assert!(
            plausible(&a["delay"]["median_hours"], 48.0),
            "seed {seed}: {a}"
        );
        assert!(a["goodness_of_fit"]["p_value"].as_f64().unwrap() > 0.0);
        median_ratio += width(&a["delay"]["median_hours"]) / width(&r["delay"]["median_hours"]);
        sigma_ratio += width(&a["delay"]["sigma"]) / width(&r["delay"]["sigma"]);
    }
    let n = seeds.len() as f64;
    assert!(
        median_ratio / n > 1.0,
        "mean width ratio {}",
        median_ratio / n
    );
    assert!(
        sigma_ratio / n > 1.0,
        "mean width ratio {}",
        sigma_ratio / n
    );
}

/// One simulated rollout of 3,000 instances fitted twice: from daily shares (the segment
/// of the aggregate fit) and from every instance's events.
pub(crate) fn aggregate_and_per_instance_fits(seed: u64) -> (Value, Value) {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), &one_segment(3000));
    let events = simulate(dir.path(), &scenario, seed);
    let per_instance = fit_events(
        &scenario,
        &dir.path().join("rows"),
        &events,
        &["--family", "lognormal", "--no-charts"],
    );
    // A dashboard's view of the same rollout: the share updated once a day.
    let rows = fs::read_to_string(dir.path().join("rows/observed.csv")).unwrap();
    let times: Vec<f64> = rows
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(2) == Some("true"))
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    let mut csv = String::from("hours,share\n");
    for k in 1..=30 {
        let t = 24.0 * f64::from(k);
        let share = times.iter().filter(|&&u| u <= t).count() as f64 / 3000.0;
        csv += &format!("{t},{share}\n");
    }
    let agg_file = dir.path().join("dashboard.csv");
    fs::write(&agg_file, csv).unwrap();
    let aggregate = fit(
        &scenario,
        &dir.path().join("agg"),
        &[
            "--observed",
            agg_file.to_str().unwrap(),
            "--instances",
            "3000",
            "--family",
            "lognormal",
            "--bootstrap",
            "19",
            "--no-charts",
        ],
    );
    assert_eq!(aggregate["observed"]["form"], "aggregate");
    (
        aggregate["segments"][0].clone(),
        per_instance["segments"][0].clone(),
    )
}

#[test]
fn a_segment_column_fits_each_segment_to_its_own_truth() {
    let dir = tempfile::tempdir().unwrap();
    let doc = truth(
        json!([{"name": "free", "share": 0.5, "admin": "slow"}, {"name": "paid", "share": 0.5, "admin": "fast"}]),
        json!({"slow": {"approve": 0.55, "reject": 0.05, "delay": {"lognormal": {"median": "3d", "sigma": 0.8}}},
               "fast": {"approve": 0.9, "reject": 0.0, "delay": {"lognormal": {"median": "12h", "sigma": 1.0}}}}),
        4000,
    );
    let scenario = write_scenario(dir.path(), &doc);
    let events = simulate(dir.path(), &scenario, 4001);
    let out = dir.path().join("fit");
    let f = fit_events(&scenario, &out, &events, &["--family", "lognormal"]);
    let segments = f["segments"].as_array().unwrap();
    assert_eq!(segments.len(), 2);
    let (free, paid) = (&segments[0], &segments[1]);
    assert_eq!(
        (free["name"].as_str(), paid["name"].as_str()),
        (Some("free"), Some("paid"))
    );
    assert!(
        plausible(&free["approve"], 0.55) && plausible(&free["delay"]["median_hours"], 72.0),
        "{free}"
    );
    assert!(
        plausible(&paid["approve"], 0.9) && plausible(&paid["delay"]["median_hours"], 12.0),
        "{paid}"
    );
    // Told apart: the intervals do not overlap.
    assert!(estimate(&free["approve"]).2 < estimate(&paid["approve"]).1);
    // The fitted scenario points each segment at its own profile, and runs.
    let fitted: Value =
        serde_json::from_slice(&fs::read(out.join("fitted-scenario.json")).unwrap()).unwrap();
    assert_eq!(fitted["population"]["segments"][0]["admin"], "fitted-free");
    assert_eq!(fitted["population"]["segments"][1]["admin"], "fitted-paid");
    let approve = fitted["admins"]["fitted-paid"]["approve"].as_f64().unwrap();
    assert!((approve - estimate(&paid["approve"]).0).abs() < 1e-4);
    cli()
        .args(["validate"])
        .arg(out.join("fitted-scenario.json"))
        .assert()
        .success();
}

#[test]
fn auto_picks_the_family_that_generated_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let laws = [
        (
            "lognormal",
            json!({"lognormal": {"median": "3d", "sigma": 1.2}}),
        ),
        ("weibull", json!({"weibull": {"shape": 3.0, "scale": "4d"}})),
        ("gamma", json!({"gamma": {"shape": 6.0, "scale": "16h"}})),
    ];
    let mut right = 0;
    let mut picks = Vec::new();
    for (i, (family, delay)) in laws.iter().enumerate() {
        let doc = truth(
            json!([{"name": "sites", "share": 1.0, "admin": "truth"}]),
            json!({"truth": {"approve": 0.8, "reject": 0.0, "delay": delay}}),
            4000,
        );
        let sub = dir.path().join(family);
        fs::create_dir_all(&sub).unwrap();
        let scenario = write_scenario(&sub, &doc);
        for seed in [5001 + i as u64, 6001 + i as u64] {
            let events = simulate(&sub, &scenario, seed);
            let f = fit_events(
                &scenario,
                &sub.join(format!("fit-{seed}")),
                &events,
                &["--no-charts"],
            );
            let chosen = f["segments"][0]["delay"]["family"]
                .as_str()
                .unwrap()
                .to_string();
            assert_eq!(f["segments"][0]["candidates"].as_array().unwrap().len(), 4);
            right += usize::from(chosen == *family);
            picks.push((family.to_string(), chosen));
        }
    }
    // The guide states the rate measured here: 6 of 6.
    assert!(right >= 5, "picked {picks:?}");
}

#[test]
fn outputs_are_complete_and_identical_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), &one_segment(800));
    let events = simulate(dir.path(), &scenario, 7001);
    let run = |threads: &str| {
        let out = dir.path().join(format!("fit-{threads}"));
        let args = [
            "--from-events",
            events.to_str().unwrap(),
            "--bootstrap",
            "19",
            "--threads",
            threads,
            "--png",
        ];
        fit(&scenario, &out, &args);
        out
    };
    let (one, two) = (run("1"), run("2"));
    assert_eq!(tree(&one), tree(&two));
    let f: Value = serde_json::from_slice(&fs::read(one.join("fit.json")).unwrap()).unwrap();
    // The contract's keys.
    assert_eq!(f["schema_version"], 1);
    assert_eq!(f["scenario"], "fit-truth");
    assert_eq!(f["release"], 1);
    for key in ["form", "instances", "updated", "until_hours"] {
        assert!(!f["observed"][key].is_null(), "observed.{key}");
    }
    let seg = &f["segments"][0];
    for key in [
        "name",
        "n",
        "updated",
        "approve",
        "delay",
        "log_likelihood",
        "aic",
        "goodness_of_fit",
        "candidates",
    ] {
        assert!(!seg[key].is_null(), "segments[0].{key}");
    }
    let family = seg["delay"]["family"].as_str().unwrap();
    let params: &[&str] = match family {
        "lognormal" => &["median_hours", "sigma"],
        "exponential" => &["mean_hours"],
        _ => &["shape", "scale_hours"],
    };
    for p in params {
        assert!(seg["delay"][p]["estimate"].as_f64().unwrap() > 0.0);
        assert_eq!(seg["delay"][p]["ci95"].as_array().unwrap().len(), 2);
    }
    let p = seg["goodness_of_fit"]["p_value"].as_f64().unwrap();
    assert!(
        p > 0.0 && p <= 1.0 && (p * 20.0 - (p * 20.0).round()).abs() < 1e-9,
        "p = {p}: (1 + k) / 20"
    );
    // The CSV built from the events, the chart (SVG and PNG) and the page.
    let csv = fs::read_to_string(one.join("observed.csv")).unwrap();
    assert_eq!(csv.lines().next(), Some("instance,hours,updated,segment"));
    assert_eq!(csv.lines().count(), 801);
    let svg = fs::read_to_string(one.join("charts/fit.svg")).unwrap();
    assert!(svg.contains("sites observed") && svg.contains("sites fitted"));
    assert!(one.join("charts/fit.png").is_file());
    let html = fs::read_to_string(one.join("fit.html")).unwrap();
    assert!(html.contains("<svg") && html.contains("approve"));
    // The fitted scenario runs, with the fitted profile.
    let fitted = one.join("fitted-scenario.json");
    let doc: Value = serde_json::from_slice(&fs::read(&fitted).unwrap()).unwrap();
    assert_eq!(doc["name"], "fit-truth-fitted");
    assert_eq!(doc["population"]["segments"][0]["admin"], "fitted-sites");
    assert_eq!(
        doc["admins"]["fitted-sites"]["delay"]
            .as_object()
            .unwrap()
            .keys()
            .next()
            .map(String::as_str),
        Some(family)
    );
    cli()
        .args([
            "run",
            fitted.to_str().unwrap(),
            "--replications",
            "2",
            "--instances",
            "100",
            "-q",
            "--no-charts",
            "--out",
        ])
        .arg(dir.path().join("next"))
        .assert()
        .success();
    // The table on stdout.
    cli()
        .args([
            "fit",
            scenario.to_str().unwrap(),
            "--observed",
            one.join("observed.csv").to_str().unwrap(),
            "--bootstrap",
            "0",
            "--no-charts",
            "--out",
        ])
        .arg(dir.path().join("table"))
        .assert()
        .success()
        .stdout(
            predicates::str::contains("segment sites: 800 instances")
                .and(predicates::str::contains("95% profile likelihood")),
        );
}

use predicates::prelude::PredicateBooleanExt;
