//! Monte Carlo: replications in parallel, results in replication order.
//!
//! Every random draw is addressed by (seed, replication, purpose, instance), so the
//! results are the same for any thread count; histograms merge by integer addition and
//! per-replication results are sorted by index before anything adds floating-point
//! numbers, so reports are byte-identical too.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use web_time::Instant;

use rayon::prelude::*;

use crate::model::mix::{EXACT_REPLICATIONS, MixOverReplications};
use crate::model::replication::{self, ReplicationPhases};
use crate::model::{FigureRef, InstanceModel, ReplicationResult, VersionTable};
use crate::scenario::Scenario;
use crate::stats::{LatencyHistogram, Summary};

/// Everything a run produced, ready for the reports.
pub struct RunOutput {
    /// The versions and gates of the scenario's releases.
    pub plan: VersionTable,
    /// Every replication's result, in index order.
    pub replications: Vec<ReplicationResult>,
    /// The version mix over the replications.
    pub mix: MixOverReplications,
    /// Per release, pooled over replications.
    pub latency: Vec<LatencyHistogram>,
    /// Wall time per phase (not part of any report file).
    pub timings: PhaseTimings,
}

impl RunOutput {
    /// Combines the outputs of shards of one run (disjoint replication ranges) into the
    /// output the unsplit run would have produced.
    pub fn merge(mut self, other: RunOutput) -> RunOutput {
        self.replications.extend(other.replications);
        self.replications.sort_by_key(|r| r.index);
        self.mix.append(other.mix);
        self.latency
            .iter_mut()
            .zip(&other.latency)
            .for_each(|(a, b)| a.merge(b));
        self.timings.setup += other.timings.setup;
        self.timings.simulation += other.timings.simulation;
        self.timings.inside.add(other.timings.inside);
        self
    }
}

/// Wall time per phase of a run.
#[derive(Clone, Copy, Debug, Default)]
pub struct PhaseTimings {
    /// Preparing the release plan and instance model.
    pub setup: Duration,
    /// Simulating the replications.
    pub simulation: Duration,
    /// Inside the replications, summed over them.
    pub inside: ReplicationPhases,
}

/// Bytes of memory a run of `scenario` needs with `threads` replications in flight, at
/// most, split by what drives each part. Computed in 128-bit saturating arithmetic so
/// that no input, however large, wraps the estimate below the truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemoryEstimate {
    /// The replications being simulated: per-instance sweep keys (up to two per instance
    /// and release) and the chunk tallies; grows with the instances and new installs.
    pub in_flight: u128,
    /// What is kept of finished replications: their figures, and their version mixes
    /// (whole up to `EXACT_REPLICATIONS`, pooled beyond); grows with the replications.
    pub kept: u128,
    /// The summary over replications and the outputs made of it: a cell per version
    /// and sample (mean, quantiles, and their text in JSON and CSV), and a table of
    /// releases by versions; grows with the releases and the sample grid.
    pub report: u128,
    /// The latency histograms, one per release in each set: a set per chunk of each
    /// replication in flight, and the run's own; grows with the releases and the horizon
    /// (a histogram's bins reach the horizon's at most).
    pub latency: u128,
    /// Expected new installs over the horizon (churn), part of `in_flight`.
    pub expected_installs: u128,
}

impl MemoryEstimate {
    /// Fixed cost of the process (code, thread stacks).
    pub const BASELINE: u128 = 32 << 20;

    /// Report bytes per version and sample. Measured (`run --stats`, 1,000 instances, 10
    /// replications, 721 samples): peaks beyond the other parts were 217 MB at 1,000
    /// releases and 716 MB at 3,000, about 290 bytes per cell plus 11 per release and
    /// version; rounded up to bound the 4.6 GB peak of 10,000 releases (BENCHMARKS.md).
    pub const REPORT_BYTES_PER_CELL: u128 = 400;

    /// Report bytes per release and version (see [`Self::REPORT_BYTES_PER_CELL`]).
    pub const REPORT_BYTES_PER_RELEASE_VERSION: u128 = 16;

