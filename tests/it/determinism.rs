//! Same scenario and seed: byte-identical outputs for any thread count, chunking or shard
//! split (MODEL.md section 6, fact 6), and common random numbers across policies.

use std::fs;
use std::path::Path;

use crate::common::*;
use assert_cmd::Command;
use rollout_sim::export::{self as output, standard_exporters};
use rollout_sim::montecarlo;
use rollout_sim::report::RunReport;
use serde_json::json;

fn run_cli(scenario: &Path, out: &Path, threads: &str) {
    Command::cargo_bin("rollout-sim")
        .unwrap()
        .args([
            "run",
            scenario.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--threads",
            threads,
            "--quiet",
        ])
        .assert()
        .success();
}

fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    tree(dir).into_iter().collect()
}

/// The files the guide's "Reports" section documents, one ``### `name` `` heading each.
fn documented_run_files() -> Vec<String> {
    let readme = fs::read_to_string("GUIDE.md").unwrap();
    let start = readme.find("\n## Reports").expect("a Reports section");
    let section = &readme[start + 1..];
    let end = section[3..].find("\n## ").map_or(section.len(), |i| i + 3);
    let files: Vec<String> = section[..end]
        .lines()
        .filter_map(|l| l.strip_prefix("### `")?.strip_suffix('`'))
        .map(|name| name.trim_end_matches('/').to_string())
        .collect();
    assert!(files.len() >= 4, "{files:?}");
    files
}

#[test]
fn outputs_are_identical_for_1_2_and_4_threads() {
    let tmp = tempfile::tempdir().unwrap();
    // More instances than one chunk, so chunks of one replication run on several threads.
    let mut doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string("scenarios/connect-scope-change.json").unwrap())
            .unwrap();
    doc["population"]["instances"] = json!(70_000);
    doc["replications"] = json!(6);
    let path = tmp.path().join("s.json");
    fs::write(&path, doc.to_string()).unwrap();
    let outs: Vec<_> = ["1", "2", "4"]
        .iter()
        .map(|t| {
            let out = tmp.path().join(format!("out-{t}"));
            run_cli(&path, &out, t);
            files(&out)
        })
        .collect();
    let mut names: Vec<&str> = outs[0]
        .iter()
        .map(|(n, _)| n.split('/').next().unwrap())
        .collect();
    names.dedup();
    let mut expected = documented_run_files();
    expected.push(".rollout-sim-manifest.json".into());
    expected.sort();
    assert_eq!(
        names, expected,
        "a run writes exactly the files the guide documents"
    );
    assert_eq!(outs[0], outs[1]);
    assert_eq!(outs[0], outs[2]);
}

#[test]
fn repeated_runs_are_identical() {
    let tmp = tempfile::tempdir().unwrap();
    let path = Path::new("scenarios/forge-major-paid.json");
    run_cli(path, &tmp.path().join("a"), "2");
    run_cli(path, &tmp.path().join("b"), "2");
    assert_eq!(files(&tmp.path().join("a")), files(&tmp.path().join("b")));
}

fn render_all(s: &rollout_sim::scenario::Scenario, out: &montecarlo::RunOutput) -> Vec<String> {
    let report = RunReport::build(s, out, None);
    standard_exporters()
        .iter()
        .map(|e| output::render(e.as_ref(), &report).unwrap())
        .collect()
}

#[test]
fn a_run_split_into_shards_and_merged_equals_the_whole() {
    let doc = set(
        base("connect"),
        "releases",
        json!([{"at": "0h", "changes": ["other"]}, {"at": "2d", "changes": ["scopes"]}]),
    );
    let s = scenario(&doc);
    let whole = montecarlo::run(&s, &());
    let shards = [0..7u64, 7..8, 8..20];
    let merged = shards
        .iter()
        .rev()
        .map(|r| montecarlo::run_range(&s, r.clone(), &()))
        .reduce(rollout_sim::montecarlo::RunOutput::merge)
        .unwrap();
    assert_eq!(render_all(&s, &whole), render_all(&s, &merged));
}

#[test]
fn a_policy_change_does_not_move_other_draws() {
    // Two scenarios differing only in the drop-support date see the same instances:
    // every per-replication figure other than left-behind is identical.
    let doc = base("connect");
    let a = scenario(&set(
        doc.clone(),
        "policy",
        json!({"drop_old_support_after": "1d"}),
    ));
    let b = scenario(&set(doc, "policy", json!({"drop_old_support_after": "2d"})));
    let (ra, rb) = (montecarlo::run(&a, &()), montecarlo::run(&b, &()));
    for (x, y) in ra.replications.iter().zip(&rb.replications) {
        assert_eq!(x.releases[0].coexistence, y.releases[0].coexistence);
        assert_eq!(x.releases[0].time_to_share, y.releases[0].time_to_share);
    }
    assert_eq!(ra.mix, rb.mix);
    // An instance's draws do not depend on how many instances there are.
    let small = scenario(&set(base("connect"), "population.instances", json!(10)));
    let large = scenario(&set(base("connect"), "population.instances", json!(500)));
    let (_, ls) = lives(&small, 3);
    let (_, ll) = lives(&large, 3);
    assert_eq!(ls[..], ll[..10]);
}
