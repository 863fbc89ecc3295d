//! Event records: what `run --events` writes as JSON Lines and `trace` prints.
//!
//! Both build their records here from the same recorded lives, so a trace shows exactly
//! the times the event log has for the same instance.

use std::io::{self, Write};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::{Happening, InstanceModel, Life, Publication, UninstallCause, UpdateCause};
use crate::scenario::{Platform, Scenario};
use crate::time::SimTime;

#[derive(Clone, Debug, PartialEq, Serialize)]
/// One line of `events.jsonl`.
pub struct EventRecord {
    /// The replication the event belongs to.
    pub replication: u64,
    /// `null` for events of the release itself (deploy, publication).
    pub instance: Option<u64>,
    /// Hours after the scenario's start.
    pub hours: f64,
    /// UTC instant.
    pub at: String,
    /// The site's local time, for instance events.
    pub local: Option<String>,
    /// The instance's segment, for instance events.
    pub segment: Option<String>,
    /// What happened (`deploy`, `published`, `visible`, `updated`, ...).
    pub event: &'static str,
    /// The release concerned, when there is one.
    pub release: Option<usize>,
    /// The version moved from (an update, or the release's previous version).
    pub from: Option<String>,
    /// The version moved to (an update, or the release's version).
    pub to: Option<String>,
    /// The rule that fired.
    pub rule: String,
}

fn utc(s: &Scenario, t: SimTime) -> DateTime<Utc> {
    s.instant(t)
}

