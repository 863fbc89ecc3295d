//! One replication: its shared context (publication, new installs, vendor bulk moves),
//! every member's life, and the figures.

use rayon::prelude::*;

use crate::draws::{DrawStream, Purpose};
use crate::scenario::Scenario;
use crate::stats::LatencyHistogram;
use crate::time::{SimDuration, SimTime};

use super::figures::{self, Measure, ReleaseFigures};
use super::instance::{Attributes, Happening, InstanceModel, Member, Observer, Workspace};
use super::marketplace::Publication;
use super::mix::{MixOverReplications, ReplicationMix};
use super::tally::{SampleGrid, Tally, TallyObserver};
use super::versions::{VersionId, VersionTable};

/// Instances per chunk when several threads run: large enough to amortise setup, small
/// enough to spread one big replication over every thread.
pub(crate) const CHUNK_INSTANCES: u64 = 1 << 15;

/// What one replication produced, apart from its latency histograms.
#[derive(Clone, Debug)]
pub struct ReplicationResult {
    /// The replication's index (its draws depend on nothing else).
    pub index: u64,
    /// Per release: when the Marketplace published it.
    pub published: Vec<SimTime>,
    /// Per release: its figures in this replication.
    pub releases: Vec<ReleaseFigures>,
    /// Instances below the cut-off version at the cut-off (`None`: no cut-off before
    /// the horizon).
    pub cutoff_affected: Option<u64>,
    /// Events the engine processed.
    pub events: u64,
    /// The most events pending at once.
    pub peak_pending: usize,
    /// Per release: this replication's instance latency at the quantiles
    /// `LATENCY_QUANTILES` by Kaplan-Meier (`None`: not reached before the horizon).
    pub latency_quantiles: Vec<[Option<SimDuration>; 2]>,
}

/// Everything one replication produced.
pub(crate) struct ReplicationOutput {
    /// Its figures.
    pub result: ReplicationResult,
    /// Its version mix.
    pub mix: ReplicationMix,
    /// Its latency histograms.
    pub latency: LatencyByRelease,
    /// Where its wall time went (for `--stats`; in no report, and not kept per
    /// replication).
    pub phases: ReplicationPhases,
}

/// Wall time of the steps of one replication: its instances (in parallel chunks), then
/// the merge of the chunks' tallies (counts added, keys kept in their chunks' parts),
/// then the figures (per release at once: a selection by rank across the parts, or a
/// join, a parallel sort and a sweep).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ReplicationPhases {
    /// Simulating the instances, chunks on every thread.
    pub instances: std::time::Duration,
    /// Merging the chunks' tallies, in chunk order.
    pub merge: std::time::Duration,
    /// Measuring the figures from the merged tally.
    pub figures: std::time::Duration,
}

impl ReplicationPhases {
    /// Adds another replication's (or group's) times.
    pub fn add(&mut self, other: ReplicationPhases) {
        self.instances += other.instances;
        self.merge += other.merge;
        self.figures += other.figures;
    }
}

/// The instance-latency quantiles kept per replication (for regression checks; the
/// report's latency figures pool every replication instead).
pub(crate) const LATENCY_QUANTILES: [f64; 2] = [0.5, 0.9];

/// A replication's latency histograms, per release (merged across replications).
pub(crate) type LatencyByRelease = Vec<LatencyHistogram>;

/// The times at which the version mix is sampled.
pub(crate) fn sample_grid(scenario: &Scenario) -> SampleGrid {
    SampleGrid::new(scenario.report.sample_every, scenario.horizon)
}

/// The version mix of a run of `scenario`, before any replication is added: its sample
/// grid, the plan's versions, and weights if the scenario has them.
pub(crate) fn empty_mix(scenario: &Scenario, plan: &VersionTable) -> MixOverReplications {
    let weighted = !scenario.population.weight_units().is_empty();
    MixOverReplications::new(plan, sample_grid(scenario).count, weighted)
}

/// What every member of one replication shares: publication times, the arrival times of
/// new installs, and when a vendor bulk upgrade request reaches each member.
pub struct ReplicationContext {
    /// The replication's index.
    pub index: u64,
    /// When each release was published in this replication.
    pub publication: Publication,
    /// When each new install arrives (churn), in time order.
    pub arrivals: Vec<SimTime>,
    initial: u64,
    bulk_moves: Vec<Option<SimTime>>,
}

