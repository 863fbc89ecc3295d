//! Several releases: the permission-based gate and skip-ahead (MODEL.md section 3).

mod common;

use common::*;
use rollout_sim::model::{Happening, UpdateCause};
use serde_json::json;

fn updates(life: &rollout_sim::model::Life) -> Vec<(usize, usize, UpdateCause)> {
    life.happenings
        .iter()
        .filter_map(|&(_, h)| match h {
            Happening::Updated { from, to, cause } => Some((from, to, cause)),
            _ => None,
        })
        .collect()
}

#[test]
fn automatic_release_after_an_approval_release_reaches_only_approvers() {
    // 1.4.0 -> 1.5.0 (scopes, approval) at 0h, then 1.5.1 (other) at 2d.
    let doc = set(
        base("connect"),
        "releases",
        json!([
            {"at": "0h", "changes": ["scopes"]},
            {"at": "2d", "changes": ["other"]}
        ]),
    );
    let doc = set(
        doc,
        "admins",
        json!({"default": {"approve": 0.7, "reject": 0.1, "delay": {"exponential": {"mean": "3d"}}}}),
    );
    let s = scenario(&doc);
    let (mut auto_after_approval, mut skip_ahead, mut stuck) = (0, 0, 0);
    for rep in 0..5 {
        let (_, lives) = lives(&s, rep);
        for life in &lives {
            let u = updates(life);
            for &(from, to, cause) in &u {
                // Nobody moves from the unapproved 1.4.0 to anything without approval.
                if from == 0 {
                    assert_eq!(
                        cause,
                        UpdateCause::Approval,
                        "instance {}: {u:?}",
                        life.instance
                    );
                }
                // From the approved 1.5.0, the micro release is automatic.
                if from == 1 {
                    assert_eq!((to, cause), (2, UpdateCause::Automatic));
                }
            }
            match u.as_slice() {
                [(0, 1, _), (1, 2, _)] => auto_after_approval += 1,
                [(0, 2, UpdateCause::Approval)] => skip_ahead += 1,
                [] | [(0, 1, _)] => stuck += 1,
                other => panic!("unexpected path {other:?}"),
            }
        }
    }
    // All three paths occur: approve early, approve after 1.5.1 (straight to it), never.
    assert!(
        auto_after_approval > 0 && skip_ahead > 0 && stuck > 0,
        "{auto_after_approval} {skip_ahead} {stuck}"
    );
}

#[test]
fn a_second_scope_change_while_waiting_does_not_reopen_the_notice() {
    // Two approval releases; an admin notified once acts once and gets the newest.
    let doc = set(
        base("connect"),
        "releases",
        json!([
            {"at": "0h", "changes": ["scopes"]},
            {"at": "12h", "changes": ["scopes"]}
        ]),
    );
    let doc = set(
        doc,
        "admins",
        json!({"default": {"approve": 1.0, "reject": 0.0, "delay": {"fixed": "5d"}}}),
    );
    let s = scenario(&doc);
    let (_, lives) = lives(&s, 0);
    for life in &lives {
        let notices = life
            .happenings
            .iter()
            .filter(|(_, h)| matches!(h, Happening::Noticed { .. }))
            .count();
        assert_eq!(notices, 1);
        // Approving 5 days later applies the newest published version: 1.6.0.
        assert_eq!(updates(life), vec![(0, 2, UpdateCause::Approval)]);
    }
}

#[test]
fn forge_minor_after_a_major_reaches_only_the_new_line() {
    // Forge: 1.4.0 -> 2.0.0 (scopes: major, approval) -> 2.1.0 (other: minor).
    let doc = set(
        base("forge"),
        "releases",
        json!([
            {"at": "0h", "changes": ["scopes"]},
            {"at": "3d", "changes": ["other"]}
        ]),
    );
    let doc = set(
        doc,
        "admins",
        json!({"default": {"approve": 0.5, "reject": 0.0, "delay": {"fixed": "1d"}}}),
    );
    let s = scenario(&doc);
    let (_, lives) = lives(&s, 0);
    let mut approvers = 0;
    for life in &lives {
        let u = updates(life);
        match u.as_slice() {
            [] => {}
            [
                (0, 1, UpdateCause::Approval),
                (1, 2, UpdateCause::Automatic),
            ] => approvers += 1,
            other => panic!("unexpected path {other:?}"),
        }
    }
    assert!(approvers > 50);
}

#[test]
fn version_numbers_follow_each_platform_rule() {
    let releases = json!([
        {"at": "0h", "changes": ["other"]},
        {"at": "1d", "changes": ["scopes"]},
        {"at": "2d", "changes": ["licensing", "other"]},
        {"at": "3d", "changes": ["other"]}
    ]);
    let connect = set(
        set(base("connect"), "releases", releases.clone()),
        "initial_version",
        json!("1.2.3"),
    );
    let plan = rollout_sim::model::ReleasePlan::new(&scenario(&connect));
    let names: Vec<String> = plan.versions.iter().map(|v| v.to_string()).collect();
    assert_eq!(names, ["1.2.3", "1.2.4", "1.3.0", "1.4.0", "1.4.1"]);
    assert_eq!(plan.needs_approval, [false, true, true, false]);

    let forge = set(
        set(base("forge"), "releases", releases),
        "initial_version",
        json!("1.2.0"),
    );
    let plan = rollout_sim::model::ReleasePlan::new(&scenario(&forge));
    let names: Vec<String> = plan.versions.iter().map(|v| v.to_string()).collect();
    assert_eq!(names, ["1.2.0", "1.3.0", "2.0.0", "3.0.0", "3.1.0"]);

    let api = set(
        base("connect"),
        "releases",
        json!([{"at": "0h", "changes": ["api_version"]}]),
    );
    let plan = rollout_sim::model::ReleasePlan::new(&scenario(&api));
    assert_eq!(plan.versions[1].to_string(), "2.0.0");
    assert_eq!(plan.needs_approval, [false]);
}

