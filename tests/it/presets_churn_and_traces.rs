//! Presets, Kaplan-Meier survival, churn, traces and event logs.

use std::fs;

use crate::common::*;
use assert_cmd::Command;
use rollout_sim::time::SimDuration;
use serde_json::{Value, json};

#[test]
fn fact5_the_2018_preset_without_slip_delivers_within_6h_1min() {
    let doc = set(
        set(base("connect-2018"), "timing.maintenance_slip", json!("0h")),
        "replications",
        json!(100),
    );
    let (s, out) = run(&doc);
    assert_eq!(s.timing.upm_poll, SimDuration::from_hours(6));
    let mut slowest = SimDuration::ZERO;
    for r in &out.replications {
        let c = r.releases[0]
            .coexistence
            .expect("automatic: everyone updates");
        assert!(
            c <= SimDuration::from_hours(6) + SimDuration::from_minutes(1),
            "{c}"
        );
        slowest = slowest.max(c);
    }
    // Inside the 10 h the 2018 documentation promised, and the bound is nearly reached.
    assert!(slowest > SimDuration::from_hours(5) + SimDuration::from_minutes(50));
}

#[test]
fn connect_to_forge_spreads_the_migration_over_120h() {
    let doc = set(
        set(base("connect-to-forge"), "horizon", json!("7d")),
        "replications",
        json!(30),
    );
    let doc = set(doc, "start", json!("2026-03-02T12:00:00Z"));
    let (s, out) = run(&doc);
    assert_eq!(s.preset, "connect-to-forge");
    for r in &out.replications {
        let c = r.releases[0].coexistence.unwrap();
        // detection <= 5 min + uniform over 120 h: the last of 200 lands near the end.
        assert!(c <= SimDuration::from_hours(120) + SimDuration::from_minutes(5));
        assert!(c >= SimDuration::from_hours(110));
    }
}

#[test]
fn survival_matches_a_known_curve_exponential_delays_with_never_acting_admins() {
    // Forge scope change (notice within 24 h of publication), approve 0.6, ignore 0.4,
    // exponential response delays with mean 2 d, no slip. Latency from the deploy is
    // L = D + W + E with D the detection delay (<= 5 min), W the wait for the poll
    // (uniform over 24 h) and E ~ Exp(2 d) for approvers; never for the others. So
    // S(t) = 1 - 0.6 P(W + E <= t - D), with P(W + E <= x) for x >= 24 h equal to
    // 1 - (2 d / 24 h) (e^{-(x-24h)/2d} - e^{-x/2d}).
    let doc = scope_change("forge");
    let doc = set(
        doc,
        "admins",
        json!({"default": {"approve": 0.6, "reject": 0.0, "delay": {"exponential": {"mean": "2d"}}}}),
    );
    let doc = set(
        set(doc, "timing.maintenance_slip", json!("0h")),
        "horizon",
        json!("30d"),
    );
    let doc = set(
        set(doc, "population.instances", json!(1000)),
        "replications",
        json!(20),
    );
    let (s, out) = run(&doc);
    let report = rollout_sim::report::RunReport::build(&s, &out, None);
    let exporter: &dyn rollout_sim::export::Exporter = &rollout_sim::export::SURVIVAL_CSV;
    let csv = exporter.to_bytes(&report);
    let (mean, window) = (48.0, 24.0);
    let survival = |t: f64| {
        let x = t - 3.0 / 60.0; // mean detection delay
        if x < window {
            return f64::NAN;
        }
        1.0 - 0.6 * (1.0 - mean / window * (libm::exp(-(x - window) / mean) - libm::exp(-x / mean)))
    };
    let text = String::from_utf8(csv).unwrap();
    let mut checked = 0;
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let (hours, s_hat, lo, hi): (f64, f64, f64, f64) = (
            f[2].parse().unwrap(),
            f[3].parse().unwrap(),
            f[4].parse().unwrap(),
            f[5].parse().unwrap(),
        );
        let truth = survival(hours);
        if truth.is_nan() {
            continue;
        }
        // 20,000 instances: binomial sd of S is at most 0.0035; 5 sd plus the bin width.
        assert!(
            (s_hat - truth).abs() < 5.0 * 0.0036 + 0.004,
            "at {hours} h: KM {s_hat}, true {truth}"
        );
        assert!(lo <= s_hat && s_hat <= hi);
        checked += 1;
    }
    assert!(checked > 100);
    // The curve flattens at the never-acting 40%, it does not fall to zero.
    let last: Vec<&str> = text.lines().last().unwrap().split(',').collect();
    let s_end: f64 = last[3].parse().unwrap();
    assert!((s_end - 0.4).abs() < 0.02, "{s_end}");
}

