//! `comparison.json`, `comparison.csv` and the comparison table.

use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use super::json::{cell, write_pretty};
use super::{Exporter, PrecisionReport, SCHEMA_VERSION, Tool};
use crate::compare::{Comparison, ComparisonEntry, PairedDifference, Pairing, Side};
use crate::montecarlo::PrecisionOutcome;

#[derive(Clone, Debug, Serialize)]
pub struct ComparisonReport {
    pub schema_version: u32,
    pub tool: Tool,
    pub baseline: String,
    pub scenarios: Vec<String>,
    pub seed: u64,
    pub replications: u64,
    pub instances: u64,
    /// Each figure of each release: the baseline, the other scenario, and `other - baseline`.
    pub entries: Vec<EntryReport>,
    /// How each alternative's releases were paired with the baseline's, and which were
    /// left unpaired.
    pub pairings: Vec<PairingReport>,
    pub precision: Option<PrecisionReport>,
}

impl ComparisonReport {
    pub fn new(
        names: Vec<String>,
        seed: u64,
        replications: u64,
        instances: u64,
        comparison: Comparison,
        precision: Option<PrecisionOutcome>,
    ) -> Self {
        ComparisonReport {
            schema_version: SCHEMA_VERSION,
            tool: Tool::this(),
            baseline: names[0].clone(),
            scenarios: names,
            seed,
            replications,
            instances,
            entries: comparison
                .entries
                .into_iter()
                .map(EntryReport::from)
                .collect(),
            pairings: comparison
                .pairings
                .into_iter()
                .map(PairingReport::from)
                .collect(),
            precision: precision.map(PrecisionReport::from),
        }
    }
}

/// One figure of one release compared, as `comparison.json` writes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EntryReport {
    pub scenario: String,
    pub release: usize,
    pub other_release: usize,
    pub baseline_label: String,
    pub label: String,
    pub figure: String,
    pub difference: DifferenceReport,
}

/// `other - baseline`, replication by replication, as `comparison.json` writes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DifferenceReport {
    pub baseline: SideReport,
    pub other: SideReport,
    pub pairs: u64,
    pub censored_pairs: u64,
    pub mean: Option<f64>,
    pub ci95: Option<[f64; 2]>,
    pub unpaired_ci95: Option<[f64; 2]>,
    pub unpaired_to_paired_width: Option<f64>,
    pub significant: Option<bool>,
}

/// One policy's side of a comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SideReport {
    pub mean: Option<f64>,
    pub n: u64,
    pub censored: u64,
}

/// How an alternative's releases were paired with the baseline's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairingReport {
    pub scenario: String,
    pub by: &'static str,
    pub pairs: Vec<(usize, usize)>,
    pub unpaired_baseline: Vec<String>,
    pub unpaired_other: Vec<String>,
}

impl From<Side> for SideReport {
    fn from(s: Side) -> Self {
        SideReport {
            mean: s.mean,
            n: s.n,
            censored: s.censored,
        }
    }
}

impl From<PairedDifference> for DifferenceReport {
    fn from(d: PairedDifference) -> Self {
        DifferenceReport {
            baseline: d.baseline.into(),
            other: d.other.into(),
            pairs: d.pairs,
            censored_pairs: d.censored_pairs,
            mean: d.mean,
            ci95: d.ci95,
            unpaired_ci95: d.unpaired_ci95,
            unpaired_to_paired_width: d.unpaired_to_paired_width,
            significant: d.significant,
        }
    }
}

impl From<ComparisonEntry> for EntryReport {
    fn from(e: ComparisonEntry) -> Self {
        EntryReport {
            scenario: e.scenario,
            release: e.release,
            other_release: e.other_release,
            baseline_label: e.baseline_label,
            label: e.label,
            figure: e.figure,
            difference: e.difference.into(),
        }
    }
}

impl From<Pairing> for PairingReport {
    fn from(p: Pairing) -> Self {
        PairingReport {
            scenario: p.scenario,
            by: p.by,
            pairs: p.pairs,
            unpaired_baseline: p.unpaired_baseline,
            unpaired_other: p.unpaired_other,
        }
    }
}

pub struct ComparisonJson;

