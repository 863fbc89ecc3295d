//! Monte Carlo: replications in parallel, results in replication order.
//!
//! Every random draw is addressed by (seed, replication, purpose, instance), so the
//! results are the same for any thread count; histograms merge by integer addition and
//! per-replication results are sorted by index before anything adds floating-point
//! numbers, so reports are byte-identical too.

use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::model::replication::{self, LatencyByRelease};
use crate::model::{InstanceModel, ReleasePlan, ReplicationResult};
use crate::scenario::Scenario;
use crate::stats::LatencyHistogram;

/// Everything a run produced, ready for the reports.
pub struct RunOutput {
    pub plan: ReleasePlan,
    pub replications: Vec<ReplicationResult>,
    /// Per release, pooled over replications.
    pub latency: Vec<LatencyHistogram>,
    pub timings: PhaseTimings,
}

impl RunOutput {
    /// Combines the outputs of shards of one run (disjoint replication ranges) into the
    /// output the unsplit run would have produced.
    pub fn merge(mut self, other: RunOutput) -> RunOutput {
        self.replications.extend(other.replications);
        self.replications.sort_by_key(|r| r.index);
        self.latency
            .iter_mut()
            .zip(&other.latency)
            .for_each(|(a, b)| a.merge(b));
        self.timings.setup += other.timings.setup;
        self.timings.simulation += other.timings.simulation;
        self
    }
}

/// Wall time per phase of a run.
#[derive(Clone, Copy, Debug, Default)]
pub struct PhaseTimings {
    pub setup: Duration,
    pub simulation: Duration,
}

/// Called once per finished replication (from any thread).
pub trait Progress: Sync {
    fn replication_done(&self);
}

impl Progress for () {
    fn replication_done(&self) {}
}

/// Runs every replication of `scenario` on the current rayon pool.
pub fn run(scenario: &Scenario, progress: &dyn Progress) -> RunOutput {
    run_range(scenario, 0..scenario.replications as u64, progress)
}

/// Runs replications `range` (a shard of a larger run).
pub fn run_range(
    scenario: &Scenario,
    range: std::ops::Range<u64>,
    progress: &dyn Progress,
) -> RunOutput {
    let started = Instant::now();
    let plan = ReleasePlan::new(scenario);
    let model = InstanceModel::new(scenario, &plan);
    let setup = started.elapsed();
    let releases = plan.release_count();
    let empty = || (Vec::new(), vec![LatencyHistogram::default(); releases]);
    let (mut replications, latency) = range
        .into_par_iter()
        .map(|index| {
            let out = replication::run(&model, index);
            progress.replication_done();
            out
        })
        .fold(
            empty,
            |(mut results, mut hists): (Vec<ReplicationResult>, LatencyByRelease), (result, h)| {
                results.push(result);
                hists.iter_mut().zip(&h).for_each(|(a, b)| a.merge(b));
                (results, hists)
            },
        )
        .reduce(empty, |(mut a, mut ha), (b, hb)| {
            a.extend(b);
            ha.iter_mut().zip(&hb).for_each(|(x, y)| x.merge(y));
            (a, ha)
        });
    replications.sort_by_key(|r| r.index);
    let simulation = started.elapsed() - setup;
    RunOutput {
        plan,
        replications,
        latency,
        timings: PhaseTimings { setup, simulation },
    }
}
