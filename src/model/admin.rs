//! What an admin does with an update that needs approval.

use crate::draws::Slot;
use crate::scenario::AdminProfile;
use crate::time::SimDuration;

/// What an admin will do about one approval request, decided when it is first shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdminPlan {
    /// Whether the admin approves (otherwise rejects).
    pub approve: bool,
    /// When the admin was prompted to act: at the notice (zero) or at a reminder.
    pub prompted_after: SimDuration,
    /// The reminder that prompted the response, if one did.
    pub reminder: Option<usize>,
    /// Response delay after the prompt (working time, when the admin has working hours).
    pub delay: SimDuration,
}

use crate::draws::{admin_slot, reminder_slot};

impl AdminProfile {
    /// What the admin does about the notice itself in replication `replication` (whose
    /// parameter draw it uses), from the request's admin slot, or `None` when they ignore it.
    ///
    /// The outcome comes from one uniform and the delay by inverse transform from another
    /// (so a changed parameter moves each admin's delay monotonically: common random
    /// numbers across compared scenarios).
    pub(crate) fn respond(&self, draws: Slot<'_>, replication: u64) -> Option<AdminPlan> {
        let (approve, delay) = self.parameters(replication);
        let u = draws.uniform(admin_slot::OUTCOME);
        (u < approve + self.reject).then(|| AdminPlan {
            approve: u < approve,
            prompted_after: SimDuration::ZERO,
            reminder: None,
            delay: delay.quantile(draws.uniform(admin_slot::DELAY)),
        })
    }

    /// What an admin who ignored the notice does, from the request's reminder slot, or
    /// `None` when no reminder moves them.
    ///
    /// They respond to reminder `j` with probability `reminder_response`, approving or
    /// rejecting in the profile's proportion, after a fresh delay. Callers read the
    /// reminder slot only for profiles with reminders, so that most instances never
    /// generate its words.
    pub(crate) fn respond_to_reminders(
        &self,
        draws: Slot<'_>,
        replication: u64,
    ) -> Option<AdminPlan> {
        let (approve, delay) = self.parameters(replication);
        let acting = approve + self.reject;
        self.reminders.iter().enumerate().find_map(|(j, &offset)| {
            let coin = draws.uniform(reminder_slot::respond(j));
            (coin < self.reminder_response).then(|| AdminPlan {
                // Rescaled, the coin is a fresh uniform for the approve/reject choice.
                approve: acting == 0.0 || coin / self.reminder_response < approve / acting,
                prompted_after: offset,
                reminder: Some(j),
                delay: delay.quantile(draws.uniform(reminder_slot::delay(j))),
            })
        })
    }
}
