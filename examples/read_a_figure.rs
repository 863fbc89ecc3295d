//! Run a shipped scenario and read one figure: how long the old and new versions of a
//! Connect descriptor fix coexist.
//!
//! `cargo run --release --example read_a_figure`

use std::path::Path;

use rollout_sim::montecarlo;
use rollout_sim::report::RunReport;
use rollout_sim::scenario::{self, Overrides};

fn main() -> anyhow::Result<()> {
    let overrides = Overrides {
        replications: Some(50),
        ..Overrides::default()
    };
    let scenario = scenario::load(Path::new("scenarios/connect-micro.json"), &overrides)?;
    let run = montecarlo::run(&scenario, &());
    let report = RunReport::build(&scenario, &run, None);
    let release = &report.report.releases[0];
    let window = &release.coexistence_hours;
    println!(
        "{} -> {}: old and new coexist {:.1} h on average (p95 {:.1} h, {} of {} replications censored)",
        release.from_version,
        release.version,
        window.mean.unwrap_or(f64::NAN),
        window.p95.unwrap_or(f64::NAN),
        window.censored,
        window.n + window.censored,
    );
    if let Some(hours) = release.recommended_compat_window.hours {
        println!("keep serving {} for {hours:.1} h", release.from_version);
    }
    Ok(())
}
