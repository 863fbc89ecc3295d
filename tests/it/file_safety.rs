//! Never lose a user's data, never crash: output folders are replaced only when they are
//! ours, failures and signals leave no debris, and hostile input gets a clean exit 2.

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use assert_cmd::Command;
use assert_cmd::cargo::cargo_bin;
use predicates::prelude::*;
use serde_json::{Value, json};

fn cli() -> Command {
    Command::cargo_bin("rollout-sim").unwrap()
}

/// Every file under `dir` with its bytes: a folder's full state, compared before and after.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
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

fn small(doc: Value) -> Value {
    let doc = set(doc, "replications", json!(3));
    set(doc, "population.instances", json!(50))
}

fn write_doc(dir: &Path, doc: &Value) -> PathBuf {
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
fn out_refuses_a_folder_with_files_it_did_not_write() {
    let tmp = tempfile::tempdir().unwrap();
    let docs = tmp.path().join("mydocs");
    fs::create_dir(&docs).unwrap();
    fs::write(docs.join("thesis.tex"), "years of work").unwrap();
    let file = write_doc(tmp.path(), &small(base("connect")));
    let before = snapshot(tmp.path());
    cli()
        .args([
            "run",
            file.to_str().unwrap(),
            "--out",
            docs.to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stdout("")
        .stderr(
            predicate::str::contains("thesis.tex")
                .and(predicate::str::contains("--force"))
                .and(predicate::str::contains("did not write")),
        );
    assert_eq!(snapshot(tmp.path()), before, "nothing touched");
    // An output folder of ours is replaced, again and again.
    let ours = tmp.path().join("ours");
    for _ in 0..2 {
        cli()
            .args([
                "run",
                file.to_str().unwrap(),
                "--quiet",
                "--out",
                ours.to_str().unwrap(),
            ])
            .assert()
            .success();
    }
    // --force is the explicit override.
    cli()
        .args([
            "run",
            file.to_str().unwrap(),
            "--quiet",
            "--force",
            "--out",
            docs.to_str().unwrap(),
        ])
        .assert()
        .success();
    assert!(!docs.join("thesis.tex").exists());
    assert!(docs.join("report.json").exists());
}

#[test]
fn out_naming_a_file_is_refused_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let target = tmp.path().join("results.txt");
    fs::write(&target, "mine").unwrap();
    let file = write_doc(tmp.path(), &small(base("connect")));
    let before = snapshot(tmp.path());
    for extra in [vec![], vec!["--force"], vec!["--events"]] {
        cli()
            .args([
                "run",
                file.to_str().unwrap(),
                "--out",
                target.to_str().unwrap(),
            ])
            .args(extra)
            .assert()
            .code(2)
            .stderr(predicate::str::contains("is not a folder"));
        assert_eq!(snapshot(tmp.path()), before);
    }
}

#[test]
fn events_go_into_the_output_folder_and_are_published_with_it() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write_doc(tmp.path(), &small(base("connect")));
    let out = tmp.path().join("o");
    cli()
        .args([
            "run",
            file.to_str().unwrap(),
            "--quiet",
            "--events",
            "--out",
            out.to_str().unwrap(),
        ])
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
    cli()
        .args([
            "run",
            file.to_str().unwrap(),
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    assert!(!out.join("events.jsonl").exists());
}

#[test]
fn a_failed_write_leaves_the_old_output_intact_even_for_root() {
    let tmp = tempfile::tempdir().unwrap();
    // A folder name so long that the staging name beside it (".NAME.partial-PID") exceeds
    // the file system's limit: creating it fails for every user, root included.
    let out = tmp.path().join("o".repeat(250));
    let file = write_doc(tmp.path(), &small(base("connect")));
    fs::create_dir(&out).unwrap();
    fs::write(out.join("report.json"), "previous").unwrap();
    fs::write(
        out.join(".rollout-sim-manifest.json"),
        r#"{"tool": "rollout-sim", "files": ["report.json"]}"#,
    )
    .unwrap();
    let before = snapshot(tmp.path());
    cli()
        .args([
            "run",
            file.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("cannot write the reports"));
    assert_eq!(snapshot(tmp.path()), before, "old output intact, no debris");
}

#[test]
fn stale_staging_of_a_killed_run_is_cleaned_and_does_not_block() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write_doc(tmp.path(), &small(base("connect")));
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
    cli()
        .args([
            "run",
            file.to_str().unwrap(),
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
    let mut left: Vec<String> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    left.sort();
    assert_eq!(left, vec!["out", "scenario.json"]);
}

#[test]
fn concurrent_runs_into_one_folder_all_succeed_and_leave_one_whole_output() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write_doc(tmp.path(), &small(base("connect")));
    let out = tmp.path().join("out");
    let reference = tmp.path().join("reference");
    cli()
        .args([
            "run",
            file.to_str().unwrap(),
            "--quiet",
            "--out",
            reference.to_str().unwrap(),
        ])
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
    let tmp = tempfile::tempdir().unwrap();
    let file = write_doc(tmp.path(), &small(base("connect")));
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

#[test]
fn messages_name_the_field_once_and_the_flag() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = set(
        small(base("connect")),
        "maintenance.night",
        json!({"from": "01:00", "to": "03:00", "fromm": "x"}),
    );
    let file = write_doc(tmp.path(), &doc);
    cli()
        .args(["validate", file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("maintenance.night")
                .and(predicate::str::contains("fromm"))
                .and(predicate::str::contains("untagged").not()),
        );
    let doc = set(small(base("connect")), "maintenance.night", json!(5));
    let file = write_doc(tmp.path(), &doc);
    cli()
        .args(["validate", file.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("maintenance.night")
                .and(predicate::str::contains("a list of windows")),
        );
    let missing = tmp.path().join("nope.json");
    let o = cli()
        .args(["validate", missing.to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
    cli()
        .args([
            "run",
            "scenarios/forge-minor.json",
            "--set",
            "report.thresholds=[2]",
        ])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("forge-minor.json: report.thresholds[0]")
                .and(predicate::str::contains("--set report.thresholds=[2]")),
        );
}

#[test]
fn a_closed_stdout_is_a_quiet_exit_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let file = write_doc(tmp.path(), &small(base("connect")));
    for args in [
        vec![
            "run",
            file.to_str().unwrap(),
            "--out",
            tmp.path().join("o").to_str().unwrap(),
        ],
        vec!["presets"],
    ] {
        let mut child = Process::new(cargo_bin("rollout-sim"))
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stdout.take()); // like `| head -0`: the reader is gone
        let mut err = String::new();
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// One bad input: the scenario, and the field path the one-line error must name.
struct Bad {
    doc: Value,
    field: &'static str,
}

fn bad(path: &str, value: Value, field: &'static str) -> Bad {
    Bad {
        doc: set(small(base("connect")), path, value),
        field,
    }
}

fn bad_forge(path: &str, value: Value, field: &'static str) -> Bad {
    Bad {
        doc: set(small(base("forge")), path, value),
        field,
    }
}

fn segments(list: Value) -> Value {
    set(small(base("connect")), "population.segments", list)
}

fn with_admin(admin: Value) -> Value {
    set(small(base("connect")), "admins.x", admin)
}

fn admin(extra: Value) -> Value {
    let mut a = json!({"approve": 0.5, "reject": 0.1});
    for (k, v) in extra.as_object().unwrap() {
        a[k] = v.clone();
    }
    with_admin(a)
}

fn releases(list: Value) -> Value {
    set(small(base("connect")), "releases", list)
}

fn catalogue() -> Vec<Bad> {
    let seg = |extra: Value| {
        let mut s = json!({"name": "a", "share": 1.0});
        for (k, v) in extra.as_object().unwrap() {
            s[k] = v.clone();
        }
        segments(json!([s]))
    };
    let b = |doc: Value, field| Bad { doc, field };
    vec![
        bad("name", json!(""), "name"),
        bad("name", json!("/tmp/x"), "name"),
        bad("name", json!("../../x"), "name"),
        bad("name", json!(5), "name"),
        bad("platform", json!("aws"), "platform"),
        bad("platform", json!(5), "platform"),
        bad("start", json!("yesterday"), "start"),
        bad("start", json!("2026-13-01T00:00:00Z"), "start"),
        bad("horizon", json!("0h"), "horizon"),
        bad("horizon", json!("5x"), "horizon"),
        bad("horizon", json!("-5h"), "horizon"),
        bad("horizon", json!(5), "horizon"),
        bad("horizon", json!("99999999999w"), "horizon"),
        bad("seed", json!(-1), "seed"),
        bad("seed", json!("x"), "seed"),
        bad("seed", json!(1.5), "seed"),
        bad("replications", json!(0), "replications"),
        bad("replications", json!(4_294_967_296_u64), "replications"),
        bad("replications", json!(-3), "replications"),
        bad("initial_version", json!("1.4"), "initial_version"),
        bad("initial_version", json!("1.4.2.1"), "initial_version"),
        bad("initial_version", json!("a.b.c"), "initial_version"),
        bad(
            "initial_version",
            json!("1.4.4294967296"),
            "initial_version",
        ),
        bad("initial_version", json!("1.4.4294967295"), "releases[0]"),
        bad_forge("initial_version", json!("1.4.2"), "initial_version"),
        bad_forge("initial_api_version", json!(2), "initial_api_version"),
        bad("initial_licensing", json!("maybe"), "initial_licensing"),
        bad("colour", json!("blue"), "colour"),
        bad(
            "timing.descriptor_poll",
            json!("0h"),
            "timing.descriptor_poll",
        ),
        bad("timing.upm_poll", json!("0h"), "timing.upm_poll"),
        bad("timing.upm_poll", json!("abc"), "timing.upm_poll"),
        bad(
            "timing.slip_probability",
            json!(1.5),
            "timing.slip_probability",
        ),
        bad(
            "timing.slip_probability",
            json!(-0.1),
            "timing.slip_probability",
        ),
        bad(
            "timing.forge_detection",
            json!(["5m", "1m"]),
            "timing.forge_detection",
        ),
        bad(
            "timing.forge_propagation",
            json!(["1m"]),
            "timing.forge_propagation",
        ),
        bad(
            "timing.licensing_review",
            json!(["1d", "x"]),
            "timing.licensing_review[1]",
        ),
        bad("timing.speed", json!("1h"), "timing"),
        bad("population.instances", json!(0), "population.instances"),
        bad("population.instances", json!(-1), "population.instances"),
        bad(
            "population.instances",
            json!("many"),
            "population.instances",
        ),
        bad(
            "population.churn.installs_per_day",
            json!(-1),
            "population.churn.installs_per_day",
        ),
        bad(
            "population.churn.uninstall_rate_per_day",
            json!("x"),
            "population.churn.uninstall_rate_per_day",
        ),
        b(segments(json!([])), "population.segments"),
        b(seg(json!({"share": 1.5})), "population.segments[0].share"),
        b(
            segments(json!([{"name": "a", "share": 0.5}, {"name": "b", "share": 0.4}])),
            "population.segments[1].share",
        ),
        b(
            seg(json!({"timezones": {"Mars/Olympus": 1.0}})),
            "population.segments[0].timezones.Mars/Olympus",
        ),
        b(
            seg(json!({"timezones": {"UTC": 0.0}})),
            "population.segments[0].timezones.UTC",
        ),
        b(
            seg(json!({"timezones": {}})),
            "population.segments[0].timezones",
        ),
        b(
            seg(json!({"admin": "nobody"})),
            "population.segments[0].admin",
        ),
        b(
            seg(json!({"maintenance": "never"})),
            "population.segments[0].maintenance",
        ),
        b(
            seg(json!({"holidays": ["2026-02-30"]})),
            "population.segments[0].holidays[0]",
        ),
        b(seg(json!({"weight": 0})), "population.segments[0].weight"),
        b(seg(json!({"colour": "red"})), "population.segments[0]"),
        b(segments(json!([{"share": 1.0}])), "population.segments[0]"),
        b(
            with_admin(json!({"approve": 1.5, "reject": 0.0})),
            "admins.x.approve",
        ),
        b(
            with_admin(json!({"approve": 0.8, "reject": 0.3})),
            "admins.x.reject",
        ),
        b(
            admin(json!({"delay": {"weibull": {"shape": 1}}})),
            "admins.x.delay",
        ),
        b(
            admin(json!({"delay": {"lognormal": {"median": "1d", "sigma": -1.0}}})),
            "admins.x.delay.lognormal.sigma",
        ),
        b(
            admin(json!({"delay": {"exponential": {"mean": "0h"}}})),
            "admins.x.delay.exponential.mean",
        ),
        b(
            admin(json!({"delay": {"uniform": ["2h", "1h"]}})),
            "admins.x.delay.uniform",
        ),
        b(
            admin(json!({"delay": {"empirical": []}})),
            "admins.x.delay.empirical",
        ),
        b(
            admin(json!({"delay": {"empirical": [["1h", 0.5]]}})),
            "admins.x.delay.empirical[0]",
        ),
        b(
            admin(json!({"delay": {"empirical": [["2h", 0.5], ["1h", 1.0]]}})),
            "admins.x.delay.empirical[1]",
        ),
        b(admin(json!({"on_reject": "explode"})), "admins.x.on_reject"),
        b(
            admin(json!({"working_hours": {"from": "25:00", "to": "17:00"}})),
            "admins.x.working_hours.from",
        ),
        b(
            admin(json!({"working_hours": {"from": "17:00", "to": "09:00"}})),
            "admins.x.working_hours.to",
        ),
        b(
            admin(json!({"working_hours": {"days": "someday", "from": "09:00", "to": "17:00"}})),
            "admins.x.working_hours.days",
        ),
        b(
            admin(
                json!({"reminders": ["1d", "2d", "3d", "4d", "5d", "6d", "7d", "8d"], "reminder_response": 0.5}),
            ),
            "admins.x.reminders",
        ),
        b(
            admin(json!({"reminders": ["2d", "1d"], "reminder_response": 0.5})),
            "admins.x.reminders",
        ),
        b(
            admin(json!({"reminders": ["2d"]})),
            "admins.x.reminder_response",
        ),
        b(
            admin(json!({"reminders": ["2d"], "reminder_response": 2})),
            "admins.x.reminder_response",
        ),
        bad(
            "maintenance.night",
            json!({"from": "1am", "to": "03:00"}),
            "maintenance.night.from",
        ),
        bad(
            "maintenance.night",
            json!({"from": "01:00", "to": "03:00", "zone": "Nowhere"}),
            "maintenance.night.zone",
        ),
        bad(
            "maintenance.night",
            json!([{"from": "01:00", "to": "03:00", "extra": 1}]),
            "maintenance.night[0]",
        ),
        bad("maintenance.night", json!(5), "maintenance.night"),
        bad(
            "maintenance.night",
            json!({"days": 7, "from": "01:00", "to": "03:00"}),
            "maintenance.night.days",
        ),
        b(releases(json!([])), "releases"),
        b(
            releases(json!([{"at": "tomorrow", "changes": ["other"]}])),
            "releases[0].at",
        ),
        b(
            releases(json!([{"at": "11d", "changes": ["other"]}])),
            "releases[0].at",
        ),
        b(
            releases(
                json!([{"at": "2d", "changes": ["other"]}, {"at": "1d", "changes": ["other"]}]),
            ),
            "releases[1].at",
        ),
        b(
            releases(json!([{"at": "1d", "changes": ["magic"]}])),
            "releases[0].changes[0]",
        ),
        b(
            releases(json!([{"at": "1d", "changes": ["other"], "scopes": ["read"]}])),
            "releases[0].changes",
        ),
        b(
            releases(json!([{"at": "1d", "changes": ["other"], "line": 1}])),
            "releases[0].line",
        ),
        b(
            releases(json!([{"at": "1d", "scopes": []}])),
            "releases[0].scopes",
        ),
        b(
            releases(json!([{"at": "1d", "when": "now"}])),
            "releases[0]",
        ),
        bad_forge(
            "releases",
            json!([{"at": "1d", "api_version": 3}]),
            "releases[0].api_version",
        ),
        bad(
            "policy.drop_old_support_after",
            json!("x"),
            "policy.drop_old_support_after",
        ),
        bad("policy.cutoff_at", json!("soon"), "policy.cutoff_at"),
        bad(
            "policy.cutoff_action",
            json!("maybe"),
            "policy.cutoff_action",
        ),
        bad(
            "policy.bulk_upgrade",
            json!({"at": "1d", "requests_per_hour": 1}),
            "policy.bulk_upgrade",
        ),
        bad("report.thresholds", json!([]), "report.thresholds"),
        bad(
            "report.thresholds",
            json!([0.9, 0.5]),
            "report.thresholds[1]",
        ),
        bad("report.thresholds", json!([1.5]), "report.thresholds[0]"),
        bad("report.sample_every", json!("0h"), "report.sample_every"),
        bad(
            "report.coexistence_tolerance",
            json!(2),
            "report.coexistence_tolerance",
        ),
        bad(
            "report.compat_window_quantile",
            json!(0),
            "report.compat_window_quantile",
        ),
        // Segment names: unique, not empty, printable (they are printed and fit by name).
        b(
            segments(json!([{"name": "eu", "share": 0.5}, {"name": "eu", "share": 0.5}])),
            "population.segments[1].name",
        ),
        b(
            segments(json!([{"name": "", "share": 1.0}])),
            "population.segments[0].name",
        ),
        b(
            segments(json!([{"name": "  ", "share": 1.0}])),
            "population.segments[0].name",
        ),
        b(
            segments(json!([{"name": "eu\u{1b}[31m", "share": 1.0}])),
            "population.segments[0].name",
        ),
        b(
            segments(json!([{"name": "a\u{7}", "share": 1.0}])),
            "population.segments[0].name",
        ),
        b(
            segments(json!([{"name": "x".repeat(201), "share": 1.0}])),
            "population.segments[0].name",
        ),
        // Release labels, profile and calendar names: printable text.
        b(
            releases(json!([{"at": "0h", "changes": ["other"], "label": "fix\r\u{1b}[2K"}])),
            "releases[0].label",
        ),
        b(
            releases(json!([{"at": "0h", "changes": ["other"], "label": ""}])),
            "releases[0].label",
        ),
        b(
            set(
                small(base("connect")),
                "admins",
                json!({"a\u{1b}b": {"approve": 0.5, "reject": 0.1}}),
            ),
            "admins.a\\u{1b}b",
        ),
        b(
            set(
                small(base("connect")),
                "maintenance",
                json!({"w\nx": {"from": "01:00", "to": "02:00"}}),
            ),
            "maintenance.w\\nx",
        ),
        // An expectation bound of the wrong type names the field and the accepted forms.
        b(
            set(
                small(base("connect")),
                "expect",
                json!([{"figure": "coexistence", "max": true}]),
            ),
            "expect[0].max",
        ),
        b(
            set(
                small(base("connect")),
                "expect",
                json!([{"figure": "coexistence", "min": [1]}]),
            ),
            "expect[0].min",
        ),
    ]
}

#[test]
fn bad_input_catalogue_exit_2_one_line_and_nothing_touched() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let good = write_doc(tmp.path(), &small(base("connect")));
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
    let before = snapshot(tmp.path());
    let cases = catalogue();
    assert!(cases.len() >= 90, "{} cases", cases.len());
    let file = tmp.path().join("bad.json");
    let mut texts: Vec<(String, &str)> = cases
        .iter()
        .map(|c| (serde_json::to_string_pretty(&c.doc).unwrap(), c.field))
        .collect();
    // Text-level cases: a duplicate key, broken JSON.
    let valid = serde_json::to_string_pretty(&small(base("connect"))).unwrap();
    texts.push((
        valid.replacen("\"seed\": 42,", "\"seed\": 42,\n  \"seed\": 43,", 1),
        "duplicate key",
    ));
    texts.push((valid.replacen("\"seed\": 42,", "\"seed\": 42", 1), "line"));
    texts.push((String::new(), "line 1"));
    texts.push(("[1, 2]".into(), "(top level)"));
    for (text, field) in &texts {
        fs::write(&file, text).unwrap();
        let o = cli()
            .args([
                "run",
                file.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{field}: {err}");
        assert!(o.stdout.is_empty());
        let lines: Vec<&str> = err.lines().collect();
        assert_eq!(lines.len(), 1, "one line: {err}");
        assert!(
            lines[0].contains(&format!("bad.json: {field}"))
                || lines[0].contains(field) && lines[0].contains("bad.json"),
            "expected bad.json and {field:?} in: {err}"
        );
        fs::remove_file(&file).unwrap();
        assert_eq!(
            snapshot(tmp.path()),
            before,
            "{field}: the output folder is unchanged"
        );
    }
}
