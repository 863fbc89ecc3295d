//! `timeseries.csv`: the version mix over time.

use std::io::{self, Write};

use super::{Exporter, RunReport};

/// `timeseries.csv`.
pub struct TimeseriesCsv;

impl Exporter for TimeseriesCsv {
    fn file_name(&self) -> &'static str {
        "timeseries.csv"
    }

    fn write(&self, report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record([
            "hours",
            "version",
            "mean_share",
            "p5_share",
            "p95_share",
            "mean_instances",
            "mean_installed",
            "mean_weighted_share",
        ])?;
        for row in &report.mix {
            w.write_record([
                row.hours.to_string(),
                row.version.clone(),
                row.cell.mean_share.to_string(),
                row.cell.p5_share.to_string(),
                row.cell.p95_share.to_string(),
                row.cell.mean_instances.to_string(),
                row.cell.mean_installed.to_string(),
                row.cell.mean_weighted_share.to_string(),
            ])?;
        }
        w.flush()
    }
}
