//! The second trust pass, seen from outside: signals during publication, writers killed
//! outright, inputs that would hang or exhaust memory, and messages that echo input.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use assert_cmd::cargo::cargo_bin;
use predicates::prelude::*;
use serde_json::{Value, json};

use crate::common::*;

/// The command line, stopped (and the test failed) if it hangs.
pub(crate) fn cli() -> Command {
    let mut c = Command::cargo_bin("rollout-sim").unwrap();
    c.timeout(Duration::from_secs(120));
    c
}

/// A small valid scenario written into `dir`.
pub(crate) fn scenario_in(dir: &Path, doc: &Value) -> PathBuf {
    let file = dir.join("scenario.json");
    fs::write(&file, serde_json::to_string_pretty(doc).unwrap()).unwrap();
    file
}

pub(crate) fn small() -> Value {
    set(
        set(base("connect"), "replications", json!(3)),
        "population.instances",
        json!(50),
    )
}

/// The names in `dir`, sorted.
pub(crate) fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[cfg(unix)]
pub(crate) fn mkfifo(path: &Path) {
    assert!(Process::new("mkfifo").arg(path).status().unwrap().success());
}

/// Runs `scenario` into `out`; with `pause_ms`, the (debug) binary sleeps between the
/// two renames of its publication.
pub(crate) fn spawn_run(scenario: &Path, out: &Path, pause_ms: u64) -> std::process::Child {
    Process::new(cargo_bin("rollout-sim"))
        .args([
            "run",
            scenario.to_str().unwrap(),
            "--quiet",
            "--no-charts",
            "--out",
        ])
        .arg(out)
        .env(
            "ROLLOUT_SIM_TEST_PUBLICATION_PAUSE_MS",
            pause_ms.to_string(),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until an entry of `dir` starts with `prefix` (the publication is under way).
pub(crate) fn wait_for_entry(dir: &Path, prefix: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if dir.is_dir() && names(dir).iter().any(|n| n.starts_with(prefix)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no {prefix}* appeared in {}", dir.display());
}

#[test]
fn a_signal_during_publication_waits_for_it_and_says_the_output_was_published() {
    for signal in ["-INT", "-TERM"] {
        let tmp = tempfile::tempdir().unwrap();
        let file = scenario_in(tmp.path(), &small());
        let out = tmp.path().join("out");
        // A previous output, so that publication has two renames with a gap between.
        cli()
            .args(["run", file.to_str().unwrap(), "--quiet", "--out"])
            .arg(&out)
            .assert()
            .success();
        fs::write(out.join("report.json"), "old").unwrap();
        let child = spawn_run(&file, &out, 1500);
        wait_for_entry(tmp.path(), ".out.old-");
        Process::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        let result = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&result.stderr);
        assert_eq!(result.status.code(), Some(130), "{signal}: {stderr}");
        assert!(
            stderr.contains("interrupted after publishing") && stderr.contains("out"),
            "{signal}: says what was published: {stderr}"
        );
        // The new output is there, whole; nothing else is left.
        assert_ne!(fs::read_to_string(out.join("report.json")).unwrap(), "old");
        // The manifest lists the new output's files.
        let listed = fs::read_to_string(out.join(".rollout-sim-manifest.json")).unwrap();
        assert!(listed.contains("report.json"), "{listed}");
        assert_eq!(
            names(tmp.path()),
            ["out", "scenario.json"],
            "{signal}: no debris"
        );
    }
}

#[test]
fn a_signal_before_publication_leaves_the_previous_output_untouched() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario_in(tmp.path(), &small());
    let out = tmp.path().join("out");
    cli()
        .args(["run", file.to_str().unwrap(), "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let before = tree(&out);
    let long = set(small(), "replications", json!(100_000));
    let file = scenario_in(tmp.path(), &long);
    let child = spawn_run(&file, &out, 0);
    wait_for_entry(tmp.path(), ".out.partial-");
    std::thread::sleep(Duration::from_millis(200));
    Process::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let result = child.wait_with_output().unwrap();
    assert_eq!(result.status.code(), Some(130));
    assert!(String::from_utf8_lossy(&result.stderr).contains("nothing was written"));
    assert_eq!(tree(&out), before);
    assert_eq!(names(tmp.path()), ["out", "scenario.json"]);
}

#[test]
fn a_run_killed_between_its_renames_loses_nothing_the_next_run_restores_and_replaces() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario_in(tmp.path(), &small());
    let out = tmp.path().join("out");
    cli()
        .args(["run", file.to_str().unwrap(), "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let before = tree(&out);
    let mut child = spawn_run(&file, &out, 5000);
    wait_for_entry(tmp.path(), ".out.old-");
    child.kill().unwrap();
    child.wait().unwrap();
    // The only complete output stands aside; nothing may delete it.
    assert!(!out.exists());
    let retired: Vec<String> = names(tmp.path())
        .into_iter()
        .filter(|n| n.starts_with(".out.old-"))
        .collect();
    assert_eq!(retired.len(), 1);
    assert_eq!(tree(&tmp.path().join(&retired[0])), before);
    // A run into another folder beside it leaves it alone.
    cli()
        .args(["run", file.to_str().unwrap(), "--quiet", "--out"])
        .arg(tmp.path().join("other"))
        .assert()
        .success();
    assert!(tmp.path().join(&retired[0]).exists());
    // The next run into the same folder puts it back, then replaces it as usual.
    cli()
        .args(["run", file.to_str().unwrap(), "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    assert_eq!(names(tmp.path()), ["other", "out", "scenario.json"]);
    assert_eq!(tree(&out), before, "same scenario, same bytes");
}

#[test]
fn a_killed_shard_leaves_a_partial_part_that_its_rerun_removes() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario_in(tmp.path(), &small());
    let parts = tmp.path().join("parts");
    fs::create_dir(&parts).unwrap();
    // What older versions and killed writers leave (no lock is held on either).
    for stale in [
        ".part-0-of-2.jsonl.partial-4242",
        ".part-0-of-2.jsonl.partial-77-aB3dE9fG1hJ2",
    ] {
        fs::write(parts.join(stale), "half a part").unwrap();
    }
    cli()
        .args([
            "run",
            file.to_str().unwrap(),
            "--quiet",
            "--shard",
            "0/2",
            "--out",
        ])
        .arg(&parts)
        .assert()
        .success();
    assert_eq!(names(&parts), ["part-0-of-2.jsonl"]);
}

#[test]
fn a_user_file_at_any_depth_of_an_old_output_is_never_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario_in(tmp.path(), &small());
    let out = tmp.path().join("out");
    let run = |force: bool| {
        let mut c = cli();
        c.args(["run", file.to_str().unwrap(), "--quiet", "--out"])
            .arg(&out);
        if force {
            c.arg("--force");
        }
        c.assert()
    };
    run(false).success();
    assert!(out.join("charts").is_dir(), "the output has a subfolder");
    fs::write(out.join("charts/notes.txt"), "mine").unwrap();
    run(false)
        .code(2)
        .stderr(predicate::str::contains("charts/notes.txt"));
    assert_eq!(
        fs::read_to_string(out.join("charts/notes.txt")).unwrap(),
        "mine"
    );
    fs::remove_file(out.join("charts/notes.txt")).unwrap();
    fs::create_dir(out.join("charts/.rollout-sim-manifest.json")).unwrap();
    run(false).code(2);
    assert!(out.join("charts/.rollout-sim-manifest.json").is_dir());
    run(true).success();
    assert!(!out.join("charts/.rollout-sim-manifest.json").exists());
}

/// Inputs that are FIFOs, devices or links to them: refused at once, never opened.
#[cfg(unix)] // FIFOs and /dev: Unix (Windows: file_safety::a_device_given_as_a_scenario_is_refused)
#[test]
fn no_input_is_opened_unless_it_is_a_regular_file_of_bounded_size() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario_in(tmp.path(), &small());
    let fifo = tmp.path().join("fifo");
    mkfifo(&fifo);
    let zero = tmp.path().join("zero.csv");
    std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
    let s = file.to_str().unwrap();
    for target in [&fifo, &zero] {
        let t = target.to_str().unwrap();
        let cases: Vec<Vec<&str>> = vec![
            vec!["run", t],
            vec!["fit", s, "--observed", t],
            vec!["fit", s, "--from-events", t],
            vec!["merge", t],
            vec!["sweep", s, "--file", t],
            vec!["check", s, "--markdown", t, "--replications", "2"],
            vec!["check", s, "--junit", t, "--replications", "2"],
        ];
        for args in cases {
            let started = Instant::now();
            cli().args(&args).assert().code(2);
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "{args:?} returned"
            );
        }
    }
    // A manifest in an existing --out that is a FIFO, or a link to /dev/zero.
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    mkfifo(&out.join(".rollout-sim-manifest.json"));
    fs::write(out.join("report.json"), "{}").unwrap();
    cli().args(["run", s, "--out"]).arg(&out).assert().code(2);
    fs::remove_file(out.join(".rollout-sim-manifest.json")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", out.join(".rollout-sim-manifest.json")).unwrap();
    cli().args(["run", s, "--out"]).arg(&out).assert().code(2);
    // A baseline that is a FIFO.
    let baselines = tmp.path().join("baselines");
    fs::create_dir(&baselines).unwrap();
    mkfifo(&baselines.join("test.json"));
    cli()
        .args(["check", s, "--baseline"])
        .arg(&baselines)
        .assert()
        .code(2);
}

#[test]
fn runs_that_cannot_fit_in_memory_are_refused_up_front_naming_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    // 10,000 releases sampled every minute for 60 days: the report alone is hundreds of GiB.
    let releases: Vec<Value> = (0..10_000)
        .map(|i| json!({"at": format!("{}m", i), "changes": ["other"]}))
        .collect();
    let many = set(
        set(
            set(small(), "releases", json!(releases)),
            "horizon",
            json!("60d"),
        ),
        "report.sample_every",
        json!("1m"),
    );
    let file = scenario_in(tmp.path(), &many);
    let started = Instant::now();
    cli()
        .args(["run", file.to_str().unwrap(), "--out"])
        .arg(tmp.path().join("out"))
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("scenario.json: releases: 10000 releases")
                .and(predicate::str::contains("GiB")),
        );
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "refused before running"
    );
    // trace simulates one replication's context: a huge churn is refused too.
    let churn = set(
        small(),
        "population.churn",
        json!({"installs_per_day": 1e12}),
    );
    let file = scenario_in(tmp.path(), &churn);
    cli()
        .args(["trace", file.to_str().unwrap(), "--instance", "0"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "population.churn.installs_per_day",
        ));
    assert_eq!(names(tmp.path()), ["scenario.json"]);
}