#[test]
fn a_trace_shows_the_same_times_as_the_event_log() {
    let tmp = tempfile::tempdir().unwrap();
    let events = tmp.path().join("o").join("events.jsonl");
    let scenario = "scenarios/policy-reminders.json";
    let small = ["--instances", "40", "--replications", "3"];
    Command::cargo_bin("rollout-sim")
        .unwrap()
        .args([
            "run",
            scenario,
            "--quiet",
            "--out",
            tmp.path().join("o").to_str().unwrap(),
            "--events",
        ])
        .args(small)
        .assert()
        .success();
    let log: Vec<Value> = fs::read_to_string(&events)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        log.iter().any(|r| r["event"] == "reminder"),
        "the scenario has reminders"
    );
    for (instance, replication) in [(0, 0), (17, 2), (39, 1)] {
        let assert = Command::cargo_bin("rollout-sim")
            .unwrap()
            .args([
                "trace",
                scenario,
                "--instance",
                &instance.to_string(),
                "--replication",
                &replication.to_string(),
                "--format",
                "json",
                "--seed",
                "31",
            ])
            .assert()
            .success();
        let trace: Vec<Value> = String::from_utf8(assert.get_output().stdout.clone())
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let from_trace: Vec<&Value> = trace
            .iter()
            .filter(|r| r["instance"] == json!(instance))
            .collect();
        let from_log: Vec<&Value> = log
            .iter()
            .filter(|r| r["instance"] == json!(instance) && r["replication"] == json!(replication))
            .collect();
        assert!(!from_log.is_empty());
        assert_eq!(
            from_trace, from_log,
            "instance {instance}, replication {replication}"
        );
        // The trace also shows the release's deploy and publication.
        assert!(trace.iter().any(|r| r["event"] == "published"));
    }
    let text = Command::cargo_bin("rollout-sim")
        .unwrap()
        .args(["trace", scenario, "--instance", "17", "--replication", "2"])
        .assert()
        .success();
    let text = String::from_utf8(text.get_output().stdout.clone()).unwrap();
    assert!(text.contains("segment") && text.contains("time zone") && text.contains("poll phase"));
}

#[test]
fn events_refuses_large_runs_up_front() {
    let tmp = tempfile::tempdir().unwrap();
    Command::cargo_bin("rollout-sim")
        .unwrap()
        .args([
            "run",
            "benches/scenarios/bench-1m.json",
            "--replications",
            "2",
            "--events",
            "--out",
            tmp.path().join("e").to_str().unwrap(),
        ])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("small runs"));
}

#[test]
fn with_uninstalls_only_the_installed_count_decays_exponentially() {
    let (n, reps, rate) = (2000.0, 20, 0.05);
    let doc = set(
        base("connect"),
        "population.churn",
        json!({"uninstall_rate_per_day": rate}),
    );
    let doc = set(
        set(doc, "horizon", json!("30d")),
        "replications",
        json!(reps),
    );
    let doc = set(
        set(doc, "population.instances", json!(n as u64)),
        "report.sample_every",
        json!("1d"),
    );
    let (s, out) = run(&doc);
    let report = rollout_sim::report::RunReport::build(&s, &out, None);
    let mut checked = 0;
    for row in report.mix.iter().filter(|r| r.version == "1.4.0") {
        let p = libm::exp(-rate * row.hours / 24.0);
        // Each replication's count is Binomial(n, p); the mean of 20 has sd sqrt(n p (1-p) / 20).
        let sd = (n * p * (1.0 - p) / f64::from(reps)).sqrt();
        assert!(
            (row.cell.mean_installed - n * p).abs() <= 4.5 * sd + 1e-9,
            "day {}: {} vs {}",
            row.hours / 24.0,
            row.cell.mean_installed,
            n * p
        );
        checked += 1;
    }
    assert_eq!(checked, 31);
}

