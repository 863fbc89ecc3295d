//! The vocabulary of an instance's life: what it drew, what happened to it and why, and
//! the observer that hears about it.

use crate::time::SimTime;

use super::super::versions::VersionId;

/// What an instance drew for itself.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Attributes {
    /// Index of the instance's segment.
    pub segment: usize,
    /// Index of the instance's time zone within its segment.
    pub zone: usize,
    /// Offset of its UPM polls within one poll period.
    pub poll_phase: SimTime,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// Why an instance moved to a newer version.
pub enum UpdateCause {
    /// Reached the instance without approval.
    Automatic,
    /// Applied when the admin approved.
    Approval,
    /// Moved by the vendor's bulk upgrade (Forge).
    BulkUpgrade,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// Why an instance left.
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
        /// The release noticed.
        release: usize,
    },
    /// A release reached the instance: at a UPM poll, or (Forge, automatic) by delivery.
    /// `slipped`: it was deployed inside one of the instance's maintenance windows.
    Visible {
        /// The release that became visible.
        release: usize,
        /// The deploy fell inside one of the instance's maintenance windows.
        slipped: bool,
    },
    /// The admin will not act on this notice (unless a reminder moves them).
    Ignored {
        /// The release ignored.
        release: usize,
    },
    /// A reminder about the open request was sent.
    Reminded {
        /// The release reminded of.
        release: usize,
        /// Which reminder (from 0).
        index: usize,
    },
    /// The admin rejected the release.
    Rejected {
        /// The release rejected.
        release: usize,
    },
    /// The instance moved to a newer version.
    Updated {
        /// The version it left.
        from: VersionId,
        /// The version it moved to.
        to: VersionId,
        /// What moved it.
        cause: UpdateCause,
    },
    /// The instance was removed.
    Uninstalled {
        /// The version it was on.
        version: VersionId,
        /// What removed it.
        cause: UninstallCause,
    },
}

/// Receives an instance's life as it is simulated.
pub trait Observer {
    /// Whether the observer wants [`Happening::Visible`]. Traces and event logs do; a
    /// tally does not, and then no poll scans the releases for newly visible ones.
    const HEARS_VISIBILITY: bool = true;

    /// An instance's life starts: installed at `installed_at` on `version`.
    fn begin(
        &mut self,
        instance: u64,
        attributes: &Attributes,
        installed_at: SimTime,
        version: VersionId,
    );
    /// Something happened to the instance at `at` (in time order).
    fn happened(&mut self, at: SimTime, what: Happening);
    /// The instance's life is over (at the horizon or when it left).
    fn end(&mut self);
}