impl ReplicationContext {
    /// Draws what the members of replication `index` share.
    pub fn new(model: &InstanceModel<'_>, index: u64) -> Self {
        let scenario = model.scenario();
        let mut ctx = ReplicationContext {
            index,
            publication: Publication::draw(scenario, model.plan(), index),
            arrivals: arrivals(scenario, index),
            initial: scenario.population.instances,
            bulk_moves: Vec::new(),
        };
        ctx.bulk_moves = ctx.plan_bulk_upgrade(model);
        ctx
    }

    /// Initial instances plus new installs.
    pub fn members(&self) -> u64 {
        self.initial + self.arrivals.len() as u64
    }

    /// Member `id`: initial instances first, then new installs in arrival order.
    pub fn member(&self, id: u64) -> Option<Member> {
        if id < self.initial {
            return Some(Member::Initial(id));
        }
        let index = id - self.initial;
        self.arrivals
            .get(index as usize)
            .map(|&at| Member::Arrival { index, at })
    }

    /// Simulates member `id` (nothing if there is no such member).
    pub fn simulate<O: Observer>(
        &self,
        model: &InstanceModel<'_>,
        id: u64,
        work: &mut Workspace,
        observer: &mut O,
    ) {
        if let Some(member) = self.member(id) {
            let bulk_move = self.bulk_moves.get(id as usize).copied().flatten();
            model.simulate(&self.publication, member, bulk_move, work, observer);
        }
    }

    /// Runs `f` on every chunk of members in parallel and returns the results in order.
    fn chunks<T: Send>(
        &self,
        model: &InstanceModel<'_>,
        f: impl Fn(std::ops::Range<u64>, &mut Workspace) -> T + Sync,
    ) -> Vec<T> {
        let (scenario, n) = (model.scenario(), self.members());
        // On one thread there is nothing to spread: the replication is one chunk, its
        // tally needs no merge and its figures select within one vector of keys.
        let size = if rayon::current_num_threads() == 1 {
            n.max(1)
        } else {
            CHUNK_INSTANCES
        };
        (0..n.div_ceil(size))
            .into_par_iter()
            .map(|chunk| {
                let mut work =
                    Workspace::new(scenario.seed, self.index, model.plan().release_count());
                let first = chunk * size;
                f(first..(first + size).min(n), &mut work)
            })
            .collect()
    }

    /// Forge bulk upgrade: the vendor lists the installations eligible at the start (on an
    /// older major line, not having rejected the new one) in installation order and moves
    /// them `request_size` per request, one request every `interval`.
    fn plan_bulk_upgrade(&self, model: &InstanceModel<'_>) -> Vec<Option<SimTime>> {
        let Some(bulk) = model.scenario().policy.bulk_upgrade else {
            return Vec::new();
        };
        let plan = model.plan();
        let newest_line = plan.line(self.publication.newest_at(bulk.at));
        let eligible: Vec<bool> = self
            .chunks(model, |ids, work| {
                let mut observer = EligibleAt {
                    plan,
                    at: bulk.at,
                    newest_line,
                    version: 0,
                    active: false,
                    rejected: false,
                    eligible: Vec::new(),
                };
                for id in ids {
                    self.simulate(model, id, work, &mut observer);
                }
                observer.eligible
            })
            .concat();
        let mut rank = 0u64;
        eligible
            .iter()
            .map(|&e| {
                e.then(|| {
                    let request = rank / u64::from(bulk.request_size);
                    rank += 1;
                    bulk.at + bulk.interval.mul_f64(request as f64)
                })
            })
            .collect()
    }
}

/// Records, per member, whether a bulk upgrade starting at `at` finds it eligible.
struct EligibleAt<'a> {
    plan: &'a VersionTable,
    at: SimTime,
    newest_line: u32,
    version: VersionId,
    active: bool,
    rejected: bool,
    eligible: Vec<bool>,
}

impl Observer for EligibleAt<'_> {
    const HEARS_VISIBILITY: bool = false;

    fn begin(
        &mut self,
        _instance: u64,
        _attributes: &Attributes,
        installed_at: SimTime,
        version: VersionId,
    ) {
        (self.version, self.active, self.rejected) = (version, installed_at <= self.at, false);
    }

    fn happened(&mut self, at: SimTime, what: Happening) {
        if at > self.at {
            return;
        }
        match what {
            Happening::Updated { to, .. } => self.version = to,
            Happening::Uninstalled { .. } => self.active = false,
            Happening::Rejected { .. } => self.rejected = true,
            _ => {}
        }
    }

    fn end(&mut self) {
        self.eligible
            .push(self.active && !self.rejected && self.plan.line(self.version) < self.newest_line);
    }
}

