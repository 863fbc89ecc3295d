//! `plan`: on small problems where brute force with many replications knows the truth,
//! the selection picks a policy within the indifference zone of the true best, respects
//! its constraints at the stated confidence, and spends clearly fewer replications than
//! the brute force; a problem it cannot solve is refused with exit 2 and nothing written.

use std::fs;
use std::path::Path;

use predicates::prelude::*;
use rollout_sim::model::FigureRef;
use rollout_sim::montecarlo;
use rollout_sim::plan::{self, Budget, Constraint, Direction, Goal};
use rollout_sim::scenario::{self, Overrides, Scenario, Setting};
use rollout_sim::stats::quantile_with_censoring;
use serde_json::json;

use crate::common::*;

/// The candidates: connect-micro at 40 instances (noisy) with UPM polls of 20 to 28
/// hours; a longer poll lengthens the coexistence.
const POLLS: [&str; 5] = ["20.2h", "20h", "22h", "24h", "28h"];

/// The indifference zone, in hours: 20h and 20.2h differ by more (0.19 h), so choosing
/// 20.2h is wrong, and ruling it out takes the procedure hundreds of replications.
const DELTA: f64 = 0.1;

fn candidates(seed: u64) -> Vec<Scenario> {
    let text = fs::read_to_string("scenarios/connect-micro.json").unwrap();
    POLLS
        .iter()
        .map(|p| {
            let ov = Overrides {
                seed: Some(seed),
                instances: Some(40),
                settings: vec![Setting::new("timing.upm_poll", json!(p))],
                ..Overrides::default()
            };
            scenario::parse(&text, Path::new("connect-micro.json"), &ov).unwrap()
        })
        .collect()
}

fn select(seed: u64, constraints: &[Constraint]) -> plan::Selection {
    let scenarios = candidates(seed);
    let goal = Goal {
        figure: "coexistence@0".into(),
        direction: Direction::Minimize,
        delta: DELTA,
    };
    let budget = Budget {
        confidence: 0.95,
        first_stage: 10,
        stage: 5,
        max_replications: 2_000,
    };
    plan::select(&scenarios, &goal, constraints, budget, |work| {
        work.iter()
            .map(|(i, r)| montecarlo::run_range(&scenarios[*i], r.clone(), &()))
            .collect()
    })
    .unwrap()
}

/// Each candidate's true mean coexistence and 95th percentile, from 2,000 replications
/// on a seed no plan uses.
fn truth() -> Vec<(f64, f64)> {
    candidates(999_999)
        .iter()
        .map(|s| {
            let run = montecarlo::run_range(s, 0..2_000, &());
            let v = run
                .figure_values(FigureRef::parse("coexistence@0", &s.report.thresholds, 1).unwrap());
            let mean = v.iter().flatten().sum::<f64>() / v.len() as f64;
            (mean, quantile_with_censoring(&v, 0.95).unwrap())
        })
        .collect()
}

/// Failures allowed in 40 seeds when each happens with probability at most 5%: with
/// X ~ Binomial(40, 0.05), P(X >= 6) = 0.014, so more than 5 refutes the guarantee at
/// the 1.4% level.
const ALLOWED_FAILURES: usize = 5;

#[test]
fn the_choice_is_within_the_indifference_zone_of_the_true_best_at_the_stated_confidence() {
    let truth = truth();
    let best = truth.iter().map(|t| t.0).fold(f64::INFINITY, f64::min);
    // The problem is not trivial: the two fastest differ by little more than delta.
    assert!((truth[0].0 - truth[1].0).abs() > DELTA, "{truth:?}");
    assert!((truth[0].0 - truth[1].0).abs() < 3.0 * DELTA, "{truth:?}");
    let mut wrong = 0;
    let (mut spent, mut full) = (0, 0);
    for seed in 1..=40 {
        let s = select(seed, &[]);
        let chosen = s.best.expect("no constraint, always a choice");
        if truth[chosen].0 - best > DELTA {
            wrong += 1;
        }
        spent += s.replications_spent;
        full += s.full_sweep_replications;
    }
    assert!(
        wrong <= ALLOWED_FAILURES,
        "{wrong} of 40 choices outside the zone"
    );
    // Clearly fewer replications than the brute force (5 x 2,000 per question).
    let per_plan = spent as f64 / 40.0;
    assert!(
        per_plan < 0.2 * 10_000.0,
        "{per_plan} replications per plan"
    );
    // And fewer than a sweep of every candidate at the precision the procedure needed.
    assert!(spent < full, "{spent} against {full}");
}

