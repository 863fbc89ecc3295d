//! What every form of observed data becomes or shares: the per-instance row, the errors
//! that name a file, line and column, and the CSV table the forms are read from.

use std::path::{Path, PathBuf};

use thiserror::Error;

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
    pub(crate) fn seen(&self) -> crate::fit::likelihood::Seen {
        crate::fit::likelihood::Seen {
            entered: self.entered,
            last_old: self.last_old.unwrap_or(self.hours),
            first_new: self.updated.then_some(self.hours),
        }
    }
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

/// A CSV of observations read whole: its header and its records with their lines, and
/// the errors that name them.
pub(super) struct Table<'a> {
    /// The file, for errors.
    pub(super) file: &'a Path,
    /// The column names, trimmed.
    pub(super) header: Vec<String>,
    /// Each record with its line (the header is line 1).
    pub(super) records: Vec<(u64, csv::StringRecord)>,
}

impl<'a> Table<'a> {
    /// Reads CSV `text`: a header and at least one row, each as long as the header.
    pub(super) fn read(text: &str, file: &'a Path) -> Result<Table<'a>, ObservedError> {
        let file_error = |message: String| file_problem(file, message);
        let mut reader = csv::ReaderBuilder::new()
            .trim(csv::Trim::All)
            .flexible(false)
            .from_reader(text.as_bytes());
        let header: Vec<String> = reader
            .headers()
            .map_err(|e| file_error(format!("line 1: {e}")))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut records = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, csv::Position::line);
                file_error(format!("line {line}: {e}"))
            })?;
            let line = record.position().map_or(0, csv::Position::line);
            records.push((line, record));
        }
        if records.is_empty() {
            return Err(file_error("has a header but no rows".into()));
        }
        Ok(Table {
            file,
            header,
            records,
        })
    }

    /// Whether the header has `name`.
    pub(super) fn has(&self, name: &str) -> bool {
        self.column(name).is_some()
    }

    /// The index of column `name`.
    pub(super) fn column(&self, name: &str) -> Option<usize> {
        self.header.iter().position(|h| h == name)
    }

    /// The value of `record` in column `name`, which the header is known to have.
    pub(super) fn cell<'r>(&self, record: &'r csv::StringRecord, name: &str) -> &'r str {
        self.column(name).map_or("", |c| &record[c])
    }

    /// A problem with the file as a whole.
    pub(super) fn file_error(&self, message: String) -> ObservedError {
        file_problem(self.file, message)
    }

    /// A problem with one value.
    pub(super) fn value_error(&self, line: u64, column: &str, message: String) -> ObservedError {
        ObservedError::Value {
            file: self.file.to_path_buf(),
            line,
            column: column.to_string(),
            message,
        }
    }

    /// The `segment` column's value, if the table has one: never empty, since it names
    /// the segment of the `what` (instance, installation) in the row.
    pub(super) fn segment(
        &self,
        line: u64,
        record: &csv::StringRecord,
        what: &str,
    ) -> Result<Option<String>, ObservedError> {
        match self.column("segment") {
            Some(c) if record[c].is_empty() => Err(self.value_error(
                line,
                "segment",
                format!("is empty; name the {what}'s segment"),
            )),
            Some(c) => Ok(Some(record[c].to_string())),
            None => Ok(None),
        }
    }

    /// The `hours` column: a number of hours, or a duration as everywhere else in the
    /// tool (`36h`, `1d12h`), from 0 to [`MAX_HOURS`].
    pub(super) fn hours(
        &self,
        line: u64,
        record: &csv::StringRecord,
    ) -> Result<f64, ObservedError> {
        let raw = self.cell(record, "hours");
        let hours = raw.parse::<f64>().ok().or_else(|| {
            crate::time::SimDuration::parse(raw)
                .ok()
                .map(crate::time::SimDuration::as_hours)
        });
        match hours {
            Some(h) if (0.0..=MAX_HOURS).contains(&h) => Ok(h),
            _ => Err(self.value_error(
                line,
                "hours",
                format!(
                    "`{raw}` is not allowed; the time after the deploy is a number of hours from 0 to {MAX_HOURS} or a duration such as 36h or 1d12h"
                ),
            )),
        }
    }
}

/// A problem with `file` as a whole (its header, its size).
fn file_problem(file: &Path, message: String) -> ObservedError {
    ObservedError::File {
        file: file.to_path_buf(),
        message,
    }
}
