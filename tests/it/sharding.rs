//! Beyond one machine: `run --shard` and `sweep --shard` part files, merged by `merge`,
//! are byte-identical to the unsharded command; and every set of parts that is not one
//! whole job is refused with exit 2, writing nothing.

use crate::common::cli;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use assert_cmd::cargo::cargo_bin;
use predicates::prelude::*;

/// Churn, two weighted segments with admins, working hours and holidays, four releases.
const SCENARIO: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/scenarios/connect-release-train.json"
);
const RUN_ARGS: &[&str] = &["--replications", "10", "--instances", "150"];
const SWEEP_ARGS: &[&str] = &[
    "--replications",
    "3",
    "--instances",
    "100",
    "--set",
    "admins.office.approve=0.4,0.9",
    "--set",
    "timing.upm_poll=12h,24h",
];

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    crate::common::tree(dir)
}

fn unsharded(command: &str, args: &[&str], out: &Path) {
    cli()
        .args([command, SCENARIO])
        .args(args)
        .arg("--out")
        .arg(out)
        .arg("-q")
        .assert()
        .success();
}

fn shard(command: &str, args: &[&str], spec: &str, parts: &Path) {
    cli()
        .args([command, SCENARIO])
        .args(args)
        .args(["--shard", spec, "--out"])
        .arg(parts)
        .arg("-q")
        .assert()
        .success();
}

fn shards(command: &str, args: &[&str], n: u64, parts: &Path) {
    for i in 0..n {
        shard(command, args, &format!("{i}/{n}"), parts);
    }
}

fn merge(parts: &[&Path], out: &Path) -> assert_cmd::assert::Assert {
    cli()
        .arg("merge")
        .args(parts)
        .arg("--out")
        .arg(out)
        .arg("-q")
        .assert()
}

#[test]
fn a_run_in_1_3_or_7_shards_merges_to_exactly_the_unsharded_run() {
    let tmp = tempfile::tempdir().unwrap();
    let single = tmp.path().join("single");
    unsharded("run", RUN_ARGS, &single);
    for n in [1, 3, 7] {
        let parts = tmp.path().join(format!("parts-{n}"));
        shards("run", RUN_ARGS, n, &parts);
        assert_eq!(files(&parts).len() as u64, n);
        let merged = tmp.path().join(format!("merged-{n}"));
        merge(&[&parts], &merged).success();
        assert_eq!(files(&single), files(&merged), "{n} shards");
    }
    // `--format json` prints the merged report.json.
    let printed = cli()
        .args(["merge", "--format", "json", "--out"])
        .arg(tmp.path().join("printed"))
        .arg(tmp.path().join("parts-3"))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    assert_eq!(printed, fs::read(single.join("report.json")).unwrap());
}

/// Past 1,000 replications the version mix is pooled (MixOverReplications): the bands
/// must still not depend on the thread count or on a split whose shards are pooled,
/// whole, or both.
#[test]
fn a_pooled_version_mix_is_the_same_for_any_threads_and_shard_split() {
    let tmp = tempfile::tempdir().unwrap();
    let args: &[&str] = &["--replications", "1400", "--instances", "60"];
    let single = tmp.path().join("single");
    unsharded("run", &[args, &["--threads", "1"]].concat(), &single);
    let two = tmp.path().join("two");
    unsharded("run", &[args, &["--threads", "2"]].concat(), &two);
    assert_eq!(files(&single), files(&two), "1 and 2 threads");
    // One shard pools its 1,400 replications in the part itself; two keep 700 each
    // whole and the merge pools them; five keep 280 each whole.
    for (n, form) in [(1, "\"pooled\""), (2, "\"exact\""), (5, "\"exact\"")] {
        let parts = tmp.path().join(format!("parts-{n}"));
        shards("run", args, n, &parts);
        let part = fs::read_to_string(parts.join(format!("part-0-of-{n}.jsonl"))).unwrap();
        assert!(part.contains(form), "{n} shards store the mix {form}");
        let merged = tmp.path().join(format!("merged-{n}"));
        merge(&[&parts], &merged).success();
        assert_eq!(files(&single), files(&merged), "{n} shards");
    }
}