#[test]
fn a_chosen_policy_meets_its_constraint_at_the_stated_confidence() {
    let truth = truth();
    // A limit between the candidates' true 95th percentiles: the fastest polls meet it,
    // the slow ones do not.
    let limit = f64::midpoint(truth[2].1, truth[3].1);
    let c = Constraint::parse(&format!("coexistence@0 p95 <= {limit}")).unwrap();
    let mut violated = 0;
    for seed in 1..=40 {
        let s = select(seed, std::slice::from_ref(&c));
        let chosen = s.best.expect("a feasible candidate exists");
        if truth[chosen].1 > limit {
            violated += 1;
        }
        // The slowest poll is never chosen: its p95 is far above the limit.
        assert_ne!(chosen, 4);
    }
    assert!(
        violated <= ALLOWED_FAILURES,
        "{violated} of 40 choices break the constraint"
    );
}

fn plan_cli(dir: &Path) -> assert_cmd::Command {
    let mut c = cli();
    c.args([
        "plan",
        "scenarios/connect-micro.json",
        "--instances",
        "500",
        "--vary",
        "timing.upm_poll=12h..36h/12h",
        "--minimize",
        "coexistence@0",
        "--delta",
        "1h",
        "-o",
        dir.to_str().unwrap(),
    ]);
    c
}

#[test]
fn plan_writes_its_files_the_same_for_any_thread_count_and_the_best_scenario_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let one = tmp.path().join("one");
    let two = tmp.path().join("two");
    plan_cli(&one)
        .args(["--subject-to", "coexistence@0 p95 <= 40h", "-j", "1"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "**Choose `timing.upm_poll=12h`.**",
        ));
    plan_cli(&two)
        .args(["--subject-to", "coexistence@0 p95 <= 40h", "-j", "2", "-q"])
        .assert()
        .success()
        .stdout("");
    assert_eq!(tree(&one), tree(&two), "byte-identical for 1 and 2 threads");
    for f in [
        "plan.json",
        "plan.csv",
        "summary.md",
        "best-scenario.json",
        "plan.html",
        "charts/candidates.svg",
        "charts/pareto.svg",
    ] {
        assert!(one.join(f).is_file(), "{f}");
    }
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(one.join("plan.json")).unwrap()).unwrap();
    assert_eq!(report["best"], json!({"timing.upm_poll": "12h"}));
    assert_eq!(report["candidates"].as_array().unwrap().len(), 3);
    assert!(report["replications_spent"].as_u64() <= report["full_sweep_replications"].as_u64());
    let csv = fs::read_to_string(one.join("plan.csv")).unwrap();
    assert_eq!(csv.lines().count(), 4, "a header and one row per candidate");
    assert!(
        csv.lines().nth(1).unwrap().starts_with("0,12h,best,"),
        "{csv}"
    );
    // The best scenario is a runnable scenario with the chosen value.
    let best = one.join("best-scenario.json");
    let doc: serde_json::Value = serde_json::from_str(&fs::read_to_string(&best).unwrap()).unwrap();
    assert_eq!(doc["timing"]["upm_poll"], "12h");
    assert_eq!(doc["population"]["instances"], 500);
    cli()
        .args(["validate", best.to_str().unwrap()])
        .assert()
        .success();
}

#[test]
fn an_infeasible_problem_is_refused_naming_the_constraint_and_the_closest_candidate() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    plan_cli(&out)
        .args(["--subject-to", "coexistence@0 p95 <= 5h"])
        .assert()
        .code(2)
        .stdout("")
        .stderr(predicate::str::contains("'coexistence@0 p95 <= 5h'").and(
            predicate::str::contains("the closest candidate is #0 (timing.upm_poll=12h)"),
        ));
    assert!(!out.exists(), "nothing written");
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0, "no debris");
}

#[test]
fn bad_variables_goals_and_constraints_are_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    let base = |vary: &str, goal: &str, extra: &[&str]| {
        let mut c = cli();
        c.args([
            "plan",
            "scenarios/connect-micro.json",
            "--vary",
            vary,
            "--minimize",
            goal,
            "-o",
            out.to_str().unwrap(),
        ])
        .args(extra);
        c
    };
    let delta = ["--delta", "1h"];
    let with = |more: [&'static str; 2]| vec!["--delta", "1h", more[0], more[1]];
    for (vary, goal, extra, says) in [
        (
            "timing.upm_poll=",
            "coexistence@0",
            delta.to_vec(),
            "at least one value",
        ),
        (
            "timing.upm_pol=12h,24h",
            "coexistence@0",
            delta.to_vec(),
            "timing.upm_pol",
        ),
        (
            "timing.upm_poll=36h..12h/12h",
            "coexistence@0",
            delta.to_vec(),
            "LO <= HI",
        ),
        (
            "timing.upm_poll=12h,24h",
            "coexistence@3",
            delta.to_vec(),
            "release 3 does not exist",
        ),
        (
            "timing.upm_poll=12h,24h",
            "coexistence@0",
            with(["--subject-to", "coexistence@0 < 3h"]),
            "expected FIGURE",
        ),
        (
            "timing.upm_poll=12h,24h",
            "coexistence@0",
            with(["--subject-to", "left_over@0 <= 3d"]),
            "a count, not a time",
        ),
        (
            "timing.upm_poll=12h,24h",
            "left_over@0",
            vec!["--delta", "2h"],
            "--delta \"2h\"",
        ),
    ] {
        base(vary, goal, &extra)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(says));
        assert!(!out.exists(), "{vary} {goal} {extra:?}: nothing written");
    }
}

