//! `--from-events`: a run's event log (`run --events`) turned into the per-instance
//! observations a vendor would have collected, so the whole loop can be tried on
//! simulated data whose true admin profile is known.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::observed::{InstanceRow, ObservedError};
use crate::model::ReleasePlan;
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
/// horizon). An instance counts from its first update to the release's version or a
/// newer one; one that uninstalled first is censored then; new installs (which never
/// needed approval) are left out.
pub(crate) fn rows_from_events(
    scenario: &Scenario,
    text: &str,
    file: &Path,
    release: usize,
    replication: u64,
    until: Option<f64>,
) -> Result<Vec<InstanceRow>, ObservedError> {
    let plan = ReleasePlan::new(scenario);
    let ids: BTreeMap<String, usize> = plan
        .versions
        .iter()
        .enumerate()
        .map(|(i, v)| (v.to_string(), i))
        .collect();
    let wanted = plan.version_of(release);
    let mut deploy = None;
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
            if record.event == "deploy" && record.release == Some(release) {
                deploy = Some(record.hours);
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
    let horizon = scenario.horizon.as_hours() - deploy;
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
