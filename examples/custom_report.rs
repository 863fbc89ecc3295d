//! A custom output format: every format is one `Exporter` (a file name and a writer),
//! so a new one is a small type. This one writes each release's coexistence window as a
//! one-line Markdown bullet list, through the same all-or-nothing output folder the
//! command line uses.
//!
//! `cargo run --release --example custom_report`

use std::io::{self, Write};
use std::path::Path;

use rollout_sim::export::Exporter;
use rollout_sim::montecarlo;
use rollout_sim::output::OutputDir;
use rollout_sim::report::RunReport;
use rollout_sim::scenario::{self, Overrides};

struct Bullets;

impl Exporter for Bullets {
    fn file_name(&self) -> &'static str {
        "windows.md"
    }
    fn write(&self, report: &RunReport, out: &mut dyn Write) -> io::Result<()> {
        for r in &report.report.releases {
            let w = &r.coexistence_hours;
            match w.mean {
                Some(mean) => {
                    writeln!(out, "- {}: {mean:.1} h ({} censored)", r.label, w.censored)?;
                }
                None => writeln!(out, "- {}: did not end before the horizon", r.label)?,
            }
        }
        Ok(())
    }
}

fn main() -> anyhow::Result<()> {
    let overrides = Overrides {
        replications: Some(20),
        instances: Some(1000),
        ..Overrides::default()
    };
    let s = scenario::load(Path::new("scenarios/connect-scope-change.json"), &overrides)?;
    let report = RunReport::build(&s, &montecarlo::run(&s, &()), None);
    let target = Path::new("output/example-custom-report");
    let mut out = OutputDir::prepare(target, false)?;
    rollout_sim::export::write_all(&mut out, &report, &[Box::new(Bullets) as Box<dyn Exporter>])?;
    out.publish()?;
    print!("{}", std::fs::read_to_string(target.join("windows.md"))?);
    Ok(())
}
