//! The facts of MODEL.md section 6 that every build must reproduce (facts 1 to 4).

use crate::common::*;
use rollout_sim::model::Happening;
use rollout_sim::time::SimDuration;
use serde_json::json;

const H: f64 = 1.0;

fn hours(d: SimDuration) -> f64 {
    d.as_hours()
}

/// All instances in UTC, deployed at 01:30 UTC: inside the default 01:00-03:00 window.
fn connect_in_window() -> serde_json::Value {
    let doc = set(base("connect"), "start", json!("2026-03-02T01:30:00Z"));
    let doc = set(doc, "population.instances", json!(2000));
    set(doc, "replications", json!(50))
}

#[test]
fn fact1_connect_automatic_within_33h_published_within_5h() {
    let (_, out) = run(&connect_in_window());
    let mut slowest: f64 = 0.0;
    for r in &out.replications {
        let f = &r.releases[0];
        let published = hours(f.published_after.expect("published"));
        assert!(published < 5.0 * H, "published after {published} h");
        let coexistence = hours(f.coexistence.expect("every instance updated"));
        assert!(coexistence <= 33.0 * H, "coexistence {coexistence} h");
        slowest = slowest.max(coexistence);
    }
    // Deployed inside every instance's window, the 4 h slip applies: the bound is tight.
    assert!(
        slowest > 29.0,
        "the slip should push some replication past 29 h, max {slowest}"
    );
}

#[test]
fn fact1_connect_without_slip_within_29h() {
    let doc = set(connect_in_window(), "timing.maintenance_slip", json!("0h"));
    let (_, out) = run(&doc);
    for r in &out.replications {
        let c = hours(r.releases[0].coexistence.unwrap());
        assert!(c <= 29.0, "coexistence {c} h");
    }
}

// Fact 2 closed forms: latency A + B with A ~ U(0, 5h) shared per replication and
// B ~ U(0, 24h) per instance; coexistence A + max of N draws of B (see common).

fn trapezoid_cdf(x: f64) -> f64 {
    if x <= 0.0 {
        0.0
    } else if x <= A {
        x * x / (2.0 * A * B)
    } else if x <= B {
        (x - A / 2.0) / B
    } else if x <= A + B {
        1.0 - (A + B - x).powi(2) / (2.0 * A * B)
    } else {
        1.0
    }
}

#[test]
fn fact2_instance_latency_is_a_trapezoid() {
    // One instance per replication makes the pooled latencies independent draws.
    let s = scenario(&connect_no_windows(1, 4000));
    let latencies: Vec<f64> = (0..4000)
        .map(|rep| {
            let (_, lives) = lives(&s, rep);
            hours(
                lives[0]
                    .updated_to(1)
                    .expect("updated")
                    .since(rollout_sim::time::SimTime::ZERO),
            )
        })
        .collect();
    let n = latencies.len();
    let d = ks_distance(latencies.clone(), trapezoid_cdf);
    assert!(
        d < ks_critical_001(n),
        "KS distance {d} vs critical {}",
        ks_critical_001(n)
    );
    // Mean of U(0,5)+U(0,24) is 14.5 h, sd sqrt((25+576)/12) = 7.077 h; 4.5 standard errors.
    let mean = latencies.iter().sum::<f64>() / n as f64;
    let se = ((25.0 + 576.0) / 12.0f64).sqrt() / (n as f64).sqrt();
    assert!((mean - 14.5).abs() < 4.5 * se, "mean {mean}");
}

