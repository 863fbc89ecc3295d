//! One replication: publication, every instance, and the figures.

use rayon::prelude::*;

use crate::scenario::Scenario;
use crate::stats::LatencyHistogram;
use crate::time::SimTime;

use super::figures::{self, Measure, ReleaseFigures};
use super::instance::{self, InstanceModel, Workspace};
use super::marketplace::Publication;
use super::tally::{SampleGrid, Tally, TallyObserver};

/// Instances per chunk: large enough to amortise setup, small enough to spread one big
/// replication over every thread.
pub const CHUNK_INSTANCES: u64 = 1 << 15;

/// What one replication produced, apart from its latency histograms.
#[derive(Clone, Debug)]
pub struct ReplicationResult {
    pub index: u64,
    pub published: Vec<SimTime>,
    pub releases: Vec<ReleaseFigures>,
    /// `[sample][version]`: instances on each version at each sample time.
    pub mix: Vec<u32>,
    pub events: u64,
    pub peak_pending: usize,
}

/// A replication's latency histograms, per release (merged across replications).
pub type LatencyByRelease = Vec<LatencyHistogram>;

pub fn sample_grid(scenario: &Scenario) -> SampleGrid {
    SampleGrid::new(scenario.report.sample_every, scenario.horizon)
}

/// Runs replication `index` of the model's scenario.
pub fn run(model: &InstanceModel<'_>, index: u64) -> (ReplicationResult, LatencyByRelease) {
    let scenario = model.scenario();
    let plan = model.plan();
    let publication = Publication::draw(scenario, plan, index);
    let deployed: Vec<SimTime> = scenario.releases.iter().map(|r| r.at).collect();
    let horizon = scenario.horizon_time();
    let grid = sample_grid(scenario);
    let initial = scenario.population.instances;
    let arrivals = instance::arrivals(scenario, index);
    let n = initial + arrivals.len() as u64;

    let chunks: Vec<(Tally, u64, usize)> = (0..n.div_ceil(CHUNK_INSTANCES))
        .into_par_iter()
        .map(|chunk| {
            let mut work = Workspace::new(scenario.seed, index, plan.release_count());
            let mut observer = TallyObserver::new(plan, &deployed, horizon, grid);
            let first = chunk * CHUNK_INSTANCES;
            for id in first..(first + CHUNK_INSTANCES).min(n) {
                let member =
                    instance::member(initial, &arrivals, id).expect("ids below the member count");
                model.simulate(&publication, member, &mut work, &mut observer);
            }
            let (events, peak) = work.engine_counts();
            (observer.tally, events, peak)
        })
        .collect();
    let mut events = 0;
    let mut peak_pending = 0;
    let mut tally: Option<Tally> = None;
    for (t, e, p) in chunks {
        events += e;
        peak_pending = peak_pending.max(p);
        match &mut tally {
            Some(acc) => acc.merge(t),
            None => tally = Some(t),
        }
    }
    let mut tally = tally.expect("a population has at least one instance");

    let releases = (0..plan.release_count())
        .map(|k| {
            let m = Measure {
                deployed: deployed[k],
                published: publication.at[k],
                drop_support_at: scenario
                    .policy
                    .drop_old_support_after
                    .map(|d| deployed[k] + d),
                horizon,
                thresholds: &scenario.report.thresholds,
                tolerance: scenario.report.coexistence_tolerance,
            };
            figures::measure(
                &m,
                &mut tally.keys[k],
                tally.active_at_start,
                tally.old_at_start[k],
            )
        })
        .collect();

    let versions = plan.version_count();
    let mut mix = vec![0u32; tally.mix_changes.len()];
    let mut running = vec![0i64; versions];
    for (sample, changes) in tally.mix_changes.chunks_exact(versions).enumerate() {
        for (v, change) in changes.iter().enumerate() {
            running[v] += change;
            mix[sample * versions + v] = running[v] as u32;
        }
    }
    let result = ReplicationResult {
        index,
        published: publication.at,
        releases,
        mix,
        events,
        peak_pending,
    };
    (result, tally.latency)
}
