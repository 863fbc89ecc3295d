//! Answers a planner acts on (#26): comparisons that treat censoring as data, releases
//! paired by what they are, deploy offsets that count, sweeps that show what matters.

use std::fs;
use std::path::Path;

use crate::common::*;
use assert_cmd::Command;
use rollout_sim::compare::{Better, Pairing, compare, pairings, restricted, sign_test};
use rollout_sim::montecarlo;
use serde_json::{Value, json};

/// Writes `doc` as `name.json` in `dir`.
pub(crate) fn write(dir: &Path, name: &str, doc: &Value) -> String {
    let path = dir.join(format!("{name}.json"));
    fs::write(&path, doc.to_string()).unwrap();
    path.to_str().unwrap().to_string()
}

pub(crate) fn compare_cli(args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("rollout-sim")
        .unwrap()
        .arg("compare")
        .args(args)
        .assert()
}

pub(crate) fn read_json(path: &Path) -> Value {
    serde_json::from_str(&fs::read_to_string(path).unwrap()).unwrap()
}

pub(crate) fn entry<'a>(report: &'a Value, figure: &str) -> &'a Value {
    report["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["figure"] == figure)
        .unwrap_or_else(|| panic!("no entry {figure}"))
}

/// A baseline whose admins approve half the time (90% never happens before the
/// horizon) against the same release made automatic (everyone within 33 h).
pub(crate) fn censored_against_finished(dir: &Path) -> (String, String) {
    let gated = set(
        set(scope_change("connect"), "name", json!("gated")),
        "admins",
        json!({"default": {"approve": 0.5, "reject": 0.0}}),
    );
    let automatic = set(gated.clone(), "name", json!("automatic"));
    let automatic = set(
        automatic,
        "releases",
        json!([{"at": "0h", "changes": ["other"]}]),
    );
    (
        write(dir, "gated", &gated),
        write(dir, "automatic", &automatic),
    )
}

#[test]
fn a_censored_baseline_against_a_finished_alternative_is_a_significant_difference() {
    let tmp = tempfile::tempdir().unwrap();
    let (gated, automatic) = censored_against_finished(tmp.path());
    let out = tmp.path().join("c");
    compare_cli(&[
        &gated,
        &automatic,
        "--pair",
        "0=0",
        "--out",
        out.to_str().unwrap(),
    ])
    .success();
    let report = read_json(&out.join("comparison.json"));
    let t90 = entry(&report, "time_to_share_hours[0.9]");
    // The baseline never got there; the alternative always did.
    assert_eq!(t90["baseline"]["n"], 0, "{t90}");
    assert_eq!(t90["other"]["censored"], 0, "{t90}");
    assert_eq!(t90["better"], "other", "{t90}");
    assert_eq!(t90["difference"]["significant"], true);
    assert_eq!(t90["sign_test"]["other_first"], 20);
    // The restricted mean of the baseline is the horizon (10 days after the deploy).
    assert_eq!(t90["baseline"]["restricted_mean"], 240.0);
    let left = entry(&report, "left_over_at_horizon");
    assert_eq!(left["better"], "other");
    assert!(left["baseline"]["mean"].as_f64().unwrap() > 50.0, "{left}");
    assert_eq!(left["other"]["mean"], 0.0);
    // The verdict says so, and does not claim that nothing changed.
    let page = fs::read_to_string(out.join("comparison.html")).unwrap();
    assert!(
        page.contains("automatic reaches 90% of release #0"),
        "{page}"
    );
    assert!(!page.contains("No compared figure differs"));
    // Both forest plots the guide names: hours and instances.
    for chart in ["differences.svg", "differences-instances.svg"] {
        assert!(out.join("charts").join(chart).is_file(), "{chart}");
    }
    // The table is a real table, every row saying which policy is better.
    assert!(page.contains("<table class=\"comparison\">"));
}

