//! Turns instances' lives into what the reports need, one chunk of instances at a time.
//!
//! For each release the tally keeps only the moments at which the count of active
//! instances or of instances older than the release changes (a sortable key each), the
//! version mix as differences per sample, and the latency histogram. Chunks merge by
//! addition, their keys kept as parts in chunk order (the figures depend only on the
//! multiset of keys), so results do not depend on how instances were split.

use crate::stats::{LatencyHistogram, sweep_key};
use crate::time::{SimDuration, SimTime};

use super::instance::{Attributes, Happening, Observer};
use super::versions::{VersionId, VersionTable};

/// Kinds of change to the (active, old) counts, in the low bits of a sweep key.
pub(super) mod change {
    pub(crate) const INSTALL_OLD: u64 = 0;
    pub(crate) const INSTALL_NEW: u64 = 1;
    pub(crate) const REACH: u64 = 2;
    pub(crate) const UNINSTALL_OLD: u64 = 3;
    pub(crate) const UNINSTALL_NEW: u64 = 4;
}

/// Adds `theirs` to `mine` element by element (chunks merge by addition).
fn add<T: Copy + std::ops::AddAssign>(mine: &mut [T], theirs: &[T]) {
    mine.iter_mut().zip(theirs).for_each(|(m, t)| *m += *t);
}

/// A sweep key: time, then segment, then kind, so sorting orders by time.
pub(super) fn key(t: SimTime, segment: usize, kind: u64) -> u64 {
    sweep_key::key(t.as_millis(), segment, kind)
}

pub(super) fn key_time(k: u64) -> SimTime {
    SimTime::from_millis(sweep_key::time(k))
}

pub(super) fn key_segment(k: u64) -> usize {
    sweep_key::tag(k)
}

pub(super) fn key_kind(k: u64) -> u64 {
    sweep_key::kind(k)
}

/// Sample times for the version mix: `j * every` for `j = 0..count`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SampleGrid {
    pub every: SimDuration,
    pub count: usize,
}

impl SampleGrid {
    pub(crate) fn new(every: SimDuration, horizon: SimDuration) -> Self {
        SampleGrid {
            every,
            count: (horizon.as_millis() / every.as_millis()) as usize + 1,
        }
    }

    /// The first sample that sees a change made at `t`, if any.
    fn first_sample_at_or_after(&self, t: SimTime) -> Option<usize> {
        let e = self.every.as_millis();
        let j = ((t.as_millis() + e - 1) / e) as usize;
        (j < self.count).then_some(j)
    }
}

/// Accumulated outcome of a chunk of instances (and, merged, of a replication).
#[derive(Clone, Debug)]
pub(super) struct Tally {
    /// Per release: sweep keys of changes after time 0, in parts (a chunk's tally has
    /// one; a merged tally one per chunk, in chunk order).
    pub keys: Vec<Vec<Vec<u64>>>,
    /// Per segment: instances active at time 0; per release and segment, those of them
    /// older than the release (`[release * segments + segment]`).
    pub active_at_start: Vec<u64>,
    pub old_at_start: Vec<u64>,
    /// `[sample][version]` changes of the count on each version.
    pub mix_changes: Vec<i64>,
    /// `[sample][version]` changes of the weight on each version (empty: unweighted).
    pub mix_weight_changes: Vec<i64>,
    pub latency: Vec<LatencyHistogram>,
    pub instances: u64,
    /// Active instances below the cut-off version at the cut-off.
    pub cutoff_affected: u64,
}

impl Tally {
    pub(super) fn new(
        releases: usize,
        versions: usize,
        segments: usize,
        weighted: bool,
        grid: SampleGrid,
    ) -> Self {
        Tally {
            keys: vec![vec![Vec::new()]; releases],
            active_at_start: vec![0; segments],
            old_at_start: vec![0; releases * segments],
            mix_changes: vec![0; grid.count * versions],
            mix_weight_changes: if weighted {
                vec![0; grid.count * versions]
            } else {
                Vec::new()
            },
            latency: vec![LatencyHistogram::default(); releases],
            instances: 0,
            cutoff_affected: 0,
        }
    }

