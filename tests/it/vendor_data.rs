//! Real data in the form vendors have it: snapshots of every installation's version
//! (interval-censored, left-truncated for installations first seen later) and logs of
//! upgrade events, fitted at known truth (seeds other than the fit's).

use std::fmt::Write as _;
use std::fs;
use std::path::Path;

use predicates::prelude::*;
use serde_json::Value;

use crate::common::cli;
use crate::fitting::{fit, one_segment, plausible, simulate, write_scenario};

/// The truth of `one_segment`: 70% approve after a lognormal delay, median 48 h, sigma 1.
const APPROVE: f64 = 0.7;
const MEDIAN_HOURS: f64 = 48.0;
const SIGMA: f64 = 1.0;

/// The deploy of `one_segment`'s release 1, and its versions before and after.
const DEPLOY: &str = "2026-03-02T01:30:00Z";
const OLD: &str = "1.0.1";
const NEW: &str = "1.1.0";

fn delay(fit: &Value, name: &str) -> Value {
    fit["segments"][0]["delay"][name].clone()
}

fn assert_recovers_the_truth(fit: &Value, what: &str) {
    let segment = &fit["segments"][0];
    assert_eq!(segment["delay"]["family"], "lognormal", "{what}");
    assert!(
        plausible(&segment["approve"], APPROVE),
        "{what}: approve {}",
        segment["approve"]
    );
    assert!(
        plausible(&delay(fit, "median_hours"), MEDIAN_HOURS),
        "{what}: median {}",
        delay(fit, "median_hours")
    );
    assert!(
        plausible(&delay(fit, "sigma"), SIGMA),
        "{what}: sigma {}",
        delay(fit, "sigma")
    );
}

/// `hours` after the deploy as an RFC 3339 instant.
fn instant(hours: f64) -> String {
    let deploy = chrono::DateTime::parse_from_rfc3339(DEPLOY).unwrap();
    (deploy + chrono::TimeDelta::seconds((hours * 3600.0).round() as i64))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The exact per-instance rows `fit --from-events` writes as `observed.csv`.
fn exact_rows(scenario: &Path, events: &Path, dir: &Path) -> Vec<(String, f64, bool)> {
    let out = dir.join("exact");
    fit(
        scenario,
        &out,
        &[
            "--from-events",
            events.to_str().unwrap(),
            "--bootstrap",
            "0",
            "--draws",
            "0",
            "--family",
            "lognormal",
        ],
    );
    fs::read_to_string(out.join("observed.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[1].parse().unwrap(), f[2] == "true")
        })
        .collect()
}

#[test]
fn daily_snapshots_are_fitted_as_intervals_not_as_update_times() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(tmp.path(), &one_segment(4_000));
    let events = simulate(tmp.path(), &scenario, 21);
    let common = ["--bootstrap", "0", "--draws", "0", "--family", "lognormal"];
    // What a vendor polling the installations API once a day has.
    let snapshots = tmp.path().join("snapshots");
    let mut args = vec![
        "--from-events",
        events.to_str().unwrap(),
        "--snapshots-every",
        "1d",
    ];
    args.extend(common);
    let from_snapshots = fit(&scenario, &snapshots, &args);
    assert_eq!(from_snapshots["observed"]["form"], "snapshots");
    assert_recovers_the_truth(&from_snapshots, "daily snapshots");
    // observed.csv is the snapshot file; fitting it gives the same answer.
    let csv = snapshots.join("observed.csv");
    let text = fs::read_to_string(&csv).unwrap();
    assert!(
        text.starts_with("installation,observed_at,version,segment\n"),
        "{}",
        &text[..80]
    );
    assert!(text.contains(&format!(",{NEW},sites\n")) && text.contains(&format!(",{OLD},sites\n")));
    let mut args = vec!["--observed", csv.to_str().unwrap()];
    args.extend(common);
    let again = fit(&scenario, &tmp.path().join("again"), &args);
    assert_eq!(again["segments"], from_snapshots["segments"]);
    // Taking the first sighting on the new version as the update time, as a naive
    // per-instance CSV would, puts the median half a day late: its own interval
    // excludes the truth.
    let mut naive = String::from("instance,hours,updated\n");
    let mut first_new = std::collections::BTreeMap::new();
    let mut last = std::collections::BTreeMap::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let at = chrono::DateTime::parse_from_rfc3339(f[1]).unwrap();
        let hours = (at - chrono::DateTime::parse_from_rfc3339(DEPLOY).unwrap()).num_seconds()
            as f64
            / 3600.0;
        if f[2] == NEW {
            first_new.entry(f[0].to_string()).or_insert(hours);
        }
        last.insert(f[0].to_string(), hours);
    }
    for (id, hours) in &last {
        match first_new.get(id) {
            Some(t) => writeln!(naive, "{id},{t},true").unwrap(),
            None => writeln!(naive, "{id},{hours},false").unwrap(),
        }
    }
    let naive_file = tmp.path().join("naive.csv");
    fs::write(&naive_file, naive).unwrap();
    let mut args = vec!["--observed", naive_file.to_str().unwrap()];
    args.extend(common);
    let biased = fit(&scenario, &tmp.path().join("naive"), &args);
    let (median, _, _) = crate::fitting::estimate(&delay(&biased, "median_hours"));
    assert!(
        !plausible(&delay(&biased, "median_hours"), MEDIAN_HOURS) && median > MEDIAN_HOURS,
        "the naive median {median} should be late and exclude the truth"
    );
}