#[test]
fn releases_that_cannot_be_paired_by_label_or_change_set_are_refused_until_stated() {
    let tmp = tempfile::tempdir().unwrap();
    // A bundle (one release: scope and feature) against the two shipped apart, with
    // the labels derived from the changes: pairing by index would silently pair the
    // bundle with the feature alone.
    let bundle = set(
        base("connect"),
        "releases",
        json!([{"at": "0h", "changes": ["scopes", "other"]}]),
    );
    let isolate = set(
        set(base("connect"), "name", json!("isolate")),
        "releases",
        json!([{"at": "0h", "changes": ["other"]}, {"at": "2d", "changes": ["scopes"]}]),
    );
    let (b, i) = (
        write(tmp.path(), "bundle", &bundle),
        write(tmp.path(), "isolate", &isolate),
    );
    let out = tmp.path().join("c");
    let refused = compare_cli(&[&b, &i, "--out", out.to_str().unwrap()]).code(2);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).to_string();
    for expected in ["test:", "isolate:", "#0", "#1", "scopes + other", "--pair"] {
        assert!(stderr.contains(expected), "{expected:?} in {stderr}");
    }
    assert!(
        !out.exists(),
        "nothing is written when the pairing is refused"
    );
    // Stated, it runs and says how it paired.
    compare_cli(&[
        &b,
        &i,
        "--pair",
        "0=1",
        "--out",
        out.to_str().unwrap(),
        "--quiet",
    ])
    .success();
    let report = read_json(&out.join("comparison.json"));
    assert_eq!(report["pairings"][0]["by"], "stated");
    assert_eq!(report["pairings"][0]["pairs"], json!([[0, 1]]));
    // A stated pair that names a missing release, or a release twice, is refused.
    for bad in ["0=2", "0=0,0=1", "x"] {
        compare_cli(&[
            &b,
            &i,
            "--pair",
            bad,
            "--out",
            tmp.path().join("x").to_str().unwrap(),
        ])
        .code(2);
    }
}

#[test]
fn pairing_follows_labels_then_change_sets_in_order() {
    let labelled = |name: &str, releases: Value| {
        scenario(&set(
            set(base("connect"), "name", json!(name)),
            "releases",
            releases,
        ))
    };
    // Labels in both: equal labels pair, whatever their positions.
    let a = labelled(
        "a",
        json!([{"at": "0h", "changes": ["other"], "label": "x"}, {"at": "1d", "changes": ["scopes"], "label": "y"}]),
    );
    let b = labelled(
        "b",
        json!([{"at": "0h", "changes": ["scopes"], "label": "y"}, {"at": "1d", "changes": ["other"], "label": "x"}]),
    );
    let p = Pairing::of(&a, &b, None).unwrap();
    assert_eq!((p.by, p.pairs), ("label", vec![(0, 1), (1, 0)]));
    // No labels: the k-th release of a change set with the k-th of the same set.
    let c = labelled(
        "c",
        json!([{"at": "0h", "changes": ["other"]}, {"at": "1d", "changes": ["scopes"]}, {"at": "2d", "changes": ["other"]}]),
    );
    let d = labelled(
        "d",
        json!([{"at": "0h", "changes": ["scopes"]}, {"at": "3h", "changes": ["other"]}, {"at": "5d", "changes": ["other"]}]),
    );
    let p = Pairing::of(&c, &d, None).unwrap();
    assert_eq!(
        (p.by, p.pairs),
        ("change set", vec![(0, 1), (1, 0), (2, 2)])
    );
    // A label repeated within one list is ambiguous.
    let e = labelled(
        "e",
        json!([{"at": "0h", "changes": ["other"], "label": "x"}, {"at": "1d", "changes": ["other"], "label": "x"}]),
    );
    assert!(
        Pairing::of(&a, &e, None)
            .unwrap_err()
            .to_string()
            .contains("names two releases")
    );
}

#[test]
fn a_later_deploy_counts_against_the_alternative() {
    // The same release deployed two days later: on each release's own clock nothing
    // changes, on the scenario clock it is two days later.
    let a = scenario(&set(connect_no_windows(300, 20), "name", json!("now")));
    let later = set(connect_no_windows(300, 20), "name", json!("later"));
    let later = set(later, "releases[0].at", json!("2d"));
    let b = scenario(&later);
    let runs = vec![
        (a.clone(), montecarlo::run(&a, &())),
        (b.clone(), montecarlo::run(&b, &())),
    ];
    let comparison = compare(&runs, pairings(&[a, b], &[]).unwrap());
    let t50 = comparison
        .entries
        .iter()
        .find(|e| e.figure == "time_to_share_hours[0.5]")
        .unwrap();
    assert_eq!(t50.deploy_offset_hours, 48.0);
    assert_eq!(t50.baseline_deployed_at, "2026-03-02T14:00:00Z");
    assert_eq!(t50.better, Better::Baseline);
    let d = t50.difference.mean.unwrap();
    // Publication waits for the next descriptor poll (every 5 h) in both, so the
    // difference is the offset give or take a poll period.
    assert!((d - 48.0).abs() <= 5.0, "{d}");
}

