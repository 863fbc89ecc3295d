//! Decisions: common random numbers, paired comparison, sweeps, precision mode
//! and the recommended compatibility window's confidence interval.

use crate::planner_answers::{censored_against_finished, compare_cli, entry, read_json, write};
use std::fs;
use std::path::Path;

use crate::common::*;
use assert_cmd::Command;
use rollout_sim::compare::{compare, pairings};
use rollout_sim::model::FigureRef;
use rollout_sim::montecarlo::{self, PrecisionTarget, ci_half_width};
use rollout_sim::scenario::{self, Overrides};
use rollout_sim::stats::quantile_ci;
use serde_json::{Value, json};
use statrs::distribution::{Binomial, DiscreteCDF};

#[test]
fn a_policy_that_cannot_affect_a_release_gives_exactly_zero_difference() {
    // Release 0 (automatic) is everywhere within 33 h; release 1 (scopes) comes at 3 days.
    // The two scenarios differ only in how admins treat approval requests.
    let doc = set(
        base("connect"),
        "releases",
        json!([{"at": "0h", "changes": ["other"]}, {"at": "3d", "changes": ["scopes"]}]),
    );
    let a = scenario(&set(
        doc.clone(),
        "admins",
        json!({"default": {"approve": 0.6, "reject": 0.1}}),
    ));
    let b = scenario(&set(
        doc,
        "admins",
        json!({"default": {"approve": 0.95, "reject": 0.0}}),
    ));
    let runs = vec![
        (a.clone(), montecarlo::run(&a, &())),
        (b.clone(), montecarlo::run(&b, &())),
    ];
    let entries = compare(&runs, pairings(&[a, b], &[]).unwrap()).entries;
    let release0: Vec<_> = entries.iter().filter(|e| e.release == 0).collect();
    assert!(!release0.is_empty());
    for e in release0 {
        assert_eq!(e.difference.mean, Some(0.0), "{}", e.figure);
        assert_eq!(e.difference.ci95, Some([0.0, 0.0]), "{}", e.figure);
        assert_eq!(e.difference.significant, Some(false));
    }
    // ...while the release the policy does touch moves.
    let half = entries
        .iter()
        .find(|e| e.release == 1 && e.figure == "time_to_share_hours[0.5]")
        .unwrap();
    assert_eq!(half.difference.significant, Some(true));
}

#[test]
fn the_paired_ci_is_narrower_than_the_unpaired_one_on_a_shipped_pair() {
    let ov = Overrides {
        replications: Some(60),
        instances: Some(2000),
        ..Overrides::default()
    };
    let load = |p: &str| scenario::load(Path::new(p), &ov).unwrap();
    let (a, b) = (
        load("scenarios/policy-deploy-in-window.json"),
        load("scenarios/policy-deploy-outside-window.json"),
    );
    let runs = vec![
        (a.clone(), montecarlo::run(&a, &())),
        (b.clone(), montecarlo::run(&b, &())),
    ];
    let entries = compare(&runs, pairings(&[a, b], &[]).unwrap()).entries;
    for e in entries
        .iter()
        .filter(|e| e.figure.starts_with("time_to_share") || e.figure == "coexistence_hours")
    {
        // Measured from each release's own deploy, deploying outside the window is
        // faster: the slip is 4 h.
        let d = e.since_own_deploy.as_ref().expect("the deploys differ");
        let [lo, hi] = d.ci95.unwrap();
        let [ulo, uhi] = d.unpaired_ci95.unwrap();
        assert!(
            hi - lo < (uhi - ulo) / 5.0,
            "{}: paired {lo}..{hi} vs unpaired {ulo}..{uhi}",
            e.figure
        );
        assert!(hi < 0.0 && lo > -4.0 - 1e-9, "{}: {lo}..{hi}", e.figure);
        // On the scenario clock, the deploy 10 h later costs more than the 4 h slip.
        assert_eq!(e.deploy_offset_hours, 10.0);
        assert_eq!(
            e.better,
            rollout_sim::compare::Better::Baseline,
            "{}",
            e.figure
        );
    }
}