#[test]
fn installations_first_seen_later_are_left_truncated() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(tmp.path(), &one_segment(4_000));
    let events = simulate(tmp.path(), &scenario, 22);
    let rows = exact_rows(&scenario, &events, tmp.path());
    // Daily snapshots, but every third installation is first seen on day 3 (the vendor
    // began polling it then): those that updated before are first seen new (left out),
    // the rest are observed from day 3 on. A fit that ignored the late entry would see
    // too few early updates.
    let mut csv = String::from("installation,observed_at,version\n");
    let (mut late_new, mut late_old) = (0, 0);
    for (i, (id, hours, updated)) in rows.iter().enumerate() {
        let first = if i % 3 == 0 { 3 } else { 0 };
        let until = rows.iter().map(|r| r.1).fold(0.0, f64::max);
        let last_day = (until / 24.0).floor() as u32;
        let seen_new_day = updated.then(|| (hours / 24.0).ceil() as u32);
        let mut sighting = |day: u32, version: &str| {
            writeln!(csv, "{id},{},{version}", instant(f64::from(day) * 24.0)).unwrap();
        };
        match seen_new_day {
            Some(d) if d <= first => {
                sighting(first, NEW);
                late_new += 1;
            }
            Some(d) if d <= last_day => {
                sighting(first, OLD);
                if d - 1 > first {
                    sighting(d - 1, OLD);
                }
                sighting(d, NEW);
                late_old += u32::from(first > 0);
            }
            _ => {
                let censor = if *updated { until } else { *hours };
                sighting(first, OLD);
                let d = (censor / 24.0).floor() as u32;
                if d > first {
                    sighting(d, OLD);
                }
            }
        }
    }
    assert!(late_new > 100 && late_old > 100, "{late_new} {late_old}");
    let file = tmp.path().join("late.csv");
    fs::write(&file, csv).unwrap();
    let fitted = fit(
        &scenario,
        &tmp.path().join("late"),
        &[
            "--observed",
            file.to_str().unwrap(),
            "--bootstrap",
            "0",
            "--draws",
            "0",
            "--family",
            "lognormal",
        ],
    );
    assert_eq!(fitted["observed"]["left_out"]["installed_after"], late_new);
    assert_recovers_the_truth(&fitted, "late-entry snapshots");
}

#[test]
fn upgrade_event_logs_are_fitted_at_their_exact_times() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(tmp.path(), &one_segment(4_000));
    let events = simulate(tmp.path(), &scenario, 23);
    let rows = exact_rows(&scenario, &events, tmp.path());
    let until = rows.iter().map(|r| r.1).fold(0.0, f64::max);
    let mut csv = String::from("installation,at,event\n");
    for (id, hours, updated) in &rows {
        writeln!(csv, "{id},{},installed", instant(-240.0)).unwrap();
        if *updated {
            writeln!(csv, "{id},{},upgraded", instant(*hours)).unwrap();
        } else if *hours < until {
            writeln!(csv, "{id},{},uninstalled", instant(*hours)).unwrap();
        }
    }
    // Two installations that came after the deploy (with the new version) are left out;
    // the log runs to the end of observation.
    writeln!(csv, "late-a,{},installed", instant(30.0)).unwrap();
    writeln!(csv, "late-b,{},installed", instant(300.0)).unwrap();
    writeln!(csv, "late-b,{},upgraded", instant(until)).unwrap();
    let file = tmp.path().join("events.csv");
    fs::write(&file, csv).unwrap();
    let fitted = fit(
        &scenario,
        &tmp.path().join("fit"),
        &[
            "--observed",
            file.to_str().unwrap(),
            "--bootstrap",
            "0",
            "--draws",
            "0",
            "--family",
            "lognormal",
        ],
    );
    assert_eq!(fitted["observed"]["form"], "upgrade_events");
    assert_eq!(fitted["observed"]["left_out"]["installed_after"], 2);
    assert_eq!(fitted["observed"]["instances"], rows.len());
    assert_recovers_the_truth(&fitted, "upgrade events");
}

#[test]
fn bad_vendor_data_name_the_line_and_column() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = write_scenario(tmp.path(), &one_segment(100));
    for (text, says) in [
        (
            "installation,observed_at,version\na,yesterday,1.0.1\n",
            "line 2, column `observed_at`: `yesterday` is not an RFC 3339 instant",
        ),
        (
            "installation,observed_at,version\na,2026-03-03T00:00:00Z,one\n",
            "line 2, column `version`: `one` is not a version",
        ),
        (
            "installation,at,event\na,2026-03-03T00:00:00Z,approved\n",
            "line 2, column `event`: `approved` is not an event; allowed: installed, upgraded, uninstalled",
        ),
        (
            "installation,observed_at,colour\na,2026-03-03T00:00:00Z,red\n",
            "unknown column `colour`",
        ),
    ] {
        let file = tmp.path().join("bad.csv");
        fs::write(&file, text).unwrap();
        let out = tmp.path().join("out");
        cli()
            .arg("fit")
            .arg(&scenario)
            .args([
                "--observed",
                file.to_str().unwrap(),
                "-o",
                out.to_str().unwrap(),
            ])
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says));
        assert!(!out.exists());
    }
}