#[test]
fn a_sweep_in_1_3_or_7_shards_merges_to_exactly_the_unsharded_sweep() {
    let tmp = tempfile::tempdir().unwrap();
    let single = tmp.path().join("single");
    unsharded("sweep", SWEEP_ARGS, &single);
    // 4 grid points x 3 replications: 7 shards split grid points between tasks.
    for n in [1, 3, 7] {
        let parts = tmp.path().join(format!("parts-{n}"));
        shards("sweep", SWEEP_ARGS, n, &parts);
        let merged = tmp.path().join(format!("merged-{n}"));
        // Parts given as files, in any order.
        let mut paths: Vec<PathBuf> = files(&parts).keys().map(|k| parts.join(k)).collect();
        paths.reverse();
        let refs: Vec<&Path> = paths.iter().map(PathBuf::as_path).collect();
        merge(&refs, &merged).success();
        assert_eq!(files(&single), files(&merged), "{n} shards");
        // A sweep reports no version mix, so its parts carry only the count.
        let part = fs::read_to_string(&paths[0]).unwrap();
        assert!(part.contains("\"skipped\"") && !part.contains("\"exact\""));
    }
}

#[test]
fn part_files_do_not_depend_on_the_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    for threads in ["1", "2"] {
        let mut args = RUN_ARGS.to_vec();
        args.extend(["--threads", threads]);
        shard("run", &args, "1/3", &tmp.path().join(threads));
    }
    assert_eq!(files(&tmp.path().join("1")), files(&tmp.path().join("2")));
}

#[test]
fn shards_started_at_once_share_one_parts_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let parts = tmp.path().join("a/b/parts");
    let children: Vec<_> = (0..4)
        .map(|i| {
            Process::new(cargo_bin("rollout-sim"))
                .args(["run", SCENARIO])
                .args(RUN_ARGS)
                .args(["--shard", &format!("{i}/4"), "--out"])
                .arg(&parts)
                .arg("-q")
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let names: Vec<String> = files(&parts).into_keys().collect();
    assert_eq!(
        names,
        [
            "part-0-of-4.jsonl",
            "part-1-of-4.jsonl",
            "part-2-of-4.jsonl",
            "part-3-of-4.jsonl"
        ]
    );
    let merged = tmp.path().join("merged");
    merge(&[&parts], &merged).success();
    let single = tmp.path().join("single");
    unsharded("run", RUN_ARGS, &single);
    assert_eq!(files(&single), files(&merged));
}

#[test]
fn a_part_replaces_only_its_own_earlier_part_file() {
    let tmp = tempfile::tempdir().unwrap();
    let parts = tmp.path().join("parts");
    fs::create_dir(&parts).unwrap();
    let squatter = parts.join("part-0-of-2.jsonl");
    fs::write(&squatter, "my notes").unwrap();
    cli()
        .args(["run", SCENARIO])
        .args(RUN_ARGS)
        .args(["--shard", "0/2", "--out"])
        .arg(&parts)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did not write"));
    assert_eq!(fs::read(&squatter).unwrap(), b"my notes");
    assert_eq!(files(&parts).len(), 1, "no staging debris");
    // An earlier part of its own is replaced, with the same bytes.
    fs::remove_file(&squatter).unwrap();
    shard("run", RUN_ARGS, "0/2", &parts);
    let first = files(&parts);
    shard("run", RUN_ARGS, "0/2", &parts);
    assert_eq!(files(&parts), first);
    // A file that starts like a part but whose payload was changed is not proof of
    // ours: it is refused and kept (the checksum in its header no longer holds).
    let ours = fs::read_to_string(&squatter).unwrap();
    let (header, payload) = ours.split_once('\n').unwrap();
    let edited = format!("{header}\n{}", payload.replacen('1', "2", 1));
    fs::write(&squatter, &edited).unwrap();
    cli()
        .args(["run", SCENARIO])
        .args(RUN_ARGS)
        .args(["--shard", "0/2", "--out"])
        .arg(&parts)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("did not write"));
    assert_eq!(fs::read_to_string(&squatter).unwrap(), edited);
}

