//! One customer instance's life: polls, deliveries, notices and its admin's response.
//!
//! Instances do not interact, so each is simulated on its own small event queue, given
//! its replication's publication times. This keeps one instance's pending events (a few)
//! out of every other instance's way and lets chunks of instances run on any thread with
//! identical results.

use chrono_tz::Tz;

use crate::draws::{DrawStream, Purpose, Slot};
use crate::engine::EventQueue;
use crate::scenario::{CutoffAction, OnReject, Platform, Scenario, SlipScope};
use crate::time::{SimDuration, SimTime};

use super::calendar;
use super::marketplace::Publication;
use super::plan::{ReleasePlan, VersionId};

/// What an instance drew for itself.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Attributes {
    pub segment: usize,
    pub zone: usize,
    /// Offset of its UPM polls within one poll period.
    pub poll_phase: SimTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateCause {
    /// Reached the instance without approval.
    Automatic,
    /// Applied when the admin approved.
    Approval,
    /// Moved by the vendor's bulk upgrade (Forge).
    BulkUpgrade,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UninstallCause {
    /// The admin rejected (with `on_reject: uninstall`, or a free -> paid change).
    Rejected,
    /// Free -> paid: not approved by `uninstall_unapproved_after`, removed then.
    Unapproved,
    /// The customer left (churn hazard).
    Churn,
    /// The platform cut-off removed an old version.
    Cutoff,
}

/// Something that happened to an instance, for tallies, traces and event logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Happening {
    /// UPM showed an update needing approval and the admin was emailed.
    Noticed {
        release: usize,
    },
    /// A release reached the instance: at a UPM poll, or (Forge, automatic) by delivery.
    /// `slipped`: it was deployed inside one of the instance's maintenance windows.
    Visible {
        release: usize,
        slipped: bool,
    },
    /// The admin will not act on this notice (unless a reminder moves them).
    Ignored {
        release: usize,
    },
    /// A reminder about the open request was sent.
    Reminded {
        release: usize,
        index: usize,
    },
    Rejected {
        release: usize,
    },
    Updated {
        from: VersionId,
        to: VersionId,
        cause: UpdateCause,
    },
    Uninstalled {
        version: VersionId,
        cause: UninstallCause,
    },
}

/// Receives an instance's life as it is simulated.
pub trait Observer {
    fn begin(
        &mut self,
        instance: u64,
        attributes: &Attributes,
        installed_at: SimTime,
        version: VersionId,
    );
    fn happened(&mut self, at: SimTime, what: Happening);
    fn end(&mut self);
}

/// Events on one instance's queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum InstanceEvent {
    /// A UPM poll that finds at least one release newly visible.
    Poll,
    /// A Forge automatic release arrives.
    ForgeDelivery(usize),
    AdminActs {
        episode: u32,
        approve: bool,
    },
    /// A reminder email about an open approval request.
    Reminder {
        episode: u32,
        index: usize,
    },
    /// Free -> paid: the approval deadline has passed.
    PaidDeadline,
    /// The instance's lifetime (churn) has ended.
    ChurnUninstall,
    /// A vendor bulk upgrade request includes this instance.
    BulkMove,
    /// The platform cut-off: older versions stop working.
    Cutoff,
}

/// Who is simulated: one of the initial instances, or a new install (churn) arriving at
/// `at`, the `index`-th of its replication.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Member {
    Initial(u64),
    Arrival { index: u64, at: SimTime },
}

/// New installs read their per-release draws from slots above every initial instance's,
/// so their draws do not depend on the size of the initial population.
const ARRIVAL_DRAW_KEYS: u64 = 1 << 40;

/// The scenario-wide, read-only part of the instance model, prepared once.
pub struct InstanceModel<'a> {
    scenario: &'a Scenario,
    plan: &'a ReleasePlan,
    segment_cdf: Vec<f64>,
    zone_cdf: Vec<Vec<f64>>,
    /// `[release][segment][zone]`: the release was deployed while a window applying to
    /// that segment and zone was open.
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

fn pick(cdf: &[f64], u: f64) -> usize {
    cdf.iter().position(|&c| u < c).unwrap_or(cdf.len() - 1)
}

