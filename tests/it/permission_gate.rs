//! Several releases: the permission-based gate and skip-ahead (MODEL.md section 3).

use crate::common::*;
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
fn a_second_scope_change_while_waiting_sends_a_new_notice_and_a_fresh_decision() {
    // Two approval releases a day and a half apart; the admin approves 5 days after each
    // notice. The second release asks for more than the first notice did: the admin is
    // emailed again and decides afresh (the first decision no longer applies).
    let doc = set(
        base("connect"),
        "releases",
        json!([
            {"at": "0h", "changes": ["scopes"]},
            {"at": "36h", "changes": ["scopes"]}
        ]),
    );
    let doc = set(
        doc,
        "admins",
        json!({"default": {"approve": 1.0, "reject": 0.0, "delay": {"fixed": "5d"}}}),
    );
    let s = scenario(&doc);
    let (_, lives) = lives(&s, 0);
    let mut renotified = 0;
    for life in &lives {
        let notices: Vec<_> = life
            .happenings
            .iter()
            .filter(|(_, h)| matches!(h, Happening::Noticed { .. }))
            .map(|(t, _)| *t)
            .collect();
        assert!((1..=2).contains(&notices.len()), "{notices:?}");
        renotified += usize::from(notices.len() == 2);
        // Approving 5 days after the last notice applies the newest version, 1.6.0.
        let last = *notices.last().unwrap();
        let approved: Vec<_> = life
            .happenings
            .iter()
            .filter(|(_, h)| matches!(h, Happening::Updated { .. }))
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(updates(life), vec![(0, 2, UpdateCause::Approval)]);
        assert_eq!(
            approved,
            vec![last + rollout_sim::time::SimDuration::from_days(5)]
        );
    }
    assert!(
        renotified > 100,
        "most saw the first release before the second: {renotified}"
    );
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
    let plan = rollout_sim::model::VersionTable::new(&scenario(&connect));
    let names: Vec<String> = plan
        .versions
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    assert_eq!(names, ["1.2.3", "1.2.4", "1.3.0", "1.4.0", "1.4.1"]);
    assert_eq!(plan.needs_approval, [false, true, true, false]);

    let forge = set(
        set(base("forge"), "releases", releases),
        "initial_version",
        json!("1.2.0"),
    );
    let plan = rollout_sim::model::VersionTable::new(&scenario(&forge));
    let names: Vec<String> = plan
        .versions
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    assert_eq!(names, ["1.2.0", "1.3.0", "2.0.0", "3.0.0", "3.1.0"]);

    let api = set(
        base("connect"),
        "releases",
        json!([{"at": "0h", "changes": ["api_version"]}]),
    );
    let plan = rollout_sim::model::VersionTable::new(&scenario(&api));
    assert_eq!(plan.versions[1].to_string(), "2.0.0");
    assert_eq!(plan.needs_approval, [false]);
}

#[test]
fn descriptor_facts_adding_or_removing_a_scope_needs_approval_by_default() {
    // read -> read+write (added) -> read (removed) -> api 2 -> paid. The page: "increase/
    // changed scopes" increment the minor version and customers must approve them.
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
            vec!["scopes"],
            vec!["api_version"],
            vec!["licensing"]
        ]
    );
    let plan = rollout_sim::model::VersionTable::new(&s);
    let names: Vec<String> = plan
        .versions
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    assert_eq!(names, ["1.4.0", "1.5.0", "1.6.0", "2.0.0", "2.1.0"]);
    assert_eq!(plan.needs_approval, [true, true, false, true]);
    // Skip-ahead: an instance that never approved 1.5.0 moves to 1.6.0 automatically,
    // because 1.6.0 asks for exactly what 1.4.0 was granted.
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

    // The other reading, a parameter: a removal asks for nothing new, so it is an
    // ordinary descriptor change.
    let automatic = scenario(&set(doc, "rules", json!({"scope_removal": "automatic"})));
    let plan = rollout_sim::model::VersionTable::new(&automatic);
    let names: Vec<String> = plan
        .versions
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    assert_eq!(names, ["1.4.0", "1.5.0", "1.5.1", "2.0.0", "2.1.0"]);
    assert_eq!(plan.needs_approval, [true, false, false, true]);
}

#[test]
fn forge_gate_crosses_major_lines_only_when_the_rules_say_so() {
    // Forge 1.4.0 {read} -> 2.0.0 {read, write} (approval) -> 3.0.0 {read} (removal).
    // Nobody approves anything. By default each new major needs consent, so the removal
    // is a new notice; with the gate crossing lines, 3.0.0 asks for nothing 1.4.0 lacks
    // and reaches every instance without consent at its next UPM poll (within 24 h of
    // publication, plus the 4 h slip).
    let doc = set(base("forge"), "initial_scopes", json!(["read"]));
    let doc = set(
        doc,
        "releases",
        json!([
            {"at": "0h", "scopes": ["read", "write"]},
            {"at": "2d", "scopes": ["read"]}
        ]),
    );
    let doc = set(
        doc,
        "admins",
        json!({"default": {"approve": 0.0, "reject": 0.0}}),
    );
    let s = scenario(&doc);
    let plan = rollout_sim::model::VersionTable::new(&s);
    let names: Vec<String> = plan
        .versions
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
    assert_eq!(names, ["1.4.0", "2.0.0", "3.0.0"]);
    assert_eq!(plan.needs_approval, [true, true]);
    let (_, lives_default) = lives(&s, 0);
    for life in &lives_default {
        assert!(updates(life).is_empty(), "nobody consents, nobody moves");
        let notices = life
            .happenings
            .iter()
            .filter(|(_, h)| matches!(h, Happening::Noticed { .. }))
            .count();
        assert_eq!(notices, 2, "the removal's new major is a new notice");
    }
    let crossing = scenario(&set(
        doc,
        "rules",
        json!({"gate_crosses_major_lines": true}),
    ));
    let (publication, lives_crossing) = lives(&crossing, 0);
    for life in &lives_crossing {
        let u = updates(life);
        assert_eq!(u, vec![(0, 2, UpdateCause::Automatic)]);
        let at = life.updated_to(2).unwrap();
        assert!(at.since(publication.at[1]) <= rollout_sim::time::SimDuration::from_hours(28));
    }
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
    let plan = rollout_sim::model::VersionTable::new(&s);
    let names: Vec<String> = plan
        .versions
        .iter()
        .map(std::string::ToString::to_string)
        .collect();
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
        .filter(|r| r.cell.mean_share > 0.05)
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
