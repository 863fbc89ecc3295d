//! The observed adoption of a past release: a CSV in one of two forms, told apart by
//! its header.
//!
//! - per instance, `instance,hours,updated[,segment]`: hours after the release's deploy
//!   at which the instance was first seen on the new version (`updated` true), or last
//!   seen still on an older one (`updated` false: right-censored);
//! - aggregate, `hours,share[,instances]`: the cumulative share of instances on the new
//!   version at each observation time;
//! - snapshots and upgrade events, as vendors have them (see `snapshots`).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use thiserror::Error;

use super::snapshots::ReleaseContext;

/// One instance's observation.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceRow {
    /// The instance's id, as the data names it.
    pub instance: String,
    /// Hours after the deploy: when it was first seen updated, or last seen not updated.
    pub hours: f64,
    /// Whether it was seen on the new version.
    pub updated: bool,
    /// Its segment, when the data has a `segment` column.
    pub segment: Option<String>,
    /// The line of the file it came from (0 when it came from elsewhere).
    pub line: u64,
    /// Hours after the deploy when it was first observed (0, or later: it is known not
    /// to have updated before, left truncation).
    pub entered: f64,
    /// For an update seen only between two sightings: the last sighting on an older
    /// version (`hours` is the first on the new one). `None`: `hours` is exact.
    pub last_old: Option<f64>,
}

impl InstanceRow {
    /// The row as the likelihood sees it.
    pub(crate) fn seen(&self) -> super::likelihood::Seen {
        super::likelihood::Seen {
            entered: self.entered,
            last_old: self.last_old.unwrap_or(self.hours),
            first_new: self.updated.then_some(self.hours),
        }
    }
}

/// One point of a cumulative adoption curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SharePoint {
    /// Hours after the deploy.
    pub hours: f64,
    /// The share of the field on the new version by then.
    pub share: f64,
}

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
        left_out: super::snapshots::LeftOut,
    },
    /// A cumulative share curve over a field of `instances`.
    Aggregate {
        /// The observation times, increasing.
        points: Vec<SharePoint>,
        /// The size of the field.
        instances: u64,
    },
}

/// A problem with the observed data, naming the file, the line and the column.
#[derive(Debug, Error)]
pub enum ObservedError {
    /// The file could not be read.
    #[error("{file}: cannot read it: {message}")]
    Unreadable {
        /// The file.
        file: PathBuf,
        /// Why.
        message: String,
    },
    /// One value is wrong.
    #[error("{file}: line {line}, column `{column}`: {message}")]
    Value {
        /// The file.
        file: PathBuf,
        /// Its line, from 1 (the header is line 1).
        line: u64,
        /// The column's name.
        column: String,
        /// What was wrong and what is allowed.
        message: String,
    },
    /// The file as a whole is wrong (its header, its size).
    #[error("{file}: {message}")]
    File {
        /// The file.
        file: PathBuf,
        /// What was wrong and what is allowed.
        message: String,
    },
}

/// The latest observation time accepted, in hours after the deploy (over a century).
pub(crate) const MAX_HOURS: f64 = 1e6;
/// The largest field an aggregate curve may describe (the bootstrap simulates each
/// instance).
pub(crate) const MAX_INSTANCES: u64 = 10_000_000;

