//! Forecasts with honest uncertainty: the fitted scenario's parameter draws make a run's
//! 5 to 95% band a predictive band, which covers what the next release then does in
//! about 90% of data sets. Simulated at known truth: a past release observed (at one
//! seed), fitted (at another), forecast (at a third), and the next release realised (at
//! a fourth).

use std::fs;
use std::path::Path;

use predicates::prelude::*;
use serde_json::Value;
use statrs::distribution::{Binomial, DiscreteCDF};

use crate::common::cli;
use crate::fitting::{fit_events, one_segment, simulate, write_scenario};

/// The days the band is checked at, in hours after the deploy.
const CHECKED_HOURS: [u32; 3] = [168, 336, 720];

/// The version the fitted release brings (`one_segment`'s release 1: a scope change).
const NEW_VERSION: &str = "1.1.0";

/// The share on the new version at each checked hour, from a run's `timeseries.csv`
/// column `column` (`mean_share`, `p5_share`, `p95_share`).
fn shares(timeseries: &Path, column: &str) -> Vec<f64> {
    let text = fs::read_to_string(timeseries).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let (hours, version, value) = (at("hours"), at("version"), at(column));
    CHECKED_HOURS
        .iter()
        .map(|h| {
            lines
                .clone()
                .map(|l| l.split(',').collect::<Vec<_>>())
                .find(|row| row[version] == NEW_VERSION && row[hours] == h.to_string())
                .map(|row| row[value].parse::<f64>().unwrap())
                .unwrap()
        })
        .collect()
}

/// Runs `scenario` at `seed` with `replications` and returns its `timeseries.csv`.
fn run(scenario: &Path, out: &Path, seed: u64, replications: u32) -> std::path::PathBuf {
    cli()
        .arg("run")
        .arg(scenario)
        .args(["--no-charts", "-q", "--seed", &seed.to_string()])
        .args(["--replications", &replications.to_string()])
        .arg("--out")
        .arg(out)
        .assert()
        .success();
    out.join("timeseries.csv")
}

/// For each checked hour, in how many of `data_sets` data sets of 2,000 instances the
/// forecast's 90% band (over 200 replications of the fitted scenario) covers the next
/// release's realised share, with the fit observing `until` (all 30 days when `None`).
fn coverage(until: Option<&str>, data_sets: u64, first_seed: u64) -> Vec<u64> {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(tmp.path(), &one_segment(2_000));
    let mut covered = vec![0; CHECKED_HOURS.len()];
    for k in first_seed..first_seed + data_sets {
        let dir = tmp.path().join(k.to_string());
        fs::create_dir(&dir).unwrap();
        let events = simulate(&dir, &scenario, 1_000 + k);
        let mut extra = vec!["--draws", "200"];
        if let Some(u) = until {
            extra.extend(["--until", u]);
        }
        let fitted = fit_events(&scenario, &dir.join("fit"), &events, &extra);
        assert_eq!(fitted["segments"][0]["forecast"]["draws"], 200);
        let forecast = run(
            &dir.join("fit/fitted-scenario.json"),
            &dir.join("forecast"),
            7_000 + k,
            200,
        );
        let (low, high) = (
            shares(&forecast, "p5_share"),
            shares(&forecast, "p95_share"),
        );
        let realised = shares(
            &run(&scenario, &dir.join("next"), 9_000 + k, 1),
            "mean_share",
        );
        for (i, r) in realised.iter().enumerate() {
            if low[i] <= *r && *r <= high[i] {
                covered[i] += 1;
            }
        }
        fs::remove_dir_all(&dir).unwrap();
    }
    covered
}

/// The counts of covering data sets consistent with a true coverage between 85% and
/// 95%: from the 1% point of Binomial(n, 0.85) to the 99% point of Binomial(n, 0.95).
fn allowed(n: u64) -> (u64, u64) {
    let quantile = |p: f64, q: f64| {
        let b = Binomial::new(p, n).unwrap();
        (0..=n).find(|&k| b.cdf(k) >= q).unwrap()
    };
    (quantile(0.85, 0.01), quantile(0.95, 0.99))
}

