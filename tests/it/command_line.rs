//! The command line: bad input exits 2 with one clear message and writes nothing;
//! good input prints the table and writes the reports.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::*;
use predicates::prelude::*;
use serde_json::json;

pub(crate) fn with_segments() -> serde_json::Value {
    set(
        base("connect"),
        "population.segments",
        json!([
            {"name": "a", "share": 0.5},
            {"name": "b", "share": 0.3, "timezones": {"Europe/Berlin": 1.0}},
            {"name": "c", "share": 0.2, "admin": "casual"}
        ]),
    )
}

/// Writes `text` as a scenario, runs it, and checks exit 2, the message, and no output.
pub(crate) fn rejects(text: &str, expected: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bad.json");
    fs::write(&file, text).unwrap();
    let out = tmp.path().join("out");
    for args in [
        vec!["validate", file.to_str().unwrap()],
        vec![
            "run",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    ] {
        let mut pred = predicate::str::contains("bad.json").boxed();
        for e in expected {
            pred = pred.and(predicate::str::contains(*e)).boxed();
        }
        cli().args(&args).assert().code(2).stdout("").stderr(pred);
    }
    assert!(!out.exists(), "no output may be created");
    assert_eq!(
        fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "nothing else written beside the scenario"
    );
}

pub(crate) fn rejects_doc(doc: serde_json::Value, expected: &[&str]) {
    rejects(&serde_json::to_string_pretty(&doc).unwrap(), expected);
}

#[test]
fn unreadable_file() {
    let tmp = tempfile::tempdir().unwrap();
    let missing: PathBuf = tmp.path().join("nope.json");
    cli()
        .args(["run", missing.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("nope.json").and(predicate::str::contains("cannot read")));
}

#[test]
fn invalid_json_names_line_and_column() {
    rejects(
        "{\n  \"name\": \"x\",\n  \"platform\": connect\n}",
        &["line 3", "column"],
    );
}

#[test]
fn unknown_key() {
    rejects_doc(
        set(base("connect"), "population.instancez", json!(5)),
        &["population", "unknown field `instancez`"],
    );
    rejects_doc(
        set(base("connect"), "colour", json!("red")),
        &["unknown field `colour`"],
    );
}

#[test]
fn wrong_type() {
    rejects_doc(
        set(base("connect"), "population.instances", json!("many")),
        &["population.instances", "invalid type"],
    );
}

#[test]
fn shares_must_sum_to_one() {
    let mut doc = with_segments();
    doc["population"]["segments"][2]["share"] = json!(0.1);
    rejects_doc(
        doc,
        &[
            "population.segments[2].share",
            "sum to 0.9",
            "must sum to 1",
        ],
    );
}

#[test]
fn probabilities_in_range_and_approve_plus_reject_at_most_one() {
    let doc = set(
        base("connect"),
        "admins",
        json!({"x": {"approve": 1.2, "reject": 0.0}}),
    );
    rejects_doc(doc, &["admins.x.approve", "1.2", "0 to 1"]);
    let doc = set(
        base("connect"),
        "admins",
        json!({"x": {"approve": 0.7, "reject": 0.5}}),
    );
    rejects_doc(doc, &["admins.x.reject", "exceeds 1"]);
    rejects_doc(
        set(base("connect"), "timing.slip_probability", json!(-0.1)),
        &["timing.slip_probability"],
    );
}

#[test]
fn unknown_time_zone() {
    let mut doc = with_segments();
    doc["population"]["segments"][1]["timezones"] = json!({"Europe/Atlantis": 1.0});
    rejects_doc(
        doc,
        &[
            "population.segments[1].timezones.Europe/Atlantis",
            "unknown time zone",
        ],
    );
}

#[test]
fn malformed_duration_and_version() {
    rejects_doc(
        set(base("connect"), "horizon", json!("10 days")),
        &["horizon", "malformed duration", "\"30m\""],
    );
    rejects_doc(
        set(base("connect"), "timing.upm_poll", json!("5x")),
        &["timing.upm_poll", "malformed duration"],
    );
    rejects_doc(
        set(base("connect"), "initial_version", json!("1.4")),
        &["initial_version", "MAJOR.MINOR.MICRO"],
    );
}

#[test]
fn release_after_the_horizon() {
    rejects_doc(
        set(
            base("connect"),
            "releases",
            json!([{"at": "11d", "changes": ["other"]}]),
        ),
        &["releases[0].at", "after the horizon"],
    );
}

#[test]
fn zero_instances_or_replications() {
    rejects_doc(
        set(base("connect"), "population.instances", json!(0)),
        &["population.instances", "at least 1"],
    );
    rejects_doc(
        set(base("connect"), "replications", json!(0)),
        &["replications", "between 1"],
    );
}

#[test]
fn other_checks_name_their_field() {
    rejects_doc(
        set(base("connect"), "platform", json!("heroku")),
        &["platform", "allowed: connect, forge"],
    );
    rejects_doc(
        set(
            base("forge"),
            "releases",
            json!([{"at": "1h", "changes": ["api_version"]}]),
        ),
        &["releases[0].changes", "only on Connect"],
    );
    let mut doc = with_segments();
    doc["population"]["segments"][0]["admin"] = json!("nobody");
    rejects_doc(
        doc,
        &["population.segments[0].admin", "unknown admin profile"],
    );
}

#[test]
fn usage_errors_exit_2() {
    cli().args(["run"]).assert().code(2);
    cli()
        .args(["run", "x.json", "--threads", "0"])
        .assert()
        .code(2);
    cli().args(["frobnicate"]).assert().code(2);
}

#[test]
fn run_prints_the_table_and_writes_reports() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("r");
    cli()
        .args([
            "run",
            "scenarios/connect-scope-change.json",
            "--replications",
            "20",
            "--instances",
            "2000",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("1.4.2 -> 1.4.3")
                .and(predicate::str::contains("keep serving 1.4.2 for"))
                .and(predicate::str::contains("censored")),
        );
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["scenario"]["replications"], 20);
    assert_eq!(report["scenario"]["instances"], 2000);
    let rel = &report["releases"][1];
    for key in [
        "index",
        "label",
        "from_version",
        "version",
        "needs_approval",
        "deployed_at",
        "published_after_hours",
        "time_to_share_hours",
        "coexistence_hours",
        "instance_latency_hours",
        "left_behind",
        "recommended_compat_window_hours",
    ] {
        assert!(rel.get(key).is_some(), "missing {key}");
    }
    let keys: Vec<&String> = rel["time_to_share_hours"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(keys, ["0.5", "0.9", "0.99", "0.999", "1"]);
    for key in [
        "n", "censored", "mean", "std", "ci95", "min", "p5", "p50", "p95", "max",
    ] {
        assert!(
            rel["coexistence_hours"].get(key).is_some(),
            "STAT lacks {key}"
        );
    }
    let ts = fs::read_to_string(out.join("timeseries.csv")).unwrap();
    assert!(ts.starts_with(
        "hours,version,mean_share,p5_share,p95_share,mean_instances,mean_installed,mean_weighted_share\n0,1.4.2,1,1,1,2000,2000,1\n"
    ));
    let lat = fs::read_to_string(out.join("latency.csv")).unwrap();
    assert!(lat.lines().next().unwrap().contains("beyond_horizon"));
}

#[test]
fn json_format_prints_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("j");
    let assert = cli()
        .args([
            "run",
            "scenarios/forge-minor.json",
            "--replications",
            "3",
            "--format",
            "json",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    let printed = String::from_utf8(assert.get_output().stdout.clone()).unwrap();
    assert_eq!(
        printed,
        fs::read_to_string(out.join("report.json")).unwrap()
    );
}

#[test]
fn every_shipped_scenario_validates_and_has_a_description() {
    for path in shipped_scenarios() {
        cli()
            .args(["validate", path.to_str().unwrap()])
            .assert()
            .success();
        let doc: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        assert!(
            doc["description"].as_str().is_some_and(|d| d.len() > 20),
            "{} needs a description",
            path.display()
        );
    }
    assert!(Path::new("scenarios/connect-micro.json").exists());
}

#[test]
fn stats_reports_engine_and_phase_figures() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("s");
    cli()
        .args([
            "run",
            "scenarios/connect-micro.json",
            "--replications",
            "4",
            "--quiet",
            "--stats",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stdout("")
        .stderr(
            predicate::str::contains("events processed")
                .and(predicate::str::contains("events per second"))
                .and(predicate::str::contains("peak pending events"))
                .and(predicate::str::contains("setup").and(predicate::str::contains("aggregation")))
                .and(predicate::str::contains("inside replications"))
                .and(predicate::str::contains("tally merge"))
                .and(predicate::str::contains("figures"))
                .and(predicate::str::contains("peak memory")),
        );
}

#[test]
fn too_many_instances_is_refused_up_front_with_the_estimate() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("m");
    cli()
        .args([
            "run",
            "benches/scenarios/bench-1m.json",
            "--instances",
            "100000000000",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("need about")
                .and(predicate::str::contains("GiB"))
                .and(predicate::str::contains(
                    "bench-1m.json: population.instances",
                ))
                .and(predicate::str::contains("lower the instances")),
        );
    assert!(!out.exists());
}

#[test]
fn set_on_a_built_in_admin_profile_keeps_its_other_values() {
    let tmp = tempfile::tempdir().unwrap();
    cli()
        .args([
            "run",
            "scenarios/connect-scope-change.json",
            "--set",
            "admins.careful.approve=0.5",
            "--replications",
            "3",
            "--instances",
            "300",
            "--quiet",
            "--out",
            tmp.path().join("o").to_str().unwrap(),
        ])
        .assert()
        .success();
    let doc = set(base("connect"), "admins.careful", json!({"approve": 0.5}));
    let careful = rollout_sim::scenario::builtin_admins()
        .into_iter()
        .find(|p| p.name == "careful")
        .unwrap();
    let parsed = rollout_sim::scenario::parse(
        &set(
            doc.clone(),
            "population.segments",
            json!([{"name": "a", "share": 1.0, "admin": "careful"}]),
        )
        .to_string(),
        Path::new("t.json"),
        &Default::default(),
    )
    .unwrap();
    let got = &parsed.population.segments[0].admin;
    assert_eq!(got.approve, 0.5);
    assert_eq!((got.reject, &got.delay), (careful.reject, &careful.delay));
    // A new profile must still give both probabilities.
    rejects_doc(
        set(base("connect"), "admins.newcomer", json!({"approve": 0.5})),
        &["admins.newcomer.reject", "is required for the new profile"],
    );
}

#[test]
fn precision_on_a_figure_censored_everywhere_stops_early_and_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("p");
    cli()
        .args([
            "run",
            "scenarios/connect-scope-change.json",
            "--instances",
            "300",
            "--replications",
            "20",
            "--precision",
            "1h",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stdout(
            predicate::str::contains("stopped early")
                .and(predicate::str::contains("censored in all 20 replications")),
        );
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        report["precision"]["replications"], 20,
        "no batch was added"
    );
    assert!(report["precision"]["stopped_because"].is_string());
}

#[test]
fn trace_names_the_held_update_and_the_missing_permission() {
    let held = (0..20)
        .map(|i| {
            let o = cli()
                .args([
                    "trace",
                    "scenarios/connect-scope-change.json",
                    "--instance",
                    &i.to_string(),
                ])
                .output()
                .unwrap();
            String::from_utf8(o.stdout).unwrap()
        })
        .find(|t| t.contains("held"))
        .expect("some of 20 instances never approve the scope");
    assert!(held.contains("1.4.3 -> 1.5.0"), "{held}");
    assert!(
        held.contains("needs the new scope of release 1 that this site never granted"),
        "{held}"
    );
}

#[test]
fn validate_names_the_preset_and_counts_in_words() {
    cli()
        .args(["validate", "scenarios/connect-field-slip.json"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "on connect, 3000 instances, 1 release, 200 replications",
        ));
    cli()
        .args(["validate", "scenarios/connect-2018-replay.json"])
        .assert()
        .success()
        .stdout(predicate::str::contains("on connect-2018"));
}

#[test]
fn table_columns_line_up_at_ten_thousand_replications() {
    let tmp = tempfile::tempdir().unwrap();
    let o = cli()
        .args([
            "run",
            "scenarios/forge-minor.json",
            "--replications",
            "10000",
            "--instances",
            "3",
            "--out",
            tmp.path().join("o").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let text = String::from_utf8(o.stdout).unwrap();
    // The header is the line after the answer that starts with "#".
    let at = text
        .lines()
        .position(|l| l.starts_with('#'))
        .expect("a table");
    let lines: Vec<&str> = text.lines().skip(at).take(2).collect();
    let header = lines[0];
    let row = lines[1];
    assert!(row.contains("0/10000"), "{text}");
    // Every column ends where its header ends.
    let end = |line: &str, word: &str| line.find(word).map(|i| i + word.len());
    let censored_end = end(header, "censored").unwrap();
    assert_eq!(end(row, "0/10000"), Some(censored_end), "{header}\n{row}");
}

#[test]
fn schema_is_generated_from_the_types_and_shipped_in_sync() {
    let out = cli().arg("schema").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        printed,
        fs::read_to_string("docs/scenario.schema.json").unwrap(),
        "docs/scenario.schema.json is stale: run `rollout-sim schema > docs/scenario.schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_str(&printed).unwrap();
    let keys = schema["properties"].as_object().unwrap();
    assert_eq!(
        schema["additionalProperties"], false,
        "unknown keys are refused"
    );
    for path in shipped_scenarios() {
        let doc: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&path).unwrap()).unwrap();
        // `$schema` leads from the file to the schema, wherever the file lives.
        let named = path
            .parent()
            .unwrap()
            .join(doc["$schema"].as_str().unwrap());
        assert_eq!(
            fs::canonicalize(&named).ok(),
            fs::canonicalize("docs/scenario.schema.json").ok(),
            "{}",
            path.display()
        );
        for key in doc.as_object().unwrap().keys() {
            assert!(
                keys.contains_key(key),
                "{}: {key} not in the schema",
                path.display()
            );
        }
    }
}

#[test]
fn completions_and_man_page_are_generated() {
    for (shell, marker) in [
        ("bash", "complete -F _rollout__sim"),
        ("zsh", "#compdef rollout-sim"),
        ("fish", "complete -c rollout-sim"),
    ] {
        cli()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains(marker).and(predicate::str::contains("validate")));
    }
    cli()
        .arg("man")
        .assert()
        .success()
        .stdout(predicate::str::starts_with(".ie").or(predicate::str::contains(".TH rollout-sim")));
}