    /// Merges the tallies of a replication's chunks, in order: counts are added, and
    /// each chunk's keys become the next part of each release's keys, uncopied (joining
    /// them copied every key into fresh memory: for one large replication the longest
    /// serial step).
    pub(super) fn merge_all(tallies: Vec<Tally>) -> Option<Tally> {
        let mut tallies = tallies.into_iter();
        let mut merged = tallies.next()?;
        for mut tally in tallies {
            for (mine, theirs) in merged.keys.iter_mut().zip(&mut tally.keys) {
                mine.append(theirs);
            }
            merged.add_counts(&tally);
        }
        Some(merged)
    }

    /// Adds everything but the keys of `other`.
    fn add_counts(&mut self, other: &Tally) {
        add(&mut self.active_at_start, &other.active_at_start);
        add(&mut self.mix_weight_changes, &other.mix_weight_changes);
        add(&mut self.old_at_start, &other.old_at_start);
        add(&mut self.mix_changes, &other.mix_changes);
        self.latency
            .iter_mut()
            .zip(&other.latency)
            .for_each(|(a, b)| a.merge(b));
        self.instances += other.instances;
        self.cutoff_affected += other.cutoff_affected;
    }
}

/// The [`Observer`] that fills a [`Tally`].
pub(super) struct TallyObserver<'a> {
    plan: &'a VersionTable,
    /// Weight units per segment (empty: unweighted).
    weights: &'a [i64],
    segments: usize,
    segment: usize,
    deployed: &'a [SimTime],
    horizon: SimTime,
    grid: SampleGrid,
    pub tally: Tally,
    // The instance being observed.
    installed_at: SimTime,
    first_version: VersionId,
    version: VersionId,
    reached: Vec<SimTime>,
    uninstalled_at: SimTime,
    /// The version the instance ran just before the cut-off, once known.
    at_cutoff: Option<VersionId>,
    cutoff: Option<SimTime>,
}

impl<'a> TallyObserver<'a> {
    /// `weights`: weight units per segment, empty when unweighted.
    pub(super) fn new(
        plan: &'a VersionTable,
        deployed: &'a [SimTime],
        horizon: SimTime,
        grid: SampleGrid,
        segments: usize,
        weights: &'a [i64],
    ) -> Self {
        TallyObserver {
            plan,
            weights,
            segments,
            segment: 0,
            deployed,
            horizon,
            grid,
            tally: Tally::new(
                plan.release_count(),
                plan.version_count(),
                segments,
                !weights.is_empty(),
                grid,
            ),
            installed_at: SimTime::ZERO,
            first_version: 0,
            version: 0,
            reached: vec![SimTime::NEVER; plan.release_count()],
            uninstalled_at: SimTime::NEVER,
            at_cutoff: None,
            cutoff: None,
        }
    }

    /// Room for the keys of `members` instances, about one per release each, so that a
    /// chunk's keys never regrow.
    pub(super) fn expecting(mut self, members: u64) -> Self {
        for parts in &mut self.tally.keys {
            parts[0].reserve(members as usize);
        }
        self
    }

    /// Count instances below `plan.cutoff_below` just before `at`.
    pub(super) fn with_cutoff(mut self, at: Option<SimTime>) -> Self {
        self.cutoff = at;
        self
    }

    /// Adds `delta` instances on `version` from time `t` on; `moved_from`: the version
    /// they left at the same time (one sample lookup for both).
    #[inline(always)]
    fn mix(&mut self, t: SimTime, version: VersionId, delta: i64, moved_from: Option<VersionId>) {
        let Some(j) = self.grid.first_sample_at_or_after(t) else {
            return;
        };
        let row = j * self.plan.version_count();
        self.add_to_mix(row + version, delta);
        if let Some(from) = moved_from {
            self.add_to_mix(row + from, -delta);
        }
    }

    fn add_to_mix(&mut self, cell: usize, delta: i64) {
        self.tally.mix_changes[cell] += delta;
        if let Some(w) = self.weights.get(self.segment) {
            self.tally.mix_weight_changes[cell] += delta * w;
        }
    }
}

