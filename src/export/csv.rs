//! The run's CSV files, each one [`CsvTable`]: a name, a header, and a row per record.
//!
//! - `timeseries.csv`: the version mix over time;
//! - `latency.csv`: per release, quantiles of instance latency (Kaplan-Meier, pooled);
//! - `survival.csv`: per release, the Kaplan-Meier curve of instance latency.

use std::io::{self, Write};

use super::Exporter;
use crate::report::RunReport;

/// The rows of a table of `R`, each as its cells.
type Rows<R> = for<'a> fn(&'a R) -> Box<dyn Iterator<Item = Vec<String>> + 'a>;

/// A CSV file of a report of type `R`.
pub struct CsvTable<R> {
    /// The file name.
    pub name: &'static str,
    /// The column names.
    pub header: &'static [&'static str],
    /// The rows.
    pub rows: Rows<R>,
}

impl<R> Exporter<R> for CsvTable<R> {
    fn file_name(&self) -> &'static str {
        self.name
    }

    fn write(&self, report: &R, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(self.header)?;
        for row in (self.rows)(report) {
            w.write_record(row)?;
        }
        w.flush()
    }
}

/// `timeseries.csv`: mean and 5%/95% share of each version at each sample.
pub const TIMESERIES_CSV: CsvTable<RunReport> = CsvTable {
    name: "timeseries.csv",
    header: &[
        "hours",
        "version",
        "mean_share",
        "p5_share",
        "p95_share",
        "mean_instances",
        "mean_installed",
        "mean_weighted_share",
    ],
    rows: |report| {
        Box::new(report.mix.iter().map(|row| {
            vec![
                row.hours.to_string(),
                row.version.clone(),
                row.cell.mean_share.to_string(),
                row.cell.p5_share.to_string(),
                row.cell.p95_share.to_string(),
                row.cell.mean_instances.to_string(),
                row.cell.mean_installed.to_string(),
                row.cell.mean_weighted_share.to_string(),
            ]
        }))
    },
};

/// The quantiles `latency.csv` writes for every release.
pub const QUANTILES: [f64; 11] = [
    0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1.0,
];

/// `latency.csv`: an empty `latency_hours` with `beyond_horizon = true` means the
/// quantile was not reached before the horizon (censored), never a number standing in
/// for it.
pub const LATENCY_CSV: CsvTable<RunReport> =
    CsvTable {
        name: "latency.csv",
        header: &[
            "release",
            "label",
            "version",
            "quantile",
            "latency_hours",
            "beyond_horizon",
        ],
        rows: |report| {
            Box::new(report.report.releases.iter().zip(&report.latency).flat_map(
                |(release, hist)| {
                    QUANTILES
                        .iter()
                        .zip(hist.quantiles(&QUANTILES))
                        .map(move |(q, value)| {
                            vec![
                                release.index.to_string(),
                                release.label.clone(),
                                release.version.clone(),
                                q.to_string(),
                                value.map(|d| d.as_hours().to_string()).unwrap_or_default(),
                                value.is_none().to_string(),
                            ]
                        })
                },
            ))
        },
    };

/// `survival.csv`: one row per step of the curve, the fraction of instances (present
/// and older at the deploy) still on an older version just after `hours`, with a
/// pointwise 95% band (Greenwood, log-log). Instances that never updated before the
/// horizon or uninstalled first are censored: the curve stays above zero when some
/// never update.
pub const SURVIVAL_CSV: CsvTable<RunReport> =
    CsvTable {
        name: "survival.csv",
        header: &[
            "release",
            "version",
            "hours",
            "still_older",
            "lower95",
            "upper95",
            "at_risk",
        ],
        rows: |report| {
            Box::new(report.report.releases.iter().zip(&report.latency).flat_map(
                |(release, hist)| {
                    hist.survival_curve().into_iter().map(move |p| {
                        vec![
                            release.index.to_string(),
                            release.version.clone(),
                            p.at.as_hours().to_string(),
                            p.survival.to_string(),
                            p.lower.to_string(),
                            p.upper.to_string(),
                            p.at_risk.to_string(),
                        ]
                    })
                },
            ))
        },
    };
