//! What `compare` reports: both sides of every paired figure and the verdict read off
//! them (its files and table are in `export::comparison`).
//!
//! Every row says which policy the figure favours, by how much, with its paired 95%
//! CI; the verdict is read off those rows, so the two cannot disagree.

use serde::Serialize;

use super::{PrecisionReport, SCHEMA_VERSION, Tool};
use crate::compare::{Better, Comparison, ComparisonEntry, Pairing, Side, Unit};
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
    /// Each figure of each paired release: both sides, the paired difference, which
    /// policy it favours.
    pub entries: Vec<ComparisonEntry>,
    /// How each alternative's releases were paired with the baseline's, and which were
    /// left unpaired.
    pub pairings: Vec<Pairing>,
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
            entries: comparison.entries,
            pairings: comparison.pairings,
            precision,
        }
    }
}

/// A figure's name as a planner reads it, from `report.json`'s names or `check`'s
/// vocabulary (`share:0.9`, `coexistence`, ...).
pub fn figure_title(figure: &str) -> String {
    let share = figure
        .strip_prefix("time_to_share_hours[")
        .and_then(|p| p.strip_suffix(']'))
        .or_else(|| figure.strip_prefix("share:"));
    match share.and_then(|p| p.parse::<f64>().ok()) {
        Some(p) => format!("time to {}%", p * 100.0),
        None => match figure {
            "coexistence_hours" | "coexistence" => "coexistence window".into(),
            "left_behind" => "left behind at the drop date".into(),
            "left_over_at_horizon" | "left_over" => "left over at the horizon".into(),
            "left_over_share_at_horizon" | "left_over_share" => {
                "left-over share at the horizon".into()
            }
            "published" => "time to publication".into(),
            "cutoff_affected" => "hit by the cut-off (all releases)".into(),
            other => other.to_string(),
        },
    }
}

/// A count, rounded, with thousands separators ("1,319").
pub fn count(v: f64) -> String {
    use num_format::{Locale, ToFormattedString};
    (v.abs().round() as u64).to_formatted_string(&Locale::en)
}

/// The sentence for one significant entry.
fn finding(report: &ComparisonReport, e: &ComparisonEntry) -> Option<String> {
    let d = e.difference.mean?;
    let [lo, hi] = e.difference.ci95?;
    let (winner, loser) = match e.better {
        Better::Other => (e.scenario.as_str(), report.baseline.as_str()),
        Better::Baseline => (report.baseline.as_str(), e.scenario.as_str()),
        Better::Neither => return None,
    };
    let release = format!("release #{} (\"{}\")", e.release, e.baseline_label);
    Some(match e.unit {
        Unit::Hours => {
            let what = match e.figure.as_str() {
                "coexistence_hours" => "ends the coexistence window of".to_string(),
                f => format!(
                    "reaches {} of",
                    figure_title(f).trim_start_matches("time to ")
                ),
            };
            let sign = e.sign_test.as_ref();
            let (first, of) = sign.map_or((0, 0), |s| {
                let first = if e.better == Better::Other {
                    s.other_first
                } else {
                    s.baseline_first
                };
                (first, s.other_first + s.baseline_first + s.ties)
            });
            let finished = |s: &Side| format!("{} of {}", s.n, s.n + s.censored);
            let own = e.since_own_deploy.as_ref().and_then(|own| {
                let (m, [lo, hi]) = (own.mean?, own.ci95?);
                Some(format!(
                    " Measured from each release's own deploy instead, {} is {:.1} h {} ({}95% CI {:+.1} to {:+.1} h): the {:.1} h deploy offset {}.",
                    e.scenario,
                    m.abs(),
                    if m < 0.0 { "sooner" } else { "later" },
                    if own.significant == Some(true) { "" } else { "not significant, " },
                    lo,
                    hi,
                    e.deploy_offset_hours.abs(),
                    if (m < 0.0) == (d < 0.0) { "adds to that" } else { "outweighs it" }
                ))
            });
            format!(
                "{winner} {what} {release} sooner than {loser}: first in {first} of {of} replications; {:.1} h sooner on average up to the horizon (restricted mean, 95% CI {:.1} to {:.1} h). Replications that got there before the horizon: {} for {}, {} for {}.{}",
                d.abs(),
                lo.abs().min(hi.abs()),
                lo.abs().max(hi.abs()),
                finished(&e.baseline),
                report.baseline,
                finished(&e.other),
                e.scenario,
                own.unwrap_or_default()
            )
        }
        Unit::Instances | Unit::Share => {
            let where_ = match e.figure.as_str() {
                "left_behind" => "when support for older versions is dropped",
                "cutoff_affected" => "when the cut-off comes (all releases)",
                _ => "at the horizon",
            };
            let (amount, ci) = if e.unit == Unit::Share {
                (
                    format!(
                        "{:.2} percentage points fewer of the active instances",
                        d.abs() * 100.0
                    ),
                    format!(
                        "{:.2} to {:.2} pt",
                        lo.abs().min(hi.abs()) * 100.0,
                        lo.abs().max(hi.abs()) * 100.0
                    ),
                )
            } else {
                (
                    format!(
                        "{} fewer instances (of {})",
                        count(d),
                        count(report.instances as f64)
                    ),
                    format!(
                        "{:.1} to {:.1}",
                        lo.abs().min(hi.abs()),
                        lo.abs().max(hi.abs())
                    ),
                )
            };
            format!(
                "Against {loser}, {winner} leaves {amount} on versions older than {release} {where_} (95% CI {ci})."
            )
        }
    })
}

