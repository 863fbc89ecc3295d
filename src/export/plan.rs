//! `plan.json`, `plan.csv` (one row per candidate) and `summary.md`, which leads with the
//! answer in the planner's words and dates.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::Exporter;
use super::json::write_pretty;
use crate::compare::Unit;
use crate::plan::{CandidateResult, Direction, Status};
use crate::report::comparison::figure_title;
use crate::report::plan::{PlanReport, value_text};
use crate::scenario::Scenario;
use crate::time::SimDuration;

/// `plan.json`.
pub struct PlanJson;

impl Exporter<PlanReport> for PlanJson {
    fn file_name(&self) -> &'static str {
        "plan.json"
    }
    fn write(&self, report: &PlanReport, out: &mut dyn Write) -> io::Result<()> {
        write_pretty(report, out)
    }
}

/// `plan.csv`: one row per candidate, its values, fate, goal and constraints.
pub struct PlanCsv;

/// `plan.csv`.
pub const PLAN_CSV: PlanCsv = PlanCsv;

/// A candidate's fate in one word.
fn status_name(s: &Status) -> &'static str {
    match s {
        Status::Best => "best",
        Status::Contender => "contender",
        Status::Screened { .. } => "screened",
        Status::Infeasible { .. } => "infeasible",
        Status::Undecided { .. } => "undecided",
    }
}

fn cell(v: Option<f64>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

impl Exporter<PlanReport> for PlanCsv {
    fn file_name(&self) -> &'static str {
        "plan.csv"
    }
    fn write(&self, report: &PlanReport, out: &mut dyn Write) -> io::Result<()> {
        let mut w = csv::Writer::from_writer(out);
        let mut header: Vec<String> = vec!["candidate".into()];
        header.extend(report.variables.iter().map(|v| v.path.clone()));
        header.extend(
            [
                "status",
                "replications",
                "goal_mean",
                "goal_ci_lo",
                "goal_ci_hi",
            ]
            .map(String::from),
        );
        for c in &report.constraints {
            for part in ["estimate", "bound", "met"] {
                header.push(format!("{} {part}", c.text));
            }
        }
        w.write_record(&header)?;
        for c in &report.candidates {
            let mut row: Vec<String> = vec![c.result.index.to_string()];
            row.extend(report.variables.iter().map(|v| match c.names.get(&v.path) {
                Some(name) => name.clone(),
                None => c.values.get(&v.path).map(value_text).unwrap_or_default(),
            }));
            row.push(status_name(&c.result.status).into());
            row.push(c.result.replications.to_string());
            row.push(cell(c.result.goal.mean));
            row.push(cell(c.result.goal.ci95.map(|c| c[0])));
            row.push(cell(c.result.goal.ci95.map(|c| c[1])));
            for r in &c.result.constraints {
                row.push(cell(r.estimate));
                row.push(cell(r.bound));
                row.push(r.met.to_string());
            }
            w.write_record(&row)?;
        }
        w.flush()
    }
}

/// A goal value in its unit, with days for long times.
fn amount(report: &PlanReport, v: f64) -> String {
    let unit = Unit::of_name(&report.goal.figure);
    if unit == Unit::Share {
        format!("{:.2}%", v * 100.0)
    } else if unit == Unit::Instances {
        format!("{v:.1} instances")
    } else if v >= 48.0 {
        format!("{v:.1} h ({:.1} days)", v / 24.0)
    } else {
        format!("{v:.1} h")
    }
}

/// `summary.md`: the chosen policy first, in the planner's words and, for a time, as a
/// date; then its constraints' margins, the runners-up, the replications spent, and
/// every candidate.
pub fn plan_summary(report: &PlanReport, best: &Scenario) -> String {
    let mut out = String::new();
    let title = figure_title(report.goal.figure.split('@').next().unwrap_or_default());
    let time = Unit::of_name(&report.goal.figure) == Unit::Hours;
    let way = match (report.goal.direction, time) {
        (Direction::Minimize, true) => "the shortest",
        (Direction::Maximize, true) => "the longest",
        (Direction::Minimize, false) => "the fewest",
        (Direction::Maximize, false) => "the most",
    };
    let _ = writeln!(out, "# Plan for {}: {way} {title}\n", report.scenario);
    let Some(b) = report.best_index() else {
        let _ = writeln!(out, "{}", report.infeasibility());
        return out;
    };
    let chosen = &report.candidates[b];
    let mean = chosen.result.goal.mean.unwrap_or_default();
    let ci = chosen.result.goal.ci95.map_or(String::new(), |[lo, hi]| {
        format!(", 95% CI {lo:.1} to {hi:.1}")
    });
    let _ = writeln!(
        out,
        "**Choose {}.** Its {} ({}) is {} on average{ci}, over {} replications.",
        report
            .describe(b)
            .split(", ")
            .map(|v| format!("`{v}`"))
            .collect::<Vec<_>>()
            .join(", "),
        title,
        report.goal.figure,
        amount(report, mean),
        chosen.result.replications
    );
    if time {
        write_end_date(&mut out, report, best, &title, mean);
    }
    write_constraints(&mut out, report, &chosen.result);
    write_runners_up(&mut out, report, b);
    write_spent(&mut out, report);
    write_candidates(&mut out, report, &title);
    out
}