impl Observer for TallyObserver<'_> {
    const HEARS_VISIBILITY: bool = false;

    #[inline]
    fn begin(
        &mut self,
        _instance: u64,
        attributes: &Attributes,
        installed_at: SimTime,
        version: VersionId,
    ) {
        self.segment = attributes.segment;
        self.installed_at = installed_at;
        self.first_version = version;
        self.version = version;
        self.uninstalled_at = SimTime::NEVER;
        for (k, r) in self.reached.iter_mut().enumerate() {
            *r = if self.plan.at_least(version, k) {
                installed_at
            } else {
                SimTime::NEVER
            };
        }
        self.mix(installed_at, version, 1, None);
        self.tally.instances += 1;
        self.at_cutoff = None;
    }

    // Always inlined, as `mix` is: an instance reports a few happenings, and as calls
    // they cost 2% of bench-replications' instructions (callgrind).
    #[inline(always)]
    fn happened(&mut self, at: SimTime, what: Happening) {
        if self.cutoff.is_some_and(|c| at >= c)
            && self.at_cutoff.is_none()
            && self.uninstalled_at.is_never()
        {
            self.at_cutoff = Some(self.version);
        }
        match what {
            Happening::Updated { from, to, .. } => {
                self.version = to;
                for k in 0..self.reached.len() {
                    if self.reached[k].is_never() && self.plan.at_least(to, k) {
                        self.reached[k] = at;
                    }
                }
                self.mix(at, to, 1, Some(from));
            }
            Happening::Uninstalled { version, .. } => {
                self.uninstalled_at = at;
                self.mix(at, version, -1, None);
            }
            Happening::Noticed { .. }
            | Happening::Visible { .. }
            | Happening::Ignored { .. }
            | Happening::Reminded { .. }
            | Happening::Rejected { .. } => {}
        }
    }

    #[inline]
    fn end(&mut self) {
        let (installed, uninstalled, horizon) =
            (self.installed_at, self.uninstalled_at, self.horizon);
        if let Some(cutoff) = self.cutoff
            && installed <= cutoff
            && cutoff <= horizon
        {
            // Active just before the cut-off: its version then, unless it left earlier.
            let version = self
                .at_cutoff
                .or((uninstalled >= cutoff).then_some(self.version));
            if version.is_some_and(|v| self.plan.below_cutoff(v)) {
                self.tally.cutoff_affected += 1;
            }
        }
        let from_start = installed == SimTime::ZERO;
        if from_start {
            self.tally.active_at_start[self.segment] += 1;
        }
        let segment = self.segment;
        let key = |t: SimTime, kind: u64| key(t, segment, kind);
        for k in 0..self.reached.len() {
            let reached = self.reached[k];
            let old_at_install = !self.plan.at_least(self.first_version, k);
            let keys = &mut self.tally.keys[k][0];
            match (from_start, old_at_install) {
                (true, true) => self.tally.old_at_start[k * self.segments + segment] += 1,
                (true, false) => {}
                (false, true) => keys.push(key(installed, change::INSTALL_OLD)),
                (false, false) => keys.push(key(installed, change::INSTALL_NEW)),
            }
            // It stops being old when it reaches the release or leaves, whichever is first.
            let left_while_old = old_at_install && uninstalled < reached;
            if old_at_install && !left_while_old && reached <= horizon {
                keys.push(key(reached, change::REACH));
            }
            if uninstalled <= horizon {
                keys.push(key(
                    uninstalled,
                    if left_while_old {
                        change::UNINSTALL_OLD
                    } else {
                        change::UNINSTALL_NEW
                    },
                ));
            }
            // Latency of the instances that were present and older at the deploy.
            let deployed = self.deployed[k];
            if installed <= deployed && uninstalled > deployed && reached > deployed {
                if reached <= horizon && reached <= uninstalled {
                    self.tally.latency[k].record_event(reached.since(deployed));
                } else {
                    self.tally.latency[k].record_censored(uninstalled.min(horizon).since(deployed));
                }
            }
        }
    }
}