#[test]
fn new_installs_take_the_newest_version_without_approval() {
    let doc = scope_change("connect");
    let doc = set(doc, "population.churn", json!({"installs_per_day": 30}));
    let doc = set(
        doc,
        "admins",
        json!({"default": {"approve": 0.5, "reject": 0.0}}),
    );
    let s = scenario(&doc);
    let (publication, lives) = lives_with_arrivals(&s, 0);
    let arrivals: Vec<_> = lives.iter().filter(|l| l.instance >= 200).collect();
    // About 30 a day for 10 days.
    assert!(
        arrivals.len() > 200 && arrivals.len() < 400,
        "{}",
        arrivals.len()
    );
    let mut after_publication = 0;
    for life in arrivals {
        if life.installed_at >= publication.at[0] {
            after_publication += 1;
            assert_eq!(
                life.first_version, 1,
                "installed straight onto the scope version"
            );
            assert!(
                !life
                    .happenings
                    .iter()
                    .any(|(_, h)| matches!(h, rollout_sim::model::Happening::Noticed { .. }))
            );
        } else {
            assert_eq!(life.first_version, 0);
        }
    }
    assert!(after_publication > 200);
    // Shares are over installed instances: the new installs lift the share on 1.5.0.
    let (_, out) = run(&doc);
    let (_, no_churn) = run(&set(doc, "population.churn", json!({})));
    // The time to the first threshold; never reaching it (censored) is later than any time.
    let time_to_first = |o: &rollout_sim::montecarlo::RunOutput| {
        o.replications[0].releases[0].time_to_share[0]
            .map_or(i64::MAX, rollout_sim::time::SimDuration::as_millis)
    };
    assert!(
        time_to_first(&out) < i64::MAX,
        "the new installs lift the share past 50%"
    );
    assert!(time_to_first(&out) <= time_to_first(&no_churn));
}

fn forge_major_with_bulk(bulk: Value) -> Value {
    let doc = scope_change("forge");
    let doc = set(
        doc,
        "admins",
        json!({"default": {"approve": 0.3, "reject": 0.1, "delay": {"fixed": "1d"}}}),
    );
    let doc = set(
        set(doc, "population.instances", json!(3000)),
        "horizon",
        json!("20d"),
    );
    set(doc, "policy", json!({"bulk_upgrade": bulk}))
}

#[test]
fn bulk_upgrade_moves_at_most_500_per_request_and_only_eligible_instances() {
    use rollout_sim::model::{Happening, UpdateCause};
    let doc =
        forge_major_with_bulk(json!({"at": "5d", "request_size": 500, "requests_per_hour": 2}));
    let s = scenario(&doc);
    let (_, lives) = lives(&s, 0);
    let mut per_request = std::collections::BTreeMap::new();
    for life in &lives {
        let rejected = life
            .happenings
            .iter()
            .any(|(t, h)| matches!(h, Happening::Rejected { .. }) && t.as_hours() <= 120.0);
        for &(t, h) in &life.happenings {
            if let Happening::Updated {
                from,
                to,
                cause: UpdateCause::BulkUpgrade,
            } = h
            {
                assert_eq!((from, to), (0, 1));
                assert!(!rejected, "an admin who rejected is not moved");
                *per_request.entry(t).or_insert(0) += 1;
            }
        }
    }
    // 3,000 instances, about 30% approved within 5 days and 10% rejected: ~1,800 eligible,
    // moved in requests of 500 every 30 minutes.
    let sizes: Vec<u32> = per_request.values().copied().collect();
    assert!(sizes.len() >= 3, "{sizes:?}");
    assert!(sizes.iter().all(|&n| n <= 500), "{sizes:?}");
    assert!(
        sizes[..sizes.len() - 1].iter().all(|&n| n == 500),
        "full requests first: {sizes:?}"
    );
    let times: Vec<f64> = per_request.keys().map(|t| t.as_hours()).collect();
    for (i, t) in times.iter().enumerate() {
        assert!(
            (t - (120.0 + 0.5 * i as f64)).abs() < 1e-6,
            "request {i} at {t} h"
        );
    }
    // With the bulk upgrade, only the rejecters stay on line 1.
    let (_, out) = run(&doc);
    let (_, without) = run(&forge_major_with_bulk(
        json!({"at": "19d", "request_size": 1, "requests_per_hour": 0.001}),
    ));
    let at_10d =
        |o: &rollout_sim::montecarlo::RunOutput| o.replications[0].releases[0].time_to_share[0];
    assert!(at_10d(&out).unwrap() < at_10d(&without).unwrap_or(SimDuration::from_days(99)));
}