const PER_INSTANCE: [&str; 4] = ["instance", "hours", "updated", "segment"];
const AGGREGATE: [&str; 3] = ["hours", "share", "instances"];
const SNAPSHOTS: [&str; 4] = ["installation", "observed_at", "version", "segment"];
const UPGRADE_EVENTS: [&str; 4] = ["installation", "at", "event", "segment"];

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
    let whole = |message: String| ObservedError::File {
        file: file.to_path_buf(),
        message,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| whole(format!("line 1: {e}")))?
        .iter()
        .map(str::to_string)
        .collect();
    let has = |c: &str| header.iter().any(|h| h == c);
    let per_instance = has("instance") || has("updated");
    let snapshots = has("observed_at") || has("version");
    let upgrade_events = has("event") || (has("installation") && has("at"));
    let (allowed, required): (&[&str], &[&str]) = if snapshots {
        (&SNAPSHOTS, &SNAPSHOTS[..3])
    } else if upgrade_events {
        (&UPGRADE_EVENTS, &UPGRADE_EVENTS[..3])
    } else if per_instance {
        (&PER_INSTANCE, &PER_INSTANCE[..3])
    } else {
        (&AGGREGATE, &AGGREGATE[..2])
    };
    let forms = "per instance `instance,hours,updated[,segment]`, aggregate `hours,share[,instances]`, snapshots `installation,observed_at,version[,segment]` or upgrade events `installation,at,event[,segment]`";
    let mut seen = BTreeSet::new();
    for h in &header {
        if !allowed.contains(&h.as_str()) {
            return Err(whole(format!(
                "line 1: unknown column `{h}`; the header must be {forms}"
            )));
        }
        if !seen.insert(h.as_str()) {
            return Err(whole(format!("line 1: column `{h}` appears twice")));
        }
    }
    if let Some(missing) = required.iter().find(|c| !has(c)) {
        return Err(whole(format!(
            "line 1: missing column `{missing}`; the header must be {forms}"
        )));
    }
    let column = |name: &str| header.iter().position(|h| h == name);
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, csv::Position::line);
            whole(format!("line {line}: {e}"))
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        rows.push((line, record));
    }
    if rows.is_empty() {
        return Err(whole("has a header but no rows".into()));
    }
    let value_error = |line: u64, column: &str, message: String| ObservedError::Value {
        file: file.to_path_buf(),
        line,
        column: column.to_string(),
        message,
    };
    let hours_at = |line: u64, record: &csv::StringRecord| -> Result<f64, ObservedError> {
        let raw = &record[column("hours").expect("required")];
        // A number of hours, or a duration as everywhere else in the tool (`36h`, `1d12h`).
        let hours = raw.parse::<f64>().ok().or_else(|| {
            crate::time::SimDuration::parse(raw)
                .ok()
                .map(crate::time::SimDuration::as_hours)
        });
        match hours {
            Some(h) if (0.0..=MAX_HOURS).contains(&h) => Ok(h),
            _ => Err(value_error(
                line,
                "hours",
                format!(
                    "`{raw}` is not allowed; the time after the deploy is a number of hours from 0 to {MAX_HOURS} or a duration such as 36h or 1d12h"
                ),
            )),
        }
    };
    if snapshots || upgrade_events {
        let (rows, left_out) = if snapshots {
            super::snapshots::from_snapshots(&rows, &header, file, release)?
        } else {
            super::snapshots::from_events(&rows, &header, file, release)?
        };
        return Ok(Observations::Sightings {
            form: if snapshots {
                "snapshots"
            } else {
                "upgrade_events"
            },
            rows,
            left_out,
        });
    }
    if per_instance {
        let mut ids = BTreeSet::new();
        let mut out = Vec::with_capacity(rows.len());
        for (line, record) in &rows {
            let instance = record[column("instance").expect("required")].to_string();
            if instance.is_empty() {
                return Err(value_error(
                    *line,
                    "instance",
                    "is empty; every row names its instance".into(),
                ));
            }
            if !ids.insert(instance.clone()) {
                return Err(value_error(
                    *line,
                    "instance",
                    format!(
                        "`{instance}` appears twice; give each instance one row (its first update, or the last time it was seen on an older version)"
                    ),
                ));
            }
            let raw = &record[column("updated").expect("required")];
            let updated = match raw.to_ascii_lowercase().as_str() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => {
                    return Err(value_error(
                        *line,
                        "updated",
                        format!("`{raw}` is not a boolean; write true or false (or 1 or 0)"),
                    ));
                }
            };
            let segment = match column("segment") {
                Some(c) if record[c].is_empty() => {
                    return Err(value_error(
                        *line,
                        "segment",
                        "is empty; name the instance's segment".into(),
                    ));
                }
                Some(c) => Some(record[c].to_string()),
                None => None,
            };
            out.push(InstanceRow {
                instance,
                hours: hours_at(*line, record)?,
                updated,
                segment,
                line: *line,
                entered: 0.0,
                last_old: None,
            });
        }
        return Ok(Observations::PerInstance(out));
    }
    let mut points: Vec<SharePoint> = Vec::with_capacity(rows.len());
    let mut field: Option<(u64, u64)> = None;
    for (line, record) in &rows {
        let hours = hours_at(*line, record)?;
        let raw = &record[column("share").expect("required")];
        let share = match raw.parse::<f64>() {
            Ok(s) if (0.0..=1.0).contains(&s) => s,
            _ => {
                return Err(value_error(
                    *line,
                    "share",
                    format!("`{raw}` is not allowed; a share is a number from 0 to 1"),
                ));
            }
        };
        if let Some(last) = points.last() {
            if hours <= last.hours {
                return Err(value_error(
                    *line,
                    "hours",
                    format!(
                        "{hours} does not follow the previous row's {}; rows must be in increasing hours",
                        last.hours
                    ),
                ));
            }
            if share < last.share {
                return Err(value_error(
                    *line,
                    "share",
                    format!(
                        "{share} is below the previous row's {}; a cumulative share never decreases",
                        last.share
                    ),
                ));
            }
        }
        if let Some(c) = column("instances") {
            let raw = &record[c];
            let n = raw.parse::<u64>().ok().filter(|&n| (1..=MAX_INSTANCES).contains(&n)).ok_or_else(|| {
                value_error(
                    *line,
                    "instances",
                    format!("`{raw}` is not allowed; the field size is a whole number from 1 to {MAX_INSTANCES}"),
                )
            })?;
            match field {
                Some((first, at)) if first != n => {
                    return Err(value_error(
                        *line,
                        "instances",
                        format!(
                            "{n} differs from {first} on line {at}; the field observed must be the same on every row"
                        ),
                    ));
                }
                None => field = Some((n, *line)),
                _ => {}
            }
        }
        points.push(SharePoint { hours, share });
    }
    let instances = match (field.map(|f| f.0), instances) {
        (Some(n), Some(flag)) if n != flag => {
            return Err(whole(format!(
                "the `instances` column says {n} but --instances says {flag}; give one"
            )));
        }
        (Some(n), _) | (None, Some(n)) => n,
        (None, None) => {
            return Err(whole(
                "aggregate data needs the field size: an `instances` column or --instances N"
                    .into(),
            ));
        }
    };
    Ok(Observations::Aggregate { points, instances })
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
