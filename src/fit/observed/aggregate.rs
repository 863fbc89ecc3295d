//! Aggregate, `hours,share[,instances]`: the cumulative share of instances on the new
//! version at each observation time, over a field of a known size.

use super::rows::{MAX_INSTANCES, ObservedError, Table};

/// The columns, the first two required.
pub(super) const COLUMNS: [&str; 3] = ["hours", "share", "instances"];

/// One point of a cumulative adoption curve.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SharePoint {
    /// Hours after the deploy.
    pub hours: f64,
    /// The share of the field on the new version by then.
    pub share: f64,
}

/// The curve, and the field size: the `instances` column's or `instances`
/// (`--instances`), which must agree when both are given.
pub(super) fn read(
    table: &Table,
    instances: Option<u64>,
) -> Result<(Vec<SharePoint>, u64), ObservedError> {
    let mut points: Vec<SharePoint> = Vec::with_capacity(table.records.len());
    let mut field: Option<(u64, u64)> = None;
    for (line, record) in &table.records {
        let hours = table.hours(*line, record)?;
        let raw = table.cell(record, "share");
        let share = match raw.parse::<f64>() {
            Ok(s) if (0.0..=1.0).contains(&s) => s,
            _ => {
                return Err(table.value_error(
                    *line,
                    "share",
                    format!("`{raw}` is not allowed; a share is a number from 0 to 1"),
                ));
            }
        };
        if let Some(last) = points.last() {
            if hours <= last.hours {
                return Err(table.value_error(
                    *line,
                    "hours",
                    format!(
                        "{hours} does not follow the previous row's {}; rows must be in increasing hours",
                        last.hours
                    ),
                ));
            }
            if share < last.share {
                return Err(table.value_error(
                    *line,
                    "share",
                    format!(
                        "{share} is below the previous row's {}; a cumulative share never decreases",
                        last.share
                    ),
                ));
            }
        }
        if let Some(c) = table.column("instances") {
            let raw = &record[c];
            let n = raw.parse::<u64>().ok().filter(|&n| (1..=MAX_INSTANCES).contains(&n)).ok_or_else(|| {
                table.value_error(
                    *line,
                    "instances",
                    format!("`{raw}` is not allowed; the field size is a whole number from 1 to {MAX_INSTANCES}"),
                )
            })?;
            match field {
                Some((first, at)) if first != n => {
                    return Err(table.value_error(
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
            return Err(table.file_error(format!(
                "the `instances` column says {n} but --instances says {flag}; give one"
            )));
        }
        (Some(n), _) | (None, Some(n)) => n,
        (None, None) => {
            return Err(table.file_error(
                "aggregate data needs the field size: an `instances` column or --instances N"
                    .into(),
            ));
        }
    };
    Ok((points, instances))
}
