//! The observed adoption of a past release: a CSV in one of four forms, told apart by
//! its header, each read in a file of its own:
//!
//! - per instance, `instance,hours,updated[,segment]` ([`per_instance`]);
//! - aggregate, `hours,share[,instances]` ([`aggregate`]);
//! - snapshots, `installation,observed_at,version[,segment]`, and upgrade events,
//!   `installation,at,event[,segment]`, as vendors have them ([`sightings`]).
//!
//! [`rows`] holds what they share: the per-instance row every form but the aggregate
//! becomes, the errors, and the CSV table they are read from.

use std::collections::BTreeSet;
use std::path::Path;

mod aggregate;
mod per_instance;
mod rows;
mod sightings;

pub use aggregate::SharePoint;
pub use rows::{InstanceRow, ObservedError};
pub use sightings::{LeftOut, ReleaseContext, parse_version};

use rows::Table;

/// What was observed.
#[derive(Clone, Debug, PartialEq)]
pub enum Observations {
    /// One row per instance.
    PerInstance(Vec<InstanceRow>),
    /// One row per installation, from snapshots of versions or from upgrade events.
    Sightings {
        /// `snapshots` or `upgrade_events`.
        form: &'static str,
        /// The rows.
        rows: Vec<InstanceRow>,
        /// What was left out, and why.
        left_out: LeftOut,
    },
    /// A cumulative share curve over a field of `instances`.
    Aggregate {
        /// The observation times, increasing.
        points: Vec<SharePoint>,
        /// The size of the field.
        instances: u64,
    },
}

/// Reads `file`. `instances` is the field size of aggregate data without an
/// `instances` column (`--instances`).
pub(crate) fn read(
    file: &Path,
    instances: Option<u64>,
    release: &ReleaseContext,
) -> Result<Observations, ObservedError> {
    let text = crate::input::read_bounded_to(file, crate::input::MAX_DATA_BYTES).map_err(|e| {
        ObservedError::Unreadable {
            file: file.to_path_buf(),
            message: e.to_string(),
        }
    })?;
    parse(&text, file, instances, release)
}

/// Parses CSV text (see [`read`]); `file` names it in errors.
pub(crate) fn parse(
    text: &str,
    file: &Path,
    instances: Option<u64>,
    release: &ReleaseContext,
) -> Result<Observations, ObservedError> {
    let table = Table::read(text, file)?;
    let has = |c: &str| table.has(c);
    let form = if has("observed_at") || has("version") {
        Form::Snapshots
    } else if has("event") || (has("installation") && has("at")) {
        Form::UpgradeEvents
    } else if has("instance") || has("updated") {
        Form::PerInstance
    } else {
        Form::Aggregate
    };
    let (allowed, required): (&[&str], &[&str]) = match form {
        Form::Snapshots => (&sightings::SNAPSHOTS, &sightings::SNAPSHOTS[..3]),
        Form::UpgradeEvents => (&sightings::UPGRADE_EVENTS, &sightings::UPGRADE_EVENTS[..3]),
        Form::PerInstance => (&per_instance::COLUMNS, &per_instance::COLUMNS[..3]),
        Form::Aggregate => (&aggregate::COLUMNS, &aggregate::COLUMNS[..2]),
    };
    let forms = "per instance `instance,hours,updated[,segment]`, aggregate `hours,share[,instances]`, snapshots `installation,observed_at,version[,segment]` or upgrade events `installation,at,event[,segment]`";
    let mut seen = BTreeSet::new();
    for h in &table.header {
        if !allowed.contains(&h.as_str()) {
            return Err(table.file_error(format!(
                "line 1: unknown column `{h}`; the header must be {forms}"
            )));
        }
        if !seen.insert(h.as_str()) {
            return Err(table.file_error(format!("line 1: column `{h}` appears twice")));
        }
    }
    if let Some(missing) = required.iter().find(|c| !has(c)) {
        return Err(table.file_error(format!(
            "line 1: missing column `{missing}`; the header must be {forms}"
        )));
    }
    Ok(match form {
        Form::Snapshots => {
            let (rows, left_out) = sightings::from_snapshots(&table, release)?;
            Observations::Sightings {
                form: "snapshots",
                rows,
                left_out,
            }
        }
        Form::UpgradeEvents => {
            let (rows, left_out) = sightings::from_events(&table, release)?;
            Observations::Sightings {
                form: "upgrade_events",
                rows,
                left_out,
            }
        }
        Form::PerInstance => Observations::PerInstance(per_instance::read(&table)?),
        Form::Aggregate => {
            let (points, instances) = aggregate::read(&table, instances)?;
            Observations::Aggregate { points, instances }
        }
    })
}

