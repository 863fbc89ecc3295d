//! `latency.csv`: per release, quantiles of instance latency (Kaplan-Meier, pooled).

use std::io::{self, Write};

use super::{Exporter, RunReport};

/// `latency.csv`.
pub struct LatencyCsv;

/// The quantiles written for every release.
pub const QUANTILES: [f64; 11] = [
    0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0,
];

impl Exporter for LatencyCsv {
    fn file_name(&self) -> &'static str {
        "latency.csv"
    }

    /// An empty `latency_hours` with `beyond_horizon = true` means the quantile was not
    /// reached before the horizon (censored), never a number standing in for it.
    fn write(&self, report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record([
            "release",
            "label",
            "version",
            "quantile",
            "latency_hours",
            "beyond_horizon",
        ])?;
        for (release, hist) in report.report.releases.iter().zip(&report.latency) {
            for (q, value) in QUANTILES.iter().zip(hist.quantiles(&QUANTILES)) {
                w.write_record([
                    release.index.to_string(),
                    release.label.clone(),
                    release.version.clone(),
                    q.to_string(),
                    value.map(|d| d.as_hours().to_string()).unwrap_or_default(),
                    value.is_none().to_string(),
                ])?;
            }
        }
        w.flush()
    }
}
