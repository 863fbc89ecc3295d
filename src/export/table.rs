//! The table `run` prints: how long versions coexist, per release.

use std::fmt::Write;

use super::{share_cells, threshold_heading, thresholds};
use crate::report::{PrecisionReport, RunReport, Stat};

fn num(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.1}"))
}

fn ci(s: &Stat) -> String {
    s.ci95
        .map_or("-".into(), |[lo, hi]| format!("{lo:.1} to {hi:.1}"))
}

/// How a `--precision` run ended, in one sentence.
pub fn precision_line(p: &PrecisionReport) -> String {
    let achieved = p
        .achieved_half_width
        .map_or("n/a".into(), |h| format!("{h:.3}"));
    let end = match (&p.stopped_because, p.met) {
        (Some(why), _) => format!(": stopped early, {why}"),
        (None, true) => String::new(),
        (None, false) => ": target NOT met at --max-replications".into(),
    };
    format!(
        "precision ({}): {} replications, half-width {achieved} (target {}){end}",
        p.figure, p.replications, p.target_half_width
    )
}

/// The run's report as a terminal table.
pub fn render_table(report: &RunReport) -> String {
    let r = &report.report;
    let s = &r.scenario;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}): {} instances, {} replications, seed {}, horizon {:.0} h",
        s.name, s.platform, s.instances, s.replications, s.seed, s.horizon_hours
    );
    for h in &report.headline {
        let _ = writeln!(out, "\n{h}");
    }
    let _ = writeln!(out);
    let thresholds = thresholds(r);
    let header: Vec<String> = ["#", "release", "version", "appr."]
        .into_iter()
        .map(String::from)
        .chain(thresholds.iter().map(|&t| threshold_heading(t)))
        .chain(
            ["coexist.", "95% CI", "p95", "censored", "left behind"]
                .into_iter()
                .map(String::from),
        )
        .collect();
    let mut rows: Vec<Vec<String>> = vec![header.clone()];
    for rel in &r.releases {
        let c = &rel.coexistence_hours;
        rows.push(
            [
                rel.index.to_string(),
                rel.label.chars().take(22).collect(),
                format!("{} -> {}", rel.from_version, rel.version),
                if rel.needs_approval { "yes" } else { "no" }.into(),
            ]
            .into_iter()
            .chain(share_cells(rel, &thresholds, "-"))
            .chain([
                num(c.mean),
                ci(c),
                num(c.p95),
                format!("{}/{}", c.censored, c.n + c.censored),
                rel.left_behind.as_ref().map_or("-".into(), |l| num(l.mean)),
            ])
            .collect(),
        );
    }
    // Columns as wide as their widest cell: 10,000 replications still line up.
    let widths: Vec<usize> = (0..header.len())
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for row in &rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            // Text columns (release, version, approval) align left, numbers right.
            if (1..=3).contains(&i) {
                let _ = write!(line, "{cell:<w$}  ");
            } else {
                let _ = write!(line, "{cell:>w$}  ");
            }
        }
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let _ = writeln!(
        out,
        "\nHours after each deploy (means over replications; * = some replications censored at the horizon).\n\
         coexist.: until no active instance runs an older version; left behind: instances still older when\n\
         the vendor drops support (policy.drop_old_support_after).\n"
    );
    for group in &report.verdicts {
        let _ = writeln!(out, "{}:", group.title);
        for v in &group.sentences {
            let _ = writeln!(out, "  - {v}");
        }
    }
    if let Some(p) = &r.precision {
        let _ = writeln!(out, "\n{}", precision_line(p));
    }
    for w in &r.warnings {
        let _ = writeln!(out, "\nwarning: {w}");
    }
    out
}
