//! The table `run` prints: how long versions coexist, per release.

use std::fmt::Write;

use super::{ReleaseReport, RunReport};
use crate::stats::Summary;

fn num(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.1}"))
}

fn ci(s: &Summary) -> String {
    s.ci95
        .map_or("-".into(), |[lo, hi]| format!("{lo:.1} to {hi:.1}"))
}

/// A sentence a vendor can act on.
fn recommendation(r: &ReleaseReport, quantile: f64) -> String {
    let pct = quantile * 100.0;
    let w = &r.recommended_compat_window;
    match w.hours {
        Some(h) => {
            let ci = match w.ci95 {
                [Some(lo), Some(hi)] => format!("CI {lo:.1} to {hi:.1} h"),
                [None, Some(hi)] => {
                    format!("CI up to {hi:.1} h; more replications for a lower bound")
                }
                [Some(lo), None] => format!("CI from {lo:.1} h to beyond the horizon"),
                [None, None] => "too few replications for a CI".to_string(),
            };
            format!(
                "keep serving {} for {h:.1} h after the deploy ({pct:.0}% of replications; {ci})",
                r.from_version
            )
        }
        None => format!(
            "no window can be recommended for {}: {}",
            r.version,
            w.reason.as_deref().unwrap_or("censored")
        ),
    }
}

/// Mean of a summary, marked when some replications were censored.
fn mean_marked(s: &Summary) -> String {
    match (s.mean, s.censored) {
        (None, _) => "censored".into(),
        (Some(m), 0) => format!("{m:.1}"),
        (Some(m), _) => format!("{m:.1}*"),
    }
}

pub fn render_table(report: &RunReport) -> String {
    let r = &report.report;
    let s = &r.scenario;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} ({}): {} instances, {} replications, seed {}, horizon {:.0} h",
        s.name, s.platform, s.instances, s.replications, s.seed, s.horizon_hours
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:>3}  {:<22} {:<16} {:<5} {:>9} {:>9} {:>10} {:>16} {:>7} {:>8} {:>11}",
        "#",
        "release",
        "version",
        "appr.",
        "to 90%",
        "to 99%",
        "coexist.",
        "95% CI",
        "p95",
        "censored",
        "left behind"
    );
    for rel in &r.releases {
        let c = &rel.coexistence_hours;
        let label: String = rel.label.chars().take(22).collect();
        let share = |key: f64| {
            rel.time_to_share_hours
                .iter()
                .find(|(k, _)| (k.0 - key).abs() < 1e-12)
                .map_or("-".into(), |(_, s)| mean_marked(s))
        };
        let _ = writeln!(
            out,
            "{:>3}  {:<22} {:<16} {:<5} {:>9} {:>9} {:>10} {:>16} {:>7} {:>8} {:>11}",
            rel.index,
            label,
            format!("{} -> {}", rel.from_version, rel.version),
            if rel.needs_approval { "yes" } else { "no" },
            share(0.9),
            share(0.99),
            num(c.mean),
            ci(c),
            num(c.p95),
            format!("{}/{}", c.censored, c.n + c.censored),
            rel.left_behind.as_ref().map_or("-".into(), |l| num(l.mean)),
        );
    }
    let _ = writeln!(
        out,
        "\nHours after each deploy (means over replications; * = some replications censored at the horizon).\n\
         coexist.: until no active instance runs an older version; left behind: instances still older when\n\
         the vendor drops support (policy.drop_old_support_after).\n"
    );
    for rel in &r.releases {
        let _ = writeln!(
            out,
            "release {} ({}): {}",
            rel.index,
            rel.label,
            recommendation(rel, report.compat_window_quantile)
        );
    }
    out
}