fn check(until: Option<&str>, data_sets: u64, first_seed: u64) {
    let covered = coverage(until, data_sets, first_seed);
    let (lo, hi) = allowed(data_sets);
    for (h, c) in CHECKED_HOURS.iter().zip(&covered) {
        assert!(
            (lo..=hi).contains(c),
            "observing {}: the 90% band covers the next release at {} days in {c} of {data_sets} data sets, outside {lo} to {hi} (a coverage of 85 to 95%); all: {covered:?}",
            until.unwrap_or("30 days"),
            h / 24
        );
    }
}

#[test]
fn the_predictive_band_covers_the_next_release_after_30_days_of_data() {
    check(None, 60, 0);
}

#[test]
fn the_predictive_band_covers_the_next_release_after_72_hours_of_data() {
    check(Some("72"), 60, 100);
}

#[test]
fn a_fitted_scenario_carries_its_draws_and_a_run_uses_one_per_replication() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(tmp.path(), &one_segment(2_000));
    let events = simulate(tmp.path(), &scenario, 3);
    let out = tmp.path().join("fit");
    fit_events(
        &scenario,
        &out,
        &events,
        &["--until", "72", "--draws", "50"],
    );
    let doc: Value =
        serde_json::from_str(&fs::read_to_string(out.join("fitted-scenario.json")).unwrap())
            .unwrap();
    let profile = &doc["admins"]["fitted-sites"];
    let draws = profile["parameter_draws"].as_array().unwrap();
    assert_eq!(draws.len(), 50);
    // The draws spread over the uncertainty: after 72 hours approve is far from pinned.
    let approve: Vec<f64> = draws
        .iter()
        .map(|d| d["approve"].as_f64().unwrap())
        .collect();
    let (min, max) = approve
        .iter()
        .fold((1.0f64, 0.0f64), |(a, b), v| (a.min(*v), b.max(*v)));
    assert!(max - min > 0.05, "approve draws {min} to {max}");
    // A run with the draws has wider bands than one with the point estimate alone.
    let band = |scenario: &Path, name: &str| {
        let ts = run(scenario, &tmp.path().join(name), 11, 100);
        let (lo, hi) = (shares(&ts, "p5_share"), shares(&ts, "p95_share"));
        hi[2] - lo[2]
    };
    let with_draws = band(&out.join("fitted-scenario.json"), "with");
    let mut point = doc.clone();
    point["admins"]["fitted-sites"]
        .as_object_mut()
        .unwrap()
        .remove("parameter_draws");
    let point_file = tmp.path().join("point.json");
    fs::write(&point_file, point.to_string()).unwrap();
    let without = band(&point_file, "without");
    assert!(
        with_draws > 1.5 * without,
        "band with draws {with_draws}, without {without}"
    );
    // Setting approve on a drawn profile would change nothing: refused, with the way out.
    let fitted = out.join("fitted-scenario.json");
    cli()
        .arg("run")
        .arg(&fitted)
        .args([
            "--set",
            "admins.fitted-sites.approve=0.9",
            "--replications",
            "2",
            "-q",
        ])
        .args(["-o", tmp.path().join("set").to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "admins.fitted-sites.approve: profile \"fitted-sites\" has parameter_draws",
        ));
    // `*` reaches the drawn profile too.
    cli()
        .arg("run")
        .arg(&fitted)
        .args(["--set", "admins.*.approve=0.9", "--replications", "2", "-q"])
        .args(["-o", tmp.path().join("star").to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "admins.*.approve: profile \"fitted-sites\" has parameter_draws",
        ));
    cli()
        .arg("run")
        .arg(&fitted)
        .args([
            "--set",
            "admins.fitted-sites.approve=0.9",
            "--replications",
            "2",
            "-q",
        ])
        .args(["--set", "admins.fitted-sites.parameter_draws=[]"])
        .args(["-o", tmp.path().join("set").to_str().unwrap()])
        .assert()
        .success();
    // A draw that breaks a rule is refused, naming it.
    let mut bad = doc.clone();
    bad["admins"]["fitted-sites"]["parameter_draws"][7]["approve"] = 1.5.into();
    let bad_file = tmp.path().join("bad.json");
    fs::write(&bad_file, bad.to_string()).unwrap();
    cli()
        .args(["validate", bad_file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "admins.fitted-sites.parameter_draws[7].approve",
        ));
}

