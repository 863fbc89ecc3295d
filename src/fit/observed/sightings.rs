//! Observations in the forms vendors have them: snapshots of every installation's
//! version (Forge's App Installations API polled now and then; a Connect app's request
//! logs), and logs of upgrade events (Forge's `avi:forge:upgraded:app`).
//!
//! - snapshots, `installation,observed_at,version[,segment]`: each row one sighting of
//!   one installation at an RFC 3339 instant. An installation's update time is known
//!   only to lie between its last sighting on an older version and its first on the
//!   release's version or a newer one (interval censoring), never at the sighting;
//!   one first seen after the deploy, still on an older version, is observed from then
//!   on (left truncation); one first seen after the deploy already on the new version
//!   may have been installed with it, and is left out.
//! - upgrade events, `installation,at,event[,segment]` with `event` one of `installed`,
//!   `upgraded` (to the release's version or a newer one), `uninstalled`: exact times.
//!   An installation installed after the deploy is left out (it never needed
//!   approval); one uninstalled before upgrading is censored then; the rest are
//!   censored at the log's last event.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use semver::Version;

use super::rows::{InstanceRow, MAX_HOURS, ObservedError, Table};

/// The snapshot columns, the first three required.
pub(super) const SNAPSHOTS: [&str; 4] = ["installation", "observed_at", "version", "segment"];
/// The upgrade-event columns, the first three required.
pub(super) const UPGRADE_EVENTS: [&str; 4] = ["installation", "at", "event", "segment"];

/// What the vendor data are read against: the observed release's deploy and version.
#[derive(Clone, Debug)]
pub struct ReleaseContext {
    /// When the release was deployed.
    pub deploy: DateTime<Utc>,
    /// The release's version: a sighting of it or of a newer one is an update.
    pub version: Version,
}

/// A version as vendors write it: `2`, `2.3` and `2.3.1` (and anything semver reads).
pub fn parse_version(text: &str) -> Option<Version> {
    let t = text.trim().trim_start_matches('v');
    Version::parse(t).ok().or_else(|| {
        let parts: Vec<&str> = t.split('.').collect();
        let numbers: Option<Vec<u64>> = parts.iter().map(|p| p.parse().ok()).collect();
        match numbers?.as_slice() {
            [major] => Some(Version::new(*major, 0, 0)),
            [major, minor] => Some(Version::new(*major, *minor, 0)),
            _ => None,
        }
    })
}

/// One parsed row: the installation, the time in hours after the deploy, what was seen,
/// the segment and the line.
type Row = (String, f64, Sighting, Option<String>, u64);

/// What a row says of its installation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sighting {
    /// Seen on an older version.
    Old,
    /// Seen on the release's version or a newer one (or upgraded to it).
    New,
    /// Installed.
    Installed,
    /// Uninstalled.
    Uninstalled,
}

/// The rows of a snapshot or event CSV: `kind_column` is `version` or `event`.
fn rows(
    table: &Table,
    context: &ReleaseContext,
    time_column: &str,
    kind_column: &str,
) -> Result<Vec<Row>, ObservedError> {
    let value_error = |line, column, message| table.value_error(line, column, message);
    let mut out = Vec::with_capacity(table.records.len());
    for (line, record) in &table.records {
        let line = *line;
        let installation = table.cell(record, "installation").to_string();
        if installation.is_empty() {
            return Err(value_error(
                line,
                "installation",
                "is empty; every row names its installation".into(),
            ));
        }
        let raw = table.cell(record, time_column);
        let at = DateTime::parse_from_rfc3339(raw).map_err(|_| {
            value_error(
                line,
                time_column,
                format!(
                    "`{}` is not an RFC 3339 instant such as 2026-03-02T09:00:00Z",
                    crate::input::echo(raw)
                ),
            )
        })?;
        let hours = (at.with_timezone(&Utc) - context.deploy).num_milliseconds() as f64 / 3.6e6;
        if hours.abs() > MAX_HOURS {
            return Err(value_error(
                line,
                time_column,
                format!("`{raw}` is more than a century from the deploy"),
            ));
        }
        let raw = table.cell(record, kind_column);
        let sighting = if kind_column == "version" {
            let version = parse_version(raw).ok_or_else(|| {
                value_error(
                    line,
                    "version",
                    format!(
                        "`{}` is not a version such as 2.3.0 (or 2.3, or 2)",
                        crate::input::echo(raw)
                    ),
                )
            })?;
            if version >= context.version {
                Sighting::New
            } else {
                Sighting::Old
            }
        } else {
            match raw {
                "installed" => Sighting::Installed,
                "upgraded" => Sighting::New,
                "uninstalled" => Sighting::Uninstalled,
                _ => {
                    return Err(value_error(
                        line,
                        "event",
                        format!(
                            "`{}` is not an event; allowed: installed, upgraded, uninstalled",
                            crate::input::echo(raw)
                        ),
                    ));
                }
            }
        };
        let segment = table.segment(line, record, "installation")?;
        out.push((installation, hours, sighting, segment, line));
    }
    Ok(out)
}

