//! Never lose a user's data, never crash: output folders are replaced only when they are
//! ours, failures and signals leave no debris, and hostile input gets a clean exit 2.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use assert_cmd::Command;
use assert_cmd::cargo::cargo_bin;
use predicates::prelude::*;
use serde_json::{Value, json};

/// Every file under `dir` with its bytes: a folder's full state, compared before and after.
pub(crate) fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.insert(p.clone(), b"<dir>".to_vec());
                stack.push(p);
            } else {
                out.insert(p.clone(), fs::read(&p).unwrap());
            }
        }
    }
    out
}

pub(crate) fn small(doc: Value) -> Value {
    let doc = set(doc, "replications", json!(3));
    set(doc, "population.instances", json!(50))
}

/// A scratch folder holding a small Connect scenario: the setup most of these tests share.
pub(crate) struct Scratch {
    pub(crate) dir: tempfile::TempDir,
    pub(crate) scenario: PathBuf,
}

impl Scratch {
    pub(crate) fn new() -> Scratch {
        let dir = tempfile::tempdir().unwrap();
        let scenario = write_doc(dir.path(), &small(base("connect")));
        Scratch { dir, scenario }
    }

    /// `rollout-sim run SCENARIO --out OUT`.
    pub(crate) fn run_into(&self, out: &Path) -> Command {
        let mut command = cli();
        command.args([
            "run",
            self.scenario.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ]);
        command
    }
}

pub(crate) fn write_doc(dir: &Path, doc: &Value) -> PathBuf {
    let file = dir.join("scenario.json");
    fs::write(&file, serde_json::to_string_pretty(doc).unwrap()).unwrap();
    file
}

#[test]
fn a_scenario_name_cannot_point_outside_output() {
    let tmp = tempfile::tempdir().unwrap();
    let victim = tmp.path().join("victim");
    fs::create_dir(&victim).unwrap();
    fs::write(victim.join("precious.txt"), "keep").unwrap();
    for name in [
        victim.to_str().unwrap().to_string(),
        "../../x".to_string(),
        "a/b".to_string(),
        ".hidden".to_string(),
        String::new(),
        "x".repeat(101),
    ] {
        let file = write_doc(
            tmp.path(),
            &small(set(base("connect"), "name", json!(name))),
        );
        for cmd in ["validate", "run"] {
            cli()
                .current_dir(tmp.path())
                .args([cmd, file.to_str().unwrap()])
                .assert()
                .code(2)
                .stderr(
                    predicate::str::contains("scenario.json: name:")
                        .and(predicate::str::contains("A-Z a-z 0-9 - _ .")),
                );
        }
    }
    assert_eq!(
        fs::read_to_string(victim.join("precious.txt")).unwrap(),
        "keep"
    );
    assert!(!tmp.path().join("output").exists(), "nothing written");
}

#[test]
fn a_scenario_name_that_is_no_folder_on_windows_is_refused_on_every_system() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["con", "Aux.json", "COM1", "a."] {
        let file = write_doc(
            tmp.path(),
            &small(set(base("connect"), "name", json!(name))),
        );
        cli()
            .current_dir(tmp.path())
            .args(["run", file.to_str().unwrap()])
            .assert()
            .code(2)
            .stderr(
                predicate::str::contains("scenario.json: name:")
                    .and(predicate::str::contains("Windows")),
            );
    }
    assert!(!tmp.path().join("output").exists(), "nothing written");
}

/// On Windows a device name is a path to no file: it is refused, never opened.
#[cfg(windows)]
#[test]
fn a_device_given_as_a_scenario_is_refused() {
    for device in ["NUL", "CON"] {
        cli().args(["validate", device]).assert().code(2);
    }
}

#[test]
fn out_refuses_a_folder_with_files_it_did_not_write() {
    let scratch = Scratch::new();
    let tmp = &scratch.dir;
    let docs = tmp.path().join("mydocs");
    fs::create_dir(&docs).unwrap();
    fs::write(docs.join("thesis.tex"), "years of work").unwrap();
    let before = snapshot(tmp.path());
    scratch.run_into(&docs).assert().code(2).stdout("").stderr(
        predicate::str::contains("thesis.tex")
            .and(predicate::str::contains("--force"))
            .and(predicate::str::contains("did not write")),
    );
    assert_eq!(snapshot(tmp.path()), before, "nothing touched");
    // An output folder of ours is replaced, again and again.
    let ours = tmp.path().join("ours");
    for _ in 0..2 {
        scratch.run_into(&ours).args(["--quiet"]).assert().success();
    }
    // --force is the explicit override.
    scratch
        .run_into(&docs)
        .args(["--quiet", "--force"])
        .assert()
        .success();
    assert!(!docs.join("thesis.tex").exists());
    assert!(docs.join("report.json").exists());
}

#[test]
fn out_naming_a_file_is_refused_before_any_work() {
    let scratch = Scratch::new();
    let tmp = &scratch.dir;
    let target = tmp.path().join("results.txt");
    fs::write(&target, "mine").unwrap();
    let before = snapshot(tmp.path());
    for extra in [vec![], vec!["--force"], vec!["--events"]] {
        scratch
            .run_into(&target)
            .args(extra)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("is not a folder"));
        assert_eq!(snapshot(tmp.path()), before);
    }
}

