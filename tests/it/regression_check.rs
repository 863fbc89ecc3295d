//! `check`: stored baselines, paired statistical tests with a family-wise error rate,
//! expectations, and reports a pipeline reads (Markdown, `JUnit`), with exit codes 0/1/2.

use std::fs;
use std::path::Path;

use predicates::prelude::*;
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::json;

use crate::common::*;

/// A small copy of a shipped scenario: fewer instances and replications.
const SMALL: [&str; 4] = ["--replications", "60", "--instances", "500"];

fn update(dir: &Path, scenario: &str) {
    cli()
        .args([
            "check",
            scenario,
            "--baseline",
            dir.to_str().unwrap(),
            "--update",
            "-q",
        ])
        .args(SMALL)
        .assert()
        .success();
}

#[test]
fn the_same_seed_is_identical_another_seed_equivalent_and_exact_mode_names_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    update(&dir, "scenarios/connect-micro.json");
    let base = [
        "check",
        "scenarios/connect-micro.json",
        "--baseline",
        dir.to_str().unwrap(),
    ];
    cli()
        .args(base)
        .args(SMALL)
        .assert()
        .code(0)
        .stdout(predicate::str::contains("connect-micro  identical"));
    cli()
        .args(base)
        .args(SMALL)
        .args(["--seed", "77"])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("equivalent"));
    cli()
        .args(base)
        .args(SMALL)
        .args(["--seed", "77", "--exact"])
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("fingerprint differs: report.json").and(
                predicate::str::contains("fingerprint differs: figure coexistence@0"),
            ),
        );
}

#[test]
fn false_alarms_over_forty_reseeded_runs_stay_within_alpha() {
    // Holm keeps the family-wise error of each check at alpha = 0.001, so over 40
    // reseeded checks the false alarms are Binomial(40, <= 0.001): P(>= 2) < 0.001.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    let scenarios = [
        "scenarios/connect-micro.json",
        "scenarios/connect-scope-change.json",
    ];
    for s in scenarios {
        update(&dir, s);
    }
    let mut alarms = 0;
    for seed in 1001..1021 {
        for s in scenarios {
            let o = cli()
                .args([
                    "check",
                    s,
                    "--baseline",
                    dir.to_str().unwrap(),
                    "-q",
                    "--seed",
                    &seed.to_string(),
                ])
                .args(SMALL)
                .output()
                .unwrap();
            assert_ne!(
                o.status.code(),
                Some(2),
                "{}",
                String::from_utf8_lossy(&o.stderr)
            );
            alarms += usize::from(o.status.code() == Some(1));
        }
    }
    assert!(alarms <= 1, "{alarms} false alarms in 40 checks");
}

#[test]
fn a_two_percent_slower_poll_is_drifted_and_the_markdown_names_the_figure() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    // The scenario's own replications and instances.
    cli()
        .args([
            "check",
            "scenarios/connect-micro.json",
            "--baseline",
            dir.to_str().unwrap(),
            "--update",
            "-q",
        ])
        .assert()
        .success();
    let md = tmp.path().join("summary.md");
    let junit = tmp.path().join("junit.xml");
    cli()
        .args([
            "check",
            "scenarios/connect-micro.json",
            "--baseline",
            dir.to_str().unwrap(),
        ])
        .args([
            "--set",
            "timing.upm_poll=24.5h",
            "--markdown",
            md.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ])
        .assert()
        .code(1)
        .stdout(predicate::str::contains("connect-micro  drifted"));
    let text = fs::read_to_string(&md).unwrap();
    assert!(
        text.starts_with("## ❌ rollout-sim check\n\n1 of 1 scenario(s) drifted"),
        "{text}"
    );
    assert!(
        text.contains("| `connect-micro` | coexistence@0 (mean): baseline"),
        "{text}"
    );
    // Values carry their units: hours for the coexistence window.
    let moved = text
        .lines()
        .find(|l| l.contains("coexistence@0 (mean): baseline"))
        .unwrap();
    assert!(moved.matches(" h").count() >= 3, "{moved}");
    assert!(text.contains("<details>"));
    // In the folded table, only the figures that drifted are marked; the others held
    // (a drifted scenario's every row is not marked).
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("| `connect-micro` | ") && l.matches('|').count() == 9)
        .collect();
    let marked = rows.iter().filter(|l| l.contains("**drifted**")).count();
    let held = rows.iter().filter(|l| l.contains("| held |")).count();
    assert!(marked >= 1 && held >= 1, "{rows:#?}");
    assert_eq!(marked + held, rows.len(), "{rows:#?}");
    for row in rows
        .iter()
        .filter(|l| l.contains("| share:") || l.contains("| coexistence@"))
    {
        if row.contains("(mean)") || row.contains("| mean |") {
            assert!(row.contains(" h |"), "a time figure is in hours: {row}");
        }
    }
    let cases = junit_cases(&junit);
    assert_eq!(cases, vec![("connect-micro".to_string(), true)]);
}

