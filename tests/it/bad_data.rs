//! fit's data files: a catalogue of bad data, each refused with exit 2 on one line naming
//! the file (and line and column), with nothing touched.

use crate::common::*;
use crate::trust::scenario_in;
use serde_json::json;
use std::fs;
use std::path::PathBuf;

/// A bad data file: the command line reading it, and its text.
struct BadData {
    args: Vec<String>,
    file: PathBuf,
    text: String,
}

/// Every bad baseline, part file, `fit` CSV and event log must give exit 2, one line
/// naming the file, and leave every file as it was.
#[test]
fn bad_data_file_catalogue_exit_2_one_line_naming_the_file_and_nothing_touched() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let approvals = set(
        set(scope_change("connect"), "replications", json!(2)),
        "population.instances",
        json!(60),
    );
    let scenario = scenario_in(dir, &approvals);
    let s = scenario.to_str().unwrap().to_string();
    let out = dir.join("out").to_str().unwrap().to_string();
    // Real files to spoil: a baseline, a part, an event log.
    let baselines = dir.join("baselines");
    cli()
        .args(["check", &s, "--update", "--quiet", "--baseline"])
        .arg(&baselines)
        .assert()
        .success();
    let baseline = fs::read_to_string(baselines.join("test.json")).unwrap();
    let parts = dir.join("parts");
    cli()
        .args(["run", &s, "--quiet", "--shard", "0/1", "--out"])
        .arg(&parts)
        .assert()
        .success();
    let part = fs::read_to_string(parts.join("part-0-of-1.jsonl")).unwrap();
    let events = dir.join("events");
    cli()
        .args(["run", &s, "--quiet", "--events", "--no-charts", "--out"])
        .arg(&events)
        .assert()
        .success();
    let log = fs::read_to_string(events.join("events.jsonl")).unwrap();
    let mut cases: Vec<BadData> = Vec::new();
    let check = |text: String| BadData {
        args: vec![
            "check".into(),
            s.clone(),
            "--baseline".into(),
            baselines.to_str().unwrap().into(),
        ],
        file: baselines.join("test.json"),
        text,
    };
    for text in [
        String::new(),
        "{".into(),
        "[]".into(),
        r#"{"schema_version": 1}"#.into(),
        baseline.replacen("{\n", "{\n  \"seed\": 1,\n", 1),
        baseline.replacen("\"schema_version\": 1", "\"schema_version\": 99", 1),
        baseline.replacen(
            "\"scenario\": \"test\"",
            "\"scenario\": \"other\u{1b}[2J\"",
            1,
        ),
        baseline.replacen("\"figures\": {", "\"figures\": \"x\", \"f\": {", 1),
        baseline[..baseline.len() / 2].to_string(),
    ] {
        cases.push(check(text));
    }
    let merge = |text: String| BadData {
        args: vec![
            "merge".into(),
            parts.to_str().unwrap().into(),
            "--out".into(),
            out.clone(),
        ],
        file: parts.join("part-0-of-1.jsonl"),
        text,
    };
    let (header, payload) = part.split_once('\n').unwrap();
    for text in [
        String::new(),
        "garbage\n".into(),
        format!("{header}\n"),
        part[..part.len() - 10].to_string(),
        format!("{header}\n{}", payload.replacen('1', "2", 1)),
        format!(
            "{}\n{payload}",
            header.replacen("\"schema_version\":", "\"schema_version\": 9, \"x\":", 1)
        ),
    ] {
        cases.push(merge(text));
    }
    let csv = dir.join("observed.csv");
    let fit_csv = |text: &str| BadData {
        args: vec![
            "fit".into(),
            s.clone(),
            "--observed".into(),
            csv.to_str().unwrap().into(),
            "--out".into(),
            out.clone(),
        ],
        file: csv.clone(),
        text: text.into(),
    };
    for text in [
        "",
        "a,b\n1,2\n",
        "instance,hours,updated\n0,-1,1\n",
        "instance,hours,updated\n0,NaN,1\n",
        "instance,hours,updated\n0,1e400,1\n",
        "instance,hours,updated\n0,5,maybe\n",
        "instance,hours,updated,segment\n0,5,1,eu\u{1b}[31m\n",
        "instance,hours,updated\n0,5,1\n0,6,1\n",
        "hours,share\n1,2\n",
        "hours,share,instances\n1,0.5,-3\n",
    ] {
        cases.push(fit_csv(text));
    }
    let jsonl = dir.join("events.jsonl");
    let fit_log = |text: String| BadData {
        args: vec![
            "fit".into(),
            s.clone(),
            "--from-events".into(),
            jsonl.to_str().unwrap().into(),
            "--out".into(),
            out.clone(),
        ],
        file: jsonl.clone(),
        text,
    };
    for text in [
        String::new(),
        "{\n".into(),
        "[]\n".into(),
        "{\"event\": \"nothing\"}\n".into(),
        log[..log.len() / 2].to_string(),
        log.replacen("\"hours\":", "\"hours\": 1, \"hours\":", 1),
    ] {
        cases.push(fit_log(text));
    }
    assert!(cases.len() >= 30, "{} cases", cases.len());
    for case in &cases {
        fs::write(&case.file, &case.text).unwrap();
        let before = tree(dir);
        let o = cli().args(&case.args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        let shown = &case.text[..case.text.len().min(80)];
        assert_eq!(
            o.status.code(),
            Some(2),
            "{:?} with {shown:?}: {err}",
            case.args[0]
        );
        assert_eq!(err.lines().count(), 1, "one line for {shown:?}: {err}");
        assert!(!err.contains('\u{1b}'), "escaped: {err:?}");
        let name = case.file.file_name().unwrap().to_str().unwrap();
        assert!(err.contains(name), "names {name} for {shown:?}: {err}");
        assert_eq!(tree(dir), before, "nothing touched for {shown:?}");
        assert!(!dir.join("out").exists());
    }
    // Restored, each file works again (the cases spoiled it, not the setup).
    fs::write(baselines.join("test.json"), &baseline).unwrap();
    cli()
        .args(["check", &s, "--quiet", "--baseline"])
        .arg(&baselines)
        .assert()
        .success();
}