/// Parts of a 3-shard run, for the refusals to tamper with.
fn three_parts(dir: &Path) -> Vec<PathBuf> {
    shards("run", RUN_ARGS, 3, dir);
    (0..3)
        .map(|i| dir.join(format!("part-{i}-of-3.jsonl")))
        .collect()
}

/// `merge` of `parts` exits 2 with `message` and writes no output folder.
fn refused(parts: &[&Path], message: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("merged");
    merge(parts, &out)
        .code(2)
        .stderr(predicate::str::contains(message));
    assert!(!out.exists(), "nothing written for {message:?}");
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0, "no debris");
}

#[test]
fn parts_of_different_scenarios_seeds_settings_or_shard_counts_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let p = three_parts(&tmp.path().join("base"));
    // Another scenario.
    let other = tmp.path().join("other");
    cli()
        .args([
            "run",
            &format!(
                "{}/scenarios/connect-micro.json",
                env!("CARGO_MANIFEST_DIR")
            ),
        ])
        .args(RUN_ARGS)
        .args(["--shard", "1/3", "--out"])
        .arg(&other)
        .arg("-q")
        .assert()
        .success();
    refused(
        &[&p[0], &other.join("part-1-of-3.jsonl"), &p[2]],
        "different scenarios",
    );
    // Another seed.
    let seeded = tmp.path().join("seeded");
    let mut args = RUN_ARGS.to_vec();
    args.extend(["--seed", "99"]);
    shard("run", &args, "1/3", &seeded);
    refused(
        &[&p[0], &seeded.join("part-1-of-3.jsonl"), &p[2]],
        "different seeds",
    );
    // Other settings.
    let sized = tmp.path().join("sized");
    shard(
        "run",
        &["--replications", "10", "--instances", "151"],
        "1/3",
        &sized,
    );
    refused(
        &[&p[0], &sized.join("part-1-of-3.jsonl"), &p[2]],
        "different settings",
    );
    // Another shard count.
    let halves = tmp.path().join("halves");
    shard("run", RUN_ARGS, "1/2", &halves);
    refused(
        &[&p[0], &halves.join("part-1-of-2.jsonl"), &p[2]],
        "different shard counts",
    );
}

#[test]
fn a_missing_or_repeated_shard_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let p = three_parts(&tmp.path().join("parts"));
    refused(
        &[&p[0], &p[2]],
        "1 of 3 shards are missing, among them part-1-of-3.jsonl",
    );
    let copy = tmp.path().join("copy.jsonl");
    fs::copy(&p[1], &copy).unwrap();
    refused(&[&p[0], &p[1], &copy, &p[2]], "shard 1 of 3 is given twice");
    refused(
        &[&tmp.path().join("empty-folder-that-is-missing")],
        "cannot read the part",
    );
}

#[test]
fn a_part_of_another_tool_version_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let p = three_parts(&tmp.path().join("parts"));
    let text = fs::read_to_string(&p[1]).unwrap();
    let version = format!("\"tool_version\":\"{}\"", env!("CARGO_PKG_VERSION"));
    assert!(text.contains(&version));
    fs::write(
        &p[1],
        text.replacen(&version, "\"tool_version\":\"0.0.1-other\"", 1),
    )
    .unwrap();
    refused(&[&p[0], &p[1], &p[2]], "different tool versions");
}

