//! `report.html`: one self-contained page (inline SVG and CSS, nothing fetched, no
//! script) with the verdict first, then the summary table, the charts, and the
//! parameters and assumptions in force. It reads at 1280 px and prints on A4.

use html_escape::encode_text as esc;

use super::SummaryTable;
use super::comparison::{
    COMPARISON_LEGEND, entry_groups, own_deploy_cells, pair_heading, row_cells,
};
use super::fit::render_fit_table;
use super::sweep::render_sweep_table;
use crate::charts::Drawn;
use crate::fit::FitOutcome;
use crate::report::RunReport;
use crate::report::comparison::{ComparisonReport, comparison_verdicts};
use crate::report::plan::PlanReport;
use crate::report::sweep::SweepReport;

/// The page's style: system fonts, readable widths, and print rules for A4.
const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;color:#1b1b1b;max-width:1180px;margin:2em auto;padding:0 1.5em;line-height:1.45}\
h1{font-size:1.7em;margin-bottom:.2em}h2{font-size:1.3em;margin-top:1.8em;border-bottom:1px solid #ccc}\
.meta{color:#555}.answer{font-size:1.2em;font-weight:600;border-left:5px solid #009e73;padding:.2em 1.2em;margin:1.2em 0}.verdict{background:#f3f7fb;border-left:5px solid #0072b2;padding:.6em 1.2em}\
.verdict li{margin:.35em 0}.warning{background:#fff4e5;border-left:5px solid #d55e00;padding:.6em 1.2em}\
table{border-collapse:collapse;width:100%;font-size:.92em}th,td{border-bottom:1px solid #ddd;padding:.35em .5em;text-align:left;vertical-align:top}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\
figure{margin:1.5em 0;break-inside:avoid}figure svg{width:100%;height:auto;max-width:960px;display:block}\
figcaption{color:#444;font-size:.92em;max-width:960px}\
footer{margin-top:3em;color:#777;font-size:.85em}\
@page{size:A4;margin:14mm}@media print{body{max-width:none;margin:0;padding:0;font-size:10pt}h2{break-after:avoid}table{font-size:8.5pt}}";

/// The figures of drawn charts, each an inline SVG with its caption.
fn figures(charts: &[Drawn]) -> String {
    charts
        .iter()
        .map(|d| {
            format!(
                "<figure id=\"chart-{}\">{}<figcaption>{}</figcaption></figure>\n",
                esc(&d.chart.name),
                d.svg,
                esc(&d.chart.caption)
            )
        })
        .collect()
}

/// A whole page: `title`, a line of facts, then `body`.
pub fn page(title: &str, meta: &str, body: &str, version: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{t}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{t}</h1>\n<p class=\"meta\">{m}</p>\n{body}<footer>Written by rollout-sim {v}. Same scenario and seed, same page, byte for byte.</footer>\n</body>\n</html>\n",
        t = esc(title),
        m = esc(meta),
        v = esc(version),
    )
}

/// `report.html`: the run's page, with its drawn charts.
pub fn run_page(report: &RunReport, charts: &[Drawn]) -> String {
    {
        let r = &report.report;
        let s = &r.scenario;
        let mut body = String::from("<section class=\"answer\">\n");
        for h in &report.headline {
            body += &format!("<p>{}</p>\n", esc(h));
        }
        body += "</section>\n<section class=\"verdict\"><h2>Verdict</h2>\n";
        for group in &report.verdicts {
            body += &format!("<h3>{}</h3>\n<ul>\n", esc(&group.title));
            for v in &group.sentences {
                body += &format!("<li>{}</li>\n", esc(v));
            }
            body += "</ul>\n";
        }
        body += "</section>\n";
        for w in &r.warnings {
            body += &format!(
                "<p class=\"warning\"><strong>Warning:</strong> {}</p>\n",
                esc(w)
            );
        }
        body += "<h2>Summary</h2>\n<table>\n<tr>";
        let table = SummaryTable::of(r);
        let class = |i: usize| {
            if table.numeric(i) { " class=\"n\"" } else { "" }
        };
        for (i, h) in table.header.iter().enumerate() {
            body += &format!("<th{}>{}</th>", class(i), esc(h));
        }
        body += "</tr>\n";
        for row in &table.rows {
            body += "<tr>";
            for (i, c) in row.iter().enumerate() {
                body += &format!("<td{}>{}</td>", class(i), esc(c));
            }
            body += "</tr>\n";
        }
        body += &format!(
            "</table>\n<p class=\"meta\">Hours after each deploy, means over replications; * some replications censored (the event did not happen before the horizon). The recommended window is the {:.0}th percentile of the coexistence over replications.</p>\n",
            report.compat_window_quantile * 100.0
        );
        body += "<h2>Charts</h2>\n";
        body += &figures(charts);
        body += "<h2>Parameters and assumptions in force</h2>\n<table>\n<tr><th>parameter</th><th>value</th><th>source</th></tr>\n";
        for (name, value, source) in &report.parameters {
            body += &format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                esc(name),
                esc(value),
                esc(source)
            );
        }
        body += "</table>\n";
        let meta = format!(
            "{} on {}: {} instances, {} replications, seed {}, start {}, horizon {:.0} h.",
            s.name, s.platform, s.instances, s.replications, s.seed, s.start, s.horizon_hours
        );
        page(
            &format!("rollout-sim: {}", s.name),
            &meta,
            &body,
            r.tool.version,
        )
    }
}

fn verdict_list(verdicts: &[String]) -> String {
    let mut out = String::from("<section class=\"verdict\"><h2>Verdict</h2><ul>\n");
    for v in verdicts {
        out += &format!("<li>{}</li>\n", esc(v));
    }
    out + "</ul></section>\n"
}

/// `comparison.html`: the comparison's verdict, its table, and its charts.
pub fn comparison_page(report: &ComparisonReport, charts: &[Drawn]) -> String {
    let mut body = verdict_list(&comparison_verdicts(report));
    body += "<h2>Paired differences</h2>\n";
    for group in entry_groups(report) {
        body += &format!(
            "<h3>{}</h3>\n<table class=\"comparison\">\n<tr><th>figure</th><th class=\"n\">{}</th><th class=\"n\">{}</th><th class=\"n\">difference [95% CI]</th><th class=\"n\">unpaired</th><th>better</th></tr>\n",
            esc(&pair_heading(report, &group[0])),
            esc(&report.baseline),
            esc(&group[0].scenario)
        );
        for [figure, base, other, diff, unpaired, better] in group
            .iter()
            .flat_map(|e| std::iter::once(row_cells(report, e)).chain(own_deploy_cells(report, e)))
        {
            body += &format!(
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>\n",
                esc(&figure),
                esc(&base),
                esc(&other),
                esc(&diff),
                esc(&unpaired),
                esc(&better)
            );
        }
        body += "</table>\n";
    }
    body += &format!(
        "<p class=\"meta\">{}</p>\n<h2>Charts</h2>\n{}",
        esc(COMPARISON_LEGEND.trim()),
        figures(charts)
    );
    let meta = format!(
        "{} against the baseline {}: {} replications of {} instances each, seed {} (common random numbers).",
        report.scenarios[1..].join(", "),
        report.baseline,
        report.replications,
        report.instances,
        report.seed
    );
    page(
        &format!("rollout-sim: comparison with {}", report.baseline),
        &meta,
        &body,
        report.tool.version,
    )
}

/// `sweep.html`: the sweep's table and its charts.
pub fn sweep_page(report: &SweepReport, charts: &[Drawn]) -> String {
    let body = format!(
        "<h2>Grid points</h2>\n<pre>{}</pre>\n<h2>Charts</h2>\n{}",
        esc(&render_sweep_table(report)),
        figures(charts)
    );
    let meta = format!(
        "{} grid points over {}.",
        report.points.len(),
        report.axes.join(" x ")
    );
    page(
        &format!("rollout-sim: sweep of {}", report.scenario),
        &meta,
        &body,
        report.tool.version,
    )
}

/// `fit.html`: the fitted profiles, their intervals and the observed against the
/// fitted curve.
pub fn fit_page(outcome: &FitOutcome, charts: &[Drawn]) -> String {
    let body = format!(
        "<h2>Fitted admin profiles</h2>\n<pre>{}</pre>\n<p>Each instance's update time is the platform part known from the scenario (publication, maintenance slip, the wait for the next UPM poll) plus, with probability <em>approve</em>, the admin's delay. <code>fitted-scenario.json</code> beside this page runs these profiles.</p>\n<h2>Observed and fitted</h2>\n{}",
        esc(&render_fit_table(outcome)),
        figures(charts)
    );
    let meta = format!(
        "Release {} ({}) of {}: {} instances observed until {:.1} h after the deploy.",
        outcome.release,
        outcome.release_label,
        outcome.scenario,
        outcome.instances,
        outcome.until_hours
    );
    page(
        &format!("rollout-sim: admin profiles fitted to {}", outcome.scenario),
        &meta,
        &body,
        env!("CARGO_PKG_VERSION"),
    )
}

/// `plan.html`: the chosen policy and every candidate (the summary, as preformatted
/// text), then the chart of the candidates' goal figure.
pub fn plan_page(report: &PlanReport, summary: &str, charts: &[Drawn]) -> String {
    let body = format!(
        "<h2>The plan</h2>\n<pre>{}</pre>\n<p><code>best-scenario.json</code> beside this page runs the chosen policy.</p>\n<h2>Candidates</h2>\n{}",
        esc(summary),
        figures(charts)
    );
    let meta = format!(
        "{} candidates of {}; {} replications spent.",
        report.candidates.len(),
        report.scenario,
        report.replications_spent
    );
    page(
        &format!("rollout-sim: plan for {}", report.scenario),
        &meta,
        &body,
        env!("CARGO_PKG_VERSION"),
    )
}
