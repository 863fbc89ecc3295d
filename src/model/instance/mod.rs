//! One customer instance's life: polls, deliveries, notices and its admin's response.
//!
//! Instances do not interact, so each is simulated on its own small event queue, given
//! its replication's publication times. This keeps one instance's pending events (a few)
//! out of every other instance's way and lets chunks of instances run on any thread with
//! identical results.

mod handlers;
mod happening;
mod schedule;
mod workspace;

use chrono_tz::Tz;

use crate::draws::Slot;
use crate::scenario::Scenario;
use crate::time::{SimDuration, SimTime};

use super::calendar;
use super::versions::VersionTable;

pub use happening::{Attributes, Happening, Observer, UninstallCause, UpdateCause};
pub use workspace::Workspace;

/// Who is simulated: one of the initial instances, or a new install (churn) arriving at
/// `at`, the `index`-th of its replication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member {
    /// The initial instance with this id.
    Initial(u64),
    /// The `index`-th new install of the replication, arriving at `at`.
    Arrival {
        /// Its rank among the replication's new installs.
        index: u64,
        /// When it is installed.
        at: SimTime,
    },
}

/// New installs read their per-release draws from slots above every initial instance's,
/// so their draws do not depend on the size of the initial population.
const ARRIVAL_DRAW_KEYS: u64 = 1 << 40;

/// The scenario-wide, read-only part of the instance model, prepared once.
pub struct InstanceModel<'a> {
    scenario: &'a Scenario,
    plan: &'a VersionTable,
    segment_cdf: Vec<f64>,
    zone_cdf: Vec<Vec<f64>>,
    /// `[segment][zone][release]`: the release was deployed while a window applying to
    /// that segment and zone was open (an instance reads its own zone's row).
    in_window: Vec<Vec<Vec<bool>>>,
}

fn cumulative(weights: impl Iterator<Item = f64>) -> Vec<f64> {
    let mut total = 0.0;
    weights
        .map(|w| {
            total += w;
            total
        })
        .collect()
}

/// The first entry of `cdf` above `u` (the last if none is, when rounding left the total
/// just under 1). Counted without a branch per entry: `u` is random, so a search that
/// stops at the entry mispredicts.
fn pick(cdf: &[f64], u: f64) -> usize {
    let below = cdf.iter().filter(|&&c| c <= u).count();
    below.min(cdf.len() - 1)
}

impl<'a> InstanceModel<'a> {
    /// Prepares what every instance of `scenario` shares (segment and zone tables, windows open at each deploy).
    pub fn new(scenario: &'a Scenario, plan: &'a VersionTable) -> Self {
        let segments = &scenario.population.segments;
        let in_window = segments
            .iter()
            .map(|s| {
                s.zones
                    .iter()
                    .map(|&(zone, _)| {
                        scenario
                            .releases
                            .iter()
                            .map(|r| {
                                calendar::is_open(&s.maintenance, scenario.instant(r.at), zone)
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        InstanceModel {
            scenario,
            plan,
            segment_cdf: cumulative(segments.iter().map(|s| s.share)),
            zone_cdf: segments
                .iter()
                .map(|s| cumulative(s.zones.iter().map(|z| z.1)))
                .collect(),
            in_window,
        }
    }

    /// The share of segment `segment`'s instances (by time-zone weight) for which a
    /// maintenance window was open when release `release` was deployed: the instances
    /// the slip can reach.
    pub fn window_open_share(&self, release: usize, segment: usize) -> f64 {
        let zones = &self.scenario.population.segments[segment].zones;
        let total: f64 = zones.iter().map(|z| z.1).sum();
        zones
            .iter()
            .zip(&self.in_window[segment])
            .filter(|(_, open)| open[release])
            .map(|(z, _)| z.1)
            .sum::<f64>()
            / total
    }

    /// The scenario simulated.
    pub fn scenario(&self) -> &Scenario {
        self.scenario
    }

    /// The versions and approval gates of the scenario's releases.
    pub fn plan(&self) -> &VersionTable {
        self.plan
    }

    /// The time zone an instance drew.
    pub fn zone(&self, attributes: &Attributes) -> Tz {
        self.scenario.population.segments[attributes.segment].zones[attributes.zone].0
    }

    /// Segment, zone, poll phase and (with churn) the time to uninstall, from uniforms
    /// `first..first + 4` of a slot.
    fn attributes(&self, slot: Slot<'_>, first: usize) -> (Attributes, Option<SimDuration>) {
        let segment = pick(&self.segment_cdf, slot.uniform(first));
        let zone = pick(&self.zone_cdf[segment], slot.uniform(first + 1));
        let period = self.scenario.timing.upm_poll;
        let phase = period
            .mul_f64(slot.uniform(first + 2))
            .min(period - SimDuration::from_millis(1));
        let rate = self.scenario.population.churn.uninstall_rate_per_day;
        let lifetime = (rate > 0.0).then(|| {
            SimDuration::from_days(1).mul_f64(-libm::log(1.0 - slot.uniform(first + 3)) / rate)
        });
        (
            Attributes {
                segment,
                zone,
                poll_phase: SimTime::ZERO + phase,
            },
            lifetime,
        )
    }

    /// The observer's id of a member: initial instances first, then new installs.
    pub fn member_id(&self, member: Member) -> u64 {
        match member {
            Member::Initial(i) => i,
            Member::Arrival { index, .. } => self.scenario.population.instances + index,
        }
    }
}