#[test]
fn a_cutoff_counts_broken_instances_or_uninstalls_them() {
    let doc = scope_change("connect");
    let doc = set(
        doc,
        "admins",
        json!({"default": {"approve": 0.6, "reject": 0.0, "delay": {"fixed": "1d"}}}),
    );
    let doc = set(set(doc, "horizon", json!("20d")), "replications", json!(10));
    let broken = set(
        doc.clone(),
        "policy",
        json!({"cutoff_at": "15d", "drop_old_support_after": "15d"}),
    );
    let (s, out) = run(&broken);
    let report = rollout_sim::report::RunReport::build(&s, &out, None);
    let cutoff = report.report.cutoff.as_ref().unwrap();
    assert_eq!((cutoff.below.as_str(), cutoff.action), ("1.5.0", "broken"));
    for r in &out.replications {
        // Broken: the instances below 1.5.0 at the cut-off are exactly those left behind then.
        assert_eq!(r.cutoff_affected, r.releases[0].left_behind);
        assert!(
            r.releases[0].coexistence.is_none(),
            "broken instances stay installed"
        );
    }
    let uninstall = set(
        doc,
        "policy",
        json!({"cutoff_at": "15d", "cutoff_action": "uninstall"}),
    );
    let (_, out2) = run(&uninstall);
    for (r, r2) in out.replications.iter().zip(&out2.replications) {
        assert_eq!(
            r.cutoff_affected, r2.cutoff_affected,
            "same draws, same count"
        );
        let c = r2.releases[0]
            .coexistence
            .expect("the cut-off removes the last old instances");
        assert_eq!(c, SimDuration::from_days(15));
    }
}

#[test]
fn shares_by_weight_follow_the_heavy_segment() {
    // 70% small sites (weight 1) approve within an hour; 30% large sites (weight 9, so 79%
    // of the weight) approve after 10 days. By instance half the field moves within two
    // days; by weight only after the large sites act.
    let doc = scope_change("connect");
    let doc = set(
        set(doc, "horizon", json!("20d")),
        "timing.maintenance_slip",
        json!("0h"),
    );
    let doc = set(
        doc,
        "admins",
        json!({
        "quick": {"approve": 1.0, "reject": 0.0, "delay": {"fixed": "1h"}},
        "slow": {"approve": 1.0, "reject": 0.0, "delay": {"fixed": "10d"}}}),
    );
    let segments = |w_small: f64, w_large: f64| {
        json!([
        {"name": "small", "share": 0.7, "admin": "quick", "weight": w_small},
        {"name": "large", "share": 0.3, "admin": "slow", "weight": w_large}])
    };
    let (s, out) = run(&set(doc.clone(), "population.segments", segments(1.0, 9.0)));
    for r in &out.replications {
        let f = &r.releases[0];
        let by_instance = f.time_to_share[0].unwrap();
        let by_weight = f.time_to_weighted_share[0].unwrap();
        assert!(by_instance < SimDuration::from_days(2), "{by_instance}");
        assert!(by_weight > SimDuration::from_days(10), "{by_weight}");
    }
    let report = rollout_sim::report::RunReport::build(&s, &out, None);
    assert!(
        report.report.releases[0]
            .time_to_weighted_share_hours
            .is_some()
    );
    // At the horizon everyone has moved, by weight too.
    let last = report
        .mix
        .iter()
        .rev()
        .find(|r| r.version == "1.5.0")
        .unwrap();
    assert_eq!(
        (last.cell.mean_share, last.cell.mean_weighted_share),
        (1.0, 1.0)
    );
    // Equal weights other than 1 give exactly the shares by instance.
    let (_, equal) = run(&set(doc.clone(), "population.segments", segments(2.0, 2.0)));
    for r in &equal.replications {
        assert_eq!(
            r.releases[0].time_to_weighted_share,
            r.releases[0].time_to_share
        );
    }
    // Without weights the report says null rather than repeating the same numbers.
    let (s, out) = run(&set(doc, "population.segments", segments(1.0, 1.0)));
    assert!(
        rollout_sim::report::RunReport::build(&s, &out, None)
            .report
            .releases[0]
            .time_to_weighted_share_hours
            .is_none()
    );
}
