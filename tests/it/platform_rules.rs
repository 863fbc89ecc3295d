//! Platform rules where the documentation decides: publication order per descriptor
//! sequence, the migration spread, repeated notices, paid transitions and the scope of
//! the maintenance slip. Each test runs the shipped scenario that shows the rule.

use std::path::Path;

use crate::common::*;
use rollout_sim::model::{Happening, UninstallCause, UpdateCause};
use rollout_sim::montecarlo;
use rollout_sim::report::RunReport;
use rollout_sim::scenario::{self, Overrides, Scenario};
use rollout_sim::time::SimDuration;
use serde_json::json;

fn shipped(name: &str, replications: u64, instances: u64) -> Scenario {
    let ov = Overrides {
        replications: Some(replications),
        instances: Some(instances),
        ..Overrides::default()
    };
    scenario::load(Path::new(&format!("scenarios/{name}.json")), &ov).unwrap()
}

#[test]
fn a_forge_backport_does_not_wait_for_another_lines_paid_review() {
    let s = shipped("forge-paid-with-backport", 30, 200);
    let out = montecarlo::run(&s, &());
    for r in &out.replications {
        // The paid version waits for a review of 1 to 5 days ...
        let paid = r.published[0].as_hours();
        assert!((24.0..=5.0 * 24.0 + 0.1).contains(&paid), "{paid}");
        // ... the backport, deployed an hour later on the free line, only for detection.
        let fix = r.published[1].as_hours() - 1.0;
        assert!((1.0 / 60.0..=5.0 / 60.0 + 1e-9).contains(&fix), "{fix}");
    }
    // On Connect, one descriptor: a later release is never published before an earlier
    // one still under review.
    let doc = set(
        base("connect"),
        "releases",
        json!([{"at": "0h", "changes": ["licensing"]}, {"at": "1h", "changes": ["other"]}]),
    );
    let (_, out) = run(&doc);
    for r in &out.replications {
        assert!(r.published[1] >= r.published[0]);
    }
}

#[test]
fn the_migration_spread_applies_to_the_migration_release_only() {
    let s = shipped("connect-to-forge-migration", 10, 2000);
    let out = montecarlo::run(&s, &());
    let mut slowest_migration = 0.0f64;
    for r in &out.replications {
        let migration = r.releases[0].coexistence.unwrap().as_hours();
        slowest_migration = slowest_migration.max(migration);
        assert!(migration <= 120.0 + 5.0 / 60.0 + 4.0, "{migration}");
        // The fix a week later reaches everyone within minutes (plus a slip at most).
        let fix = r.releases[1].coexistence.unwrap();
        assert!(
            fix <= SimDuration::from_hours(4) + SimDuration::from_minutes(10),
            "{fix}"
        );
    }
    // With 2,000 instances the slowest of a uniform spread over 120 h is near its end.
    assert!(slowest_migration > 115.0, "{slowest_migration}");
}

#[test]
fn a_later_scope_change_brings_a_new_notice_even_after_a_rejection() {
    // Everyone rejects (and stays); the second scope change asks for more, so every
    // site that rejected the first is emailed again.
    let doc = set(
        base("connect"),
        "releases",
        json!([{"at": "0h", "changes": ["scopes"]}, {"at": "5d", "changes": ["scopes"]}]),
    );
    let doc = set(
        doc,
        "admins",
        json!({"default": {"approve": 0.0, "reject": 1.0, "delay": {"fixed": "1h"}}}),
    );
    let s = scenario(&doc);
    let (_, all) = lives(&s, 0);
    for life in &all {
        let notices: Vec<usize> = life
            .happenings
            .iter()
            .filter_map(|(_, h)| match h {
                Happening::Noticed { release } => Some(*release),
                _ => None,
            })
            .collect();
        assert_eq!(notices, vec![0, 1], "one notice per new permission");
        let rejections = life
            .happenings
            .iter()
            .filter(|(_, h)| matches!(h, Happening::Rejected { .. }))
            .count();
        assert_eq!(rejections, 2, "a fresh decision for each");
    }
    // The shipped scenario: some who ignored the first approve after the second notice.
    let s = shipped("connect-repeated-notices", 2, 2000);
    let (_, lives) = lives(&s, 0);
    let approved_after_second = lives
        .iter()
        .filter(|l| {
            let second = l
                .happenings
                .iter()
                .position(|(_, h)| matches!(h, Happening::Noticed { release: 1 }));
            let approval = l.happenings.iter().position(|(_, h)| {
                matches!(
                    h,
                    Happening::Updated {
                        cause: UpdateCause::Approval,
                        ..
                    }
                )
            });
            matches!((second, approval), (Some(n), Some(a)) if a > n)
                && l.happenings
                    .iter()
                    .any(|(_, h)| matches!(h, Happening::Ignored { release: 0 }))
        })
        .count();
    assert!(approved_after_second > 50, "{approved_after_second}");
}