/// Runs replication `index` of the model's scenario.
pub(crate) fn run(model: &InstanceModel<'_>, index: u64) -> ReplicationOutput {
    let scenario = model.scenario();
    let plan = model.plan();
    let ctx = ReplicationContext::new(model, index);
    let deployed: Vec<SimTime> = scenario.releases.iter().map(|r| r.at).collect();
    let horizon = scenario.horizon_time();
    let grid = sample_grid(scenario);
    let segments = scenario.population.segments.len();
    let weights = scenario.population.weight_units();

    let started = web_time::Instant::now();
    let chunks = ctx.chunks(model, |ids, work| {
        let mut observer = TallyObserver::new(plan, &deployed, horizon, grid, segments, &weights)
            .with_cutoff(scenario.policy.cutoff.map(|c| c.at))
            .expecting(ids.end - ids.start);
        for id in ids {
            ctx.simulate(model, id, work, &mut observer);
        }
        let (events, peak) = work.engine_counts();
        (observer.tally, events, peak)
    });
    let instances_done = web_time::Instant::now();
    let events = chunks.iter().map(|c| c.1).sum();
    let peak_pending = chunks.iter().map(|c| c.2).max().unwrap_or(0);
    let mut tally = Tally::merge_all(chunks.into_iter().map(|c| c.0).collect())
        .expect("a population has at least one instance");
    let merged = web_time::Instant::now();

    // Releases measured at once (each also selects across its parts in parallel), so
    // that one large replication's figures do not run on one thread.
    let (active_at_start, old_at_start) = (&tally.active_at_start, &tally.old_at_start);
    let releases = tally
        .keys
        .par_iter_mut()
        .enumerate()
        .map(|(k, keys)| {
            let m = Measure {
                deployed: deployed[k],
                published: ctx.publication.at[k],
                drop_support_at: scenario
                    .policy
                    .drop_old_support_after
                    .map(|d| deployed[k] + d),
                horizon,
                thresholds: &scenario.report.thresholds,
                tolerance: scenario.report.coexistence_tolerance,
                weights: &weights,
            };
            figures::measure(
                &m,
                keys,
                active_at_start,
                &old_at_start[k * segments..(k + 1) * segments],
            )
        })
        .collect();

    let phases = ReplicationPhases {
        instances: instances_done - started,
        merge: merged - instances_done,
        figures: merged.elapsed(),
    };
    let versions = plan.version_count();
    let mut mix = vec![0u32; tally.mix_changes.len()];
    let mut running = vec![0i64; versions];
    for (sample, changes) in tally.mix_changes.chunks_exact(versions).enumerate() {
        for (v, change) in changes.iter().enumerate() {
            running[v] += change;
            mix[sample * versions + v] = running[v] as u32;
        }
    }
    let mut mix_weight = tally.mix_weight_changes;
    for sample in 1..mix_weight.len() / versions.max(1) {
        for v in 0..versions {
            mix_weight[sample * versions + v] += mix_weight[(sample - 1) * versions + v];
        }
    }
    let cutoff_affected = scenario
        .policy
        .cutoff
        .filter(|c| c.at <= horizon)
        .map(|_| tally.cutoff_affected);
    let latency_quantiles = tally
        .latency
        .iter()
        .map(|h| {
            let q = h.quantiles(&LATENCY_QUANTILES);
            [q[0], q[1]]
        })
        .collect();
    let result = ReplicationResult {
        latency_quantiles,
        index,
        published: ctx.publication.at,
        releases,
        cutoff_affected,
        events,
        peak_pending,
    };
    ReplicationOutput {
        result,
        mix: ReplicationMix {
            index,
            counts: mix,
            weights: mix_weight,
        },
        latency: tally.latency,
        phases,
    }
}

/// When new installs arrive in a replication: a Poisson process of `installs_per_day`,
/// each gap drawn from the first uniform of the arrival's slot.
pub fn arrivals(scenario: &Scenario, replication: u64) -> Vec<SimTime> {
    let rate = scenario.population.churn.installs_per_day;
    let mut out = Vec::new();
    if rate <= 0.0 {
        return out;
    }
    let mut stream = DrawStream::new(scenario.seed, replication, Purpose::Arrival);
    let horizon = scenario.horizon_time();
    let mut t = SimTime::ZERO;
    for index in 0.. {
        let gap = SimDuration::from_days(1)
            .mul_f64(-libm::log(1.0 - stream.slot(index).uniform(0)) / rate);
        t = t + gap;
        if t > horizon {
            break;
        }
        out.push(t);
    }
    out
}