#[test]
fn fact2_pooled_latency_quantiles_match_the_trapezoid() {
    // Pooled over replications (clustered by the shared publication delay): the
    // replication-level sd of the empirical CDF is at most sd(A)/B = 0.060, so with 400
    // replications its standard error is 0.0030; 5 of those plus the 0.8% bin width.
    let (_, out) = run(&connect_no_windows(500, 400));
    let hist = &out.latency[0];
    assert_eq!(hist.censored_count(), 0);
    for q in [0.1, 0.25, 0.5, 0.75, 0.9] {
        let got = hours(hist.quantile(q).unwrap());
        let f = trapezoid_cdf(got);
        assert!(
            (f - q).abs() < 5.0 * 0.0030 + 0.008 * got / B,
            "q {q}: got {got} h with CDF {f}"
        );
    }
}

#[test]
fn fact2_coexistence_window_matches_its_closed_form() {
    let n = 1000;
    let reps = 400;
    let (_, out) = run(&connect_no_windows(n, reps));
    let windows: Vec<f64> = out
        .replications
        .iter()
        .map(|r| hours(r.releases[0].coexistence.unwrap()))
        .collect();
    let d = ks_distance(windows.clone(), |x| coexistence_cdf(x, n as i32));
    assert!(d < ks_critical_001(windows.len()), "KS distance {d}");
    // E = A/2 + B N/(N+1); Var = A^2/12 + B^2 N/((N+1)^2 (N+2)).
    let nf = n as f64;
    let mean_true = A / 2.0 + B * nf / (nf + 1.0);
    let sd_true = (A * A / 12.0 + B * B * nf / ((nf + 1.0).powi(2) * (nf + 2.0))).sqrt();
    let mean = windows.iter().sum::<f64>() / windows.len() as f64;
    assert!(
        (mean - mean_true).abs() < 4.5 * sd_true / (reps as f64).sqrt(),
        "mean {mean} vs {mean_true}"
    );
    // The publication delay is U(0, 5 h), one per replication.
    let published: Vec<f64> = out
        .replications
        .iter()
        .map(|r| hours(r.releases[0].published_after.unwrap()))
        .collect();
    let d = ks_distance(published, |x| (x / A).clamp(0.0, 1.0));
    assert!(d < ks_critical_001(reps as usize), "publication KS {d}");
}

#[test]
fn fact3_forge_automatic_within_minutes() {
    // Deployed at 14:00 UTC with every site in UTC: outside the 01:00-03:00 window.
    let doc = set(base("forge"), "replications", json!(100));
    let (_, out) = run(&doc);
    for r in &out.replications {
        let c = r.releases[0].coexistence.unwrap();
        // detection <= 5 min + propagation <= 5 min
        assert!(c <= SimDuration::from_minutes(10), "coexistence {c}");
        assert!(r.releases[0].published_after.unwrap() <= SimDuration::from_minutes(5));
    }
    // Inside the window, the slip adds 4 h for everyone.
    let doc = set(doc, "start", json!("2026-03-02T02:00:00Z"));
    let (_, out) = run(&doc);
    for r in &out.replications {
        let c = r.releases[0].coexistence.unwrap();
        assert!(
            c >= SimDuration::from_hours(4)
                && c <= SimDuration::from_hours(4) + SimDuration::from_minutes(10),
            "{c}"
        );
    }
}

fn approval_scenario(platform: &str, approve: f64, reject: f64) -> serde_json::Value {
    let doc = set(
        base(platform),
        "admins",
        json!({"default": {"approve": approve, "reject": reject, "delay": {"fixed": "6h"}}}),
    );
    let doc = set(
        doc,
        "releases",
        json!([{"at": "0h", "changes": ["scopes"]}]),
    );
    set(doc, "start", json!("2026-03-02T01:30:00Z")) // inside the window: slip applies
}

#[test]
fn fact4_every_instance_is_notified_within_24h_of_publication_plus_slip() {
    for platform in ["connect", "forge"] {
        let s = scenario(&approval_scenario(platform, 0.5, 0.2));
        for rep in 0..5 {
            let (publication, lives) = lives(&s, rep);
            let deadline = publication.at[0] + SimDuration::from_hours(24 + 4);
            for life in &lives {
                let noticed = life
                    .happenings
                    .iter()
                    .find_map(|&(t, h)| matches!(h, Happening::Noticed { .. }).then_some(t))
                    .expect("every instance is notified");
                assert!(
                    noticed >= publication.at[0] + SimDuration::from_hours(4),
                    "the slip applies"
                );
                assert!(
                    noticed < deadline,
                    "{platform}: noticed at {noticed:?}, deadline {deadline:?}"
                );
            }
        }
    }
}