#[test]
fn variants_of_the_release_list_are_chosen_by_name_from_a_plan_file() {
    let tmp = tempfile::tempdir().unwrap();
    let release_list = |file: &str| {
        let doc: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(file).unwrap()).unwrap();
        doc["releases"].clone()
    };
    let plan_file = tmp.path().join("plan.json");
    fs::write(
        &plan_file,
        json!({"axes": [{
            "path": "releases",
            "values": [release_list("scenarios/policy-bundle.json"), release_list("scenarios/policy-isolate.json")],
            "names": ["bundled", "isolated"]
        }]})
        .to_string(),
    )
    .unwrap();
    let out = tmp.path().join("out");
    // Bundled with the scope change, the feature's release 0 leaves far more instances
    // on older versions at the horizon (some admins never approve it) than shipped
    // alone: maximising that figure picks the bundle, by its name.
    cli()
        .args([
            "plan",
            "scenarios/policy-bundle.json",
            "--file",
            plan_file.to_str().unwrap(),
            "--maximize",
            "left_over@0",
            "--delta",
            "50",
            "--instances",
            "1000",
            "-o",
            out.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("**Choose `releases=bundled`.**"));
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    assert_eq!(
        report["candidates"][0]["names"],
        json!({"releases": "bundled"})
    );
    assert_eq!(
        report["variables"][0]["names"],
        json!(["bundled", "isolated"])
    );
    let csv = fs::read_to_string(out.join("plan.csv")).unwrap();
    assert!(csv.contains("\n0,bundled,best,"), "{csv}");
    // A figure one variant does not have is refused, naming the candidate.
    cli()
        .args([
            "plan",
            "scenarios/policy-bundle.json",
            "--file",
            plan_file.to_str().unwrap(),
            "--minimize",
            "coexistence@1",
            "--delta",
            "1h",
            "-o",
            out.to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("candidate #0 (releases=bundled)"));
}

#[test]
fn deploy_times_range_over_instants_and_office_admins_rule_out_a_late_week_deploy() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("plan");
    let plan = |range: &str, out: &Path| {
        let mut c = cli();
        c.args([
            "plan",
            "scenarios/policy-reminders.json",
            "--vary",
            range,
            "--minimize",
            "share:0.5@0",
            "--delta",
            "2h",
            "--instances",
            "1000",
            "-o",
            out.to_str().unwrap(),
        ]);
        c
    };
    // Monday to Friday at 09:00 UTC: office admins (mon-fri, 09:00-17:00) read a
    // Thursday or Friday notice only after the weekend, a day or more later than one
    // sent early in the week.
    plan(
        "releases[0].at=2026-05-04T09:00:00Z..2026-05-08T09:00:00Z/1d",
        &out,
    )
    .assert()
    .success()
    .stdout(predicate::str::contains(
        "# Plan for policy-reminders: the shortest time to 50%",
    ));
    let report: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("plan.json")).unwrap()).unwrap();
    let values: Vec<String> = report["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["values"]["releases[0].at"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        values,
        [
            "2026-05-04T09:00:00Z",
            "2026-05-05T09:00:00Z",
            "2026-05-06T09:00:00Z",
            "2026-05-07T09:00:00Z",
            "2026-05-08T09:00:00Z"
        ]
    );
    let best = report["best"]["releases[0].at"].as_str().unwrap();
    assert!(
        values[..3].contains(&best.to_string()),
        "chose {best}, a late-week deploy"
    );
    let doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("best-scenario.json")).unwrap()).unwrap();
    assert_eq!(doc["releases"][0]["at"], best);
    // An instant outside the scenario is refused, naming the candidate and the field.
    let refused = tmp.path().join("refused");
    plan(
        "releases[0].at=2026-05-03T09:00:00Z..2026-05-04T09:00:00Z/1d",
        &refused,
    )
    .assert()
    .code(2)
    .stderr(
        predicate::str::contains("candidate #0 (releases[0].at=\"2026-05-03T09:00:00Z\")")
            .and(predicate::str::contains("before the scenario start")),
    );
    assert!(!refused.exists());
}