impl Exporter<ComparisonReport> for ComparisonJson {
    fn file_name(&self) -> &'static str {
        "comparison.json"
    }
    fn write(&self, report: &ComparisonReport, out: &mut dyn Write) -> io::Result<()> {
        write_pretty(report, out)
    }
}

pub struct ComparisonCsv;

impl Exporter<ComparisonReport> for ComparisonCsv {
    fn file_name(&self) -> &'static str {
        "comparison.csv"
    }
    fn write(&self, report: &ComparisonReport, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record([
            "scenario",
            "release",
            "other_release",
            "figure",
            "baseline_mean",
            "other_mean",
            "difference",
            "ci_lo",
            "ci_hi",
            "unpaired_ci_lo",
            "unpaired_ci_hi",
            "pairs",
            "censored_pairs",
            "significant",
        ])?;
        for e in &report.entries {
            let d = &e.difference;
            w.write_record([
                e.scenario.clone(),
                e.release.to_string(),
                e.other_release.to_string(),
                e.figure.clone(),
                cell(d.baseline.mean),
                cell(d.other.mean),
                cell(d.mean),
                cell(d.ci95.map(|c| c[0])),
                cell(d.ci95.map(|c| c[1])),
                cell(d.unpaired_ci95.map(|c| c[0])),
                cell(d.unpaired_ci95.map(|c| c[1])),
                d.pairs.to_string(),
                d.censored_pairs.to_string(),
                d.significant.map(|s| s.to_string()).unwrap_or_default(),
            ])?;
        }
        w.flush()
    }
}

fn num(x: Option<f64>) -> String {
    x.map_or("censored".into(), |v| format!("{v:.2}"))
}

pub fn render_comparison_table(report: &ComparisonReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "baseline {} vs {}: {} replications x {} instances, seed {} (common random numbers)\n",
        report.baseline,
        report.scenarios[1..].join(", "),
        report.replications,
        report.instances,
        report.seed
    );
    let _ = writeln!(
        out,
        "{:<18} {:>3} {:<26} {:>10} {:>10} {:>10} {:>22} {:>9} {:>6}",
        "scenario",
        "#",
        "figure",
        "baseline",
        "other",
        "diff",
        "paired 95% CI",
        "unpaired",
        "signif"
    );
    for e in &report.entries {
        let d = &e.difference;
        let ci = d
            .ci95
            .map_or("-".into(), |[lo, hi]| format!("{lo:.2} to {hi:.2}"));
        let unpaired = d
            .unpaired_ci95
            .map_or("-".into(), |[lo, hi]| format!("±{:.2}", (hi - lo) / 2.0));
        let signif = match (d.significant, d.censored_pairs) {
            (Some(true), _) => "yes",
            (Some(false), _) => "no",
            (None, c) if c > 0 => "cens.",
            (None, _) => "-",
        };
        let scenario: String = e.scenario.chars().take(18).collect();
        let _ = writeln!(
            out,
            "{:<18} {:>3} {:<26} {:>10} {:>10} {:>10} {:>22} {:>9} {:>6}",
            scenario,
            e.release,
            e.figure,
            num(d.baseline.mean),
            num(d.other.mean),
            d.mean.map_or("-".into(), |v| format!("{v:+.2}")),
            ci,
            unpaired,
            signif
        );
    }
    for p in &report.pairings {
        let pairs: Vec<String> = p
            .pairs
            .iter()
            .map(|(a, b)| format!("#{a} with #{b}"))
            .collect();
        let _ = writeln!(
            out,
            "\n{}: releases paired by {} ({})",
            p.scenario,
            p.by,
            pairs.join(", ")
        );
        if !p.unpaired_baseline.is_empty() {
            let _ = writeln!(
                out,
                "  unpaired in the baseline: {}",
                p.unpaired_baseline.join(", ")
            );
        }
        if !p.unpaired_other.is_empty() {
            let _ = writeln!(
                out,
                "  unpaired in {}: {}",
                p.scenario,
                p.unpaired_other.join(", ")
            );
        }
    }
    let _ = writeln!(
        out,
        "\nHours (left_behind: instances). diff = other - baseline over replications where both happened;\n\
         censored replications are counted in comparison.json, not paired. unpaired: the half-width an\n\
         unpaired comparison of the same replications would give."
    );
    out
}