#[test]
fn restricted_values_and_the_sign_test_treat_a_censored_replication_as_later() {
    let base = [None, Some(10.0), Some(3.0), None];
    let other = [Some(5.0), Some(10.0), None, None];
    let (b, o) = (
        restricted(&base, 0.0, 100.0),
        restricted(&other, 2.0, 100.0),
    );
    assert_eq!(b, vec![Some(100.0), Some(10.0), Some(3.0), Some(100.0)]);
    assert_eq!(o, vec![Some(7.0), Some(12.0), Some(100.0), Some(100.0)]);
    let s = sign_test(&b, &o);
    assert_eq!((s.other_first, s.baseline_first, s.ties), (1, 2, 1));
    // Two-sided exact binomial: P(X <= 1) * 2 for X ~ Bin(3, 0.5) = 2 * 4/8 = 1.
    assert_eq!(s.p_value, Some(1.0));
    let all_other = sign_test(&[Some(9.0); 10], &[Some(1.0); 10]);
    // 2 * 0.5^10
    assert!((all_other.p_value.unwrap() - 2.0 / 1024.0).abs() < 1e-12);
}

#[test]
fn a_sweep_shows_fixed_settings_once_and_the_window_and_left_over_in_its_table() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    let assert = Command::cargo_bin("rollout-sim")
        .unwrap()
        .args([
            "sweep",
            "scenarios/connect-scope-change.json",
            "--set",
            "admins.casual.approve=0.5,0.9",
            "--set",
            "timing.upm_poll=12h",
            "--replications",
            "6",
            "--instances",
            "400",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert_eq!(stdout.matches("timing.upm_poll=12h").count(), 1, "{stdout}");
    assert!(
        stdout.contains("fixed at every point: timing.upm_poll=12h"),
        "{stdout}"
    );
    assert!(stdout.contains("window: "), "{stdout}");
    assert!(stdout.contains("left over: "), "{stdout}");
    let sweep = read_json(&out.join("sweep.json"));
    assert_eq!(sweep["axes"], json!(["admins.casual.approve"]));
    assert_eq!(sweep["fixed"], json!([["timing.upm_poll", "12h"]]));
    assert_eq!(
        sweep["points"][1]["settings"],
        json!([["admins.casual.approve", 0.9]])
    );
    let csv = fs::read_to_string(out.join("sweep.csv")).unwrap();
    assert!(
        csv.lines()
            .next()
            .unwrap()
            .contains("r0.left_over_at_horizon.mean")
    );
    // The approve axis is a plain number: its label does not claim hours.
    let chart = fs::read_to_string(out.join("charts/left-over.svg")).unwrap();
    assert!(
        chart.lines().any(|l| l == "admins.casual.approve"),
        "{chart}"
    );
    assert!(!chart.contains("hours"), "{chart}");
}

#[test]
fn a_sweep_chart_does_not_draw_a_mean_from_a_few_finished_replications() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = set(
        scope_change("connect"),
        "admins",
        json!({"default": {"approve": 0.5, "reject": 0.0}}),
    );
    let file = write(tmp.path(), "gated", &doc);
    let out = tmp.path().join("s");
    Command::cargo_bin("rollout-sim")
        .unwrap()
        .args([
            "sweep",
            &file,
            "--set",
            "admins.default.approve=0.5,0.95,1.0",
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    let sweep = read_json(&out.join("sweep.json"));
    // At approve 0.5, time to 90% is censored in every replication: not drawn, and
    // the caption names the point.
    let t90 = &sweep["points"][0]["releases"][0]["time_to_share_hours"]["0.9"];
    assert_eq!(t90["n"], 0, "{t90}");
    let chart = fs::read_to_string(out.join("charts/time-to-90.svg")).unwrap_or_default();
    let page = fs::read_to_string(out.join("sweep.html")).unwrap();
    assert!(
        page.contains("Not drawn, because fewer than half of their replications")
            || chart.is_empty(),
        "{page}"
    );
}

fn run_cli(doc: &Value, dir: &Path) -> (String, Value) {
    let file = write(dir, "s", doc);
    let out = dir.join("out");
    let assert = Command::cargo_bin("rollout-sim")
        .unwrap()
        .args(["run", &file, "--out", out.to_str().unwrap(), "--force"])
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    (stdout, read_json(&out.join("report.json")))
}

#[test]
fn every_output_leads_with_the_answer_as_a_date() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = set(
        connect_no_windows(300, 20),
        "population.segments",
        json!([{"name": "eu", "share": 1.0, "timezones": {"Europe/Berlin": 1.0}, "admin": "default"}]),
    );
    let (stdout, report) = run_cli(&doc, tmp.path());
    let r = &report["releases"][0];
    let hours = r["recommended_compat_window_hours"].as_f64().unwrap();
    // The date is the deploy plus the recommended window, in UTC and in Berlin.
    let deployed =
        chrono::DateTime::parse_from_rfc3339(r["deployed_at"].as_str().unwrap()).unwrap();
    let until = deployed + chrono::Duration::milliseconds((hours * 3_600_000.0).round() as i64);
    let utc = until
        .with_timezone(&chrono::Utc)
        .format("%a %Y-%m-%d %H:%M UTC")
        .to_string();
    let berlin = until
        .with_timezone(&chrono_tz::Europe::Berlin)
        .format("%a %H:%M in Europe/Berlin")
        .to_string();
    let answer = format!("Keep serving 1.4.0 until {utc}, {berlin}: {hours:.1} h after the deploy");
    // report.json has the same instant, in UTC and in Berlin's offset.
    let calendar = &r["calendar"];
    assert_eq!(calendar["zone"], "Europe/Berlin");
    let w = &calendar["recommended_compat_window"];
    assert_eq!(
        w["utc"],
        until
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%dT%H:%M:00Z")
            .to_string()
    );
    assert!(w["local"].as_str().unwrap().ends_with("+01:00"), "{w}");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(w["local"].as_str().unwrap()).unwrap(),
        chrono::DateTime::parse_from_rfc3339(w["utc"].as_str().unwrap()).unwrap()
    );
    let first_lines: Vec<&str> = stdout.lines().filter(|l| !l.is_empty()).take(2).collect();
    assert!(first_lines[1].starts_with(&answer), "{stdout}\n{answer}");
    let md = fs::read_to_string(tmp.path().join("out/summary.md")).unwrap();
    let (a, v) = (
        md.find("### Answer").unwrap(),
        md.find("### Verdict").unwrap(),
    );
    assert!(a < v && md[a..v].contains(&answer), "{md}");
    let html = fs::read_to_string(tmp.path().join("out/report.html")).unwrap();
    let (a, v) = (
        html.find("class=\"answer\"").unwrap(),
        html.find("class=\"verdict\"").unwrap(),
    );
    assert!(a < v && html[a..v].contains(&answer));
}