/// For a time figure of release K, the date the chosen policy's average ends it.
fn write_end_date(out: &mut String, report: &PlanReport, best: &Scenario, title: &str, mean: f64) {
    let release = report
        .goal
        .figure
        .rsplit_once('@')
        .and_then(|(_, k)| k.parse::<usize>().ok())
        .filter(|k| *k < best.releases.len());
    if let Some(k) = release {
        let deploy = best.instant(best.releases[k].at);
        let until = best.instant(best.releases[k].at + SimDuration::from_hours_f64(mean));
        let _ = writeln!(
            out,
            "\nRelease {k} deploys {}, so on average its {title} is over on {}.",
            deploy.format("%a %Y-%m-%d %H:%M UTC"),
            until.format("%a %Y-%m-%d %H:%M UTC")
        );
    }
}

/// The chosen candidate's constraints, with their margins.
fn write_constraints(out: &mut String, report: &PlanReport, chosen: &CandidateResult) {
    if !chosen.constraints.is_empty() {
        let _ = writeln!(
            out,
            "\nIt meets every constraint at {}% confidence:\n",
            report.budget.confidence * 100.0
        );
        for r in &chosen.constraints {
            let _ = writeln!(
                out,
                "- `{}`: estimate {}, bound {}, margin {}",
                r.constraint,
                r.estimate.map_or("-".into(), |v| format!("{v:.2}")),
                r.bound.map_or("-".into(), |v| format!("{v:.2}")),
                r.margin.map_or("-".into(), |v| format!("{v:.2}"))
            );
        }
    }
}

/// The candidates not separated from the chosen one `b`.
fn write_runners_up(out: &mut String, report: &PlanReport, b: usize) {
    let runners: Vec<usize> = report.ranking.iter().copied().filter(|&i| i != b).collect();
    if runners.is_empty() {
        let _ = writeln!(
            out,
            "\nEvery other candidate is worse by more than the indifference zone ({}) or misses a constraint.",
            amount(report, report.goal.delta)
        );
    } else {
        let _ = writeln!(
            out,
            "\nNot separated from it within the replications allowed (they may be as good, within {}):\n",
            amount(report, report.goal.delta)
        );
        for i in runners {
            let c = &report.candidates[i];
            let _ = writeln!(
                out,
                "- #{i} ({}): {}",
                report.describe(i),
                amount(report, c.result.goal.mean.unwrap_or_default())
            );
        }
    }
}

/// The replications spent, against a full sweep's, and the method.
fn write_spent(out: &mut String, report: &PlanReport) {
    let saved = 100.0
        * (1.0 - report.replications_spent as f64 / report.full_sweep_replications.max(1) as f64);
    let _ = writeln!(
        out,
        "\nSpent {} replications over {} candidates; a full sweep at the same precision would run {}{}. \
         Method: Kim and Nelson's fully sequential ranking and selection (2001) on common random numbers, \
         {}% confidence of a choice within {} of the best.\n",
        report.replications_spent,
        report.candidates.len(),
        report.full_sweep_replications,
        if saved > 0.0 {
            format!(" ({saved:.0}% saved)")
        } else {
            String::new()
        },
        report.budget.confidence * 100.0,
        amount(report, report.goal.delta)
    );
}

/// Every candidate: its values, fate, replications and goal.
fn write_candidates(out: &mut String, report: &PlanReport, title: &str) {
    let _ = writeln!(
        out,
        "| # | values | status | replications | {title} [95% CI] |\n|---|---|---|---|---|"
    );
    for c in &report.candidates {
        let r = &c.result;
        let status = match &r.status {
            Status::Screened { after } => format!("screened after {after}"),
            Status::Infeasible { constraint } => format!("misses `{constraint}`"),
            Status::Undecided { constraint } => format!("`{constraint}` not shown"),
            s => status_name(s).to_string(),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {status} | {} | {}{} |",
            r.index,
            report.describe(r.index),
            r.replications,
            r.goal.mean.map_or("-".into(), |m| format!("{m:.1}")),
            r.goal
                .ci95
                .map_or(String::new(), |[lo, hi]| format!(" [{lo:.1}, {hi:.1}]"))
        );
    }
}
