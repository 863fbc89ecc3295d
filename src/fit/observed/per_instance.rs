//! Per instance, `instance,hours,updated[,segment]`: hours after the release's deploy at
//! which the instance was first seen on the new version (`updated` true), or last seen
//! still on an older one (`updated` false: right-censored).

use std::collections::BTreeSet;

use super::rows::{InstanceRow, ObservedError, Table};

/// The columns, the first three required.
pub(super) const COLUMNS: [&str; 4] = ["instance", "hours", "updated", "segment"];

/// One row per instance.
pub(super) fn read(table: &Table) -> Result<Vec<InstanceRow>, ObservedError> {
    let mut ids = BTreeSet::new();
    let mut out = Vec::with_capacity(table.records.len());
    for (line, record) in &table.records {
        let instance = table.cell(record, "instance").to_string();
        if instance.is_empty() {
            return Err(table.value_error(
                *line,
                "instance",
                "is empty; every row names its instance".into(),
            ));
        }
        if !ids.insert(instance.clone()) {
            return Err(table.value_error(
                *line,
                "instance",
                format!(
                    "`{instance}` appears twice; give each instance one row (its first update, or the last time it was seen on an older version)"
                ),
            ));
        }
        let raw = table.cell(record, "updated");
        let updated = match raw.to_ascii_lowercase().as_str() {
            "true" | "1" => true,
            "false" | "0" => false,
            _ => {
                return Err(table.value_error(
                    *line,
                    "updated",
                    format!("`{raw}` is not a boolean; write true or false (or 1 or 0)"),
                ));
            }
        };
        let segment = table.segment(*line, record, "instance")?;
        out.push(InstanceRow {
            instance,
            hours: table.hours(*line, record)?,
            updated,
            segment,
            line: *line,
            entered: 0.0,
            last_old: None,
        });
    }
    Ok(out)
}