#[test]
fn a_corrupt_or_truncated_part_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let p = three_parts(&tmp.path().join("parts"));
    let bytes = fs::read(&p[1]).unwrap();
    // One digit of the payload changed: still valid JSON, caught by the checksum.
    let header_end = bytes.iter().position(|b| *b == b'\n').unwrap();
    let at = header_end
        + bytes[header_end..]
            .iter()
            .position(u8::is_ascii_digit)
            .unwrap();
    let mut flipped = bytes.clone();
    flipped[at] = if flipped[at] == b'7' { b'8' } else { b'7' };
    fs::write(&p[1], &flipped).unwrap();
    refused(&[&p[0], &p[1], &p[2]], "is corrupt");
    // One digit of the last grid point's line: caught by the checksum after reading it.
    let at = bytes.iter().rposition(u8::is_ascii_digit).unwrap();
    let mut flipped = bytes.clone();
    flipped[at] = if flipped[at] == b'7' { b'8' } else { b'7' };
    fs::write(&p[1], &flipped).unwrap();
    refused(&[&p[0], &p[1], &p[2]], "does not match its SHA-256");
    // Cut short.
    fs::write(&p[1], &bytes[..bytes.len() / 2]).unwrap();
    refused(&[&p[0], &p[1], &p[2]], "is truncated");
    // A header naming a shard that is not one (found by fuzzing: a count of 0 divided
    // by zero), with its payload intact.
    let text = String::from_utf8(bytes.clone()).unwrap();
    for (from, to) in [
        ("\"count\":3", "\"count\":0"),
        ("\"index\":1", "\"index\":18446744073709551615"),
    ] {
        assert!(text.contains(from), "{from}");
        fs::write(&p[1], text.replacen(from, to, 1)).unwrap();
        refused(&[&p[0], &p[1], &p[2]], "which is not a shard");
    }
    // Not a part at all.
    fs::write(&p[1], "hello\n").unwrap();
    refused(&[&p[0], &p[1], &p[2]], "is not a part file");
    // An empty folder.
    let empty = tmp.path().join("empty");
    fs::create_dir(&empty).unwrap();
    refused(&[&empty], "holds no part files");
}

#[test]
fn what_cannot_be_sharded_is_refused_before_any_work() {
    let tmp = tempfile::tempdir().unwrap();
    let parts = tmp.path().join("parts");
    for (command, extra, message) in [
        ("run", vec!["--precision", "1h"], "--precision"),
        ("run", vec!["--events"], "--events"),
        (
            "sweep",
            vec!["--set", "timing.upm_poll=12h,24h", "--precision", "1h"],
            "--precision",
        ),
    ] {
        cli()
            .args([command, SCENARIO])
            .args(RUN_ARGS)
            .args(&extra)
            .args(["--shard", "0/2", "--out"])
            .arg(&parts)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(format!(
                "--shard cannot be combined with {message}"
            )));
        assert!(!parts.exists());
    }
}