/// Each installation's rows, in time order (ties in file order).
fn by_installation(rows: Vec<Row>) -> BTreeMap<String, Vec<Row>> {
    let mut map: BTreeMap<String, Vec<Row>> = BTreeMap::new();
    for row in rows {
        map.entry(row.0.clone()).or_default().push(row);
    }
    for rows in map.values_mut() {
        rows.sort_by(|a, b| a.1.total_cmp(&b.1).then(a.4.cmp(&b.4)));
    }
    map
}

/// What was left out of the data, and why: for the fit's report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct LeftOut {
    /// Installations first seen (or installed) after the deploy on the new version.
    pub installed_after: u64,
    /// Installations not observed after the deploy.
    pub unobserved: u64,
}

/// Snapshot rows: one interval-censored (and maybe left-truncated) row per installation.
pub(super) fn from_snapshots(
    table: &Table,
    context: &ReleaseContext,
) -> Result<(Vec<InstanceRow>, LeftOut), ObservedError> {
    let rows = rows(table, context, "observed_at", "version")?;
    let mut out = Vec::new();
    let mut left_out = LeftOut::default();
    for (installation, sightings) in by_installation(rows) {
        let first = &sightings[0];
        let segment = first.3.clone();
        let line = first.4;
        if sightings.iter().all(|s| s.1 <= 0.0) {
            left_out.unobserved += 1;
            continue;
        }
        let entered = first.1.max(0.0);
        // The first sighting on the new version after the deploy, and the last old one before it.
        let Some(k) = sightings
            .iter()
            .position(|s| s.2 == Sighting::New && s.1 > 0.0)
        else {
            let last = sightings.last().expect("at least one").1;
            out.push(row(installation, entered, last, None, segment, line));
            continue;
        };
        if k == 0 {
            // First seen after the deploy, already new: maybe installed with it.
            left_out.installed_after += 1;
            continue;
        }
        let last_old = sightings[k - 1].1.max(0.0);
        out.push(row(
            installation,
            entered,
            last_old,
            Some(sightings[k].1),
            segment,
            line,
        ));
    }
    Ok((out, left_out))
}

/// Upgrade-event rows: one exact row per installation present at the deploy.
pub(super) fn from_events(
    table: &Table,
    context: &ReleaseContext,
) -> Result<(Vec<InstanceRow>, LeftOut), ObservedError> {
    let rows = rows(table, context, "at", "event")?;
    let end = rows.iter().map(|r| r.1).fold(0.0, f64::max);
    let mut out = Vec::new();
    let mut left_out = LeftOut::default();
    for (installation, events) in by_installation(rows) {
        let (segment, line) = (events[0].3.clone(), events[0].4);
        if events
            .iter()
            .any(|e| e.2 == Sighting::Installed && e.1 > 0.0)
        {
            left_out.installed_after += 1;
            continue;
        }
        let after = |kind: Sighting| events.iter().find(|e| e.2 == kind && e.1 > 0.0);
        let gone_before = events
            .iter()
            .any(|e| e.2 == Sighting::Uninstalled && e.1 <= 0.0);
        if gone_before {
            left_out.unobserved += 1;
            continue;
        }
        let (hours, updated) = match (after(Sighting::New), after(Sighting::Uninstalled)) {
            (Some(u), Some(g)) if g.1 < u.1 => (g.1, false),
            (Some(u), _) => (u.1, true),
            (None, Some(g)) => (g.1, false),
            (None, None) => (end, false),
        };
        out.push(row(
            installation,
            0.0,
            hours,
            updated.then_some(hours),
            segment,
            line,
        ));
    }
    Ok((out, left_out))
}

fn row(
    instance: String,
    entered: f64,
    last_old: f64,
    first_new: Option<f64>,
    segment: Option<String>,
    line: u64,
) -> InstanceRow {
    InstanceRow {
        instance,
        hours: first_new.unwrap_or(last_old),
        updated: first_new.is_some(),
        segment,
        line,
        entered,
        last_old: first_new.map(|_| last_old),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_read_as_vendors_write_them() {
        assert_eq!(parse_version("2"), Some(Version::new(2, 0, 0)));
        assert_eq!(parse_version("2.3"), Some(Version::new(2, 3, 0)));
        assert_eq!(parse_version("v2.3.1"), Some(Version::new(2, 3, 1)));
        assert!(parse_version("two").is_none());
        assert!(parse_version("1.2.3.4").is_none());
    }
}