/// Every test case of a `JUnit` file, with whether it failed, read with an XML parser.
fn junit_cases(path: &Path) -> Vec<(String, bool)> {
    let xml = fs::read_to_string(path).unwrap();
    let mut reader = Reader::from_str(&xml);
    let mut cases: Vec<(String, bool)> = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) if e.name().0 == "testcase" => {
                let name = e
                    .attributes()
                    .filter_map(Result::ok)
                    .find(|a| a.key.0 == "name")
                    .map(|a| a.value.to_string())
                    .unwrap();
                cases.push((name, false));
            }
            Event::Start(e) if e.name().0 == "failure" => {
                cases.last_mut().unwrap().1 = true;
            }
            Event::Eof => break,
            _ => {}
        }
    }
    cases
}

#[test]
fn expectations_hold_fail_or_name_an_unknown_figure() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |expect: serde_json::Value| {
        let doc = set(
            set(base("connect"), "replications", json!(30)),
            "expect",
            expect,
        );
        let file = tmp.path().join("s.json");
        fs::write(&file, doc.to_string()).unwrap();
        file
    };
    let holds = write(
        json!([{"figure": "coexistence@0", "stat": "max", "max": "33h"}, {"figure": "recommended_compat_window@0", "max": "48h"}]),
    );
    cli()
        .args(["check", holds.to_str().unwrap()])
        .assert()
        .code(0);
    let fails = write(json!([{"figure": "coexistence@0", "max": "10h"}]));
    cli()
        .args(["check", fails.to_str().unwrap()])
        .assert()
        .code(1)
        .stdout(predicate::str::contains(
            "expectation mean coexistence@0 <= 10 failed",
        ));
    let unknown = write(
        json!([{"figure": "coexistence@0", "max": "33h"}, {"figure": "share:0.9", "max": "1d"}, {"figure": "speed@0", "max": 1}]),
    );
    cli()
        .args(["check", unknown.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("s.json: expect[2].figure")
                .and(predicate::str::contains("speed@0")),
        );
}

#[test]
fn missing_truncated_newer_or_foreign_baselines_are_errors_naming_the_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    let scenario = "scenarios/forge-minor.json";
    let check = |extra: &[&str]| {
        cli()
            .args(["check", scenario, "--baseline", dir.to_str().unwrap()])
            .args(SMALL)
            .args(extra)
            .assert()
    };
    check(&[])
        .code(2)
        .stderr(predicate::str::contains("forge-minor.json: no baseline"));
    update(&dir, scenario);
    let file = dir.join("forge-minor.json");
    let full = fs::read_to_string(&file).unwrap();
    fs::write(&file, &full[..full.len() / 2]).unwrap();
    check(&[]).code(2).stderr(predicate::str::contains(
        "forge-minor.json: corrupt or truncated baseline",
    ));
    fs::write(
        &file,
        full.replacen("\"schema_version\": 1", "\"schema_version\": 99", 1),
    )
    .unwrap();
    check(&[])
        .code(2)
        .stderr(predicate::str::contains("baseline schema 99 is newer"));
    fs::write(
        &file,
        full.replacen(
            "\"scenario\": \"forge-minor\"",
            "\"scenario\": \"connect-micro\"",
            1,
        ),
    )
    .unwrap();
    check(&[]).code(2).stderr(predicate::str::contains(
        "a baseline of scenario \"connect-micro\"",
    ));
    // --update never replaces a file rollout-sim did not write: not notes, not a JSON
    // that merely has a baseline's keys, not a baseline of ours edited by hand.
    let lookalike = r#"{"schema_version": 1, "figures": {}, "mine": "years of work"}"#;
    let edited = full.replacen(
        "\"scenario\"",
        "\"note\": \"checked by Ann\",\n  \"scenario\"",
        1,
    );
    for text in ["my notes", lookalike, edited.as_str()] {
        fs::write(&file, text).unwrap();
        check(&["--update"])
            .code(2)
            .stderr(predicate::str::contains("did not write it"));
        assert_eq!(fs::read_to_string(&file).unwrap(), text);
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1, "no staging debris");
    }
    // --force replaces it; an unchanged baseline of ours is replaced without it.
    check(&["--update", "--force"]).success();
    assert_eq!(fs::read_to_string(&file).unwrap(), full);
    check(&["--update"]).success();
    // A baseline with a duplicate key is refused, naming the key.
    fs::write(
        &file,
        full.replacen("{\n", "{\n  \"scenario\": \"forge-minor\",\n", 1),
    )
    .unwrap();
    check(&[])
        .code(2)
        .stderr(predicate::str::contains("duplicate").and(predicate::str::contains("scenario")));
}