#[test]
fn validation_is_linear_in_releases_and_a_huge_sweep_grid_is_refused_before_validating() {
    let tmp = tempfile::tempdir().unwrap();
    // 100,000 releases took over 20 s when each release scanned every earlier version.
    let releases: Vec<Value> = (0..100_000)
        .map(|i| json!({"at": format!("{}s", i), "changes": ["other"]}))
        .collect();
    let file = scenario_in(tmp.path(), &set(small(), "releases", json!(releases)));
    cli()
        .timeout(Duration::from_secs(60))
        .args(["validate", file.to_str().unwrap()])
        .assert()
        .success();
    let file = scenario_in(tmp.path(), &small());
    let values: Vec<String> = (1..=1000).map(|i| format!("{i}h")).collect();
    let values = values.join(",");
    cli()
        .timeout(Duration::from_secs(60))
        .args(["sweep", file.to_str().unwrap()])
        .args([
            "--set",
            &format!("timing.upm_poll={values}"),
            "--set",
            &format!("timing.maintenance_slip={values}"),
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("1000000 points")
                .and(predicate::str::contains("at most 10000")),
        );
}

#[test]
fn messages_say_what_a_flag_accepts_and_echo_input_on_one_capped_line() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario_in(tmp.path(), &small());
    let s = file.to_str().unwrap();
    for (args, says) in [
        (vec!["run", s, "--threads", "-1"], "allowed: 1 to 256"),
        (vec!["run", s, "--replications", "-1"], "whole number"),
        (vec!["run", s, "--instances", "-5"], "whole number"),
        (vec!["run", s, "--precision", "-1h"], "positive duration"),
        (vec!["run", s, "--shard", "-1/2"], "expected I/N"),
        (
            vec!["fit", s, "--from-events", s, "--until", "-5"],
            "number of hours",
        ),
        (vec!["trace", s, "--instance", "-2"], "whole number"),
    ] {
        let o = cli().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("-- -"), "{args:?} suggests `-- -1`: {err}");
    }
    // A 100 KB value and a path with control characters: one short line.
    let huge = format!("name={}", "x".repeat(100_000));
    let o = cli().args(["run", s, "--set", &huge]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert!(err.len() < 3_000, "{} bytes", err.len());
    assert!(err.contains("more characters"), "{err}");
    let odd = tmp.path().join("a\nb\u{1b}[31mc.json");
    fs::write(&odd, "{").unwrap();
    let o = cli().args(["run"]).arg(&odd).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
    // Duplicate keys in a --set value are refused, not taken as text.
    cli()
        .args([
            "run",
            s,
            "--set",
            r#"admins.x={"approve": 0.5, "approve": 0.9}"#,
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("duplicate").and(predicate::str::contains("approve")));
}

#[test]
fn a_byte_order_mark_is_accepted_as_editors_write_it() {
    let tmp = tempfile::tempdir().unwrap();
    let text = serde_json::to_string_pretty(&small()).unwrap();
    let file = tmp.path().join("bom.json");
    fs::write(&file, format!("\u{feff}{text}")).unwrap();
    cli()
        .args(["validate", file.to_str().unwrap()])
        .assert()
        .success();
}

#[test]
fn an_interrupted_run_removes_the_folders_it_created_for_its_output() {
    let tmp = tempfile::tempdir().unwrap();
    let long = set(small(), "replications", json!(100_000));
    let file = scenario_in(tmp.path(), &long);
    let parent = tmp.path().join("new1").join("new2");
    let child = spawn_run(&file, &parent.join("out"), 0);
    wait_for_entry(&parent, ".out.partial-");
    Process::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let result = child.wait_with_output().unwrap();
    assert_eq!(result.status.code(), Some(130));
    assert_eq!(
        names(tmp.path()),
        ["scenario.json"],
        "no empty folders left"
    );
}

#[test]
fn fit_data_over_512_mib_is_refused_without_being_read() {
    let tmp = tempfile::tempdir().unwrap();
    let file = scenario_in(tmp.path(), &scope_change("connect"));
    // Sparse: no disk space is used, and the size is checked before any read.
    let big = tmp.path().join("observed.csv");
    fs::File::create(&big)
        .unwrap()
        .set_len((512 << 20) + 1)
        .unwrap();
    for flag in ["--observed", "--from-events"] {
        cli()
            .args(["fit", file.to_str().unwrap(), flag])
            .arg(&big)
            .arg("--out")
            .arg(tmp.path().join("out"))
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains("observed.csv")
                    .and(predicate::str::contains("larger than 512 MiB")),
            );
    }
    assert_eq!(names(tmp.path()), ["observed.csv", "scenario.json"]);
}
