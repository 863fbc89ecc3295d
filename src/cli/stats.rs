//! `run --stats` and the memory check made before a run starts.

use std::time::Duration;

use anyhow::{Result, bail};

use crate::montecarlo::{self, RunOutput};
use std::path::Path;

use crate::scenario::{Overrides, Scenario};

fn gib(bytes: u128) -> f64 {
    bytes as f64 / (1u64 << 30) as f64
}

/// Refuses, before any work, a run that would not fit in the memory available, naming
/// the scenario file and the field that drives the need (and the flag, when one set it).
pub fn check_memory(
    file: &Path,
    scenario: &Scenario,
    threads: usize,
    overrides: &Overrides,
) -> Result<()> {
    refuse_beyond_memory(
        file,
        scenario,
        &montecarlo::memory_estimate(scenario, threads),
        threads,
        overrides,
    )
}

/// [`check_memory`] for `trace`, which simulates one replication's shared context.
pub fn check_trace_memory(file: &Path, scenario: &Scenario, overrides: &Overrides) -> Result<()> {
    refuse_beyond_memory(
        file,
        scenario,
        &montecarlo::trace_memory_estimate(scenario),
        1,
        overrides,
    )
}

fn refuse_beyond_memory(
    file: &Path,
    scenario: &Scenario,
    estimate: &montecarlo::MemoryEstimate,
    threads: usize,
    overrides: &Overrides,
) -> Result<()> {
    let needed = estimate.total();
    let Some(available) = crate::memory::available_bytes() else {
        return Ok(());
    };
    if needed <= available {
        return Ok(());
    }
    let (field, value, flag, advice) = if estimate.report > estimate.in_flight.max(estimate.kept) {
        (
            "releases",
            format!("{} releases", scenario.releases.len()),
            None,
            "use fewer releases, a coarser report.sample_every or a shorter horizon",
        )
    } else if estimate.kept > estimate.in_flight {
        (
            "replications",
            scenario.replications.to_string(),
            overrides.replications.map(|_| "--replications"),
            "lower replications",
        )
    } else if estimate.expected_installs > u128::from(scenario.population.instances) {
        (
            "population.churn.installs_per_day",
            scenario.population.churn.installs_per_day.to_string(),
            None,
            "lower installs_per_day or the horizon",
        )
    } else {
        (
            "population.instances",
            scenario.population.instances.to_string(),
            overrides.instances.map(|_| "--instances"),
            "lower the instances or --threads",
        )
    };
    let set_by = flag.map_or(String::new(), |f| format!(" (set by {f})"));
    bail!(
        "{}: {field}: {value}{set_by} makes the run need about {:.1} GiB of memory \
         ({} instances x {} releases, {} replications, {} in flight), but {:.1} GiB is available; {advice}",
        file.display(),
        gib(needed),
        scenario.population.instances,
        scenario.releases.len(),
        scenario.replications,
        threads.min(scenario.replications as usize),
        gib(available)
    );
}

/// Wall time of the phases the command line sees.
pub struct Phases {
    pub aggregation: Duration,
    pub output: Duration,
}

pub fn render(run: &RunOutput, scenario: &Scenario, phases: &Phases) -> String {
    let counts = run.engine_counts();
    let sim = run.timings.simulation.as_secs_f64();
    let peak = crate::memory::peak_resident_bytes().map_or("unknown".to_string(), |b| {
        format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64)
    });
    format!(
        "stats: {} replications x {} instances\n\
         \x20 events processed     {}\n\
         \x20 events per second    {:.2} million (simulation phase, all threads)\n\
         \x20 peak pending events  {} (on one instance's queue)\n\
         \x20 wall time            setup {:.3} s, simulation {:.3} s, aggregation {:.3} s, output {:.3} s\n\
         \x20 inside replications  instances {:.3} s, tally merge {:.3} s (counts only; keys stay in their chunks), figures {:.3} s (wall, summed over replications)\n\
         \x20 peak memory          {} (resident, whole process)\n",
        scenario.replications,
        scenario.population.instances,
        counts.events,
        if sim > 0.0 {
            counts.events as f64 / sim / 1e6
        } else {
            0.0
        },
        counts.peak_pending,
        run.timings.setup.as_secs_f64(),
        sim,
        phases.aggregation.as_secs_f64(),
        phases.output.as_secs_f64(),
        run.timings.inside.instances.as_secs_f64(),
        run.timings.inside.merge.as_secs_f64(),
        run.timings.inside.figures.as_secs_f64(),
        peak,
    )
}
