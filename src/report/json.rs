//! `report.json`: the public report contract.

use std::io::{self, Write};

use super::{Exporter, RunReport};

pub struct JsonReport;

impl Exporter for JsonReport {
    fn file_name(&self) -> &'static str {
        "report.json"
    }

    fn write(&self, report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, &report.report)?;
        writeln!(out)
    }
}
