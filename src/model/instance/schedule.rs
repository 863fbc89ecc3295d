//! Simulating one instance: its initial schedule (polls, deliveries, deadlines, bulk
//! moves, cut-offs, churn) and the event loop that hands each event to its handler.

use crate::scenario::{CutoffAction, SlipScope};
use crate::time::{SimDuration, SimTime};

use super::super::marketplace::Publication;
use super::super::versions::VersionId;
use super::workspace::{InstanceEvent, InstanceState, Workspace};
use super::{
    ARRIVAL_DRAW_KEYS, Attributes, Happening, InstanceModel, Member, Observer, UninstallCause,
    UpdateCause,
};

/// Where an instance's life begins: what it drew, when, on which version, and the
/// index its draws are addressed by.
struct Begin {
    attrs: Attributes,
    lifetime: Option<SimDuration>,
    start: SimTime,
    first_version: VersionId,
    instance: u64,
}

impl InstanceModel<'_> {
    /// Simulates instance `instance` of a replication up to the horizon.
    ///
    /// `bulk_move`: when a vendor bulk upgrade request reaches this instance, if one does.
    /// Its steps are functions forced inline into this one: this is the engine's hot
    /// path, and left to the compiler `schedule` became a call per instance (0.8% more
    /// instructions on `bench-1m` at 100,000 instances under callgrind); inlined, the
    /// steps cost 0.3% fewer than the single function they came from (BENCHMARKS.md).
    pub fn simulate<O: Observer>(
        &self,
        publication: &Publication,
        member: Member,
        bulk_move: Option<SimTime>,
        work: &mut Workspace,
        observer: &mut O,
    ) {
        let begin = self.begin(publication, member, work);
        observer.begin(
            self.member_id(member),
            &begin.attrs,
            begin.start,
            begin.first_version,
        );
        self.earliest_arrivals::<O>(publication, &begin, work);
        self.schedule(publication, &begin, bulk_move, work);
        let mut state = InstanceState {
            installed: begin.first_version,
            episode: None,
            episodes_opened: 0,
            declined: false,
            asked: None,
            uninstalled: false,
        };
        let horizon = self.scenario.horizon_time();
        while let Some((t, event)) = work.queue.pop_until(horizon) {
            self.handle(t, event, publication, &begin, &mut state, work, observer);
            if state.uninstalled {
                break;
            }
        }
        observer.end();
    }

    /// The instance's draws: an initial one from the initial stream, a new install from
    /// its own stream, taking the newest published version.
    #[inline(always)]
    fn begin(&self, publication: &Publication, member: Member, work: &mut Workspace) -> Begin {
        match member {
            Member::Initial(i) => {
                let (attrs, lifetime) = self.attributes(work.attributes.slot(i), 0);
                Begin {
                    attrs,
                    lifetime,
                    start: SimTime::ZERO,
                    first_version: 0,
                    instance: i,
                }
            }
            Member::Arrival { index, at } => {
                let (attrs, lifetime) = self.attributes(work.arrivals.slot(index), 1);
                Begin {
                    attrs,
                    lifetime,
                    start: at,
                    first_version: publication.newest_at(at),
                    instance: ARRIVAL_DRAW_KEYS + index,
                }
            }
        }
    }

    /// When each release can first reach this instance, into `work.earliest`:
    /// publication, plus the slip if it was deployed inside one of this instance's
    /// maintenance windows.
    #[inline(always)]
    fn earliest_arrivals<O: Observer>(
        &self,
        publication: &Publication,
        begin: &Begin,
        work: &mut Workspace,
    ) {
        let timing = &self.scenario.timing;
        work.earliest.clear();
        work.seen.clear();
        let in_window = &self.in_window[begin.attrs.segment][begin.attrs.zone];
        for (k, &deployed_in_window) in in_window.iter().enumerate() {
            let mut earliest = publication.at[k];
            if deployed_in_window && !timing.maintenance_slip.is_zero() {
                let p = timing.slip_probability;
                let slips = match timing.slip_scope {
                    SlipScope::Release => publication.field_slips[k],
                    SlipScope::Instance => {
                        p >= 1.0
                            || (p > 0.0 && work.delivery_slot(k, begin.instance).uniform(0) < p)
                    }
                };
                if slips {
                    earliest = earliest + timing.maintenance_slip;
                }
            }
            work.earliest.push(earliest);
            if O::HEARS_VISIBILITY {
                work.seen.push(false);
            }
        }
    }

    /// The instance's first events: Forge deliveries, UPM polls, paid deadlines, a bulk
    /// move, a cut-off and its churn, each inside its life and the horizon.
    #[inline(always)]
    fn schedule(
        &self,
        publication: &Publication,
        begin: &Begin,
        bulk_move: Option<SimTime>,
        work: &mut Workspace,
    ) {
        let (s, plan, start) = (self.scenario, self.plan, begin.start);
        let timing = &s.timing;
        let horizon = s.horizon_time();
        work.queue.reset(start);
        work.polls.clear();
        for k in 0..plan.release_count() {
            if self.delivered_by_forge(k) {
                let (lo, hi) = timing.propagation(k);
                let u = work.delivery_slot(k, begin.instance).uniform(1);
                let at = work.earliest[k] + lo + (hi - lo).mul_f64(u);
                if at <= horizon && at >= start {
                    work.queue
                        .schedule(at, InstanceEvent::ForgeDelivery(k))
                        .expect("deliveries are after the start");
                }
            } else {
                let poll = work.earliest[k]
                    .max(start)
                    .next_tick(begin.attrs.poll_phase, timing.upm_poll);
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
        if let Some(uninstall_at) = begin.lifetime.map(|l| start + l).filter(|&t| t <= horizon) {
            work.queue
                .schedule(uninstall_at, InstanceEvent::ChurnUninstall)
                .expect("lifetimes are positive");
        }
    }

    /// Hands event `event` at `t` to its handler.
    #[inline(always)]
    #[expect(
        clippy::too_many_arguments,
        reason = "the event loop's state, passed apart so that each borrow stays narrow"
    )]
    fn handle<O: Observer>(
        &self,
        t: SimTime,
        event: InstanceEvent,
        publication: &Publication,
        begin: &Begin,
        state: &mut InstanceState,
        work: &mut Workspace,
        observer: &mut O,
    ) {
        let plan = self.plan;
        match event {
            InstanceEvent::Poll => {
                if O::HEARS_VISIBILITY {
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
                }
                self.on_poll(t, begin.instance, &begin.attrs, state, work, observer);
            }
            InstanceEvent::ForgeDelivery(k) => {
                if O::HEARS_VISIBILITY {
                    let slipped = work.earliest[k] > publication.at[k];
                    observer.happened(
                        t,
                        Happening::Visible {
                            release: k,
                            slipped,
                        },
                    );
                }
                // The gate decides: it keeps other major lines out unless the rules
                // let it cross them.
                let v = plan.version_of(k);
                if plan.is_newer(v, state.installed) && plan.covers(state.installed, v) {
                    self.install(state, t, v, UpdateCause::Automatic, observer);
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
                    self.install(state, t, target, UpdateCause::BulkUpgrade, observer);
                }
            }
            InstanceEvent::Cutoff => {
                if plan.below_cutoff(state.installed) {
                    uninstall(t, state, UninstallCause::Cutoff, observer);
                }
            }
            InstanceEvent::ChurnUninstall => uninstall(t, state, UninstallCause::Churn, observer),
            InstanceEvent::PaidDeadline => {
                if !plan.permissions[state.installed].paid {
                    uninstall(t, state, UninstallCause::Unapproved, observer);
                }
            }
            InstanceEvent::AdminActs { episode, approve } => {
                self.on_admin(
                    t,
                    episode,
                    approve,
                    publication,
                    &begin.attrs,
                    state,
                    observer,
                );
            }
        }
    }
}

/// The instance leaves at `t`, for `cause`.
#[inline]
fn uninstall<O: Observer>(
    t: SimTime,
    state: &mut InstanceState,
    cause: UninstallCause,
    observer: &mut O,
) {
    observer.happened(
        t,
        Happening::Uninstalled {
            version: state.installed,
            cause,
        },
    );
    state.uninstalled = true;
}
