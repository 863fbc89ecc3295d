//! Publication: when the Marketplace makes each release's version available.

use std::collections::BTreeMap;

use crate::draws::{DrawStream, Purpose};
use crate::scenario::{Platform, Scenario};
use crate::time::{SimDuration, SimTime};

use super::versions::{VersionId, VersionTable};

/// Per replication: when each release was published, and which version was newest then.
#[derive(Clone, Debug)]
pub struct Publication {
    /// Per release: when its version was published (in deploy order per descriptor
    /// sequence, see [`Publication::draw`]).
    pub at: Vec<SimTime>,
    /// Connect: the phase of the descriptor-poll process.
    pub descriptor_phase: Option<SimTime>,
    /// Per release: whether the maintenance slip applies to the whole field
    /// (`slip_scope: release`: one draw of `slip_probability` per release).
    pub field_slips: Vec<bool>,
    /// Every publication time, sorted.
    published_times: Vec<SimTime>,
    /// For each entry of `published_times`: the newest version (by number) published
    /// up to and including it.
    newest_so_far: Vec<VersionId>,
}

fn uniform_between((lo, hi): (SimDuration, SimDuration), u: f64) -> SimDuration {
    lo + (hi - lo).mul_f64(u)
}

impl Publication {
    /// Draws the replication's publication times.
    ///
    /// Connect: one descriptor-poll process per replication with a uniform phase; a release
    /// is published at the first poll tick at or after its deploy. Forge: after a detection
    /// delay. A free -> paid release waits for a Marketplace review as well.
    ///
    /// Order: versions of one descriptor are published in deploy order, so a release never
    /// overtakes an earlier one still under review. On Connect the app has one descriptor,
    /// so this holds across all releases (two releases caught by one poll are published in
    /// order at that tick); on Forge each major line is its own sequence, so a backport to
    /// line 1 does not wait for a paid version's review on line 2.
    pub fn draw(scenario: &Scenario, plan: &VersionTable, replication: u64) -> Publication {
        let mut stream = DrawStream::new(scenario.seed, replication, Purpose::Publication);
        let timing = &scenario.timing;
        let descriptor_phase = (scenario.platform == Platform::Connect).then(|| {
            let u = stream.slot(0).uniform(0);
            SimTime::ZERO
                + timing
                    .descriptor_poll
                    .mul_f64(u)
                    .min(timing.descriptor_poll - SimDuration::from_millis(1))
        });
        let mut at: Vec<SimTime> = Vec::with_capacity(scenario.releases.len());
        let mut field_slips = Vec::with_capacity(scenario.releases.len());
        let mut last_on_line: BTreeMap<u32, SimTime> = BTreeMap::new();
        for (k, release) in scenario.releases.iter().enumerate() {
            let slot = stream.slot(k as u64 + 1);
            let detected = match descriptor_phase {
                Some(phase) => release.at.next_tick(phase, timing.descriptor_poll),
                None => release.at + uniform_between(timing.forge_detection, slot.uniform(0)),
            };
            let mut published = detected;
            if plan.licensing[k] {
                published = published + uniform_between(timing.licensing_review, slot.uniform(1));
            }
            let sequence = match scenario.platform {
                Platform::Connect => 0,
                Platform::Forge => plan.line(plan.version_of(k)),
            };
            let last = last_on_line.entry(sequence).or_insert(published);
            published = published.max(*last);
            *last = published;
            at.push(published);
            field_slips.push(slot.uniform(2) < timing.slip_probability);
        }
        let mut order: Vec<usize> = (0..at.len()).collect();
        order.sort_by_key(|&k| (at[k], k));
        let mut published_times = Vec::with_capacity(at.len());
        let mut newest_so_far = Vec::with_capacity(at.len());
        let mut newest = 0;
        for k in order {
            let v = plan.version_of(k);
            if plan.is_newer(v, newest) {
                newest = v;
            }
            published_times.push(at[k]);
            newest_so_far.push(newest);
        }
        Publication {
            at,
            descriptor_phase,
            field_slips,
            published_times,
            newest_so_far,
        }
    }

    /// The newest version published at or before `t` (the initial version if none).
    pub fn newest_at(&self, t: SimTime) -> VersionId {
        let published = self.published_times.partition_point(|&p| p <= t);
        if published == 0 {
            0
        } else {
            self.newest_so_far[published - 1]
        }
    }
}