#[test]
fn check_summaries_replace_only_files_that_carry_rollout_sims_unchanged_seal() {
    let tmp = tempfile::tempdir().unwrap();
    let scenario = "scenarios/forge-minor.json";
    let dir = tmp.path().join("b");
    update(&dir, scenario);
    let md = tmp.path().join("summary.md");
    let xml = tmp.path().join("junit.xml");
    let check = |extra: &[&str]| {
        cli()
            .args(["check", scenario, "--baseline", dir.to_str().unwrap()])
            .args(SMALL)
            .args([
                "--markdown",
                md.to_str().unwrap(),
                "--junit",
                xml.to_str().unwrap(),
            ])
            .args(extra)
            .assert()
    };
    // Files that merely quote the tool are the user's.
    let readme = "# Our CI\n\nWe run `rollout-sim check` on every push.\n";
    let ci_xml = "<?xml version=\"1.0\"?>\n<testsuites><testsuite name=\"rollout-sim check\" tests=\"0\"/></testsuites>\n";
    fs::write(&md, readme).unwrap();
    fs::write(&xml, ci_xml).unwrap();
    check(&[])
        .code(2)
        .stderr(predicate::str::contains("did not write it"));
    assert_eq!(fs::read_to_string(&md).unwrap(), readme);
    assert_eq!(fs::read_to_string(&xml).unwrap(), ci_xml);
    fs::remove_file(&xml).unwrap();
    check(&[]).code(2);
    assert!(!xml.exists(), "nothing written when one target is refused");
    fs::remove_file(&md).unwrap();
    // Written by us: replaced on the next run.
    check(&[]).success();
    let ours = fs::read_to_string(&md).unwrap();
    assert!(ours.contains("rollout-sim check"));
    check(&[]).success();
    // Edited by the user: theirs, unless --force.
    fs::write(&md, format!("{ours}\nMy note.\n")).unwrap();
    check(&[])
        .code(2)
        .stderr(predicate::str::contains("summary.md"));
    assert!(fs::read_to_string(&md).unwrap().ends_with("My note.\n"));
    check(&["--force"]).success();
    assert_eq!(fs::read_to_string(&md).unwrap(), ours);
    let mut left: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    left.sort();
    assert_eq!(left, ["b", "junit.xml", "summary.md"], "no staging debris");
}

#[test]
fn the_shipped_scenarios_match_their_shipped_baselines() {
    // A change that moves any number of a shipped scenario must update its baseline on
    // purpose: `rollout-sim check scenarios --baseline baselines --update`. The command
    // is the CI recipe's (examples/ci/): the repository passes its own recipe, every
    // scenario in the folder having a baseline.
    let files: Vec<String> = fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path().to_string_lossy().into_owned())
        .collect();
    let tmp = tempfile::tempdir().unwrap();
    let junit = tmp.path().join("junit.xml");
    let o = cli()
        .args(["check", "scenarios"])
        .args([
            "--baseline",
            "baselines",
            "--junit",
            junit.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(
        junit_cases(&junit).len(),
        files.len(),
        "one test case per scenario"
    );
    let identical = out.lines().filter(|l| l.ends_with(" identical")).count();
    assert_eq!(identical, files.len(), "{out}");
}

#[test]
fn report_files_replace_only_reports_of_their_own_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let notes = tmp.path().join("notes.md");
    let results = tmp.path().join("results.xml");
    fs::write(&notes, "my notes").unwrap();
    fs::write(&results, "<results/>").unwrap();
    for (flag, path) in [("--markdown", &notes), ("--junit", &results)] {
        cli()
            .args([
                "check",
                "scenarios/forge-minor.json",
                flag,
                path.to_str().unwrap(),
            ])
            .args(SMALL)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("refusing to replace it"));
    }
    assert_eq!(fs::read_to_string(&notes).unwrap(), "my notes");
    assert_eq!(fs::read_to_string(&results).unwrap(), "<results/>");
    // Its own reports are replaced, run after run.
    let md = tmp.path().join("summary.md");
    let xml = tmp.path().join("junit.xml");
    for _ in 0..2 {
        cli()
            .args(["check", "scenarios/forge-minor.json", "-q"])
            .args([
                "--markdown",
                md.to_str().unwrap(),
                "--junit",
                xml.to_str().unwrap(),
            ])
            .args(SMALL)
            .assert()
            .code(0);
    }
    assert_eq!(junit_cases(&xml).len(), 1);
}

#[test]
fn on_github_actions_each_problem_is_an_error_annotation() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = set(
        set(base("connect"), "replications", json!(20)),
        "expect",
        json!([{"figure": "coexistence@0", "max": "10h"}]),
    );
    let file = tmp.path().join("s.json");
    fs::write(&file, doc.to_string()).unwrap();
    cli()
        .env("GITHUB_ACTIONS", "true")
        .args(["check", file.to_str().unwrap(), "-q"])
        .assert()
        .code(1)
        .stdout(predicate::str::starts_with(format!(
            "::error file={},title=rollout-sim check: test::expectation mean coexistence@0 <= 10 failed",
            file.display().to_string().replace(':', "%3A").replace(',', "%2C")
        )));
    cli()
        .env_remove("GITHUB_ACTIONS")
        .args(["check", file.to_str().unwrap(), "-q"])
        .assert()
        .code(1)
        .stdout("");
}
