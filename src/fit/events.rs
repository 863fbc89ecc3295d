//! `--from-events`: a run's event log (`run --events`) turned into the per-instance
//! observations a vendor would have collected, so the whole loop can be tried on
//! simulated data whose true admin profile is known.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::observed::{InstanceRow, ObservedError};
use crate::model::VersionTable;
use crate::scenario::Scenario;

/// The fields of an event record the conversion reads.
#[derive(Deserialize)]
struct Record {
    replication: u64,
    instance: Option<u64>,
    hours: f64,
    event: String,
    release: Option<usize>,
    to: Option<String>,
    segment: Option<String>,
}

/// What the log says of one instance: its segment, its first update to the release's
/// version or a newer one, and when it uninstalled.
#[derive(Default)]
struct Seen {
    segment: Option<String>,
    updated: Option<f64>,
    uninstalled: Option<f64>,
}

/// The per-instance rows of release `release` in replication `replication` of the log
/// `text` (from `file`), observed until `until` hours after the deploy (default: the
/// next release's deploy, or the horizon). An instance counts from its first update to
/// the release's version or a newer one; one that uninstalled first is censored then;
/// new installs (which never needed approval) are left out.
pub(crate) fn rows_from_events(
    scenario: &Scenario,
    text: &str,
    file: &Path,
    release: usize,
    replication: u64,
    until: Option<f64>,
) -> Result<Vec<InstanceRow>, ObservedError> {
    let plan = VersionTable::new(scenario);
    let ids: BTreeMap<String, usize> = plan
        .versions
        .iter()
        .enumerate()
        .map(|(i, v)| (v.to_string(), i))
        .collect();
    let wanted = plan.version_of(release);
    let mut deploy = None;
    let mut deploys = Vec::new();
    let mut seen: BTreeMap<u64, Seen> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record: Record = serde_json::from_str(line).map_err(|e| ObservedError::Value {
            file: file.to_path_buf(),
            line: i as u64 + 1,
            column: format!("column {}", e.column()),
            message: format!("not an event record of `run --events`: {e}"),
        })?;
        if record.replication != replication {
            continue;
        }
        let Some(instance) = record.instance else {
            if record.event == "deploy" {
                deploys.push(record.hours);
                if record.release == Some(release) {
                    deploy = Some(record.hours);
                }
            }
            continue;
        };
        if instance >= scenario.population.instances {
            continue;
        }
        let entry = seen.entry(instance).or_default();
        if entry.segment.is_none() {
            entry.segment = record.segment.clone();
        }
        match record.event.as_str() {
            "updated" if entry.updated.is_none() => {
                let to = record.to.as_deref().and_then(|v| ids.get(v)).copied();
                if to.is_some_and(|v| v == wanted || plan.is_newer(v, wanted)) {
                    entry.updated = Some(record.hours);
                }
            }
            "uninstalled" if entry.uninstalled.is_none() => entry.uninstalled = Some(record.hours),
            _ => {}
        }
    }
    let Some(deploy) = deploy else {
        return Err(ObservedError::File {
            file: file.to_path_buf(),
            message: format!(
                "has no deploy of release {release} in replication {replication}: is it the event log of this scenario (`run --events`)?"
            ),
        });
    };
    // Observation ends at the next deploy: after it, a notice of the next release can
    // bring this one's version too (an admin approving both at once), which says
    // nothing about how admins answered this release.
    let next = deploys
        .iter()
        .copied()
        .filter(|&h| h > deploy)
        .fold(scenario.horizon.as_hours(), f64::min);
    let horizon = next - deploy;
    let until = until.map_or(horizon, |u| u.min(horizon));
    Ok(seen
        .into_iter()
        // Instances gone before the deploy were not part of the observed field.
        .filter(|(_, seen)| seen.uninstalled.is_none_or(|g| g >= deploy))
        .map(|(instance, seen)| {
            let since = |t: Option<f64>| t.map(|t| t - deploy);
            let (hours, updated) = match (since(seen.updated), since(seen.uninstalled)) {
                (Some(t), _) if t <= until => (t, true),
                (_, Some(g)) if g < until => (g, false),
                _ => (until, false),
            };
            InstanceRow {
                instance: instance.to_string(),
                hours,
                updated,
                segment: seen.segment,
                line: 0,
                entered: 0.0,
                last_old: None,
            }
        })
        .collect())
}

/// The rows as the per-instance CSV: `instance,hours,updated,segment`, without the
/// segment column when a row has none.
pub(crate) fn to_csv(rows: &[InstanceRow]) -> String {
    let segments = rows.iter().all(|r| r.segment.is_some());
    let mut out = String::from(if segments {
        "instance,hours,updated,segment\n"
    } else {
        "instance,hours,updated\n"
    });
    for r in rows {
        out.push_str(&format!("{},{:.6},{}", r.instance, r.hours, r.updated));
        match &r.segment {
            Some(s) if segments => out.push_str(&format!(",{s}\n")),
            _ => out.push('\n'),
        }
    }
    out
}

/// The rows a vendor polling every installation's version every `every` hours from the
/// deploy would have: an update between the last sighting on the old version and the
/// first on the new, a censoring at the last sighting before it ended.
pub(crate) fn as_snapshots(rows: &[InstanceRow], every: f64) -> Vec<InstanceRow> {
    let until = rows.iter().map(|r| r.hours).fold(0.0, f64::max);
    let last = (until / every).floor();
    rows.iter()
        .map(|r| {
            let seen_new = (r.hours / every).ceil();
            let (hours, last_old, updated) = if r.updated && seen_new <= last {
                (
                    seen_new * every,
                    Some((seen_new - 1.0).max(0.0) * every),
                    true,
                )
            } else {
                // Still old at each sighting up to the censoring (or the end of polling).
                let censor = if r.updated { until } else { r.hours };
                ((censor / every).floor() * every, None, false)
            };
            InstanceRow {
                hours,
                updated,
                last_old,
                ..r.clone()
            }
        })
        .collect()
}

/// Snapshot rows as the snapshot CSV, `installation,observed_at,version[,segment]`: each
/// installation seen at the deploy on `versions.0`, at its last sighting before the
/// update, and at its first sighting on `versions.1` (or its last sighting).
pub(crate) fn to_snapshot_csv(
    rows: &[InstanceRow],
    release: &super::ReleaseContext,
    versions: &(String, String),
) -> String {
    let segments = rows.iter().all(|r| r.segment.is_some());
    let mut out = String::from(if segments {
        "installation,observed_at,version,segment\n"
    } else {
        "installation,observed_at,version\n"
    });
    let at = |hours: f64| {
        let t = release.deploy + chrono::TimeDelta::milliseconds((hours * 3.6e6).round() as i64);
        t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    for r in rows {
        let mut sightings = vec![(0.0, &versions.0)];
        match (r.updated, r.last_old) {
            (true, Some(old)) => {
                sightings.push((old, &versions.0));
                sightings.push((r.hours, &versions.1));
            }
            (true, None) => sightings.push((r.hours, &versions.1)),
            (false, _) => sightings.push((r.hours, &versions.0)),
        }
        sightings.dedup_by(|a, b| a.0 == b.0);
        for (hours, version) in sightings {
            out.push_str(&format!("{},{},{}", r.instance, at(hours), version));
            match &r.segment {
                Some(s) if segments => out.push_str(&format!(",{s}\n")),
                _ => out.push('\n'),
            }
        }
    }
    out
}
