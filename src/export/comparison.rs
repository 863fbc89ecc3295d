//! `comparison.json`, `comparison.csv` and the comparison table.
//!
//! Every row says which policy the figure favours, by how much, with its paired 95%
//! CI; the verdict above the table is read off the same rows.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::Exporter;
use super::json::{cell, write_pretty};
use crate::compare::{Better, ComparisonEntry, PairedDifference, Side, Unit};
use crate::report::comparison::{ComparisonReport, figure_title};

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

fn better_name(b: Better) -> &'static str {
    match b {
        Better::Baseline => "baseline",
        Better::Other => "other",
        Better::Neither => "neither",
    }
}

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
            "deploy_offset_hours",
            "restricted_to_hours",
            "baseline_mean",
            "baseline_observed",
            "baseline_censored",
            "baseline_restricted_mean",
            "other_mean",
            "other_observed",
            "other_censored",
            "other_restricted_mean",
            "difference",
            "ci_lo",
            "ci_hi",
            "unpaired_ci_lo",
            "unpaired_ci_hi",
            "pairs",
            "significant",
            "better",
            "other_first",
            "baseline_first",
            "ties",
            "sign_test_p",
        ])?;
        for e in &report.entries {
            let d = &e.difference;
            let side = |s: &Side| {
                [
                    cell(s.mean),
                    s.n.to_string(),
                    s.censored.to_string(),
                    cell(s.restricted_mean),
                ]
            };
            let mut row = vec![
                e.scenario.clone(),
                e.release.to_string(),
                e.other_release.to_string(),
                e.figure.clone(),
                cell(Some(e.deploy_offset_hours)),
                cell(e.restricted_to_hours),
            ];
            row.extend(side(&e.baseline));
            row.extend(side(&e.other));
            row.extend([
                cell(d.mean),
                cell(d.ci95.map(|c| c[0])),
                cell(d.ci95.map(|c| c[1])),
                cell(d.unpaired_ci95.map(|c| c[0])),
                cell(d.unpaired_ci95.map(|c| c[1])),
                d.pairs.to_string(),
                e.significant().to_string(),
                better_name(e.better).to_string(),
            ]);
            match &e.sign_test {
                Some(s) => row.extend([
                    s.other_first.to_string(),
                    s.baseline_first.to_string(),
                    s.ties.to_string(),
                    cell(s.p_value),
                ]),
                None => row.extend([String::new(), String::new(), String::new(), String::new()]),
            }
            w.write_record(&row)?;
        }
        w.flush()
    }
}

/// A value in the figure's unit.
fn value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Hours => format!("{v:.1} h"),
        Unit::Instances => format!("{v:.1}"),
        Unit::Share => format!("{:.2}%", v * 100.0),
    }
}

/// A signed difference in the figure's unit.
fn signed(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Hours => format!("{v:+.1} h"),
        Unit::Instances => format!("{v:+.1}"),
        Unit::Share => format!("{:+.2} pt", v * 100.0),
    }
}

/// One side's cell: the mean a reader compares. A time figure is its restricted mean
/// on the baseline's clock, marked `>=` (a lower bound) and with the replications that
/// got there when some did not.
fn side_cell(unit: Unit, s: &Side) -> String {
    match (unit, s.restricted_mean) {
        (Unit::Hours, Some(rm)) if s.censored > 0 => {
            format!(">={} ({}/{})", value(unit, rm), s.n, s.n + s.censored)
        }
        (Unit::Hours, Some(rm)) => value(unit, rm),
        _ => s.mean.map_or("-".into(), |m| value(unit, m)),
    }
}

/// One row of the comparison table, as text cells: figure, baseline, other,
/// difference with its CI, the unpaired half-width, better.
pub fn row_cells(report: &ComparisonReport, e: &ComparisonEntry) -> [String; 6] {
    let d = &e.difference;
    let unpaired = d.unpaired_ci95.map_or("-".into(), |[lo, hi]| {
        format!(
            "±{}",
            signed(e.unit, (hi - lo) / 2.0).trim_start_matches('+')
        )
    });
    [
        figure_title(&e.figure),
        side_cell(e.unit, &e.baseline),
        side_cell(e.unit, &e.other),
        difference_cell(e.unit, d),
        unpaired,
        better_cell(report, e, e.better),
    ]
}

/// A paired difference with its CI, in the figure's unit.
fn difference_cell(unit: Unit, d: &PairedDifference) -> String {
    match (d.mean, d.ci95) {
        (Some(m), Some([lo, hi])) => format!(
            "{} [{}, {}]",
            signed(unit, m),
            signed(unit, lo),
            signed(unit, hi)
        ),
        (Some(m), None) => signed(unit, m),
        _ => "-".into(),
    }
}

