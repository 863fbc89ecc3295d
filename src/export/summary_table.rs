//! The summary table of a run as text cells, shared by `summary.md`, `report.html` and
//! the terminal table: a time-to-share column per threshold of the scenario.

use super::mean_marked;
use crate::report::{ReleaseReport, Report};

/// The column heading of a time-to-share threshold: `to 50%`, `to 99.9%`, `to 100%`.
pub(super) fn threshold_heading(share: f64) -> String {
    let percent = format!("{:.3}", share * 100.0);
    let percent = percent.trim_end_matches('0').trim_end_matches('.');
    format!("to {percent}%")
}

/// The scenario's time-to-share thresholds, in increasing order (every release reports
/// the same ones).
pub(super) fn thresholds(report: &Report) -> Vec<f64> {
    report.releases.first().map_or_else(Vec::new, |r| {
        r.time_to_share_hours.keys().map(|k| k.0).collect()
    })
}

/// One release's time to each threshold, as a table cell.
pub(super) fn share_cells(rel: &ReleaseReport, thresholds: &[f64], missing: &str) -> Vec<String> {
    thresholds
        .iter()
        .map(|&key| {
            rel.time_to_share_hours
                .iter()
                .find(|(k, _)| (k.0 - key).abs() < 1e-12)
                .map_or(missing.into(), |(_, s)| mean_marked(s))
        })
        .collect()
}

/// The summary table that `summary.md` and `report.html` print, each cell as text (hours
/// after the deploy), with a time-to-share column per threshold of the scenario.
pub(super) struct SummaryTable {
    pub(super) header: Vec<String>,
    pub(super) rows: Vec<Vec<String>>,
}

impl SummaryTable {
    /// Columns of text (aligned left); the others hold numbers (aligned right).
    const TEXT_COLUMNS: [&'static str; 4] = ["release", "version", "approval", "95% CI"];

    pub(super) fn of(report: &Report) -> SummaryTable {
        let thresholds = thresholds(report);
        let header = ["#", "release", "version", "approval"]
            .into_iter()
            .map(String::from)
            .chain(thresholds.iter().map(|&t| threshold_heading(t)))
            .chain(
                ["coexistence", "95% CI", "recommended window", "censored"]
                    .into_iter()
                    .map(String::from),
            )
            .collect();
        let rows = report
            .releases
            .iter()
            .map(|rel| {
                let c = &rel.coexistence_hours;
                [
                    rel.index.to_string(),
                    rel.label.clone(),
                    format!("{} → {}", rel.from_version, rel.version),
                    if rel.needs_approval { "yes" } else { "no" }.into(),
                ]
                .into_iter()
                .chain(share_cells(rel, &thresholds, "–"))
                .chain([
                    mean_marked(c),
                    c.ci95
                        .map_or("–".into(), |[lo, hi]| format!("{lo:.1} to {hi:.1}")),
                    rel.recommended_compat_window
                        .hours
                        .map_or("–".into(), |h| format!("{h:.1}")),
                    format!("{}/{}", c.censored, c.n + c.censored),
                ])
                .collect()
            })
            .collect();
        SummaryTable { header, rows }
    }

    /// Whether column `i` holds numbers (aligned right).
    pub(super) fn numeric(&self, i: usize) -> bool {
        !Self::TEXT_COLUMNS.contains(&self.header[i].as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_headings_read_as_percent_without_trailing_zeros() {
        for (share, heading) in [
            (0.5, "to 50%"),
            (0.95, "to 95%"),
            (0.999, "to 99.9%"),
            (1.0, "to 100%"),
            (0.9995, "to 99.95%"),
        ] {
            assert_eq!(threshold_heading(share), heading);
        }
    }
}