#[test]
fn a_window_that_never_ends_is_answered_with_what_is_left_and_what_a_cut_off_breaks() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = set(
        scope_change("connect"),
        "admins",
        json!({"default": {"approve": 0.7, "reject": 0.0}}),
    );
    let (stdout, report) = run_cli(&doc, tmp.path());
    let r = &report["releases"][0];
    let share = r["left_over_share_at_horizon"]["mean"].as_f64().unwrap();
    let count = r["left_over_at_horizon"]["mean"].as_f64().unwrap();
    let expected = format!(
        "1.5.0 never reaches everyone before the horizon: {:.1}% ({} instances) remain on older versions at the horizon; cutting off at day 7",
        share * 100.0,
        count.round()
    );
    assert!(stdout.contains(&expected), "{stdout}\n{expected}");
    // A figure some replication never reached has no date: a mean of the others
    // would be too early.
    assert_eq!(r["calendar"]["coexistence"], Value::Null);
    assert_eq!(r["calendar"]["time_to_share"]["1"], Value::Null);
    assert!(r["calendar"]["time_to_share"]["0.5"]["utc"].is_string());
    // The left-over figure is the active instances still old at the horizon.
    // 30% of admins ignore: about 30% stay behind, a few approvers not yet acted.
    assert!(share > 0.25 && share < 0.45, "{share}");
}

#[test]
fn the_switch_off_question_takes_a_count_and_answers_with_its_own_window() {
    let tmp = tempfile::tempdir().unwrap();
    let strict = connect_no_windows(300, 20);
    let lenient = set(
        strict.clone(),
        "report.switch_off_when_at_most",
        json!("30 instances"),
    );
    let (_, strict_report) = run_cli(&strict, &tmp.path().join("a").tap_mkdir());
    let (stdout, lenient_report) = run_cli(&lenient, &tmp.path().join("b").tap_mkdir());
    assert!(
        stdout.contains("Switch off 1.4.0 on ")
            && stdout.contains("when at most 30 instances are left on it"),
        "{stdout}"
    );
    let window = |r: &Value| {
        r["releases"][0]["coexistence_hours"]["mean"]
            .as_f64()
            .unwrap()
    };
    assert!(window(&lenient_report) < window(&strict_report));
}