/// Per-chunk mutable state, reused across the instances of a chunk.
pub struct Workspace {
    seed: u64,
    replication: u64,
    queue: EventQueue<InstanceEvent>,
    attributes: DrawStream,
    arrivals: DrawStream,
    delivery: Vec<Option<DrawStream>>,
    admin: Vec<Option<DrawStream>>,
    earliest: Vec<SimTime>,
    /// Per release: it has reached this instance (announced to the observer).
    seen: Vec<bool>,
    polls: Vec<SimTime>,
}

impl Workspace {
    pub fn new(seed: u64, replication: u64, releases: usize) -> Self {
        Workspace {
            seed,
            replication,
            queue: EventQueue::new(),
            attributes: DrawStream::new(seed, replication, Purpose::InstanceAttributes),
            arrivals: DrawStream::new(seed, replication, Purpose::Arrival),
            delivery: (0..releases).map(|_| None).collect(),
            admin: (0..releases).map(|_| None).collect(),
            earliest: Vec::with_capacity(releases),
            seen: Vec::with_capacity(releases),
            polls: Vec::with_capacity(releases),
        }
    }

    /// Release `k`'s delivery draws (slip coin, Forge propagation) for `slot`.
    fn delivery_slot(&mut self, k: usize, slot: u64) -> Slot<'_> {
        let (seed, rep) = (self.seed, self.replication);
        self.delivery[k]
            .get_or_insert_with(|| DrawStream::new(seed, rep, Purpose::Delivery(k as u32)))
            .slot(slot)
    }

    /// The draws of an instance's `ordinal`-th approval request, for `slot`.
    fn admin_slot(&mut self, ordinal: u32, slot: u64) -> Slot<'_> {
        let (seed, rep) = (self.seed, self.replication);
        self.admin[ordinal as usize]
            .get_or_insert_with(|| DrawStream::new(seed, rep, Purpose::Admin(ordinal)))
            .slot(slot)
    }

    /// Events processed and the most pending at once, over every instance so far.
    pub fn engine_counts(&self) -> (u64, usize) {
        (self.queue.processed(), self.queue.peak_pending())
    }
}

/// The evolving state of the instance being simulated.
struct InstanceState {
    installed: VersionId,
    /// The open approval episode: its id and the release that opened it.
    episode: Option<(u32, usize)>,
    episodes_opened: u32,
    /// The admin rejected with `on_reject: stay`: it keeps its version until a later
    /// update asks for something new.
    declined: bool,
    /// The version the admin was last asked to approve: a later update that asks for
    /// more than it did brings a new notice and a fresh decision.
    asked: Option<VersionId>,
    uninstalled: bool,
}