#[test]
fn batch_system_shards_name_a_missing_or_inconsistent_variable() {
    let tmp = tempfile::tempdir().unwrap();
    let parts = tmp.path().join("parts");
    let attempt = |spec: &str, vars: &[(&str, &str)]| {
        let mut c = cli();
        c.args(["run", SCENARIO])
            .args(RUN_ARGS)
            .args(["--shard", spec, "--out"])
            .arg(&parts)
            .arg("-q");
        for v in [
            "SLURM_ARRAY_TASK_ID",
            "SLURM_ARRAY_TASK_MIN",
            "SLURM_ARRAY_TASK_COUNT",
            "SLURM_ARRAY_TASK_STEP",
            "JOB_COMPLETION_INDEX",
        ] {
            c.env_remove(v);
        }
        c.envs(vars.iter().copied());
        c.assert()
    };
    attempt("slurm", &[])
        .code(2)
        .stderr(predicate::str::contains("SLURM_ARRAY_TASK_ID is not set"));
    attempt(
        "slurm",
        &[
            ("SLURM_ARRAY_TASK_ID", "5"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ],
    )
    .code(2)
    .stderr(predicate::str::contains("SLURM_ARRAY_TASK_ID=5"));
    attempt("indexed:3", &[])
        .code(2)
        .stderr(predicate::str::contains("JOB_COMPLETION_INDEX is not set"));
    attempt("indexed:3", &[("JOB_COMPLETION_INDEX", "x")])
        .code(2)
        .stderr(predicate::str::contains("JOB_COMPLETION_INDEX=\"x\""));
    attempt("3/3", &[])
        .code(2)
        .stderr(predicate::str::contains("expected I/N"));
    assert!(!parts.exists());
    // The same shard, named three ways, writes the same part.
    attempt(
        "slurm",
        &[
            ("SLURM_ARRAY_TASK_ID", "11"),
            ("SLURM_ARRAY_TASK_MIN", "10"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
        ],
    )
    .success();
    let by_slurm = files(&parts);
    fs::remove_dir_all(&parts).unwrap();
    attempt("indexed:3", &[("JOB_COMPLETION_INDEX", "1")]).success();
    assert_eq!(files(&parts), by_slurm);
    fs::remove_dir_all(&parts).unwrap();
    attempt("1/3", &[]).success();
    assert_eq!(files(&parts), by_slurm);
}

#[test]
fn merge_prints_what_the_unsharded_command_prints() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let printed = |c: &mut Command| c.assert().success().get_output().stdout.clone();
    let single = printed(
        cli()
            .args(["run", SCENARIO])
            .args(RUN_ARGS)
            .arg("--out")
            .arg(&out),
    );
    let parts = tmp.path().join("parts");
    shards("run", RUN_ARGS, 3, &parts);
    // The same --out, so that even the closing "full results: DIR" line matches.
    let merged = printed(cli().arg("merge").arg(&parts).arg("--out").arg(&out));
    assert_eq!(
        String::from_utf8(merged).unwrap(),
        String::from_utf8(single).unwrap()
    );
    // A sweep has no Markdown summary: refused before anything is written.
    let sweep_parts = tmp.path().join("sweep-parts");
    shards("sweep", SWEEP_ARGS, 2, &sweep_parts);
    let target = tmp.path().join("sweep");
    cli()
        .arg("merge")
        .arg(&sweep_parts)
        .args(["--format", "markdown", "--out"])
        .arg(&target)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--format markdown is for runs"));
    assert!(!target.exists());
}

/// Shards held in memory (the live page's Web Workers, one per core): the part lines of
/// any split, merged in shard order, give the unsplit run's `report.json` byte for
/// byte; a missing, repeated or reordered shard, or a line that is not a part, is
/// refused.
#[test]
fn shards_in_memory_merge_into_the_unsplit_run_and_a_wrong_set_is_refused() {
    use rollout_sim::export::{Exporter, JsonReport};
    use rollout_sim::report::RunReport;
    use rollout_sim::scenario::{self, Overrides};
    use rollout_sim::shard::{Shard, merge_shard_lines, shard_line};
    let overrides = Overrides {
        replications: Some(7),
        instances: Some(150),
        ..Overrides::default()
    };
    let scenario = scenario::load(Path::new(SCENARIO), &overrides).unwrap();
    let report = |output: &rollout_sim::montecarlo::RunOutput| {
        let mut json = Vec::new();
        JsonReport
            .write(&RunReport::build(&scenario, output, None), &mut json)
            .unwrap();
        String::from_utf8(json).unwrap()
    };
    let whole = report(&rollout_sim::montecarlo::run(&scenario, &()));
    let lines = |count: u64| -> Vec<String> {
        (0..count)
            .map(|index| shard_line(&scenario, Shard { index, count }))
            .collect()
    };
    // Every split, including more shards than replications (some shards empty).
    for count in [1, 2, 3, 7, 9] {
        let merged = merge_shard_lines(&scenario, &lines(count)).unwrap();
        assert_eq!(report(&merged), whole, "{count} shards");
    }
    let three = lines(3);
    let wrong: [Vec<String>; 4] = [
        vec![three[0].clone(), three[2].clone()],
        vec![
            three[0].clone(),
            three[1].clone(),
            three[1].clone(),
            three[2].clone(),
        ],
        vec![three[1].clone(), three[0].clone(), three[2].clone()],
        vec![three[0].clone(), "{}".into(), three[2].clone()],
    ];
    for set in wrong {
        assert!(merge_shard_lines(&scenario, &set).is_err());
    }
}