#[test]
fn compare_cli_writes_its_files_and_refuses_unshared_seeds() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("c");
    Command::cargo_bin("rollout-sim")
        .unwrap()
        .args([
            "compare",
            "scenarios/policy-bundle.json",
            "scenarios/policy-isolate.json",
            "--replications",
            "10",
            "--instances",
            "500",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stdout(predicates::str::contains("difference [95% CI]"));
    let report: Value =
        serde_json::from_str(&fs::read_to_string(out.join("comparison.json")).unwrap()).unwrap();
    assert_eq!(report["baseline"], "policy-bundle");
    assert!(
        report["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["figure"] == "coexistence_hours")
    );
    assert!(
        fs::read_to_string(out.join("comparison.csv"))
            .unwrap()
            .starts_with("scenario,release,other_release,figure,")
    );
    // Releases are paired by their labels, and the one without a partner is named.
    let pairing = &report["pairings"][0];
    assert_eq!(pairing["by"], "label");
    assert_eq!(pairing["pairs"], json!([[0, 1]]));
    assert_eq!(pairing["unpaired_other"], json!(["feature"]));
    assert!(
        report["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["release"] == 0 && e["other_release"] == 1 && e["label"] == "write scope")
    );

    let other = tmp.path().join("other-seed.json");
    let mut doc: Value =
        serde_json::from_str(&fs::read_to_string("scenarios/policy-isolate.json").unwrap())
            .unwrap();
    doc["seed"] = json!(99);
    fs::write(&other, doc.to_string()).unwrap();
    Command::cargo_bin("rollout-sim")
        .unwrap()
        .args([
            "compare",
            "scenarios/policy-bundle.json",
            other.to_str().unwrap(),
            "--out",
            tmp.path().join("x").to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains(
            "other-seed.json: seed: 99 differs",
        ));
}

fn sweep(out: &Path, threads: &str) {
    Command::cargo_bin("rollout-sim")
        .unwrap()
        .args([
            "sweep",
            "scenarios/connect-scope-change.json",
            "--set",
            "admins.casual.approve=0.5,0.9",
            "--set",
            "timing.upm_poll=12h,24h",
            "--replications",
            "8",
            "--instances",
            "1500",
            "--threads",
            threads,
            "--quiet",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success();
}

#[test]
fn sweep_output_is_identical_for_1_and_2_threads_and_each_row_equals_a_plain_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (one, two) = (tmp.path().join("one"), tmp.path().join("two"));
    sweep(&one, "1");
    sweep(&two, "2");
    for f in ["sweep.json", "sweep.csv"] {
        assert_eq!(
            fs::read(one.join(f)).unwrap(),
            fs::read(two.join(f)).unwrap(),
            "{f}"
        );
    }
    // With two axes, the charts and heat maps the guide names (the coexistence never
    // ends here, so its line chart has no point and is left out, as the guide says).
    for chart in [
        "time-to-90",
        "left-over",
        "coexistence-map",
        "left-over-map",
    ] {
        assert!(one.join(format!("charts/{chart}.svg")).is_file(), "{chart}");
    }
    let csv = fs::read_to_string(one.join("sweep.csv")).unwrap();
    assert_eq!(csv.lines().count(), 5, "a header and 4 grid points");
    let sweep: Value =
        serde_json::from_str(&fs::read_to_string(one.join("sweep.json")).unwrap()).unwrap();
    // Grid point 2 is approve=0.9, upm_poll=12h (the first axis varies slowest).
    let point = &sweep["points"][2];
    assert_eq!(
        point["settings"],
        json!([["admins.casual.approve", 0.9], ["timing.upm_poll", "12h"]])
    );
    let run_out = tmp.path().join("plain");
    Command::cargo_bin("rollout-sim")
        .unwrap()
        .args([
            "run",
            "scenarios/connect-scope-change.json",
            "--set",
            "admins.casual.approve=0.9",
            "--set",
            "timing.upm_poll=12h",
            "--replications",
            "8",
            "--instances",
            "1500",
            "--quiet",
            "--out",
            run_out.to_str().unwrap(),
        ])
        .assert()
        .success();
    let plain: Value =
        serde_json::from_str(&fs::read_to_string(run_out.join("report.json")).unwrap()).unwrap();
    for (s, r) in point["releases"]
        .as_array()
        .unwrap()
        .iter()
        .zip(plain["releases"].as_array().unwrap())
    {
        for key in [
            "time_to_share_hours",
            "coexistence_hours",
            "left_behind",
            "recommended_compat_window_hours",
        ] {
            assert_eq!(s[key], r[key], "{key}");
        }
    }
}

#[test]
fn precision_mode_stops_where_the_half_width_first_falls_below_the_target() {
    let s = scenario(&connect_no_windows(300, 20));
    let target = PrecisionTarget {
        figure: FigureRef::last_coexistence(1),
        half_width: 0.3,
        batch: 10,
        max_replications: 2000,
    };
    let (out, outcome) = montecarlo::run_to_precision(&s, &target, &());
    assert!(outcome.met);
    let n = outcome.replications as usize;
    assert_eq!(out.replications.len(), n);
    let values = out.figure_values(target.figure);
    assert!(ci_half_width(&values).unwrap() <= 0.3);
    assert!(n > 20, "the first batch alone is not precise enough");
    assert!(
        ci_half_width(&values[..n - 10]).unwrap() > 0.3,
        "it should have stopped one batch earlier"
    );
    // The same seed stops at the same point, and the replications are those of a plain run.
    let (again, outcome2) = montecarlo::run_to_precision(&s, &target, &());
    assert_eq!(outcome, outcome2);
    let plain = montecarlo::run_range(&s, 0..n as u64, &());
    assert_eq!(
        again.figure_values(target.figure),
        plain.figure_values(target.figure)
    );
    // A target out of reach stops at the cap and says so.
    let hard = PrecisionTarget {
        half_width: 1e-6,
        max_replications: 40,
        ..target
    };
    let (_, outcome) = montecarlo::run_to_precision(&s, &hard, &());
    assert!(!outcome.met);
    assert_eq!(outcome.replications, 40);
}

#[test]
fn the_recommended_window_ci_covers_the_true_quantile_at_the_stated_rate() {
    // Fact 2's coexistence window has a closed-form distribution; its 0.9-quantile is known.
    let (n_instances, reps, seeds, q) = (50, 60, 200u64, 0.9);
    let truth = coexistence_quantile(q, n_instances);
    let mut covered = 0;
    for seed in 0..seeds {
        let s = scenario(&set(
            connect_no_windows(n_instances as u64, reps),
            "seed",
            json!(seed),
        ));
        let values = montecarlo::run(&s, &()).figure_values(FigureRef::last_coexistence(1));
        if let (Some(lo), Some(hi)) = quantile_ci(&values, q, 0.95) {
            covered += usize::from(lo <= truth && truth <= hi);
        }
    }
    // The exact coverage of [X_(l), X_(u)] is P(l <= B < u), B ~ Binomial(60, 0.9).
    let b = Binomial::new(q, reps).unwrap();
    let l = (1..=reps)
        .take_while(|&l| b.cdf(l - 1) <= 0.025)
        .last()
        .unwrap();
    let u = (1..=reps).find(|&u| b.cdf(u - 1) >= 0.975).unwrap();
    let nominal = b.cdf(u - 1) - b.cdf(l - 1);
    assert!(nominal >= 0.95);
    let observed = covered as f64 / seeds as f64;
    let sd = (nominal * (1.0 - nominal) / seeds as f64).sqrt();
    assert!(
        (observed - nominal).abs() <= 4.0 * sd + 1e-9,
        "coverage {observed}, nominal {nominal}"
    );
}

#[test]
fn report_carries_the_window_ci_and_the_precision_outcome() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("p");
    Command::cargo_bin("rollout-sim")
        .unwrap()
        .args([
            "run",
            "scenarios/connect-micro.json",
            "--instances",
            "500",
            "--replications",
            "80",
            "--precision",
            "0.3h",
            "--precision-batch",
            "20",
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stdout(
            predicates::str::contains("keep serving 2.3.7 for")
                .and(predicates::str::contains("CI")),
        );
    let report: Value =
        serde_json::from_str(&fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let p = &report["precision"];
    assert_eq!(p["met"], true);
    assert_eq!(p["figure"], "coexistence@0");
    assert_eq!(report["scenario"]["replications"], p["replications"]);
    let w = &report["releases"][0]["recommended_compat_window"];
    assert_eq!(w["quantile"], 0.95);
    let (lo, hi, h) = (
        w["ci95"][0].as_f64().unwrap(),
        w["ci95"][1].as_f64().unwrap(),
        w["hours"].as_f64().unwrap(),
    );
    assert!(lo <= h && h <= hi);
    assert_eq!(
        w["hours"],
        report["releases"][0]["recommended_compat_window_hours"]
    );
}

use predicates::prelude::PredicateBooleanExt;

#[test]
fn a_comparison_leads_with_its_verdict_and_is_identical_for_any_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let (gated, automatic) = censored_against_finished(tmp.path());
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let out = tmp.path().join(format!("t{threads}"));
        let assert = compare_cli(&[
            &gated,
            &automatic,
            "--pair",
            "0=0",
            "--threads",
            threads,
            "--out",
            out.to_str().unwrap(),
        ])
        .success();
        let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
        assert!(
            stdout.starts_with("automatic against gated: better on"),
            "{stdout}"
        );
        outputs.push(tree(&out));
    }
    assert_eq!(outputs[0], outputs[1]);
    assert!(outputs[0].keys().any(|k| k.ends_with("comparison.html")));
}

#[test]
fn the_instances_a_cut_off_hits_are_compared_when_both_policies_have_one() {
    let tmp = tempfile::tempdir().unwrap();
    let with_cutoff = |name: &str, approve: f64| {
        let doc = set(
            set(scope_change("connect"), "name", json!(name)),
            "admins",
            json!({"default": {"approve": approve, "reject": 0.0}}),
        );
        write(tmp.path(), name, &set(doc, "policy.cutoff_at", json!("5d")))
    };
    let (few, many) = (with_cutoff("few", 0.5), with_cutoff("many", 0.9));
    let out = tmp.path().join("c");
    compare_cli(&[&few, &many, "--out", out.to_str().unwrap(), "-q"]).success();
    let report = read_json(&out.join("comparison.json"));
    let hit = entry(&report, "cutoff_affected");
    assert_eq!(hit["better"], "other", "{hit}");
    assert!(hit["baseline"]["mean"].as_f64().unwrap() > hit["other"]["mean"].as_f64().unwrap());
    let page = fs::read_to_string(out.join("comparison.html")).unwrap();
    assert!(page.contains("when the cut-off comes"), "{page}");
}
