//! `comparison.json`, `comparison.csv` and the comparison table.

use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use super::json::{cell, write_pretty};
use super::{Exporter, PrecisionReport, SCHEMA_VERSION, Tool};
use crate::compare::{Comparison, ComparisonEntry, PairedDifference, Pairing, Side};
use crate::montecarlo::PrecisionOutcome;

#[derive(Clone, Debug, Serialize)]
/// What `compare` writes to `comparison.json` (and reads out in its table and CSV).
pub struct ComparisonReport {
    /// The version of the report contract ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The tool that wrote the report.
    pub tool: Tool,
    /// The baseline scenario's name.
    pub baseline: String,
    /// Every scenario compared, the baseline first.
    pub scenarios: Vec<String>,
    /// The seed every scenario ran with (common random numbers).
    pub seed: u64,
    /// Replications per scenario.
    pub replications: u64,
    /// Initial instances per scenario.
    pub instances: u64,
    /// Each figure of each release: the baseline, the other scenario, and `other - baseline`.
    pub entries: Vec<EntryReport>,
    /// How each alternative's releases were paired with the baseline's, and which were
    /// left unpaired.
    pub pairings: Vec<PairingReport>,
    /// How a `--precision` comparison ended; `null` otherwise.
    pub precision: Option<PrecisionReport>,
}

impl ComparisonReport {
    /// The report of `comparison` of the scenarios `names` (the baseline first).
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
    /// The other scenario's name.
    pub scenario: String,
    /// The baseline's release index.
    pub release: usize,
    /// The paired release's index in the other scenario.
    pub other_release: usize,
    /// The baseline release's label.
    pub baseline_label: String,
    /// The paired release's label.
    pub label: String,
    /// The figure compared.
    pub figure: String,
    /// The figure's paired difference.
    pub difference: DifferenceReport,
}

/// `other - baseline`, replication by replication, as `comparison.json` writes it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DifferenceReport {
    /// The baseline's side.
    pub baseline: SideReport,
    /// The other scenario's side.
    pub other: SideReport,
    /// Replications in which both sides were observed.
    pub pairs: u64,
    /// Replications in which either side was censored.
    pub censored_pairs: u64,
    /// Mean of the paired differences.
    pub mean: Option<f64>,
    /// 95% CI of the mean paired difference.
    pub ci95: Option<[f64; 2]>,
    /// Welch's 95% CI from the same replications, ignoring the pairing.
    pub unpaired_ci95: Option<[f64; 2]>,
    /// How much wider the unpaired interval is than the paired one.
    pub unpaired_to_paired_width: Option<f64>,
    /// Whether the paired interval excludes zero.
    pub significant: Option<bool>,
}

/// One policy's side of a comparison.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SideReport {
    /// Mean over the observed replications.
    pub mean: Option<f64>,
    /// Replications where the figure was observed.
    pub n: u64,
    /// Replications where it was censored.
    pub censored: u64,
}

/// How an alternative's releases were paired with the baseline's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PairingReport {
    /// The alternative's name.
    pub scenario: String,
    /// `label` or `index`.
    pub by: &'static str,
    /// Paired (baseline, other) release indices.
    pub pairs: Vec<(usize, usize)>,
    /// Baseline releases without a partner.
    pub unpaired_baseline: Vec<String>,
    /// The alternative's releases without a partner.
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

/// `comparison.json`.
pub struct ComparisonJson;

impl Exporter<ComparisonReport> for ComparisonJson {
    fn file_name(&self) -> &'static str {
        "comparison.json"
    }
    fn write(&self, report: &ComparisonReport, out: &mut dyn Write) -> io::Result<()> {
        write_pretty(report, out)
    }
}

/// `comparison.csv`: one row per compared figure.
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

/// The comparison as a terminal table.
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

/// The comparison's verdict: each alternative's significant differences in the
/// coexistence window and the time to 90%, or that there are none.
pub fn comparison_verdicts(report: &ComparisonReport) -> Vec<String> {
    let mut out: Vec<String> = report
        .entries
        .iter()
        .filter(|e| e.figure == "coexistence_hours" || e.figure == "time_to_share_hours[0.9]")
        .filter(|e| e.difference.significant == Some(true))
        .filter_map(|e| {
            let mean = e.difference.mean?;
            let [lo, hi] = e.difference.ci95?;
            let what = if e.figure == "coexistence_hours" {
                "the coexistence window"
            } else {
                "the time to 90% of instances"
            };
            Some(format!(
                "{} {} {what} of release {} ({}) by {:.1} h against {} (95% CI {lo:.1} to {hi:.1} h, paired over {} replications).",
                e.scenario,
                if mean < 0.0 { "shortens" } else { "lengthens" },
                e.release,
                e.baseline_label,
                mean.abs(),
                report.baseline,
                e.difference.pairs
            ))
        })
        .collect();
    if out.is_empty() {
        out.push(format!(
            "No alternative changes the coexistence window or the time to 90% significantly against {} at these replications.",
            report.baseline
        ));
    }
    out
}