/// The policy a difference favours, by name.
fn better_cell(report: &ComparisonReport, e: &ComparisonEntry, better: Better) -> String {
    match better {
        Better::Baseline => report.baseline.clone(),
        Better::Other => e.scenario.clone(),
        Better::Neither => "no difference".into(),
    }
}

/// The sub-row under a time figure of releases deployed at different times: the
/// difference measured from each release's own deploy.
pub fn own_deploy_cells(report: &ComparisonReport, e: &ComparisonEntry) -> Option<[String; 6]> {
    let own = e.since_own_deploy.as_ref()?;
    Some([
        "  after each own deploy".into(),
        String::new(),
        String::new(),
        difference_cell(e.unit, own),
        String::new(),
        better_cell(report, e, Better::of(own)),
    ])
}

/// The heading of one paired release's block: which releases, how they were paired,
/// and the deploy offset when there is one.
pub fn pair_heading(report: &ComparisonReport, e: &ComparisonEntry) -> String {
    let by = report
        .pairings
        .iter()
        .find(|p| p.scenario == e.scenario)
        .map_or("index", |p| p.by);
    let deployed = chrono::DateTime::parse_from_rfc3339(&e.baseline_deployed_at)
        .map_or(e.baseline_deployed_at.clone(), |t| {
            t.format("%a %Y-%m-%d %H:%M UTC").to_string()
        });
    let offset = if e.deploy_offset_hours == 0.0 {
        format!("both deployed {deployed}")
    } else {
        format!(
            "the baseline's deployed {deployed}; {} deploys {:.1} h {} it; times are on the baseline's clock",
            e.scenario,
            e.deploy_offset_hours.abs(),
            if e.deploy_offset_hours > 0.0 {
                "after"
            } else {
                "before"
            }
        )
    };
    let by = match by {
        "stated" => "paired as --pair states".to_string(),
        other => format!("paired by {other}"),
    };
    format!(
        "{} release #{} \"{}\" with {} #{} \"{}\" ({by}; {offset})",
        report.baseline, e.release, e.baseline_label, e.scenario, e.other_release, e.label
    )
}

/// The entries grouped by (alternative, paired release), in report order.
pub fn entry_groups(report: &ComparisonReport) -> Vec<&[ComparisonEntry]> {
    report
        .entries
        .chunk_by(|a, b| a.scenario == b.scenario && a.release == b.release)
        .collect()
}

/// The comparison as a terminal table.
pub fn render_comparison_table(report: &ComparisonReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "baseline {} vs {}: {} replications x {} instances, seed {} (common random numbers)",
        report.baseline,
        report.scenarios[1..].join(", "),
        report.replications,
        report.instances,
        report.seed
    );
    let other_width = report.scenarios[1..]
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(5)
        .clamp(20, 30);
    for group in entry_groups(report) {
        let _ = writeln!(out, "\n{}", pair_heading(report, &group[0]));
        let _ = writeln!(
            out,
            "  {:<30} {:<22} {:<w$} {:<34} {:>10}  better",
            "figure",
            "baseline",
            group[0]
                .scenario
                .chars()
                .take(other_width)
                .collect::<String>(),
            "difference [95% CI]",
            "unpaired",
            w = other_width
        );
        for e in group {
            for [figure, base, other, diff, unpaired, better] in
                std::iter::once(row_cells(report, e)).chain(own_deploy_cells(report, e))
            {
                let _ = writeln!(
                    out,
                    "  {figure:<30} {base:<22} {other:<other_width$} {diff:<34} {unpaired:>10}  {better}"
                );
            }
        }
    }
    for p in &report.pairings {
        if !p.unpaired_baseline.is_empty() {
            let _ = writeln!(
                out,
                "\nunpaired in the baseline (against {}): {}",
                p.scenario,
                p.unpaired_baseline.join(", ")
            );
        }
        if !p.unpaired_other.is_empty() {
            let _ = writeln!(
                out,
                "\nunpaired in {}: {}",
                p.scenario,
                p.unpaired_other.join(", ")
            );
        }
    }
    out.push_str(COMPARISON_LEGEND);
    out
}

/// How to read the comparison table.
pub const COMPARISON_LEGEND: &str = "\nTimes are hours after the baseline release's deploy; a replication that did not get there before\n\
the horizon counts as the horizon, so >= marks a restricted mean (a lower bound) and (k/n) how many\n\
replications got there. difference = alternative - baseline, paired replication by replication;\n\
better: the policy the paired 95% CI favours (lower is better for every figure). unpaired: the\n\
half-width an unpaired comparison of the same replications would give.\n";
