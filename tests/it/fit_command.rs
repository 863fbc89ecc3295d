//! The fit command's inputs and outputs: bad input, a known publication time, --format
//! json, the default folder and foreign folders.

use crate::common::cli;
use crate::fitting::{fit_events, one_segment, plausible, simulate, write_scenario};
use serde_json::Value;
use std::fs;

#[test]
fn bad_input_exits_2_naming_file_line_and_column_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), &one_segment(100));
    let out = dir.path().join("out");
    let case = |csv: &str, extra: &[&str], expected: &str| {
        let file = dir.path().join("obs.csv");
        fs::write(&file, csv).unwrap();
        cli()
            .args([
                "fit",
                scenario.to_str().unwrap(),
                "--observed",
                file.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .args(extra)
            .assert()
            .code(2)
            .stderr(predicates::str::contains(expected));
        assert!(!out.exists(), "{expected}: nothing is written");
    };
    let rows: String = (0..20).map(|i| format!("s{i},{},true\n", 10 + i)).collect();
    let good = format!("instance,hours,updated\n{rows}");
    case(
        "instance,hours\na,1\n",
        &[],
        "obs.csv: line 1: missing column `updated`",
    );
    case(
        "instance,hours,updated\na,-3,true\n",
        &[],
        "obs.csv: line 2, column `hours`: `-3` is not allowed",
    );
    case(
        "instance,hours,updated\na,3,true\nb,4,maybe\n",
        &[],
        "line 3, column `updated`: `maybe` is not a boolean",
    );
    case(
        "hours,share,instances\n10,0.2,50\n20,0.1,50\n",
        &[],
        "line 3, column `share`: 0.1 is below",
    );
    case(
        "hours,share,instances\n10,1.2,50\n",
        &[],
        "line 2, column `share`: `1.2` is not allowed; a share is a number from 0 to 1",
    );
    case(
        "instance,hours,updated,segment\na,3,true,gold\n",
        &[],
        "line 2, column `segment`: `gold` is not a segment of the scenario (it has sites)",
    );
    case(
        &good,
        &["--release", "5"],
        "--release 5: the scenario has releases 0 to 1",
    );
    case(
        &good,
        &["--release", "0"],
        "--release 0 (fix) needs no approval",
    );
    case(&good, &["--release", "0"], "--release 1");
    case(
        "instance,hours,updated\na,3,true\nb,4,false\n",
        &[],
        "has 1 updated instances; a fit needs at least 10",
    );
}

#[test]
fn a_known_publication_time_replaces_the_integral() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), &one_segment(1500));
    let events = simulate(dir.path(), &scenario, 8001);
    // The Marketplace's version history: when release 1 was published.
    let log = fs::read_to_string(&events).unwrap();
    let published = log
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["event"] == "published" && r["release"] == 1)
        .map(|r| r["hours"].as_f64().unwrap())
        .unwrap();
    let at = format!("{published}");
    let f = fit_events(
        &scenario,
        &dir.path().join("known"),
        &events,
        &[
            "--family",
            "lognormal",
            "--no-charts",
            "--published-at",
            &at,
        ],
    );
    assert!(
        f["method"]["publication"]
            .as_str()
            .unwrap()
            .starts_with("given: published")
    );
    let seg = &f["segments"][0];
    assert!(
        plausible(&seg["approve"], 0.7) && plausible(&seg["delay"]["median_hours"], 48.0),
        "{seg}"
    );
}

#[test]
fn format_json_default_folder_and_foreign_folders_behave_as_documented() {
    let dir = tempfile::tempdir().unwrap();
    let scenario = write_scenario(dir.path(), &one_segment(300));
    let events = simulate(dir.path(), &scenario, 9001);
    let args = [
        "fit",
        "truth.json",
        "--from-events",
        events.to_str().unwrap(),
        "--bootstrap",
        "0",
        "--no-charts",
    ];
    // `--format json` prints fit.json; the default folder is output/<name>-fit/.
    let printed = cli()
        .current_dir(dir.path())
        .args(args)
        .args(["--format", "json"])
        .assert()
        .success();
    let written = fs::read(dir.path().join("output/fit-truth-fit/fit.json")).unwrap();
    assert_eq!(printed.get_output().stdout, written);
    // Without a bootstrap there is no p-value.
    let f: Value = serde_json::from_slice(&written).unwrap();
    assert!(f["segments"][0]["goodness_of_fit"]["p_value"].is_null());
    assert!(
        f["segments"][0]["goodness_of_fit"]["distance"]
            .as_f64()
            .unwrap()
            > 0.0
    );
    // A folder holding a file rollout-sim did not write is refused and left as it was.
    let mine = dir.path().join("mine");
    fs::create_dir(&mine).unwrap();
    fs::write(mine.join("thesis.tex"), "keep me").unwrap();
    cli()
        .current_dir(dir.path())
        .args(args)
        .args(["--out", "mine"])
        .assert()
        .code(2);
    assert_eq!(
        fs::read_to_string(mine.join("thesis.tex")).unwrap(),
        "keep me"
    );
    assert_eq!(fs::read_dir(&mine).unwrap().count(), 1);
}
