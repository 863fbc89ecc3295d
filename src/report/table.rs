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
    match r.recommended_compat_window_hours {
        Some(h) => format!(
            "keep serving {} for {h:.1} h after the deploy ({pct:.0}% of replications had no older instance left by then)",
            r.from_version
        ),
        None => format!(
            "no window can be recommended: {} of {} replications still had instances older than {} at the horizon",
            r.coexistence_hours.censored,
            r.coexistence_hours.n + r.coexistence_hours.censored,
            r.version
        ),
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
        "{:>3}  {:<24} {:<17} {:<8} {:>10} {:>18} {:>9} {:>9}",
        "#", "release", "version", "approval", "mean h", "95% CI (h)", "p95 h", "censored"
    );
    for rel in &r.releases {
        let c = &rel.coexistence_hours;
        let label: String = rel.label.chars().take(24).collect();
        let _ = writeln!(
            out,
            "{:>3}  {:<24} {:<17} {:<8} {:>10} {:>18} {:>9} {:>9}",
            rel.index,
            label,
            format!("{} -> {}", rel.from_version, rel.version),
            if rel.needs_approval { "yes" } else { "no" },
            num(c.mean),
            ci(c),
            num(c.p95),
            format!("{}/{}", c.censored, c.n + c.censored),
        );
    }
    let _ = writeln!(
        out,
        "\n(coexistence window: hours from deploy until no active instance runs an older version)\n"
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