/// The comparison's verdict, read off the table: per alternative, how many compared
/// figures favour each side, then each significant difference of the coexistence
/// window, the time to the highest threshold below 100% and the instances left over,
/// or that none differs.
pub fn comparison_verdicts(report: &ComparisonReport) -> Vec<String> {
    let mut out = Vec::new();
    for other in &report.scenarios[1..] {
        let entries: Vec<&ComparisonEntry> = report
            .entries
            .iter()
            .filter(|e| &e.scenario == other)
            .collect();
        let tally = |b: Better| entries.iter().filter(|e| e.better == b).count();
        let (wins, losses, ties) = (
            tally(Better::Other),
            tally(Better::Baseline),
            tally(Better::Neither),
        );
        if wins + losses == 0 {
            out.push(format!(
                "No compared figure differs significantly between {other} and {} at these replications ({} figures compared).",
                report.baseline,
                entries.len()
            ));
            continue;
        }
        out.push(format!(
            "{other} against {}: better on {wins} of {} compared figures, worse on {losses}, no significant difference on {ties}.",
            report.baseline,
            entries.len()
        ));
        if let Some(e) = entries.iter().find(|e| e.deploy_offset_hours != 0.0) {
            out.push(format!(
                "{other}'s release #{} deploys {:.1} h {} the baseline's release #{}: its times are compared on the baseline's clock, so the offset counts.",
                e.other_release,
                e.deploy_offset_hours.abs(),
                if e.deploy_offset_hours > 0.0 { "after" } else { "before" },
                e.release
            ));
        }
        out.extend(
            entries
                .iter()
                .filter(|e| key_figure(report, e))
                .filter_map(|e| finding(report, e)),
        );
    }
    out
}

/// The figures the verdict spells out: the coexistence window, the time to 90% (or,
/// without that threshold, the highest one below 100%), and the instances left over
/// at the horizon and left behind at the drop date.
fn key_figure(report: &ComparisonReport, e: &ComparisonEntry) -> bool {
    let shares: Vec<f64> = report
        .entries
        .iter()
        .filter_map(|e| {
            e.figure
                .strip_prefix("time_to_share_hours[")
                .and_then(|p| p.strip_suffix(']'))
                .and_then(|p| p.parse::<f64>().ok())
        })
        .collect();
    let key_share = if shares.iter().any(|&p| (p - 0.9).abs() < 1e-12) {
        Some(0.9)
    } else {
        shares
            .iter()
            .copied()
            .filter(|&p| p < 1.0)
            .fold(None, |m: Option<f64>, p| Some(m.map_or(p, |m| m.max(p))))
    };
    match e.figure.as_str() {
        "coexistence_hours" | "left_over_at_horizon" | "left_behind" | "cutoff_affected" => true,
        f => key_share.is_some_and(|p| f == format!("time_to_share_hours[{p}]")),
    }
}
