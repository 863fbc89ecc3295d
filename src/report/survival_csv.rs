//! `survival.csv`: per release, the Kaplan-Meier curve of instance latency.

use std::io::{self, Write};

use super::{Exporter, RunReport};

/// `survival.csv`.
pub struct SurvivalCsv;

impl Exporter for SurvivalCsv {
    fn file_name(&self) -> &'static str {
        "survival.csv"
    }

    /// One row per step of the curve: the fraction of instances (present and older at
    /// the deploy) still on an older version just after `hours`, with a pointwise 95%
    /// band (Greenwood, log-log). Instances that never updated before the horizon or
    /// uninstalled first are censored: the curve stays above zero when some never update.
    fn write(&self, report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record([
            "release",
            "version",
            "hours",
            "still_older",
            "lower95",
            "upper95",
            "at_risk",
        ])?;
        for (release, hist) in report.report.releases.iter().zip(&report.latency) {
            for p in hist.survival_curve() {
                w.write_record([
                    release.index.to_string(),
                    release.version.clone(),
                    p.at.as_hours().to_string(),
                    p.survival.to_string(),
                    p.lower.to_string(),
                    p.upper.to_string(),
                    p.at_risk.to_string(),
                ])?;
            }
        }
        w.flush()
    }
}
