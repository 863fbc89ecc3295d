//! Simulating one instance: its initial schedule (polls, deliveries, deadlines, bulk
//! moves, cut-offs, churn) and the event loop that hands each event to its handler.

use crate::scenario::{CutoffAction, SlipScope};
use crate::time::SimTime;

use super::super::marketplace::Publication;
use super::workspace::{InstanceEvent, InstanceState, Workspace};
use super::{
    ARRIVAL_DRAW_KEYS, Happening, InstanceModel, Member, Observer, UninstallCause, UpdateCause,
};

impl InstanceModel<'_> {
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
        let in_window = &self.in_window[attrs.segment][attrs.zone];
        for (k, &deployed_in_window) in in_window.iter().enumerate() {
            let mut earliest = publication.at[k];
            if deployed_in_window && !timing.maintenance_slip.is_zero() {
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
            if O::HEARS_VISIBILITY {
                work.seen.push(false);
            }
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
                    if O::HEARS_VISIBILITY {
                        for k in 0..plan.release_count() {
                            if !work.seen[k] && work.earliest[k] <= t && !self.delivered_by_forge(k)
                            {
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
                    self.on_poll(t, instance, &attrs, &mut state, work, observer);
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
}