/// A sharded plan: every stage split over a different number of shards (one shard
/// through the Slurm variables), published from the parts.
#[test]
fn a_plan_sharded_stage_by_stage_publishes_exactly_the_single_machine_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let single = tmp.path().join("single");
    let parts = tmp.path().join("parts");
    let published = tmp.path().join("published");
    let constraint = ["--subject-to", "coexistence@0 p95 <= 40h"];
    plan_cli(&single)
        .args(constraint)
        .arg("-q")
        .assert()
        .success();
    let sharded = |extra: &[&str]| {
        let mut c = cli();
        c.args([
            "plan",
            "scenarios/connect-micro.json",
            "--instances",
            "500",
            "--vary",
            "timing.upm_poll=12h..36h/12h",
            "--minimize",
            "coexistence@0",
            "--delta",
            "1h",
            "--parts",
            parts.to_str().unwrap(),
        ])
        .args(constraint)
        .args(extra);
        c
    };
    let publish = || sharded(&["-o", published.to_str().unwrap()]);
    // Nothing has run: pending, exit 3, nothing written.
    publish()
        .assert()
        .code(3)
        .stderr(predicate::str::contains("stage 0 has not run yet"));
    assert!(!published.exists() && !parts.exists());
    let mut stages = 0;
    loop {
        let count = [2u64, 3, 1, 4][stages % 4];
        for index in 0..count {
            let mut shard = sharded(&[]);
            if index == 1 {
                // Slurm's variables name this one, as in an array task.
                shard
                    .args(["--shard", "slurm"])
                    .env("SLURM_ARRAY_TASK_ID", "1")
                    .env("SLURM_ARRAY_TASK_MIN", "0")
                    .env("SLURM_ARRAY_TASK_COUNT", count.to_string());
            } else {
                shard.args(["--shard", &format!("{index}/{count}")]);
            }
            shard
                .assert()
                .success()
                .stdout(predicate::str::contains(format!("stage {stages}: wrote")));
            if index + 1 < count {
                // Part of the stage is in: still pending, naming what is missing.
                publish()
                    .assert()
                    .code(3)
                    .stderr(predicate::str::contains(format!(
                        "stage {stages} is incomplete"
                    )));
                assert!(!published.exists(), "nothing published while pending");
                // A shard run again finds its part in place and runs nothing.
                sharded(&["--shard", &format!("{index}/{count}")])
                    .assert()
                    .success()
                    .stdout(predicate::str::contains("already written"));
            }
        }
        stages += 1;
        let status = publish().arg("-q").assert().get_output().status.code();
        match status {
            Some(0) => break,
            Some(3) => assert!(stages < 50, "the plan never ends"),
            other => panic!("publishing exited {other:?}"),
        }
    }
    assert!(stages >= 2, "the test needs a plan of several stages");
    assert_eq!(
        tree(&single),
        tree(&published),
        "byte-identical to the single-machine plan"
    );
    // Every stage decided, a shard says so and writes nothing.
    sharded(&["--shard", "0/2"])
        .assert()
        .success()
        .stdout(predicate::str::contains("every stage is complete"));
    assert_eq!(fs::read_dir(&parts).unwrap().count(), stages);
}

#[test]
fn parts_of_another_plan_or_shard_count_are_refused_and_merge_leaves_them_to_plan() {
    let tmp = tempfile::tempdir().unwrap();
    let parts = tmp.path().join("parts");
    let shard = |delta: &str, spec: &str| {
        let mut c = cli();
        c.args([
            "plan",
            "scenarios/connect-micro.json",
            "--instances",
            "300",
            "--vary",
            "timing.upm_poll=12h,24h",
            "--minimize",
            "coexistence@0",
            "--delta",
            delta,
            "--shard",
            spec,
            "--parts",
            parts.to_str().unwrap(),
        ]);
        c
    };
    shard("1h", "0/2").assert().success();
    let before = tree(&parts);
    // Another goal's indifference zone decides other stages: its parts cannot mix.
    shard("2h", "1/2")
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "is not a part of this plan's stage 0",
        ));
    // Every shard of a stage splits the same work.
    shard("1h", "1/3")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("run it with --shard I/2"));
    // A shard writes into the parts folder, never into a published plan's.
    shard("1h", "1/2")
        .args(["-o", tmp.path().join("out").to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(
            "--out is where a plan is published",
        ));
    assert_eq!(tree(&parts), before, "nothing touched");
    cli()
        .args(["merge", parts.join("stage-0").to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("is a part of stage 0 of a plan"));
}