#[test]
fn a_paid_move_without_a_deadline_warns_and_with_one_removes_at_once() {
    let s = shipped("forge-major-paid", 5, 500);
    let report = RunReport::build(&s, &montecarlo::run(&s, &()), None);
    assert_eq!(report.report.warnings.len(), 1);
    assert!(report.report.warnings[0].contains("uninstall_unapproved_after is unset"));
    // With a deadline: no warning, and deadline-missers leave at the deadline itself,
    // exactly as rejecters leave at their rejection: neither ever paid.
    let s = shipped("paid-transition", 3, 500);
    let report = RunReport::build(&s, &montecarlo::run(&s, &()), None);
    assert!(report.report.warnings.is_empty());
    let (publication, lives) = lives(&s, 0);
    let deadline = publication.at[0] + s.policy.uninstall_unapproved_after.unwrap();
    let mut removed = 0;
    for life in &lives {
        for &(t, h) in &life.happenings {
            if let Happening::Uninstalled {
                cause: UninstallCause::Unapproved,
                ..
            } = h
            {
                assert_eq!(t, deadline);
                removed += 1;
            }
        }
    }
    assert!(removed > 0);
}

/// Whether each release's arrival at each instance was slipped.
fn slips(lives: &[rollout_sim::model::Life]) -> Vec<bool> {
    lives
        .iter()
        .flat_map(|l| l.happenings.iter())
        .filter_map(|(_, h)| match h {
            Happening::Visible { slipped, .. } => Some(*slipped),
            _ => None,
        })
        .collect()
}

#[test]
fn a_field_wide_slip_is_one_draw_per_release() {
    let s = shipped("connect-field-slip", 200, 300);
    let out = montecarlo::run(&s, &());
    // Every instance's window (01:00-03:00 UTC) is open at the 01:30 deploy. Per release:
    // either the whole field slips 4 h or nobody does, so the coexistence window is
    // publication + poll wait (< 24 h) with or without 4 h, and about half slip.
    let (mut slipped, mut clean) = (0, 0);
    for (r, rep) in out.replications.iter().enumerate() {
        let (_, lives) = lives(&s, r as u64);
        let visible = slips(&lives);
        assert!(
            visible.iter().all(|&v| v == visible[0]),
            "replication {r}: mixed slips"
        );
        if visible[0] {
            slipped += 1;
        } else {
            clean += 1;
        }
        assert!(rep.releases[0].coexistence.is_some());
    }
    // Binomial(200, 0.5): 4.5 standard deviations is 68..132.
    assert!(
        (68..=132).contains(&slipped),
        "{slipped} slipped, {clean} not"
    );
    // Per instance (the default), one replication mixes both.
    let per_instance = set(
        serde_json::from_str(
            &std::fs::read_to_string("scenarios/connect-field-slip.json").unwrap(),
        )
        .unwrap(),
        "timing.slip_scope",
        json!("instance"),
    );
    let s = scenario(&set(
        set(per_instance, "replications", json!(1)),
        "population.instances",
        json!(300),
    ));
    let (_, lives) = lives(&s, 0);
    let slips = slips(&lives);
    assert!(slips.contains(&true) && slips.contains(&false));
}

#[test]
fn the_2018_preset_keeps_inside_its_documented_10_hours() {
    let s = shipped("connect-2018-replay", 100, 3000);
    assert!(s.timing.maintenance_slip.is_zero());
    let out = montecarlo::run(&s, &());
    for r in &out.replications {
        let c = r.releases[0].coexistence.unwrap();
        assert!(c <= SimDuration::from_hours(10), "{c}");
    }
}
