//! What the answers say: the cut-off's verdict counts the instances it broke, and the
//! tables show the scenario's own thresholds.

use crate::common::*;
use serde_json::json;
use std::fs;

#[test]
fn the_verdict_of_a_cutoff_counts_the_instances_it_broke() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = scope_change("connect");
    let doc = set(
        doc,
        "admins",
        json!({"default": {"approve": 0.6, "reject": 0.0, "delay": {"fixed": "1d"}}}),
    );
    let doc = set(set(doc, "horizon", json!("20d")), "replications", json!(10));
    let doc = set(doc, "policy", json!({"cutoff_at": "15d"}));
    let path = tmp.path().join("cutoff.json");
    fs::write(&path, doc.to_string()).unwrap();
    let out = tmp.path().join("out");
    cli()
        .arg("run")
        .arg(&path)
        .arg("--out")
        .arg(&out)
        .arg("-q")
        .assert()
        .success();
    let report: serde_json::Value =
        serde_json::from_slice(&fs::read(out.join("report.json")).unwrap()).unwrap();
    let broke = report["cutoff"]["affected"]["mean"].as_f64().unwrap();
    assert!(broke > 0.0);
    let md = fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        md.contains(&format!(
            "The cut-off at 15.0 days (versions below 1.5.0) broke {broke:.0} instances"
        )),
        "{md}"
    );
}

/// The tables show the scenario's own thresholds, not a fixed 50/90/99 (#26 point 5).
#[test]
fn the_tables_show_the_scenarios_thresholds() {
    let tmp = tempfile::tempdir().unwrap();
    let doc = crate::common::set(
        crate::common::set(
            crate::common::base("connect"),
            "report.thresholds",
            serde_json::json!([0.8, 0.95]),
        ),
        "replications",
        serde_json::json!(5),
    );
    let file = tmp.path().join("s.json");
    fs::write(&file, doc.to_string()).unwrap();
    let out = tmp.path().join("out");
    let table = cli()
        .arg("run")
        .arg(&file)
        .arg("--out")
        .arg(&out)
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(table).unwrap();
    let md = fs::read_to_string(out.join("summary.md")).unwrap();
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    for (what, text) in [
        ("table", &table),
        ("summary.md", &md),
        ("report.html", &html),
    ] {
        assert!(
            text.contains("to 80%") && text.contains("to 95%"),
            "{what}: {text}"
        );
        assert!(
            !text.contains("to 50%") && !text.contains("to 99%"),
            "{what}: {text}"
        );
    }
    // One cell per threshold in every row: header and rows of summary.md line up.
    let cells = |l: &str| l.matches(" | ").count();
    let rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| ")).collect();
    assert!(rows.len() >= 2);
    assert!(rows.iter().all(|r| cells(r) == cells(rows[0])), "{md}");
}
