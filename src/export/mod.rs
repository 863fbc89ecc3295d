//! The files and texts a report becomes: one output format per file, behind the one
//! small [`Exporter`] trait (hyperfine's `export/`), beside the console tables.
//!
//! Nothing here decides what a figure is (that is `report`) or how files reach the disk
//! (that is `output`).

pub mod check;
pub mod comparison;
pub mod csv;
pub mod events;
pub mod fit;
pub mod html;
mod json;
mod markdown;
pub mod plan;
pub(crate) mod run_stats;
mod summary_table;
pub mod sweep;
mod table;

use std::collections::BTreeMap;
use std::io::{self, Write};

use crate::charts;
use crate::fingerprint::sha256_hex;
use crate::output::{NamedFile, OutputDir, OutputError};
use crate::report::{RunReport, Stat, Tool};

pub use csv::SURVIVAL_CSV;
pub(crate) use csv::{LATENCY_CSV, TIMESERIES_CSV};
pub use json::JsonReport;
pub use markdown::SummaryMarkdown;
use summary_table::{SummaryTable, share_cells, threshold_heading, thresholds};
pub use table::{precision_line, render_table};

/// One output format of a report of type `R` (a run's by default).
pub trait Exporter<R = RunReport> {
    /// The file name inside the output directory.
    fn file_name(&self) -> &'static str;
    /// Writes the report in this format.
    fn write(&self, report: &R, out: &mut dyn Write) -> io::Result<()>;
    /// Writes into a byte buffer (for tests and stdout); writing to memory cannot fail.
    fn to_bytes(&self, report: &R) -> Vec<u8> {
        let mut buf = Vec::new();
        self.write(report, &mut buf).expect("writing to memory");
        buf
    }
    /// The file this format makes of `report`: (its name, its bytes).
    fn to_file(&self, report: &R) -> NamedFile {
        (self.file_name().to_string(), self.to_bytes(report))
    }
}

/// The files that present a run to people, beside the data files: `summary.md`, and
/// with `charts` the charts under `charts/` (SVG, and PNG with `png`) and `report.html`,
/// as (path under the output folder, bytes).
pub fn presentation_files(report: &RunReport, charts: bool, png: bool) -> Vec<NamedFile> {
    let summary: &dyn Exporter = &SummaryMarkdown;
    let mut files = vec![(summary.file_name().to_string(), summary.to_bytes(report))];
    if charts {
        let drawn = charts::draw_all(charts::run_charts(report), png);
        files.push((
            "report.html".to_string(),
            html::run_page(report, &drawn).into_bytes(),
        ));
        files.extend(charts::chart_files(&drawn));
    }
    files
}

/// A mean over replications as the tables print it: marked `*` when some replications
/// were censored, `censored` when all were.
fn mean_marked(s: &Stat) -> String {
    match (s.mean, s.censored) {
        (None, _) => "censored".into(),
        (Some(m), 0) => format!("{m:.1}"),
        (Some(m), _) => format!("{m:.1}*"),
    }
}

/// SHA-256 of each file [`standard_exporters`] write, the tool version left out: a
/// release of the tool that does not change behaviour keeps the fingerprints (for
/// regression baselines). The report gets its version back afterwards.
pub fn output_fingerprints(report: &mut RunReport) -> BTreeMap<String, String> {
    let tool = std::mem::replace(
        &mut report.report.tool,
        Tool {
            name: env!("CARGO_PKG_NAME"),
            version: "",
        },
    );
    let fingerprints = standard_exporters()
        .iter()
        .map(|e| {
            let e: &dyn Exporter = e.as_ref();
            (e.file_name().to_string(), sha256_hex(&e.to_bytes(report)))
        })
        .collect();
    report.report.tool = tool;
    fingerprints
}

/// Every file a run writes, in a fixed order.
pub fn standard_exporters() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(JsonReport),
        Box::new(TIMESERIES_CSV),
        Box::new(LATENCY_CSV),
        Box::new(SURVIVAL_CSV),
    ]
}

/// Writes every exporter's file into the output folder.
pub fn write_all<R>(
    out: &mut OutputDir,
    report: &R,
    exporters: &[Box<dyn Exporter<R>>],
) -> Result<(), OutputError> {
    for exporter in exporters {
        out.write_file(exporter.file_name(), |w| exporter.write(report, w))?;
    }
    Ok(())
}

/// Renders one exporter's output to a string (for stdout).
pub fn render<R>(exporter: &dyn Exporter<R>, report: &R) -> io::Result<String> {
    String::from_utf8(exporter.to_bytes(report)).map_err(io::Error::other)
}
