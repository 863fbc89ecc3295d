//! `report.json`: the public report contract.

use std::io::{self, Write};

use super::{Exporter, RunReport};

/// `report.json`.
pub struct JsonReport;

impl Exporter for JsonReport {
    fn file_name(&self) -> &'static str {
        "report.json"
    }

    fn write(&self, report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
        write_pretty(&report.report, out)
    }
}

/// Indented JSON and a final newline: the form of every JSON file rollout-sim writes.
pub(super) fn write_pretty<T: serde::Serialize>(value: &T, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, value)?;
    writeln!(out)
}

/// A CSV cell for an optional number: empty when absent.
pub(super) fn cell(x: Option<f64>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}
