//! Compare two release policies with common random numbers: bundle a feature with a new
//! scope, or ship the feature first and the scope alone. The two scenarios share seed,
//! replications and population, so replication r of each sees the same admins.
//!
//! `cargo run --release --example compare_policies`

use std::path::Path;

use rollout_sim::compare::{compare, pairings};
use rollout_sim::montecarlo;
use rollout_sim::scenario::{self, Overrides};

fn main() -> anyhow::Result<()> {
    let overrides = Overrides {
        replications: Some(40),
        instances: Some(2000),
        ..Overrides::default()
    };
    let runs = [
        "scenarios/policy-bundle.json",
        "scenarios/policy-isolate.json",
    ]
    .iter()
    .map(|p| {
        let s = scenario::load(Path::new(p), &overrides)?;
        let run = montecarlo::run(&s, &());
        Ok((s, run))
    })
    .collect::<anyhow::Result<Vec<_>>>()?;
    // Pairing is decided before comparing: by label here ("write scope" in both).
    let scenarios: Vec<_> = runs.iter().map(|(s, _)| s.clone()).collect();
    let comparison = compare(&runs, pairings(&scenarios, &[])?);
    for pairing in &comparison.pairings {
        println!("{}: releases paired by {}", pairing.scenario, pairing.by);
    }
    for e in comparison
        .entries
        .iter()
        .filter(|e| e.figure == "left_behind" || e.figure == "left_over_at_horizon")
    {
        let d = &e.difference;
        println!(
            "{} ({} vs {}): {:+.1} instances, paired 95% CI {:?}, better: {:?}",
            e.figure,
            e.baseline_label,
            e.label,
            d.mean.unwrap_or(f64::NAN),
            d.ci95,
            e.better
        );
    }
    Ok(())
}