#[test]
fn events_go_into_the_output_folder_and_are_published_with_it() {
    let scratch = Scratch::new();
    let tmp = &scratch.dir;
    let out = tmp.path().join("o");
    scratch
        .run_into(&out)
        .args(["--quiet", "--events"])
        .assert()
        .success();
    let log = fs::read_to_string(out.join("events.jsonl")).unwrap();
    assert!(log.lines().count() > 50);
    let manifest: Value =
        serde_json::from_str(&fs::read_to_string(out.join(".rollout-sim-manifest.json")).unwrap())
            .unwrap();
    let files: Vec<&str> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(files.contains(&"events.jsonl") && files.contains(&"report.json"));
    // Without --events the next run leaves no stale log behind.
    scratch.run_into(&out).args(["--quiet"]).assert().success();
    assert!(!out.join("events.jsonl").exists());
}

#[test]
fn a_failed_write_leaves_the_old_output_intact_even_for_root() {
    let scratch = Scratch::new();
    let tmp = &scratch.dir;
    // A folder name so long that the staging name beside it (".NAME.partial-PID") exceeds
    // the file system's limit: creating it fails for every user, root included.
    let out = tmp.path().join("o".repeat(250));
    fs::create_dir(&out).unwrap();
    fs::write(out.join("report.json"), "previous").unwrap();
    fs::write(
        out.join(".rollout-sim-manifest.json"),
        r#"{"tool": "rollout-sim", "files": ["report.json"]}"#,
    )
    .unwrap();
    let before = snapshot(tmp.path());
    scratch
        .run_into(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot write the reports"));
    assert_eq!(snapshot(tmp.path()), before, "old output intact, no debris");
}

#[test]
fn stale_staging_of_a_killed_run_is_cleaned_and_does_not_block() {
    let scratch = Scratch::new();
    let tmp = &scratch.dir;
    let out = tmp.path().join("out");
    // What a run killed with SIGKILL leaves: a staging folder and a retired folder
    // (the latter is put back first, as the only complete output, then replaced).
    for stale in [".out.partial-4294967290", ".out.old-4294967290"] {
        let d = tmp.path().join(stale);
        fs::create_dir(&d).unwrap();
        fs::write(
            d.join(".rollout-sim-manifest.json"),
            r#"{"tool":"rollout-sim","format":2,"files":["report.json"]}"#,
        )
        .unwrap();
        fs::write(d.join("report.json"), "x".repeat(1000)).unwrap();
    }
    scratch.run_into(&out).args(["--quiet"]).assert().success();
    let mut left: Vec<String> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, vec!["out", "scenario.json"]);
}

