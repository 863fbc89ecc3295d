//! What a command needs from the machine: memory checked before any work, and a
//! thread pool of the size asked for.

use std::num::NonZeroUsize;
use std::path::Path;

use anyhow::{Context, Result, bail};

use super::Simulation;
use crate::montecarlo::{self, MemoryEstimate};
use crate::scenario::{Overrides, Scenario};

fn gib(bytes: u128) -> f64 {
    bytes as f64 / (1u64 << 30) as f64
}

/// A thread pool of the requested size, checked against the memory a run of each of
/// `scenarios` needs before any thread starts.
pub(super) fn pool(
    sim: &Simulation,
    scenarios: &[(&Path, &Scenario)],
) -> Result<rayon::ThreadPool> {
    let threads = sim.threads.map_or_else(
        || std::thread::available_parallelism().map_or(1, NonZeroUsize::get),
        NonZeroUsize::get,
    );
    for (file, s) in scenarios {
        check_memory(file, s, threads, &sim.overrides)?;
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start worker threads")
}

/// Refuses, before any work, a run that would not fit in the memory available, naming
/// the scenario file and the field that drives the need (and the flag, when one set it).
pub(crate) fn check_memory(
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
pub(crate) fn check_trace_memory(
    file: &Path,
    scenario: &Scenario,
    overrides: &Overrides,
) -> Result<()> {
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
    estimate: &MemoryEstimate,
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
    let (field, value, flag, advice) = if estimate.report.max(estimate.latency)
        > estimate.in_flight.max(estimate.kept)
    {
        (
            "releases",
            format!("{} releases", scenario.releases.len()),
            None,
            if estimate.latency > estimate.report {
                "use fewer releases (split the train into scenarios), a shorter horizon or fewer --threads"
            } else {
                "use fewer releases (split the train into scenarios), a coarser report.sample_every or a shorter horizon"
            },
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
