//! What users of similar tools expect: a scenario from standard input, 'did you mean',
//! `--color` and `NO_COLOR`, init's commented starting scenario, comments in scenarios.

use crate::common::*;
use predicates::prelude::*;
use serde_json::json;
use std::fs;

#[test]
fn a_scenario_can_come_from_standard_input() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    cli()
        .args([
            "run",
            "-",
            "-o",
            out.to_str().unwrap(),
            "-j",
            "2",
            "-q",
            "--replications",
            "3",
        ])
        .write_stdin(fs::read("scenarios/connect-micro.json").unwrap())
        .assert()
        .success();
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["scenario"]["name"], "connect-micro");
    // Bad input from standard input is named as such and touches nothing.
    let bad = tmp.path().join("bad");
    cli()
        .args(["run", "-", "-o", bad.to_str().unwrap()])
        .write_stdin("{\"name\": 1")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("-: invalid JSON"));
    assert!(!bad.exists());
    // A stream without end is cut at the input cap, not read into memory whole.
    let endless = vec![b' '; (16 << 20) + 10];
    cli()
        .args(["validate", "-"])
        .write_stdin(endless)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("larger than 16 MiB"));
}

#[test]
fn near_misses_of_time_zones_and_profile_names_are_suggested() {
    let tmp = tempfile::tempdir().unwrap();
    let mut doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string("scenarios/policy-bundle.json").unwrap()).unwrap();
    doc["population"]["segments"][0]["timezones"] = serde_json::json!({"europe/berlin": 1.0});
    doc["population"]["segments"][1]["admin"] = serde_json::json!("carefull");
    let tz = tmp.path().join("tz.json");
    let mut tz_doc = doc.clone();
    tz_doc["population"]["segments"][1]["admin"] = serde_json::json!("careful");
    fs::write(&tz, tz_doc.to_string()).unwrap();
    cli()
        .args(["validate", tz.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown time zone \"europe/berlin\" (did you mean \"Europe/Berlin\"?)",
        ));
    let admin = tmp.path().join("admin.json");
    doc["population"]["segments"][0]["timezones"] = serde_json::json!({"Europe/Berlin": 1.0});
    fs::write(&admin, doc.to_string()).unwrap();
    cli()
        .args(["validate", admin.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "unknown admin profile \"carefull\" (did you mean \"careful\"?)",
        ));
    // Nothing close: no suggestion, only the list.
    doc["population"]["segments"][1]["admin"] = serde_json::json!("zzz");
    fs::write(&admin, doc.to_string()).unwrap();
    cli()
        .args(["validate", admin.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did you mean").not());
}

#[test]
fn color_follows_the_color_flag() {
    let coloured = |when: &str| {
        let out = cli()
            .args(["--color", when, "run", "--no-such-flag"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        String::from_utf8_lossy(&out.stderr).contains('\u{1b}')
    };
    assert!(coloured("always"));
    assert!(!coloured("never"));
    // auto: not a terminal here, so no colour.
    assert!(!coloured("auto"));
}

#[test]
fn init_writes_a_commented_starting_scenario_that_runs_and_never_replaces_a_file() {
    let tmp = tempfile::tempdir().unwrap();
    for platform in ["connect", "forge"] {
        for question in ["automatic", "approval", "paid"] {
            let file = tmp.path().join(format!("{platform}-{question}.json"));
            cli()
                .args(["init", file.to_str().unwrap(), "--platform", platform])
                .args(["--question", question])
                .assert()
                .success()
                .stdout(predicate::str::contains("rollout-sim run"));
            let text = fs::read_to_string(&file).unwrap();
            assert!(text.matches("\"$comment").count() >= 5, "{text}");
            cli()
                .args(["run", file.to_str().unwrap(), "-q", "--replications", "3"])
                .args(["--instances", "200", "-o"])
                .arg(tmp.path().join(format!("out-{platform}-{question}")))
                .assert()
                .success();
        }
    }
    // An existing file is the user's: refused, exit 2, left as it was.
    let mine = tmp.path().join("mine.json");
    fs::write(&mine, "my notes").unwrap();
    cli()
        .args(["init", mine.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("never replaces an existing file"));
    assert_eq!(fs::read_to_string(&mine).unwrap(), "my notes");
    // `-` prints it instead.
    cli()
        .args(["init", "-", "--question", "paid"])
        .assert()
        .success()
        .stdout(predicate::str::contains("\"uninstall_unapproved_after\""));
}

#[test]
fn comments_are_ignored_at_any_depth_and_do_not_change_the_scenario() {
    let plain = base("connect");
    let mut commented = plain.clone();
    commented["$comment"] = json!("top");
    commented["population"]["$comment_size"] = json!("two hundred");
    commented["releases"][0]["$comment"] = json!("the release");
    let (a, b) = (scenario(&plain), scenario(&commented));
    assert_eq!(format!("{:?}", a.releases), format!("{:?}", b.releases));
    assert_eq!(
        rollout_sim::input::canonical_json(plain),
        rollout_sim::input::canonical_json(commented)
    );
}