#[test]
fn descriptor_facts_adding_a_scope_needs_approval_removing_one_does_not() {
    // read -> read+write (added: approval) -> read (removed: automatic) -> api 2 -> paid.
    let doc = set(base("connect"), "initial_scopes", json!(["read:jira-work"]));
    let doc = set(
        doc,
        "releases",
        json!([
            {"at": "0h", "scopes": ["read:jira-work", "write:jira-work"]},
            {"at": "3d", "scopes": ["read:jira-work"]},
            {"at": "5d", "api_version": 2},
            {"at": "6d", "licensing": "paid"}
        ]),
    );
    let doc = set(
        doc,
        "admins",
        json!({"default": {"approve": 0.5, "reject": 0.0, "delay": {"fixed": "1d"}}}),
    );
    let s = scenario(&doc);
    let kinds: Vec<Vec<&str>> = s.releases.iter().map(|r| r.changes.names()).collect();
    assert_eq!(
        kinds,
        [
            vec!["scopes"],
            vec!["other"],
            vec!["api_version"],
            vec!["licensing"]
        ]
    );
    let plan = rollout_sim::model::ReleasePlan::new(&s);
    let names: Vec<String> = plan.versions.iter().map(|v| v.to_string()).collect();
    assert_eq!(names, ["1.4.0", "1.5.0", "1.5.1", "2.0.0", "2.1.0"]);
    assert_eq!(plan.needs_approval, [true, false, false, true]);
    // Skip-ahead: an instance that never approved 1.5.0 moves to 1.5.1 automatically,
    // because 1.5.1 asks for nothing 1.4.0 had not been granted.
    let (_, lives) = lives(&s, 0);
    let mut skipped = 0;
    for life in &lives {
        let u = updates(life);
        if u.first().is_some_and(|&(from, to, _)| from == 0 && to == 2) {
            assert_eq!(u[0].2, UpdateCause::Automatic, "{u:?}");
            skipped += 1;
        }
    }
    assert!(skipped > 40, "about half never approve in time: {skipped}");
}

#[test]
fn descriptor_facts_that_change_nothing_are_rejected() {
    let doc = set(base("connect"), "initial_scopes", json!(["read"]));
    let doc = set(doc, "releases", json!([{"at": "0h", "scopes": ["read"]}]));
    let err = rollout_sim::scenario::parse(
        &doc.to_string(),
        std::path::Path::new("t.json"),
        &Default::default(),
    )
    .unwrap_err();
    assert_eq!(err.field(), Some("releases[0].scopes"));
    assert!(err.to_string().contains("not a release"));
}

#[test]
fn a_backport_reaches_only_its_line() {
    // Forge 1.4.0 -> 2.0.0 (scopes, approval) -> backport 1.5.0 on line 1 -> 2.1.0.
    let doc = set(
        base("forge"),
        "releases",
        json!([
            {"at": "0h", "changes": ["scopes"]},
            {"at": "3d", "changes": ["other"], "line": 1},
            {"at": "4d", "changes": ["other"]}
        ]),
    );
    let doc = set(
        doc,
        "admins",
        json!({"default": {"approve": 0.5, "reject": 0.0, "delay": {"exponential": {"mean": "3d"}}}}),
    );
    let s = scenario(&doc);
    let plan = rollout_sim::model::ReleasePlan::new(&s);
    let names: Vec<String> = plan.versions.iter().map(|v| v.to_string()).collect();
    assert_eq!(names, ["1.4.0", "2.0.0", "1.5.0", "2.1.0"]);
    assert_eq!(plan.from_version, [0, 0, 1]);
    let (mut backported, mut on_line_2) = (0, 0);
    for rep in 0..3 {
        let (_, lives) = lives(&s, rep);
        for life in &lives {
            for (from, to, cause) in updates(life) {
                if to == 2 {
                    // Only instances on line 1 get the backport, automatically.
                    assert_eq!((from, cause), (0, UpdateCause::Automatic));
                    backported += 1;
                }
                if to == 3 && from == 1 {
                    assert_eq!(cause, UpdateCause::Automatic);
                    on_line_2 += 1;
                }
            }
        }
    }
    assert!(
        backported > 100 && on_line_2 > 100,
        "{backported} {on_line_2}"
    );
    // Several versions are current at once, and the version mix shows each.
    let (_, out) = run(&doc);
    let report = rollout_sim::report::RunReport::build(&s, &out, None);
    let last = report
        .mix
        .iter()
        .rev()
        .take(4)
        .filter(|r| r.mean_share > 0.05)
        .count();
    assert_eq!(last, 2, "1.5.0 and 2.1.0 at the horizon");
    let mut bad = doc;
    bad["releases"][1]["line"] = json!(2);
    let err = rollout_sim::scenario::parse(
        &bad.to_string(),
        std::path::Path::new("t.json"),
        &Default::default(),
    )
    .unwrap_err();
    assert_eq!(err.field(), Some("releases[1].line"));
}