/// The four forms, told apart by the header.
enum Form {
    PerInstance,
    Aggregate,
    Snapshots,
    UpgradeEvents,
}

impl Observations {
    /// `per_instance`, `aggregate`, `snapshots` or `upgrade_events`, as `fit.json`
    /// names the form.
    pub fn form(&self) -> &'static str {
        match self {
            Observations::PerInstance(_) => "per_instance",
            Observations::Sightings { form, .. } => form,
            Observations::Aggregate { .. } => "aggregate",
        }
    }

    /// The per-instance rows, for every form but aggregate shares.
    pub fn rows(&self) -> Option<&[InstanceRow]> {
        match self {
            Observations::PerInstance(rows) | Observations::Sightings { rows, .. } => Some(rows),
            Observations::Aggregate { .. } => None,
        }
    }

    /// The number of instances observed.
    pub fn instances(&self) -> u64 {
        match (self, self.rows()) {
            (Observations::Aggregate { instances, .. }, _) => *instances,
            (_, rows) => rows.map_or(0, |r| r.len() as u64),
        }
    }

    /// The number seen on the new version (aggregate: rounded from the last share).
    pub fn updated(&self) -> u64 {
        match (self, self.rows()) {
            (Observations::Aggregate { points, instances }, _) => {
                let last = points.last().map_or(0.0, |p| p.share);
                (last * *instances as f64).round() as u64
            }
            (_, rows) => rows.map_or(0, |r| r.iter().filter(|r| r.updated).count() as u64),
        }
    }

    /// The last observation time, in hours after the deploy.
    pub fn until_hours(&self) -> f64 {
        match (self, self.rows()) {
            (Observations::Aggregate { points, .. }, _) => points.last().map_or(0.0, |p| p.hours),
            (_, rows) => rows.map_or(0.0, |r| r.iter().map(|r| r.hours).fold(0.0, f64::max)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(text: &str) -> Result<Observations, ObservedError> {
        let release = ReleaseContext {
            deploy: "2026-03-02T00:00:00Z".parse().unwrap(),
            version: semver::Version::new(2, 0, 0),
        };
        parse(text, Path::new("obs.csv"), None, &release)
    }

    #[test]
    fn the_header_tells_the_forms_apart() {
        let rows =
            parse_str("instance,hours,updated,segment\na,12.5,true,free\nb,100,false,free\n")
                .unwrap();
        assert_eq!(rows.form(), "per_instance");
        assert_eq!(
            (rows.instances(), rows.updated(), rows.until_hours()),
            (2, 1, 100.0)
        );
        let agg = parse_str("hours,share,instances\n24,0.1,500\n48,0.3,500\n").unwrap();
        // Durations as everywhere else: the same data with `1d` and `2d`.
        assert_eq!(
            parse_str("hours,share,instances\n1d,0.1,500\n1d24h,0.3,500\n").unwrap(),
            agg
        );
        assert_eq!(agg.form(), "aggregate");
        assert_eq!((agg.instances(), agg.updated()), (500, 150));
    }

    #[test]
    fn errors_name_the_line_and_column() {
        let e = |text: &str| parse_str(text).unwrap_err().to_string();
        assert_eq!(
            e("instance,hours,updated\na,-1,true\n"),
            "obs.csv: line 2, column `hours`: `-1` is not allowed; the time after the deploy is a number of hours from 0 to 1000000 or a duration such as 36h or 1d12h"
        );
        assert!(
            e("instance,hours,updated\na,1e300,true\n")
                .contains("column `hours`: `1e300` is not allowed")
        );
        assert!(e("instance,hours,updated\na,3x,true\n").contains("column `hours`: `3x`"));
        assert!(e("hours,share,instances\n1,0.5,99999999999\n").contains("column `instances`"));
        assert!(
            e("instance,hours,updated\na,1,true\nb,2,yes\n")
                .starts_with("obs.csv: line 3, column `updated`: `yes` is not a boolean")
        );
        assert!(
            e("hours,share,instances\n1,0.5,10\n2,0.4,10\n")
                .starts_with("obs.csv: line 3, column `share`: 0.4 is below")
        );
        assert!(
            e("hours,share,instances\n1,1.5,10\n").starts_with("obs.csv: line 2, column `share`")
        );
        assert!(e("instance,hours\na,1\n").contains("missing column `updated`"));
        assert!(e("hours,share\n1,0.5\n").contains("--instances N"));
        assert!(e("hours,share,colour\n1,0.5,red\n").contains("unknown column `colour`"));
        assert!(
            e("instance,hours,updated\na,1,true\na,2,false\n")
                .contains("line 3, column `instance`: `a` appears twice")
        );
    }
}