    /// Everything, the fixed cost included.
    pub fn total(&self) -> u128 {
        self.in_flight
            .saturating_add(self.kept)
            .saturating_add(self.report)
            .saturating_add(self.latency)
            .saturating_add(Self::BASELINE)
    }
}

/// Expected new installs of `scenario` over its horizon (churn), saturating.
fn expected_installs(scenario: &Scenario) -> u128 {
    let expected = scenario.population.churn.installs_per_day * scenario.horizon.as_hours() / 24.0;
    // A float this large saturates the cast: still far above any memory.
    expected.ceil().max(0.0) as u128
}

/// The memory `trace` needs: one replication's shared context (every new install's
/// arrival time, every member's bulk move), though it follows one instance.
pub fn trace_memory_estimate(scenario: &Scenario) -> MemoryEstimate {
    let expected_installs = expected_installs(scenario);
    let members = u128::from(scenario.population.instances).saturating_add(expected_installs);
    MemoryEstimate {
        in_flight: members.saturating_mul(24),
        kept: 0,
        report: 0,
        latency: 0,
        expected_installs,
    }
}

/// The memory a run of `scenario` needs at most with `threads` replications in flight.
pub fn memory_estimate(scenario: &Scenario, threads: usize) -> MemoryEstimate {
    let expected_installs = expected_installs(scenario);
    let instances = u128::from(scenario.population.instances).saturating_add(expected_installs);
    let releases = scenario.releases.len() as u128;
    let versions = releases + 1;
    let samples = replication::sample_grid(scenario).count as u128;
    let chunks = instances.div_ceil(u128::from(replication::CHUNK_INSTANCES));
    let in_flight = (threads as u128)
        .min(u128::from(scenario.replications))
        .max(1);
    let per_replication = instances
        .saturating_mul(releases)
        .saturating_mul(16)
        .saturating_add(
            chunks
                .saturating_mul(samples)
                .saturating_mul(versions)
                .saturating_mul(8),
        );
    // Whole mixes up to `EXACT_REPLICATIONS`, pooled cells (about 1 KB each) beyond,
    // and every replication's figures.
    let replications = u128::from(scenario.replications);
    let weighted = !scenario.population.weight_units().is_empty();
    let mix_bytes = samples
        .saturating_mul(versions)
        .saturating_mul(if weighted { 12 } else { 4 });
    let whole = replications.min(EXACT_REPLICATIONS as u128);
    let pooled = if replications > whole {
        samples
            .saturating_mul(versions.saturating_add(releases))
            .saturating_mul(1024)
    } else {
        0
    };
    let kept = whole
        .saturating_mul(mix_bytes)
        .saturating_add(pooled)
        .saturating_add(replications.saturating_mul(releases.saturating_mul(256)));
    let report = samples
        .saturating_mul(versions)
        .saturating_mul(MemoryEstimate::REPORT_BYTES_PER_CELL)
        .saturating_add(
            releases
                .saturating_mul(versions)
                .saturating_mul(MemoryEstimate::REPORT_BYTES_PER_RELEASE_VERSION),
        );
    // A set per chunk of each replication in flight (the first chunk's becomes the
    // replication's, the others merge into it), and the run's.
    let histogram_sets = in_flight.saturating_mul(chunks.max(1)).saturating_add(1);
    let latency = releases
        .saturating_mul(LatencyHistogram::bytes_below(scenario.horizon))
        .saturating_mul(histogram_sets);
    MemoryEstimate {
        in_flight: in_flight.saturating_mul(per_replication),
        kept,
        report,
        latency,
        expected_installs,
    }
}

/// Engine and phase figures of a run, for `run --stats`.
#[derive(Clone, Copy, Debug, Default)]
pub struct EngineCounts {
    /// Events processed over every replication.
    pub events: u64,
    /// The most events pending at once in any replication.
    pub peak_pending: usize,
}

