//! What an instance does at a poll, when its admin acts, and when it moves to a version.

use crate::scenario::{OnReject, Platform};
use crate::time::SimTime;

use super::super::calendar;
use super::super::marketplace::Publication;
use super::super::versions::VersionId;
use super::workspace::{InstanceEvent, InstanceState, Workspace};
use super::{Attributes, Happening, InstanceModel, Observer, UninstallCause, UpdateCause};

impl InstanceModel<'_> {
    /// Forge delivers automatic releases itself, within minutes; everything else reaches
    /// an instance at a UPM poll.
    pub fn delivered_by_forge(&self, release: usize) -> bool {
        self.scenario.platform == Platform::Forge && !self.plan.needs_approval[release]
    }

    /// The newest version (by number) whose release has reached this instance's UPM by `t`.
    #[inline]
    pub(super) fn newest_visible(&self, earliest: &[SimTime], t: SimTime) -> Option<VersionId> {
        let plan = self.plan;
        (0..plan.release_count())
            .filter(|&k| earliest[k] <= t)
            .map(|k| plan.version_of(k))
            .reduce(|a, b| if plan.is_newer(b, a) { b } else { a })
    }

    pub(super) fn on_poll<O: Observer>(
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
        let segment = &self.scenario.population.segments[attrs.segment];
        let admin = &segment.admin;
        // The reminder slot is read only when a reminder could move an ignoring admin.
        let replication = work.replication();
        let plan = match admin.respond(work.admin_slot(episode - 1, instance), replication) {
            None if !admin.reminders.is_empty() => {
                admin.respond_to_reminders(work.reminder_slot(episode - 1, instance), replication)
            }
            acted_or_ignored => acted_or_ignored,
        };
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
    pub(super) fn on_admin<O: Observer>(
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
    pub(super) fn install<O: Observer>(
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
