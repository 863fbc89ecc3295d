//! Admins who live in calendars: working hours, reminders, and the free -> paid deadline.

use crate::common::*;
use chrono::{Datelike, Timelike, Weekday};
use rollout_sim::model::{Happening, UninstallCause, UpdateCause};
use rollout_sim::time::SimDuration;
use serde_json::json;

fn berlin_office(doc: serde_json::Value, admin: serde_json::Value) -> serde_json::Value {
    let doc = set(
        doc,
        "population.segments",
        json!([{"name": "de", "share": 1.0, "timezones": {"Europe/Berlin": 1.0}, "admin": "office"}]),
    );
    set(doc, "admins", json!({ "office": admin }))
}

#[test]
fn approvals_fall_inside_working_hours_and_friday_evening_waits_for_monday() {
    let doc = scope_change("connect");
    let doc = set(doc, "start", json!("2026-03-26T14:00:00Z")); // Thursday; DST starts on Sunday the 29th
    let doc = set(doc, "horizon", json!("20d"));
    let doc = berlin_office(
        doc,
        json!({"approve": 1.0, "reject": 0.0, "delay": {"fixed": "2h"},
        "working_hours": {"days": "mon-fri", "from": "09:00", "to": "17:00"}}),
    );
    let s = scenario(&doc);
    let zone: chrono_tz::Tz = "Europe/Berlin".parse().unwrap();
    let mut friday_evenings = 0;
    for rep in 0..10 {
        let (_, lives) = lives(&s, rep);
        for life in &lives {
            let noticed = life
                .happenings
                .iter()
                .find_map(|&(t, h)| matches!(h, Happening::Noticed { .. }).then_some(t))
                .unwrap();
            let approved = life
                .happenings
                .iter()
                .find_map(|&(t, h)| {
                    matches!(
                        h,
                        Happening::Updated {
                            cause: UpdateCause::Approval,
                            ..
                        }
                    )
                    .then_some(t)
                })
                .expect("everyone approves");
            let local = s.instant(approved).with_timezone(&zone);
            assert!(
                local.weekday().number_from_monday() <= 5,
                "acted on a weekend: {local}"
            );
            let minutes = local.hour() * 60 + local.minute();
            assert!(
                (9 * 60..=17 * 60).contains(&minutes),
                "acted outside hours: {local}"
            );
            assert!(approved >= noticed + SimDuration::from_hours(2));
            let n = s.instant(noticed).with_timezone(&zone);
            if n.weekday() == Weekday::Fri && n.hour() >= 16 && n.hour() < 17 {
                friday_evenings += 1;
                // 60 - mm minutes of work left on Friday, the other 60 + mm on Monday: 10:mm.
                assert_eq!(local.weekday(), Weekday::Mon);
                assert_eq!(local.hour(), 10);
                assert_eq!(local.minute(), n.minute());
            }
        }
    }
    assert!(
        friday_evenings > 0,
        "some instances should be noticed on Friday between 16:00 and 17:00"
    );
}

#[test]
fn reminders_raise_the_approved_share_by_the_closed_form() {
    // approve a, reject r, ignore i; each of n reminders moves an ignoring admin with
    // probability rho, who then approves with probability a / (a + r):
    // final approved share = a + i (1 - (1 - rho)^n) a / (a + r).
    let (a, r, rho, n) = (0.3, 0.1, 0.5, 2);
    let admin = |reminders: serde_json::Value| json!({"approve": a, "reject": r, "delay": {"fixed": "1h"}, "reminders": reminders, "reminder_response": rho});
    let doc = scope_change("connect");
    let doc = set(
        set(doc, "horizon", json!("30d")),
        "population.instances",
        json!(2000),
    );
    let approved_share = |admin: serde_json::Value| {
        let s = scenario(&berlin_office(doc.clone(), admin));
        let (mut approved, mut total) = (0, 0);
        for rep in 0..10 {
            let (_, lives) = lives(&s, rep);
            for life in &lives {
                total += 1;
                let reminded = life
                    .happenings
                    .iter()
                    .any(|(_, h)| matches!(h, Happening::Reminded { .. }));
                let ignored = life
                    .happenings
                    .iter()
                    .any(|(_, h)| matches!(h, Happening::Ignored { .. }));
                assert!(!reminded || ignored, "only admins who ignored are reminded");
                if life.happenings.iter().any(|(_, h)| {
                    matches!(
                        h,
                        Happening::Updated {
                            cause: UpdateCause::Approval,
                            ..
                        }
                    )
                }) {
                    approved += 1;
                }
            }
        }
        f64::from(approved) / f64::from(total)
    };
    let without = approved_share(admin(json!([])));
    let with = approved_share(admin(json!(["7d", "14d"])));
    let predicted = a + (1.0 - a - r) * (1.0 - (1.0f64 - rho).powi(n)) * a / (a + r);
    // 20,000 instances each: binomial sd <= 0.0035; 4.5 sd.
    let tol = 4.5 * (0.25f64 / 20_000.0).sqrt();
    assert!((without - a).abs() < tol, "without reminders {without}");
    assert!(
        (with - predicted).abs() < tol,
        "with reminders {with}, predicted {predicted}"
    );
}

#[test]
fn unapproved_paid_instances_are_removed_at_the_deadline_like_rejecters() {
    let doc = set(
        base("forge"),
        "releases",
        json!([{"at": "0h", "changes": ["licensing"]}]),
    );
    let doc = set(
        set(doc, "horizon", json!("80d")),
        "admins",
        json!({"default": {"approve": 0.4, "reject": 0.0, "delay": {"fixed": "1d"}}}),
    );
    let doc = set(doc, "policy", json!({"uninstall_unapproved_after": "14d"}));
    let (s, out) = run(&doc);
    for r in &out.replications {
        let f = &r.releases[0];
        // Ignoring admins' instances keep the free version until publication + 14 d: they
        // never paid, so no cancellation period applies (as for those who reject).
        let expected = f.published_after.unwrap() + SimDuration::from_days(14);
        assert_eq!(f.coexistence, Some(expected));
    }
    let (_, lives) = lives(&s, 0);
    let removed = lives
        .iter()
        .filter(|l| {
            l.happenings.iter().any(|(_, h)| {
                matches!(
                    h,
                    Happening::Uninstalled {
                        cause: UninstallCause::Unapproved,
                        ..
                    }
                )
            })
        })
        .count();
    assert!(
        removed > 80 && removed < 160,
        "about 60% of 200 never approve: {removed}"
    );
    // Without the policy they stay, and coexistence is censored.
    let (_, out) = run(&set(doc, "policy", json!({})));
    assert!(
        out.replications
            .iter()
            .all(|r| r.releases[0].coexistence.is_none())
    );
}