/// Deploy and publication of every release in one replication.
pub fn release_records(
    model: &InstanceModel<'_>,
    publication: &Publication,
    replication: u64,
) -> Vec<EventRecord> {
    let (s, plan) = (model.scenario(), model.plan());
    let mut out = Vec::new();
    for (k, release) in s.releases.iter().enumerate() {
        let version = plan.versions[plan.version_of(k)].to_string();
        let record = |t: SimTime, event, rule: String| EventRecord {
            replication,
            instance: None,
            hours: t.as_hours(),
            at: utc(s, t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            local: None,
            segment: None,
            event,
            release: Some(k),
            from: Some(plan.versions[plan.from_version[k]].to_string()),
            to: Some(version.clone()),
            rule,
        };
        out.push(record(
            release.at,
            "deploy",
            format!(
                "vendor deploys {} ({})",
                release.label,
                release.changes.names().join("+")
            ),
        ));
        let how = match s.platform {
            Platform::Connect => "the first descriptor poll at or after the deploy",
            Platform::Forge => "detected within minutes of the deploy",
        };
        let review = if plan.licensing[k] {
            ", after the Marketplace review of free -> paid"
        } else {
            ""
        };
        out.push(record(
            publication.at[k],
            "published",
            format!("Marketplace publishes {version}: {how}{review}"),
        ));
    }
    out
}

/// What a version asks for that `granted` does not give, in words.
fn missing_permissions(model: &InstanceModel<'_>, granted: usize, wanted: usize) -> String {
    let plan = model.plan();
    let (have, want) = (&plan.permissions[granted], &plan.permissions[wanted]);
    let mut missing: Vec<String> = want
        .scopes
        .difference(&have.scopes)
        .map(|scope| match scope.strip_prefix("scope-change-") {
            Some(k) => format!("the new scope of release {k}"),
            None => format!("scope {scope}"),
        })
        .collect();
    if want.paid && !have.paid {
        missing.push("a paid licence".into());
    }
    let removed = have.scopes.difference(&want.scopes).count();
    if missing.is_empty() && removed > 0 {
        missing.push(format!(
            "approval of {removed} removed scope(s) (rules.scope_removal: approval)"
        ));
    }
    if missing.is_empty() && plan.line(wanted) > plan.line(granted) {
        missing.push(format!(
            "consent to the new major line {} (rules.gate_crosses_major_lines: false)",
            plan.line(wanted)
        ));
    }
    missing.join(", ")
}

/// Everything that happened to one instance, and at the horizon the update it was still
/// held from, if any, with the permission the site never granted.
pub fn instance_records(
    model: &InstanceModel<'_>,
    publication: &Publication,
    replication: u64,
    life: &Life,
) -> Vec<EventRecord> {
    let mut records = happening_records(model, replication, life);
    let (s, plan) = (model.scenario(), model.plan());
    let mut installed = Some(life.first_version);
    let mut last_decision = "has not responded";
    for &(_, h) in &life.happenings {
        match h {
            Happening::Updated { to, .. } => installed = Some(to),
            Happening::Uninstalled { .. } => installed = None,
            Happening::Rejected { .. } => last_decision = "rejected it",
            Happening::Ignored { .. } => last_decision = "ignored the notice",
            Happening::Noticed { .. } => last_decision = "has not responded",
            _ => {}
        }
    }
    let horizon = s.horizon_time();
    let newest = publication.newest_at(horizon);
    if let Some(v) = installed
        && plan.is_newer(newest, v)
        && !plan.covers(v, newest)
    {
        let zone = model.zone(&life.attributes);
        records.push(EventRecord {
            replication,
            instance: Some(life.instance),
            hours: horizon.as_hours(),
            at: utc(s, horizon).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            local: Some(
                utc(s, horizon)
                    .with_timezone(&zone)
                    .format("%Y-%m-%d %H:%M:%S %Z")
                    .to_string(),
            ),
            segment: Some(s.population.segments[life.attributes.segment].name.clone()),
            event: "held",
            release: Some(newest - 1),
            from: Some(plan.versions[v].to_string()),
            to: Some(plan.versions[newest].to_string()),
            rule: format!(
                "at the horizon the update is held: it needs {} that this site never granted (the admin {last_decision})",
                missing_permissions(model, v, newest)
            ),
        });
    }
    records
}

/// One record per happening of the instance's life.
fn happening_records(model: &InstanceModel<'_>, replication: u64, life: &Life) -> Vec<EventRecord> {
    let (s, plan) = (model.scenario(), model.plan());
    let zone = model.zone(&life.attributes);
    let v = |id: usize| plan.versions[id].to_string();
    let admin = &s.population.segments[life.attributes.segment].admin;
    let segment = &s.population.segments[life.attributes.segment].name;
    life.happenings
        .iter()
        .map(|&(t, h)| {
            let (event, release, from, to, rule) = match h {
                Happening::Visible { release, slipped } => {
                    let via = if model.delivered_by_forge(release) {
                        "Forge delivers the automatic version"
                    } else {
                        "UPM poll (every period, at the instance's phase) finds the version"
                    };
                    let slip = if slipped {
                        format!("; slipped {} (deployed inside this site's maintenance window)", s.timing.maintenance_slip)
                    } else {
                        String::new()
                    };
                    ("reached", Some(release), None, Some(v(plan.version_of(release))), format!("{via}{slip}"))
                }
                Happening::Noticed { release } => ("notice", Some(release), None, Some(v(plan.version_of(release))), "the update asks for new permissions: shown as available, admin emailed".into()),
                Happening::Ignored { release } => ("ignored", Some(release), None, None, format!("admin profile {:?} draws: no response to the notice", admin.name)),
                Happening::Reminded { release, index } => ("reminder", Some(release), None, None, format!("reminder {} of {} sent", index + 1, admin.reminders.len())),
                Happening::Rejected { release } => ("rejected", Some(release), None, None, format!("admin rejects (on_reject: {:?})", admin.on_reject)),
                Happening::Updated { from, to, cause } => (
                    "updated",
                    None,
                    Some(v(from)),
                    Some(v(to)),
                    match cause {
                        UpdateCause::Automatic => "automatic: the version asks for nothing this instance has not granted".into(),
                        UpdateCause::Approval => "admin approves: the newest published version is applied".into(),
                        UpdateCause::BulkUpgrade => "vendor bulk upgrade request (policy.bulk_upgrade) moves it to the newest major line".into(),
                    },
                ),
                Happening::Uninstalled { version, cause } => (
                    "uninstalled",
                    None,
                    Some(v(version)),
                    None,
                    match cause {
                        UninstallCause::Rejected => "rejected with on_reject: uninstall, or a free -> paid change".into(),
                        UninstallCause::Unapproved => "free -> paid not approved by the deadline (policy.uninstall_unapproved_after); removed then, as it never paid".into(),
                        UninstallCause::Churn => "the customer left (population.churn.uninstall_rate_per_day)".into(),
                        UninstallCause::Cutoff => "the platform cut-off: versions below it stop working (policy.cutoff_action: uninstall)".into(),
                    },
                ),
            };
            EventRecord {
                replication,
                instance: Some(life.instance),
                hours: t.as_hours(),
                at: utc(s, t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                local: Some(utc(s, t).with_timezone(&zone).format("%Y-%m-%d %H:%M:%S %Z").to_string()),
                segment: Some(segment.clone()),
                event,
                release,
                from,
                to,
                rule,
            }
        })
        .collect()
}

/// One JSON object per line.
pub fn write_json_lines(records: &[EventRecord], out: &mut dyn Write) -> io::Result<()> {
    for r in records {
        serde_json::to_writer(&mut *out, r)?;
        writeln!(out)?;
    }
    Ok(())
}

/// A human-readable timeline: the instance's attributes, then every event in time order.
pub fn render_trace(
    model: &InstanceModel<'_>,
    replication: u64,
    life: &Life,
    records: &[EventRecord],
) -> String {
    let s = model.scenario();
    let segment = &s.population.segments[life.attributes.segment];
    let phase = life.attributes.poll_phase.as_hours();
    let mut out = format!(
        "instance {} of replication {} ({}, seed {})\n  segment {}, time zone {}, admin profile {:?}, UPM poll phase {:.2} h into every {} period\n\n",
        life.instance,
        replication,
        s.name,
        s.seed,
        segment.name,
        model.zone(&life.attributes),
        segment.admin.name,
        phase,
        s.timing.upm_poll
    );
    out.push_str(&format!(
        "{:>9}  {:<27} {:<12} {}\n",
        "hours", "site local time", "event", "what and why"
    ));
    let zone = model.zone(&life.attributes);
    for r in records {
        let local = r.local.clone().unwrap_or_else(|| {
            DateTime::parse_from_rfc3339(&r.at)
                .map(|t| {
                    t.with_timezone(&zone)
                        .format("%Y-%m-%d %H:%M:%S %Z")
                        .to_string()
                })
                .unwrap_or_default()
        });
        let versions = match (&r.from, &r.to) {
            (Some(f), Some(t)) => format!("{f} -> {t}: "),
            (None, Some(t)) => format!("{t}: "),
            (Some(f), None) => format!("{f}: "),
            (None, None) => String::new(),
        };
        out.push_str(&format!(
            "{:>9.3}  {:<27} {:<12} {versions}{}\n",
            r.hours, local, r.event, r.rule
        ));
    }
    out
}

/// Every event of every replication as JSON Lines (`run --events`).
///
/// The lives are simulated again with a recording observer rather than kept from the
/// run: the draws are counter-based, so they are the same lives, and the run itself
/// stays free of per-instance memory; `--events` is limited to small runs.
pub fn write_event_log(scenario: &Scenario, w: &mut dyn Write) -> io::Result<()> {
    use crate::model::{VersionTable, record};
    let plan = VersionTable::new(scenario);
    let model = InstanceModel::new(scenario, &plan);
    for replication in 0..u64::from(scenario.replications) {
        // Every member: ids past the last one are skipped.
        let (ctx, lives) = record(&model, replication, 0..u64::MAX);
        write_json_lines(&release_records(&model, &ctx.publication, replication), w)?;
        for life in &lives {
            write_json_lines(
                &instance_records(&model, &ctx.publication, replication, life),
                w,
            )?;
        }
    }
    Ok(())
}
