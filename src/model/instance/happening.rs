//! The vocabulary of an instance's life: what it drew, what happened to it and why, and
//! the observer that hears about it.

use crate::time::SimTime;

use super::super::plan::VersionId;

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