#[test]
fn concurrent_runs_into_one_folder_all_succeed_and_leave_one_whole_output() {
    let scratch = Scratch::new();
    let (tmp, file) = (&scratch.dir, &scratch.scenario);
    let out = tmp.path().join("out");
    let reference = tmp.path().join("reference");
    scratch
        .run_into(&reference)
        .args(["--quiet"])
        .assert()
        .success();
    for _round in 0..3 {
        let children: Vec<_> = (0..4)
            .map(|_| {
                Process::new(cargo_bin("rollout-sim"))
                    .args([
                        "run",
                        file.to_str().unwrap(),
                        "--quiet",
                        "--out",
                        out.to_str().unwrap(),
                    ])
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let o = child.wait_with_output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        let strip = |m: BTreeMap<PathBuf, Vec<u8>>, root: &Path| -> BTreeMap<PathBuf, Vec<u8>> {
            m.into_iter()
                .map(|(p, b)| (p.strip_prefix(root).unwrap().to_path_buf(), b))
                .collect()
        };
        assert_eq!(
            strip(snapshot(&out), &out),
            strip(snapshot(&reference), &reference)
        );
    }
    assert_eq!(
        fs::read_dir(tmp.path()).unwrap().count(),
        3,
        "no staging left"
    );
}

#[test]
fn ctrl_c_and_sigterm_remove_the_staging_folder() {
    for signal in ["-INT", "-TERM"] {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        // Long enough to be interrupted mid-run.
        let mut child = Process::new(cargo_bin("rollout-sim"))
            .args([
                "run",
                "benches/scenarios/bench-replications.json",
                "--replications",
                "100000",
                "--threads",
                "1",
                "--quiet",
                "--out",
                out.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        let staging = || {
            fs::read_dir(tmp.path()).unwrap().any(|e| {
                e.unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".out.partial-")
            })
        };
        while !staging() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(staging(), "the run made its staging folder");
        std::thread::sleep(Duration::from_millis(200));
        Process::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(130), "{signal}");
        assert_eq!(
            fs::read_dir(tmp.path()).unwrap().count(),
            0,
            "no debris after {signal}"
        );
    }
}

#[test]
fn huge_delays_are_beyond_the_horizon_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let scope = set(
        small(base("connect")),
        "releases",
        json!([{"at": "0h", "changes": ["scopes"]}]),
    );
    let with_admin = |delay: Value, hours: bool| {
        let mut admin = json!({"approve": 1.0, "reject": 0.0, "delay": delay});
        if hours {
            admin["working_hours"] = json!({"from": "09:00", "to": "17:00"});
        }
        let doc = set(scope.clone(), "admins.slow", admin);
        set(
            doc,
            "population.segments",
            json!([{"name": "all", "share": 1.0, "admin": "slow"}]),
        )
    };
    for (delay, hours) in [
        (json!({"lognormal": {"median": "48h", "sigma": 5.0}}), true),
        (json!({"lognormal": {"median": "48h", "sigma": 5.0}}), false),
        (json!({"fixed": "1000w"}), true),
        (json!({"exponential": {"mean": "100000w"}}), true),
        (json!({"uniform": ["0h", "99999w"]}), false),
    ] {
        let file = write_doc(tmp.path(), &with_admin(delay.clone(), hours));
        let out = tmp.path().join("o");
        cli()
            .args([
                "run",
                file.to_str().unwrap(),
                "--format",
                "json",
                "--out",
                out.to_str().unwrap(),
            ])
            .assert()
            .success();
        let report: Value =
            serde_json::from_str(&fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
        let coexistence = &report["releases"][0]["coexistence_hours"];
        assert!(
            coexistence["censored"].as_u64().unwrap() > 0,
            "{delay}: {coexistence}"
        );
    }
}

#[test]
fn huge_sizes_are_refused_up_front_naming_the_field() {
    let scratch = Scratch::new();
    let (tmp, file) = (&scratch.dir, &scratch.scenario);
    cli()
        .args([
            "run",
            file.to_str().unwrap(),
            "--instances",
            "1152851140157407232",
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("population.instances")
                .and(predicate::str::contains("--instances"))
                .and(predicate::str::contains("GiB")),
        );
    cli()
        .args([
            "run",
            file.to_str().unwrap(),
            "--instances",
            "18446744073709551615",
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("population.instances"));
    let many = write_doc(
        tmp.path(),
        &set(
            set(
                small(base("connect")),
                "replications",
                json!(4_294_967_295_u64),
            ),
            "report.sample_every",
            json!("1m"),
        ),
    );
    cli()
        .args(["run", many.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("scenario.json: replications:")
                .and(predicate::str::contains("lower replications")),
        );
    let installs = write_doc(
        tmp.path(),
        &set(
            small(base("connect")),
            "population.churn.installs_per_day",
            json!(1e300),
        ),
    );
    cli()
        .args(["run", installs.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "population.churn.installs_per_day",
        ));
    assert_eq!(
        fs::read_dir(tmp.path()).unwrap().count(),
        1,
        "nothing written"
    );
}

#[test]
fn a_version_number_that_would_wrap_is_refused() {
    let doc = set(
        small(base("connect")),
        "initial_version",
        json!("1.4.4294967295"),
    );
    let tmp = tempfile::tempdir().unwrap();
    let file = write_doc(tmp.path(), &doc);
    cli()
        .args(["validate", file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("releases[0]").and(predicate::str::contains("4294967295")),
        );
}

#[test]
fn unbounded_inputs_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for special in ["/dev/zero", "/dev/urandom"] {
        if Path::new(special).exists() {
            cli()
                .args(["validate", special])
                .timeout(Duration::from_secs(20))
                .assert()
                .code(2)
                .stderr(predicate::str::contains("not a regular file"));
        }
    }
    let fifo = tmp.path().join("fifo.json");
    if Process::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success())
    {
        cli()
            .args(["validate", fifo.to_str().unwrap()])
            .timeout(Duration::from_secs(20))
            .assert()
            .code(2)
            .stderr(predicate::str::contains("not a regular file"));
    }
    let big = tmp.path().join("big.json");
    fs::File::create(&big).unwrap().set_len(17 << 20).unwrap();
    cli()
        .args(["validate", big.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("larger than 16 MiB"));
    cli()
        .args(["run", "scenarios/forge-minor.json", "--threads", "100000"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("allowed: 1 to 256"));
}

#[test]
fn accepted_but_wrong_inputs_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("dup.json");
    let text = serde_json::to_string_pretty(&small(base("connect"))).unwrap();
    fs::write(
        &file,
        text.replacen("\"seed\": 42,", "\"seed\": 42,\n  \"seed\": 43,", 1),
    )
    .unwrap();
    cli()
        .args(["validate", file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("dup.json")
                .and(predicate::str::contains("duplicate key \"seed\"")),
        );
    let good = write_doc(tmp.path(), &small(base("connect")));
    let out = tmp.path().join("out");
    cli()
        .args([
            "run",
            good.to_str().unwrap(),
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    let before = snapshot(&out);
    cli()
        .args([
            "run",
            good.to_str().unwrap(),
            "--precision",
            "1h",
            "--max-replications",
            "0",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .code(2);
    assert_eq!(snapshot(&out), before, "previous results kept");
    cli()
        .args(["run", good.to_str().unwrap(), "--seed", "-1"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "seeds are whole numbers from 0 to 2^64-1",
        ));
}