impl<'a> InstanceModel<'a> {
    pub fn new(scenario: &'a Scenario, plan: &'a ReleasePlan) -> Self {
        let segments = &scenario.population.segments;
        let in_window = scenario
            .releases
            .iter()
            .map(|r| {
                let instant = scenario.instant(r.at);
                segments
                    .iter()
                    .map(|s| {
                        s.zones
                            .iter()
                            .map(|&(zone, _)| calendar::is_open(&s.maintenance, instant, zone))
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

    pub fn scenario(&self) -> &Scenario {
        self.scenario
    }

    pub fn plan(&self) -> &ReleasePlan {
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
            SimDuration::from_days(1).mul_f64(-(1.0 - slot.uniform(first + 3)).ln() / rate)
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

    /// Simulates instance `instance` of a replication up to the horizon.
    ///
    /// `bulk_move`: when a vendor bulk upgrade request reaches this instance, if one does.
    pub fn simulate<O: Observer>(
        &self,
        publication: &Publication,
        member: Member,
        bulk_move: Option<SimTime>,
        work: &mut Workspace,
        observer: &mut O,
    ) {
        let s = self.scenario;
        let plan = self.plan;
        let timing = &s.timing;
        // A new install draws from its own stream and takes the newest published version.
        let (attrs, lifetime, start, first_version, instance) = match member {
            Member::Initial(i) => {
                let (a, l) = self.attributes(work.attributes.slot(i), 0);
                (a, l, SimTime::ZERO, 0, i)
            }
            Member::Arrival { index, at } => {
                let (a, l) = self.attributes(work.arrivals.slot(index), 1);
                (
                    a,
                    l,
                    at,
                    publication.newest_at(at),
                    ARRIVAL_DRAW_KEYS + index,
                )
            }
        };
        observer.begin(self.member_id(member), &attrs, start, first_version);

        // When each release can first reach this instance: publication, plus the slip if
        // it was deployed inside one of this instance's maintenance windows.
        work.earliest.clear();
        work.seen.clear();
        for k in 0..plan.release_count() {
            let mut earliest = publication.at[k];
            if self.in_window[k][attrs.segment][attrs.zone] && !timing.maintenance_slip.is_zero() {
                let p = timing.slip_probability;
                let slips = match timing.slip_scope {
                    SlipScope::Release => publication.field_slips[k],
                    SlipScope::Instance => {
                        p >= 1.0 || (p > 0.0 && work.delivery_slot(k, instance).uniform(0) < p)
                    }
                };
                if slips {
                    earliest = earliest + timing.maintenance_slip;
                }
            }
            work.earliest.push(earliest);
            work.seen.push(false);
        }

        let horizon = s.horizon_time();
        work.queue.reset(start);
        work.polls.clear();
        for k in 0..plan.release_count() {
            if self.delivered_by_forge(k) {
                let (lo, hi) = timing.propagation(k);
                let u = work.delivery_slot(k, instance).uniform(1);
                let at = work.earliest[k] + lo + (hi - lo).mul_f64(u);
                if at <= horizon && at >= start {
                    work.queue
                        .schedule(at, InstanceEvent::ForgeDelivery(k))
                        .expect("deliveries are after the start");
                }
            } else {
                let poll = work.earliest[k]
                    .max(start)
                    .next_tick(attrs.poll_phase, timing.upm_poll);
                if poll <= horizon && !work.polls.contains(&poll) {
                    work.polls.push(poll);
                }
            }
        }
        if let Some(after) = s.policy.uninstall_unapproved_after {
            for k in (0..plan.release_count()).filter(|&k| plan.licensing[k]) {
                let at = publication.at[k] + after;
                if at <= horizon && at >= start {
                    work.queue
                        .schedule(at, InstanceEvent::PaidDeadline)
                        .expect("deadlines follow publication");
                }
            }
        }
        work.polls.sort_unstable();
        for &poll in &work.polls {
            work.queue
                .schedule(poll, InstanceEvent::Poll)
                .expect("polls are after the start");
        }

        if let Some(at) = bulk_move.filter(|&t| t >= start && t <= horizon) {
            work.queue
                .schedule(at, InstanceEvent::BulkMove)
                .expect("bulk moves follow the install");
        }
        if let Some(cutoff) = s
            .policy
            .cutoff
            .filter(|c| c.action == CutoffAction::Uninstall && c.at >= start && c.at <= horizon)
        {
            work.queue
                .schedule(cutoff.at, InstanceEvent::Cutoff)
                .expect("cut-offs follow the install");
        }
        if let Some(uninstall_at) = lifetime.map(|l| start + l).filter(|&t| t <= horizon) {
            work.queue
                .schedule(uninstall_at, InstanceEvent::ChurnUninstall)
                .expect("lifetimes are positive");
        }
        let mut state = InstanceState {
            installed: first_version,
            episode: None,
            episodes_opened: 0,
            declined: false,
            asked: None,
            uninstalled: false,
        };
        while let Some((t, event)) = work.queue.pop_until(horizon) {
            match event {
                InstanceEvent::Poll => {
                    for k in 0..plan.release_count() {
                        if !work.seen[k] && work.earliest[k] <= t && !self.delivered_by_forge(k) {
                            work.seen[k] = true;
                            let slipped = work.earliest[k] > publication.at[k];
                            observer.happened(
                                t,
                                Happening::Visible {
                                    release: k,
                                    slipped,
                                },
                            );
                        }
                    }
                    self.on_poll(t, instance, &attrs, &mut state, work, observer)
                }
                InstanceEvent::ForgeDelivery(k) => {
                    let slipped = work.earliest[k] > publication.at[k];
                    observer.happened(
                        t,
                        Happening::Visible {
                            release: k,
                            slipped,
                        },
                    );
                    // The gate decides: it keeps other major lines out unless the rules
                    // let it cross them.
                    let v = plan.version_of(k);
                    if plan.is_newer(v, state.installed) && plan.covers(state.installed, v) {
                        self.install(&mut state, t, v, UpdateCause::Automatic, observer);
                    }
                }
                InstanceEvent::Reminder { episode, index } => {
                    if let Some((open, release)) = state.episode
                        && open == episode
                    {
                        observer.happened(t, Happening::Reminded { release, index });
                    }
                }
                InstanceEvent::BulkMove => {
                    let target = publication.newest_at(t);
                    if plan.line(state.installed) < plan.line(target) && !state.declined {
                        self.install(&mut state, t, target, UpdateCause::BulkUpgrade, observer);
                    }
                }
                InstanceEvent::Cutoff => {
                    if plan.below_cutoff(state.installed) {
                        observer.happened(
                            t,
                            Happening::Uninstalled {
                                version: state.installed,
                                cause: UninstallCause::Cutoff,
                            },
                        );
                        state.uninstalled = true;
                    }
                }
                InstanceEvent::ChurnUninstall => {
                    observer.happened(
                        t,
                        Happening::Uninstalled {
                            version: state.installed,
                            cause: UninstallCause::Churn,
                        },
                    );
                    state.uninstalled = true;
                }
                InstanceEvent::PaidDeadline => {
                    if !plan.permissions[state.installed].paid {
                        observer.happened(
                            t,
                            Happening::Uninstalled {
                                version: state.installed,
                                cause: UninstallCause::Unapproved,
                            },
                        );
                        state.uninstalled = true;
                    }
                }
                InstanceEvent::AdminActs { episode, approve } => self.on_admin(
                    t,
                    episode,
                    approve,
                    publication,
                    &attrs,
                    &mut state,
                    observer,
                ),
            }
            if state.uninstalled {
                break;
            }
        }
        observer.end();
    }

    /// Forge delivers automatic releases itself, within minutes; everything else reaches
    /// an instance at a UPM poll.
    fn delivered_by_forge(&self, release: usize) -> bool {
        self.scenario.platform == Platform::Forge && !self.plan.needs_approval[release]
    }

    /// The newest version (by number) whose release has reached this instance's UPM by `t`.
    fn newest_visible(&self, earliest: &[SimTime], t: SimTime) -> Option<VersionId> {
        let plan = self.plan;
        (0..plan.release_count())
            .filter(|&k| earliest[k] <= t)
            .map(|k| plan.version_of(k))
            .reduce(|a, b| if plan.is_newer(b, a) { b } else { a })
    }

    fn on_poll<O: Observer>(
        &self,
        t: SimTime,
        instance: u64,
        attrs: &Attributes,
        state: &mut InstanceState,
        work: &mut Workspace,
        observer: &mut O,
    ) {
        let plan = self.plan;
        let Some(target) = self.newest_visible(&work.earliest, t) else {
            return;
        };
        if !plan.is_newer(target, state.installed) {
            return;
        }
        if plan.covers(state.installed, target) {
            // Skip-ahead: nothing new to grant. Connect applies it at this poll; Forge
            // delivers automatic releases itself, within minutes, and a version that
            // needed approval from its predecessor arrives here, by the poll.
            if !self.delivered_by_forge(target - 1) {
                self.install(state, t, target, UpdateCause::Automatic, observer);
            }
            return;
        }
        // "We automatically send emails to the product administrator" whenever approval is
        // needed: an update asking for more than the admin was last asked about is a new
        // notice and a fresh decision, whatever the admin did with the last one.
        let asks_more = state.asked.is_none_or(|asked| !plan.covers(asked, target));
        if !asks_more && (state.episode.is_some() || state.declined) {
            // Still waiting: the pending update now leads to the newest version.
            return;
        }
        state.asked = Some(target);
        state.declined = false;
        let release = target - 1;
        state.episodes_opened += 1;
        let episode = state.episodes_opened;
        state.episode = Some((episode, release));
        observer.happened(t, Happening::Noticed { release });
        // Draws are keyed by the instance's n-th approval request, not by the release, so
        // scenarios with different release lists still give each admin the same decisions.
        let slot = work.admin_slot(episode - 1, instance);
        let segment = &self.scenario.population.segments[attrs.segment];
        let admin = &segment.admin;
        let plan = admin.plan(slot);
        let horizon = self.scenario.horizon_time();
        // Reminders go out while the request is open, up to the one that moves the admin.
        if plan.is_none_or(|p| p.reminder.is_some()) {
            observer.happened(t, Happening::Ignored { release });
            let last = plan.and_then(|p| p.reminder).unwrap_or(usize::MAX);
            for (index, &offset) in admin
                .reminders
                .iter()
                .enumerate()
                .take_while(|(i, _)| *i <= last)
            {
                if t + offset <= horizon {
                    work.queue
                        .schedule(t + offset, InstanceEvent::Reminder { episode, index })
                        .expect("reminders follow notices");
                }
            }
        }
        let Some(plan) = plan else { return };
        let prompted = t + plan.prompted_after;
        let at = match &admin.working_hours {
            // Working time passes no faster than wall time: a response whose wall-clock
            // delay already ends past the horizon never comes (and no calendar walk is
            // asked to reach centuries ahead).
            Some(_) if prompted + plan.delay > horizon => SimTime::NEVER,
            Some(hours) => {
                let zone = self.zone(attrs);
                let done = calendar::after_working_time(
                    self.scenario.instant(prompted),
                    plan.delay,
                    hours,
                    &segment.holidays,
                    zone,
                );
                SimTime::from_millis(
                    done.signed_duration_since(self.scenario.start)
                        .num_milliseconds(),
                )
            }
            None => prompted + plan.delay,
        };
        if at <= horizon {
            work.queue
                .schedule(
                    at,
                    InstanceEvent::AdminActs {
                        episode,
                        approve: plan.approve,
                    },
                )
                .expect("responses follow notices");
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn on_admin<O: Observer>(
        &self,
        t: SimTime,
        episode: u32,
        approve: bool,
        publication: &Publication,
        attrs: &Attributes,
        state: &mut InstanceState,
        observer: &mut O,
    ) {
        let Some((open, release)) = state.episode else {
            return;
        };
        if open != episode {
            return;
        }
        state.episode = None;
        if approve {
            // Approving applies the newest published version at that moment.
            let newest = publication.newest_at(t);
            if self.plan.is_newer(newest, state.installed) {
                self.install(state, t, newest, UpdateCause::Approval, observer);
            }
            return;
        }
        observer.happened(t, Happening::Rejected { release });
        let admin = &self.scenario.population.segments[attrs.segment].admin;
        let paid = self
            .plan
            .is_paid_transition(state.installed, self.plan.version_of(release));
        if paid || admin.on_reject == OnReject::Uninstall {
            observer.happened(
                t,
                Happening::Uninstalled {
                    version: state.installed,
                    cause: UninstallCause::Rejected,
                },
            );
            state.uninstalled = true;
        } else {
            state.declined = true;
        }
    }

    /// Moves the instance to `to`. An open approval episode ends when the new version
    /// already grants what its release asked for (approval, or a skip-ahead); a Forge
    /// backport on the old line leaves it open.
    fn install<O: Observer>(
        &self,
        state: &mut InstanceState,
        t: SimTime,
        to: VersionId,
        cause: UpdateCause,
        observer: &mut O,
    ) {
        observer.happened(
            t,
            Happening::Updated {
                from: state.installed,
                to,
                cause,
            },
        );
        state.installed = to;
        if let Some((_, release)) = state.episode {
            let wanted = self.plan.version_of(release);
            if !self.plan.is_newer(wanted, to) || self.plan.covers(to, wanted) {
                state.episode = None;
            }
        }
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
        let gap =
            SimDuration::from_days(1).mul_f64(-(1.0 - stream.slot(index).uniform(0)).ln() / rate);
        t = t + gap;
        if t > horizon {
            break;
        }
        out.push(t);
    }
    out
}
