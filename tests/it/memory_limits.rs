//! Memory for long release trains: the estimate bounds what a run with thousands of
//! releases holds (per-release histograms and per-version tables included), and a run
//! that cannot fit under the process's own limit (`ulimit -v`, `prlimit --as`) is
//! refused before it starts, with the estimate in the message and nothing written.

use std::fs;
use std::path::Path;
use std::process::Command as Process;

use crate::common::*;
use rollout_sim::montecarlo;
use serde_json::{Value, json};

/// A train of `releases` automatic fixes three minutes apart on 200 instances, sampled
/// daily (so the per-release structures, not the report's grid, dominate).
fn train(releases: usize) -> Value {
    let list: Vec<Value> = (0..releases)
        .map(|i| json!({"at": format!("{}m", 3 * i), "changes": ["other"]}))
        .collect();
    let doc = set(base("connect"), "releases", Value::Array(list));
    let doc = set(doc, "horizon", json!("30d"));
    let doc = set(doc, "replications", json!(4));
    set(doc, "report.sample_every", json!("1d"))
}

fn write(dir: &Path, doc: &Value) -> std::path::PathBuf {
    let file = dir.join("train.json");
    fs::write(&file, doc.to_string()).unwrap();
    file
}

#[test]
fn the_estimate_bounds_what_a_long_release_train_holds() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = train(2_000);
    let file = write(tmp.path(), &doc);
    let out = Process::new(assert_cmd::cargo::cargo_bin("rollout-sim"))
        .arg("run")
        .arg(&file)
        .args([
            "--threads",
            "2",
            "--no-charts",
            "--quiet",
            "--stats",
            "--out",
        ])
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    let Some(line) = stderr.lines().find(|l| l.contains("peak memory")) else {
        panic!("no peak memory in {stderr}");
    };
    let Ok(mib) = line.split_whitespace().nth(2).unwrap_or("").parse::<f64>() else {
        // Where the peak cannot be read (no /proc), there is nothing to compare.
        assert!(line.contains("unknown"), "{line}");
        return;
    };
    let estimate = montecarlo::memory_estimate(&scenario(&doc), 2);
    let peak = (mib * f64::from(1 << 20)) as u128;
    assert!(
        peak <= estimate.total(),
        "the run held {peak} bytes, the estimate says {}",
        estimate.total()
    );
    // The per-release histograms are counted, and are what dominates here.
    assert!(
        estimate.latency > estimate.in_flight.max(estimate.kept),
        "{estimate:?}"
    );
}

/// Runs `rollout-sim ARGS` with its address space limited to `bytes`.
#[cfg(target_os = "linux")]
fn run_limited(bytes: u64, args: &[&std::ffi::OsStr]) -> std::process::Output {
    use std::os::unix::process::CommandExt;
    let mut command = Process::new(assert_cmd::cargo::cargo_bin("rollout-sim"));
    command.args(args);
    // SAFETY: setrlimit only sets the child's limit between fork and exec; it takes no
    // lock and allocates nothing.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit {
                rlim_cur: bytes,
                rlim_max: bytes,
            };
            if libc::setrlimit(libc::RLIMIT_AS, &raw const limit) == 0 {
                Ok(())
            } else {
                Err(std::io::Error::last_os_error())
            }
        });
    }
    command.output().unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn a_train_that_cannot_fit_under_the_process_limit_is_refused_before_it_starts() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = train(10_000);
    let file = write(tmp.path(), &doc);
    let out_dir = tmp.path().join("out");
    let limit = 1u64 << 30;
    let run = |scenario: &Path| {
        run_limited(
            limit,
            &[
                "run".as_ref(),
                scenario.as_os_str(),
                "--threads".as_ref(),
                "2".as_ref(),
                "--no-charts".as_ref(),
                "--out".as_ref(),
                out_dir.as_os_str(),
            ],
        )
    };
    let out = run(&file);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    // The estimate in the message is the library's, and says what to change.
    let estimate = montecarlo::memory_estimate(&scenario(&doc), 2).total();
    let needed = format!(
        "train.json: releases: 10000 releases makes the run need about {:.1} GiB of memory",
        estimate as f64 / f64::from(1 << 30)
    );
    assert!(stderr.contains(&needed), "{stderr}\nexpected: {needed}");
    assert!(
        stderr.contains("GiB is available") && stderr.contains("split the train"),
        "{stderr}"
    );
    assert!(!out_dir.exists(), "nothing written");

    // The limit alone refuses nothing: a shipped scenario runs under it.
    let out = run(Path::new("scenarios/connect-micro.json"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out_dir.join("report.json").exists());
}