/// After 72 hours of a release whose enterprise admins take a week (median 168 h), the
/// data cannot tell slow approvers from those who never act, nor one delay family from
/// another: the fit says so, and its draws carry both uncertainties.
#[test]
fn short_data_warns_that_approve_is_not_identifiable_and_averages_the_families() {
    let tmp = tempfile::tempdir().unwrap();
    let past = tmp.path().join("past");
    cli()
        .args([
            "run",
            "scenarios/connect-scope-change.json",
            "--replications",
            "1",
        ])
        .args([
            "--events",
            "--no-charts",
            "-q",
            "--out",
            past.to_str().unwrap(),
        ])
        .assert()
        .success();
    let out = tmp.path().join("fit");
    let fit = fit_events(
        std::path::Path::new("scenarios/connect-scope-change.json"),
        &out,
        &past.join("events.jsonl"),
        &["--until", "72"],
    );
    let segment = |name: &str| {
        fit["segments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .unwrap()
            .clone()
    };
    let warnings = |s: &Value| -> String {
        s["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w.as_str().unwrap().to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    // Enterprise (truth: 90% approve, median 168 h): approve's interval reaches 1.
    let enterprise = segment("enterprise");
    assert_eq!(enterprise["approve"]["ci95"][1].as_f64().unwrap(), 1.0);
    assert_eq!(enterprise["forecast"]["approve_identifiable"], false);
    assert!(warnings(&enterprise).contains("approve is not identifiable yet"));
    // The draws spread across the interval, up to near the truth, not at one point.
    let band = &enterprise["forecast"]["approve_90"];
    let (lo, hi) = (band[0].as_f64().unwrap(), band[1].as_f64().unwrap());
    assert!(hi - lo > 0.3 && hi > 0.8, "approve draws {lo} to {hi}");
    // Free (truth: lognormal): gamma fits 72 hours of it about as well; both get draws.
    let free = segment("free");
    let weights: Vec<f64> = free["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["weight"].as_f64().unwrap())
        .collect();
    assert!((weights.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert!(
        weights.iter().filter(|w| **w > 0.1).count() >= 2,
        "{weights:?}"
    );
    assert!(warnings(&free).contains("the families disagree"));
    let doc: Value =
        serde_json::from_str(&fs::read_to_string(out.join("fitted-scenario.json")).unwrap())
            .unwrap();
    let families: std::collections::BTreeSet<String> =
        doc["admins"]["fitted-free"]["parameter_draws"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                d["delay"]
                    .as_object()
                    .unwrap()
                    .keys()
                    .next()
                    .unwrap()
                    .clone()
            })
            .collect();
    assert!(families.len() >= 2, "draws from {families:?}");
    // The original's description (ending in a question) and the fit's note are two
    // sentences, with no full stop added after the question mark.
    let description = doc["description"].as_str().unwrap();
    assert!(
        description.contains("approve at different speeds? Admin profiles fitted"),
        "{description}"
    );
}

/// A two-speed population (40% within a day, the rest after one to three weeks) is no
/// single family: the goodness of fit says so, and the table warns.
#[test]
fn a_poor_fit_warns() {
    let tmp = tempfile::tempdir().unwrap();
    let mut truth = one_segment(4_000);
    truth["admins"]["truth"]["delay"] = serde_json::json!({"empirical": [
        ["2h", 0.05], ["20h", 0.4], ["7d", 0.41], ["21d", 1.0]
    ]});
    truth["description"] = "Two speeds of admins".into();
    let scenario = write_scenario(tmp.path(), &truth);
    let events = simulate(tmp.path(), &scenario, 5);
    let out = tmp.path().join("fit");
    let output = cli()
        .arg("fit")
        .arg(&scenario)
        .args(["--from-events", events.to_str().unwrap()])
        .args(["--bootstrap", "39", "--draws", "20", "--seed", "3"])
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(output).unwrap();
    assert!(table.contains("warning  poor fit: p = "), "{table}");
    let fit: Value = serde_json::from_slice(&fs::read(out.join("fit.json")).unwrap()).unwrap();
    let p = fit["segments"][0]["goodness_of_fit"]["p_value"]
        .as_f64()
        .unwrap();
    assert!(p < 0.05, "p = {p}");
    // A description without a full stop gets one before the fit's note.
    let doc: Value =
        serde_json::from_str(&fs::read_to_string(out.join("fitted-scenario.json")).unwrap())
            .unwrap();
    assert!(
        doc["description"]
            .as_str()
            .unwrap()
            .starts_with("Two speeds of admins. Admin profiles fitted"),
        "{}",
        doc["description"]
    );
}

/// A two-speed population: 40% of admins act within hours (lognormal, median 8 h), the
/// rest after days (median 5 days), 97% in all.
fn two_speeds() -> Value {
    let mut truth = one_segment(4_000);
    truth["admins"]["truth"] = serde_json::json!({
        "approve": 0.97, "reject": 0.0,
        "delay": {"mixture": [
            {"share": 0.4, "delay": {"lognormal": {"median": "8h", "sigma": 0.8}}},
            {"share": 0.6, "delay": {"lognormal": {"median": "5d", "sigma": 0.6}}}
        ]}
    });
    truth
}

/// The time to `share` of the field in a run's report (release 1): its mean and its
/// 5% and 95% points over replications.
fn time_to(report: &Value, share: &str) -> (f64, f64, f64) {
    let t = &report["releases"][1]["time_to_share_hours"][share];
    (
        t["mean"].as_f64().unwrap(),
        t["p5"].as_f64().unwrap(),
        t["p95"].as_f64().unwrap(),
    )
}

#[test]
fn two_speeds_of_admins_are_fitted_as_a_mixture_and_forecast_where_one_family_cannot() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(tmp.path(), &two_speeds());
    let events = simulate(tmp.path(), &scenario, 5);
    let report = |scenario: &Path, name: &str| -> Value {
        let out = tmp.path().join(name);
        run(scenario, &out, 3, 200);
        serde_json::from_str(&fs::read_to_string(out.join("report.json")).unwrap()).unwrap()
    };
    let truth = report(&scenario, "truth-run");
    let fitted_with = |family: &str, name: &str| {
        let out = tmp.path().join(name);
        let fit = crate::fitting::fit(
            &scenario,
            &out,
            &[
                "--from-events",
                events.to_str().unwrap(),
                "--family",
                family,
                "--bootstrap",
                "39",
            ],
        );
        (
            fit,
            report(&out.join("fitted-scenario.json"), &format!("{name}-run")),
        )
    };
    // auto: no one-speed family fits (p < 0.05), so the mixture is tried, and chosen.
    let (fit, mixture) = fitted_with("auto", "auto");
    let segment = &fit["segments"][0];
    assert_eq!(segment["delay"]["family"], "mixture");
    for (name, truth) in [
        ("fast_share", 0.4),
        ("fast_median_hours", 8.0),
        ("fast_sigma", 0.8),
        ("slow_median_hours", 120.0),
        ("slow_sigma", 0.6),
    ] {
        assert!(
            crate::fitting::plausible(&segment["delay"][name], truth),
            "{name}: {} vs {truth}",
            segment["delay"][name]
        );
    }
    assert!(crate::fitting::plausible(&segment["approve"], 0.97));
    assert!(segment["goodness_of_fit"]["p_value"].as_f64().unwrap() >= 0.05);
    // The mixture's forecast band holds the truth's mean time to 50% and to 90%; one
    // lognormal's cannot, early for the half and late for the 90%.
    let (_, lognormal) = fitted_with("lognormal", "lognormal");
    for share in ["0.5", "0.9"] {
        let (t, _, _) = time_to(&truth, share);
        let (_, lo, hi) = time_to(&mixture, share);
        assert!(
            lo <= t && t <= hi,
            "mixture: {share} at {t} h outside {lo} to {hi}"
        );
        let (_, lo, hi) = time_to(&lognormal, share);
        assert!(
            !(lo <= t && t <= hi),
            "lognormal: {share} at {t} h inside {lo} to {hi}"
        );
    }
    let (t50, _, _) = time_to(&truth, "0.5");
    let (t90, _, _) = time_to(&truth, "0.9");
    assert!(time_to(&lognormal, "0.5").0 < t50 && time_to(&lognormal, "0.9").0 > t90);
}

/// Two past releases that each asked for a new scope, a month apart, with the same
/// admins (70% approve after a lognormal delay, median 48 h, sigma 1).
fn two_past_releases() -> Value {
    let mut truth = one_segment(2_000);
    truth["horizon"] = "60d".into();
    truth["releases"] = serde_json::json!([
        {"at": "0h", "changes": ["scopes"], "label": "add write scope"},
        {"at": "30d", "changes": ["scopes"], "label": "add admin scope"}
    ]);
    truth
}

#[test]
fn a_past_release_is_observed_only_until_the_next_one_is_deployed() {
    // After the second scope change is deployed, an admin who approves it brings the
    // first one's version too: those updates say nothing about the first release's
    // admins, so an event log's observation of a release ends at the next deploy.
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(tmp.path(), &two_past_releases());
    let events = simulate(tmp.path(), &scenario, 12);
    let out = tmp.path().join("fit");
    let args = ["--draws", "0", "--release", "0", "--release", "1"];
    let joint = fit_events(&scenario, &out, &events, &args);
    assert_eq!(joint["observed"]["until_hours"], 720.0);
    assert_eq!(joint["also"][0]["until_hours"], 720.0);
    let segment = &joint["segments"][0];
    assert!(
        crate::fitting::plausible(&segment["approve"], 0.7),
        "{}",
        segment["approve"]
    );
    assert!(crate::fitting::plausible(
        &segment["delay"]["median_hours"],
        48.0
    ));
    let first = fs::read_to_string(out.join("observed-release-0.csv")).unwrap();
    assert!(
        first
            .lines()
            .skip(1)
            .all(|l| l.split(',').nth(1).unwrap().parse::<f64>().unwrap() <= 720.0)
    );
}

#[test]
fn past_releases_fitted_jointly_share_one_profile_and_say_what_each_brought() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(tmp.path(), &two_past_releases());
    let events = simulate(tmp.path(), &scenario, 8);
    let fit = |releases: &[&str], name: &str| {
        let mut args = vec!["--until", "720", "--draws", "0"];
        for r in releases {
            args.extend(["--release", r]);
        }
        let out = tmp.path().join(name);
        (fit_events(&scenario, &out, &events, &args), out)
    };
    let (joint, out) = fit(&["0", "1"], "joint");
    let (first, _) = fit(&["0"], "first");
    let (second, _) = fit(&["1"], "second");
    // One profile from both: it holds the truth, and its interval is about 1/sqrt(2)
    // of either release's alone (twice the data).
    let approve = &joint["segments"][0]["approve"];
    assert!(crate::fitting::plausible(approve, 0.7), "{approve}");
    assert!(crate::fitting::plausible(
        &joint["segments"][0]["delay"]["median_hours"],
        48.0
    ));
    let width = crate::fitting::width;
    for single in [&first, &second] {
        let ratio = width(approve) / width(&single["segments"][0]["approve"]);
        assert!((0.6..0.85).contains(&ratio), "width ratio {ratio}");
    }
    // What each release brought: about half the information each, summing to 1.
    let contributions = joint["segments"][0]["contributions"].as_array().unwrap();
    assert_eq!(contributions.len(), 2);
    let share = |c: &Value| c["approve_information_share"].as_f64().unwrap();
    assert!((share(&contributions[0]) + share(&contributions[1]) - 1.0).abs() < 1e-9);
    assert!(
        contributions
            .iter()
            .all(|c| (0.35..0.65).contains(&share(c)))
    );
    assert_eq!(joint["also"][0]["release"], 1);
    for f in ["observed-release-0.csv", "observed-release-1.csv"] {
        assert!(out.join(f).is_file(), "{f}");
    }
    // Files and releases pair up one to one.
    let csv = out.join("observed-release-0.csv");
    cli()
        .arg("fit")
        .arg(&scenario)
        .args([
            "--observed",
            csv.to_str().unwrap(),
            "--observed",
            csv.to_str().unwrap(),
        ])
        .args([
            "--release",
            "0",
            "-o",
            tmp.path().join("bad").to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "2 observed files and 1 --release",
        ));
}

/// Office-hours admins (Monday to Friday 09:00 to 17:00 in their zones, half in Berlin
/// and half in New York) who approve 80% of the time after a lognormal delay of working
/// time (median 6 h, sigma 1); the past release deployed on a Tuesday morning.
fn office_admins() -> Value {
    let mut truth = one_segment(4_000);
    truth["start"] = "2026-03-03T10:00:00Z".into();
    truth["population"]["segments"] = serde_json::json!([{
        "name": "sites", "share": 1.0, "admin": "truth",
        "timezones": {"Europe/Berlin": 0.5, "America/New_York": 0.5}
    }]);
    truth["admins"]["truth"] = serde_json::json!({
        "approve": 0.8, "reject": 0.0,
        "delay": {"lognormal": {"median": "6h", "sigma": 1.0}},
        "working_hours": {"days": "mon-fri", "from": "09:00", "to": "17:00"}
    });
    truth
}

/// `scenario` (a file) deployed instead on Friday 2026-03-06 at 15:00 UTC (16:00 in
/// Berlin, 10:00 in New York), written beside it as `NAME-friday.json`.
fn on_friday(scenario: &Path) -> std::path::PathBuf {
    let mut doc: Value = serde_json::from_str(&fs::read_to_string(scenario).unwrap()).unwrap();
    doc["start"] = "2026-03-06T15:00:00Z".into();
    let path = scenario.with_file_name(format!(
        "{}-friday.json",
        scenario.file_stem().unwrap().to_str().unwrap()
    ));
    fs::write(&path, serde_json::to_string(&doc).unwrap()).unwrap();
    path
}

#[test]
fn office_hours_admins_are_fitted_with_their_calendar_and_forecast_a_friday_deploy() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(tmp.path(), &office_admins());
    let events = simulate(tmp.path(), &scenario, 5);
    let fitted_with = |hours: &str, name: &str| {
        let out = tmp.path().join(name);
        let fit = fit_events(&scenario, &out, &events, &["--working-hours", hours]);
        (fit, out.join("fitted-scenario.json"))
    };
    // auto: the data choose working hours over wall-clock time, and which hours.
    let (fit, calendar) = fitted_with("auto", "auto");
    let segment = &fit["segments"][0];
    let clock = &segment["clock"];
    assert_eq!(clock["counted_in"], "working_hours");
    let hours = &clock["working_hours"];
    assert_eq!(hours["days"], "mon-fri");
    let hour = |v: &Value| v.as_str().unwrap()[..2].parse::<i32>().unwrap();
    assert!((hour(&hours["from"]) - 9).abs() <= 1, "{hours}");
    assert!((hour(&hours["to"]) - 17).abs() <= 1, "{hours}");
    let choice = &clock["choice"];
    assert!(
        choice["working_hours_aic"].as_f64().unwrap() < choice["wall_clock_aic"].as_f64().unwrap()
    );
    assert!(crate::fitting::plausible(&segment["approve"], 0.8));
    if segment["delay"]["family"] == "lognormal" {
        assert!(crate::fitting::plausible(
            &segment["delay"]["median_hours"],
            6.0
        ));
    }
    let written: Value = serde_json::from_str(&fs::read_to_string(&calendar).unwrap()).unwrap();
    assert_eq!(
        &written["admins"]["fitted-sites"]["working_hours"], hours,
        "the fitted scenario keeps the hours"
    );
    // A plain delay fitted to the same data, for comparison.
    let (plain_fit, plain) = fitted_with("none", "plain");
    assert_eq!(
        plain_fit["segments"][0]["clock"]["counted_in"],
        "wall_clock"
    );
    assert!(plain_fit["segments"][0]["clock"]["choice"].is_null());
    // The next release goes out on a Friday afternoon: the weekend stalls it.
    let report = |scenario: &Path, name: &str| -> Value {
        let out = tmp.path().join(name);
        run(&on_friday(scenario), &out, 3, 200);
        serde_json::from_str(&fs::read_to_string(out.join("report.json")).unwrap()).unwrap()
    };
    let truth = report(&scenario, "truth-friday");
    let (t50, _, _) = time_to(&truth, "0.5");
    let (_, lo, hi) = time_to(&report(&calendar, "calendar-friday"), "0.5");
    assert!(
        lo <= t50 && t50 <= hi,
        "working hours: half the field by {t50} h, outside the band {lo} to {hi}"
    );
    // On wall-clock time the forecast is a day or more too short: the unsafe side.
    let (mean, _, hi) = time_to(&report(&plain, "plain-friday"), "0.5");
    assert!(
        hi < t50 && mean < t50 - 24.0,
        "wall clock: {mean} h (band to {hi} h) against the truth's {t50} h"
    );
}

#[test]
fn admins_without_office_hours_stay_on_wall_clock_time_and_bad_hours_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(tmp.path(), &one_segment(2_000));
    let events = simulate(tmp.path(), &scenario, 21);
    let fit = fit_events(
        &scenario,
        &tmp.path().join("fit"),
        &events,
        &["--draws", "0"],
    );
    let clock = &fit["segments"][0]["clock"];
    assert_eq!(clock["counted_in"], "wall_clock", "{clock}");
    assert!(
        clock["choice"]["wall_clock_aic"].as_f64().unwrap()
            < clock["choice"]["working_hours_aic"].as_f64().unwrap()
    );
    let fitted: Value = serde_json::from_str(
        &fs::read_to_string(tmp.path().join("fit/fitted-scenario.json")).unwrap(),
    )
    .unwrap();
    assert!(fitted["admins"]["fitted-sites"]["working_hours"].is_null());
    for (hours, says) in [
        ("mon-fri 9-17", "is not a time of day"),
        ("mon-fri 17:00-09:00", "must end after they start"),
        ("someday 09:00-17:00", "is not a set of days"),
        ("09:00-17:00", "expected DAYS HH:MM-HH:MM"),
    ] {
        let out = tmp.path().join("refused");
        cli()
            .arg("fit")
            .arg(&scenario)
            .arg("--from-events")
            .arg(&events)
            .args(["--working-hours", hours, "--out"])
            .arg(&out)
            .assert()
            .code(2)
            .stderr(
                predicates::str::contains("--working-hours").and(predicates::str::contains(says)),
            );
        assert!(!out.exists(), "{hours}: nothing is written");
    }
}
