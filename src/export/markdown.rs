//! `summary.md`: the verdict and the summary table in GitHub-flavoured Markdown, to paste
//! into a pull request or a wiki (`run --format markdown` prints it).

use std::io::{self, Write};

use super::{Exporter, RunReport, SummaryTable};

/// `summary.md`.
pub struct SummaryMarkdown;

/// Pipes and line breaks would end a table cell, and asterisks start emphasis.
fn text(s: &str) -> String {
    s.replace('|', "\\|").replace('*', "\\*").replace('\n', " ")
}

impl Exporter for SummaryMarkdown {
    fn file_name(&self) -> &'static str {
        "summary.md"
    }

    fn write(&self, report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
        let r = &report.report;
        let s = &r.scenario;
        writeln!(out, "## rollout-sim: {}\n", text(&s.name))?;
        writeln!(
            out,
            "{} on {}: {} instances, {} replications, seed {}, horizon {:.0} h (rollout-sim {}).\n",
            text(&s.name),
            s.platform,
            s.instances,
            s.replications,
            s.seed,
            s.horizon_hours,
            r.tool.version
        )?;
        writeln!(out, "### Answer\n")?;
        for h in &report.headline {
            writeln!(out, "**{}**\n", text(h))?;
        }
        writeln!(out, "### Verdict\n")?;
        for group in &report.verdicts {
            writeln!(out, "#### {}\n", text(&group.title))?;
            for v in &group.sentences {
                writeln!(out, "- {}", text(v))?;
            }
            writeln!(out)?;
        }
        for w in &r.warnings {
            writeln!(out, "- **Warning:** {}", text(w))?;
        }
        writeln!(out, "\n### Summary\n")?;
        let table = SummaryTable::of(r);
        let header: Vec<String> = table.header.iter().map(|h| text(h)).collect();
        writeln!(out, "| {} |", header.join(" | "))?;
        let rule: Vec<&str> = (0..table.header.len())
            .map(|i| if table.numeric(i) { "---:" } else { "---" })
            .collect();
        writeln!(out, "|{}|", rule.join("|"))?;
        for row in &table.rows {
            let cells: Vec<String> = row.iter().map(|c| text(c)).collect();
            writeln!(out, "| {} |", cells.join(" | "))?;
        }
        writeln!(
            out,
            "\nHours after each deploy, means over replications; \\* some replications censored (the event did not happen before the horizon). The recommended window is the {:.0}th percentile of the coexistence over replications.",
            report.compat_window_quantile * 100.0
        )
    }
}