impl RunOutput {
    /// Engine counts summed (events) or maximised (pending) over replications.
    pub fn engine_counts(&self) -> EngineCounts {
        EngineCounts {
            events: self.replications.iter().map(|r| r.events).sum(),
            peak_pending: self
                .replications
                .iter()
                .map(|r| r.peak_pending)
                .max()
                .unwrap_or(0),
        }
    }
}

/// Called once per finished replication (from any thread).
pub trait Progress: Sync {
    /// A command is about to run `total` replications in all.
    fn start(&self, total: u64) {
        let _ = total;
    }
    /// One more replication finished.
    fn replication_done(&self);
}

impl Progress for () {
    fn replication_done(&self) {}
}

/// Replications simulated between two additions to the version mix: enough to keep
/// every thread busy, few enough that their mixes stay small beside the pooled one.
const BATCH: u64 = 256;

/// Runs every replication of `scenario` on the current rayon pool.
pub fn run(scenario: &Scenario, progress: &dyn Progress) -> RunOutput {
    run_range(scenario, 0..u64::from(scenario.replications), progress)
}

/// Runs replications `range` (a shard of a larger run).
pub fn run_range(
    scenario: &Scenario,
    range: std::ops::Range<u64>,
    progress: &dyn Progress,
) -> RunOutput {
    let started = Instant::now();
    let plan = VersionTable::new(scenario);
    let model = InstanceModel::new(scenario, &plan);
    let setup = started.elapsed();
    let releases = plan.release_count();
    let mut mix = replication::empty_mix(scenario, &plan);
    let mut replications = Vec::with_capacity(range.end.saturating_sub(range.start) as usize);
    let merging = Mutex::new((
        vec![LatencyHistogram::default(); releases],
        ReplicationPhases::default(),
    ));
    // Batches bound what is in flight; within one, replications run in parallel and
    // come back in index order, which is the order they are added in.
    let mut start = range.start;
    while start < range.end {
        let end = range.end.min(start.saturating_add(BATCH));
        // Each replication's histograms merge into the run's one set as it finishes
        // (integer counts: in any order, the same sums), then are dropped: a set per
        // replication in flight and one for the run, however rayon splits the batch (a
        // fold kept a set per split, each as large as the run's). Results come back in
        // index order.
        let batch: Vec<_> = (start..end)
            .into_par_iter()
            .map(|index| {
                let out = replication::run(&model, index);
                progress.replication_done();
                let mut merged = merging.lock().unwrap_or_else(PoisonError::into_inner);
                merged
                    .0
                    .iter_mut()
                    .zip(&out.latency)
                    .for_each(|(a, b)| a.merge(b));
                merged.1.add(out.phases);
                (out.result, out.mix)
            })
            .collect();
        let mut mixes = Vec::with_capacity(batch.len());
        for (result, m) in batch {
            replications.push(result);
            mixes.push(m);
        }
        mix.add(mixes);
        start = end;
    }
    let simulation = started.elapsed().checked_sub(setup).unwrap();
    let (latency, inside) = merging.into_inner().unwrap_or_else(PoisonError::into_inner);
    RunOutput {
        plan,
        replications,
        mix,
        latency,
        timings: PhaseTimings {
            setup,
            simulation,
            inside,
        },
    }
}

/// Stop adding replications when the 95% CI half-width of `figure` is at most
/// `half_width` (hours, or instances for `left_behind`), or at `max_replications`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PrecisionTarget {
    /// The figure whose interval must shrink.
    pub figure: FigureRef,
    /// The target 95% CI half-width.
    pub half_width: f64,
    /// Replications added per step after the scenario's own `replications`.
    pub batch: u64,
    /// The most replications to run.
    pub max_replications: u64,
}