#[test]
fn fact4_full_approval_with_fixed_delay_bounds_coexistence() {
    for platform in ["connect", "forge"] {
        let (_, out) = run(&approval_scenario(platform, 1.0, 0.0));
        for r in &out.replications {
            let f = &r.releases[0];
            let bound = f.published_after.unwrap() + SimDuration::from_hours(24 + 4 + 6);
            let c = f.coexistence.expect("everyone approves");
            assert!(c <= bound, "{platform}: {c} > {bound}");
            // and not earlier than publication + slip + delay
            assert!(c >= f.published_after.unwrap() + SimDuration::from_hours(4 + 6));
        }
    }
}

#[test]
fn fact4_partial_approval_is_censored_at_the_horizon() {
    let (s, out) = run(&approval_scenario("connect", 0.8, 0.0));
    for r in &out.replications {
        assert_eq!(
            r.releases[0].coexistence, None,
            "some admins ignore: never complete"
        );
        assert_eq!(*r.releases[0].time_to_share.last().unwrap(), None);
        // 80% approve: the 50% share is reached
        assert!(r.releases[0].time_to_share[0].is_some());
    }
    let report = rollout_sim::report::RunReport::build(&s, &out, None);
    let rel = &report.report.releases[0];
    assert_eq!(rel.coexistence_hours.n, 0);
    assert_eq!(rel.coexistence_hours.censored, u64::from(s.replications));
    assert_eq!(rel.coexistence_hours.mean, None);
    assert_eq!(rel.recommended_compat_window_hours, None);
    // About 20% of instances never update: the latency is censored, not dropped.
    let cf = rel.instance_latency_hours.censored_fraction.unwrap();
    assert!(
        (cf - 0.2).abs() < 5.0 * (0.2f64 * 0.8 / 4000.0).sqrt(),
        "censored fraction {cf}"
    );
    assert_eq!(
        rel.instance_latency_hours.p90, None,
        "the 90% point is beyond the censoring"
    );
    assert!(rel.instance_latency_hours.p50.is_some());
}

#[test]
fn rejection_with_uninstall_ends_coexistence() {
    // approve + reject = 1 and rejecting uninstalls: nobody is left on the old version.
    let doc = approval_scenario("connect", 0.6, 0.4);
    let doc = set(doc, "admins.default.on_reject", json!("uninstall"));
    let (_, out) = run(&doc);
    for r in &out.replications {
        assert!(r.releases[0].coexistence.is_some());
    }
    // With `stay`, the rejecters keep the old version for good.
    let (_, out) = run(&approval_scenario("connect", 0.6, 0.4));
    assert!(
        out.replications
            .iter()
            .all(|r| r.releases[0].coexistence.is_none())
    );
}

#[test]
fn free_to_paid_rejections_always_uninstall_and_wait_for_review() {
    let doc = set(
        approval_scenario("forge", 0.5, 0.5),
        "releases",
        json!([{"at": "0h", "changes": ["licensing"]}]),
    );
    let (_, out) = run(&doc);
    for r in &out.replications {
        let f = &r.releases[0];
        let published = f.published_after.unwrap();
        // Marketplace review: uniform 1 to 5 days on top of detection.
        assert!(
            published >= SimDuration::from_days(1)
                && published <= SimDuration::from_days(5) + SimDuration::from_minutes(5)
        );
        assert!(
            f.coexistence.is_some(),
            "rejecters uninstall, so coexistence ends"
        );
    }
}
