//! `run --stats`: what the engine did and how long each phase took, for people tuning a
//! large run (stderr, never a report file: the figures depend on the machine).

use std::time::Duration;

use crate::montecarlo::RunOutput;
use crate::scenario::Scenario;

/// Wall time of the phases after the simulation.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Phases {
    /// Summarising the figures over replications.
    pub aggregation: Duration,
    /// Writing and publishing the files.
    pub output: Duration,
}

/// The statistics block, one figure per line.
pub(crate) fn render(run: &RunOutput, scenario: &Scenario, phases: &Phases) -> String {
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