/// How a precision run ended.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct PrecisionOutcome {
    /// The figure's name.
    pub figure: String,
    /// The half-width asked for.
    pub target_half_width: f64,
    /// The half-width reached (`None`: fewer than two observed values).
    pub achieved_half_width: Option<f64>,
    /// Replications run in all.
    pub replications: u64,
    /// Whether the target was reached.
    pub met: bool,
    /// Why the run stopped before the target without reaching it, when more
    /// replications could not help (the figure was censored in every replication).
    pub stopped_because: Option<String>,
}

impl RunOutput {
    /// The figure's value in every replication (`None`: censored).
    pub fn figure_values(&self, figure: FigureRef) -> Vec<Option<f64>> {
        self.replications
            .iter()
            .map(|r| r.releases[figure.release].get(figure.figure))
            .collect()
    }
}

/// The 95% CI half-width of the mean of the observed values (`None` below two).
pub fn ci_half_width(values: &[Option<f64>]) -> Option<f64> {
    Summary::of(values.iter().copied())
        .ci95
        .map(|[lo, hi]| (hi - lo) / 2.0)
}

/// How precise a figure is after some replications: the 95% CI half-width achieved
/// (`None`: too few observed values), and whether it was censored in every replication.
pub struct Precision {
    /// The 95% CI half-width (`None`: fewer than two observed values).
    pub half_width: Option<f64>,
    /// The figure was censored in every replication.
    pub never_observed: bool,
}

impl Precision {
    /// Of one figure's per-replication values.
    pub fn of(values: &[Option<f64>]) -> Precision {
        Precision {
            half_width: ci_half_width(values),
            never_observed: values.iter().all(Option::is_none),
        }
    }
}

/// Runs the scenarios' replications, then adds batches (the same replication indices for
/// every scenario, so comparisons stay paired) until `measure` says the target is met,
/// the figure can never be estimated, or the cap is reached. The batches are fixed
/// ranges of replication indices, so the same seed always stops at the same point.
pub fn run_in_batches(
    scenarios: &[Scenario],
    target: &PrecisionTarget,
    figure: String,
    progress: &dyn Progress,
    measure: impl Fn(&[RunOutput]) -> Precision,
) -> (Vec<RunOutput>, PrecisionOutcome) {
    let first = scenarios.first().map_or(0, |s| u64::from(s.replications));
    let mut end = first.min(target.max_replications);
    let mut outputs: Vec<RunOutput> = scenarios
        .iter()
        .map(|s| run_range(s, 0..end, progress))
        .collect();
    loop {
        let precision = measure(&outputs);
        let met = precision.half_width.is_some_and(|h| h <= target.half_width);
        // Censored in every replication so far: the figure did not happen before the
        // horizon, and more replications only confirm it (by the rule of three, it
        // happens in fewer than 3/n of replications, with 95% confidence).
        let stopped_because = precision.never_observed.then(|| {
            format!(
                "{figure} was censored in all {end} replications (it did not happen before the horizon), \
                 so it cannot be estimated; lengthen the horizon or choose another --precision-figure"
            )
        });
        if met || stopped_because.is_some() || end >= target.max_replications {
            let outcome = PrecisionOutcome {
                figure,
                target_half_width: target.half_width,
                achieved_half_width: precision.half_width,
                replications: end,
                met,
                stopped_because,
            };
            return (outputs, outcome);
        }
        let next = (end + target.batch.max(1)).min(target.max_replications);
        outputs = outputs
            .into_iter()
            .zip(scenarios)
            .map(|(out, s)| out.merge(run_range(s, end..next, progress)))
            .collect();
        end = next;
    }
}

/// Runs the scenario's replications, then adds batches until the target is met.
pub fn run_to_precision(
    scenario: &Scenario,
    target: &PrecisionTarget,
    progress: &dyn Progress,
) -> (RunOutput, PrecisionOutcome) {
    let figure = target.figure.name(&scenario.report.thresholds);
    let (mut outputs, outcome) = run_in_batches(
        std::slice::from_ref(scenario),
        target,
        figure,
        progress,
        |outs| Precision::of(&outs[0].figure_values(target.figure)),
    );
    (outputs.remove(0), outcome)
}