#[test]
fn levers_already_pulled_are_not_offered() {
    let tmp = tempfile::tempdir().unwrap();
    let ignoring = set(
        scope_change("connect"),
        "admins",
        json!({"default": {"approve": 0.5, "reject": 0.0}}),
    );
    let (stdout, _) = run_cli(&ignoring, &tmp.path().join("a").tap_mkdir());
    assert!(
        stdout.contains("Lever, reminders (admins.default.reminders"),
        "{stdout}"
    );
    assert!(stdout.contains("Lever, a cut-off"), "{stdout}");
    let reminded = set(
        ignoring,
        "admins",
        json!({"default": {"approve": 0.5, "reject": 0.0, "reminders": ["7d"], "reminder_response": 0.3}}),
    );
    let reminded = set(reminded, "policy.cutoff_at", json!("8d"));
    let (stdout, _) = run_cli(&reminded, &tmp.path().join("b").tap_mkdir());
    assert!(!stdout.contains("Lever, reminders"), "{stdout}");
    assert!(!stdout.contains("Lever, a cut-off"), "{stdout}");
}

/// Creating a folder inline.
trait TapMkdir {
    fn tap_mkdir(self) -> Self;
}

impl TapMkdir for std::path::PathBuf {
    fn tap_mkdir(self) -> Self {
        fs::create_dir_all(&self).unwrap();
        self
    }
}

/// The text lines of an SVG chart (plotters writes each label on its own line).
fn svg_text(path: &Path) -> Vec<String> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('<'))
        .map(str::to_string)
        .collect()
}

#[test]
fn charts_read_in_percent_whole_days_and_say_when_there_is_nothing_to_draw() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = set(
        set(scope_change("connect"), "horizon", json!("20d")),
        "admins",
        json!({"default": {"approve": 0.5, "reject": 0.0}}),
    );
    run_cli(&doc, tmp.path());
    let charts = tmp.path().join("out/charts");
    let adoption = svg_text(&charts.join("adoption.svg"));
    assert!(
        adoption.iter().any(|l| l == "100%") && adoption.iter().any(|l| l == "50%"),
        "{adoption:?}"
    );
    assert!(
        adoption.iter().any(|l| l == "report thresholds"),
        "a legend entry for the dashed lines"
    );
    // Day ticks are whole numbers, not "10.0", each with its date beside it.
    assert!(adoption.iter().any(|l| l == "10 · Mar 12"), "{adoption:?}");
    assert!(!adoption.iter().any(|l| l.contains(".0 ")), "{adoption:?}");
    assert!(
        adoption
            .iter()
            .any(|l| l == "days since the start (dates in UTC)")
    );
    // Every replication censored: the coexistence chart says so instead of an empty
    // axis around 1 h.
    let coexistence = svg_text(&charts.join("coexistence-0.svg"));
    assert!(
        coexistence
            .iter()
            .any(|l| l
                .starts_with("The coexistence never ended before the horizon in any of the 20")),
        "{coexistence:?}"
    );
    assert!(!coexistence.iter().any(|l| l == "0.95" || l == "1.05"));
}

#[test]
fn a_version_keeps_one_colour_on_every_chart_of_a_run() {
    use rollout_sim::charts::{Drawing, run_charts};
    use rollout_sim::report::RunReport;
    let doc = set(
        connect_no_windows(200, 10),
        "releases",
        json!([{"at": "0h", "changes": ["other"]}, {"at": "2d", "changes": ["other"]}]),
    );
    let (s, out) = run(&doc);
    let report = RunReport::build(&s, &out, None);
    // The verdict is grouped by release, not a wall of bullets.
    let titles: Vec<&str> = report.verdicts.iter().map(|g| g.title.as_str()).collect();
    assert_eq!(titles.len(), 2, "{titles:?}");
    assert!(titles[0].starts_with("Release 0 (") && titles[1].starts_with("Release 1 ("));
    let page = rollout_sim::export::html::run_page(&report, &[]);
    assert!(page.contains("<h3>Release 1 ("), "{page}");
    let charts = run_charts(&report);
    let layers: Vec<String> = charts
        .iter()
        .find_map(|c| match &c.drawing {
            Drawing::Stacked { layers, .. } => Some(layers.iter().map(|l| l.0.clone()).collect()),
            _ => None,
        })
        .unwrap();
    for chart in charts
        .iter()
        .filter(|c| c.name == "adoption" || c.name == "survival")
    {
        let Drawing::Lines { series, .. } = &chart.drawing else {
            panic!("{} draws lines", chart.name)
        };
        for (k, line) in series.iter().enumerate() {
            let version = &report.report.releases[k].version;
            let layer = layers.iter().position(|l| l == version);
            assert_eq!(
                line.colour, layer,
                "{}: release {k} ({version})",
                chart.name
            );
        }
    }
}
