//! The mutable state of a simulation: the per-chunk workspace (queue, draw streams,
//! scratch buffers) reused across instances, the events on an instance's queue, and the
//! state of the instance being simulated.

use crate::draws::{DrawStream, Purpose, Slot};
use crate::engine::ShortQueue;
use crate::time::SimTime;

use super::super::versions::VersionId;

/// Events on one instance's queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum InstanceEvent {
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

/// Per-chunk mutable state, reused across the instances of a chunk.
pub struct Workspace {
    seed: u64,
    replication: u64,
    /// An instance has a few pending events at most: scanning them beats a heap.
    pub(super) queue: ShortQueue<InstanceEvent>,
    pub(super) attributes: DrawStream,
    pub(super) arrivals: DrawStream,
    delivery: Vec<Option<DrawStream>>,
    admin: Vec<Option<DrawStream>>,
    reminders: Vec<Option<DrawStream>>,
    pub(super) earliest: Vec<SimTime>,
    /// Per release: it has reached this instance (announced to the observer); kept only
    /// for observers that hear visibility.
    pub(super) seen: Vec<bool>,
    pub(super) polls: Vec<SimTime>,
}

impl Workspace {
    /// A workspace for replication `replication` of a run seeded `seed` with `releases` releases.
    pub fn new(seed: u64, replication: u64, releases: usize) -> Self {
        Workspace {
            seed,
            replication,
            queue: ShortQueue::default(),
            attributes: DrawStream::new(seed, replication, Purpose::InstanceAttributes),
            arrivals: DrawStream::new(seed, replication, Purpose::Arrival),
            delivery: (0..releases).map(|_| None).collect(),
            admin: (0..releases).map(|_| None).collect(),
            reminders: (0..releases).map(|_| None).collect(),
            earliest: Vec::with_capacity(releases),
            seen: Vec::with_capacity(releases),
            polls: Vec::with_capacity(releases),
        }
    }

    /// Release `k`'s delivery draws (slip coin, Forge propagation) for `slot`.
    pub(super) fn delivery_slot(&mut self, k: usize, slot: u64) -> Slot<'_> {
        let purpose = Purpose::Delivery(k as u32);
        opened(&mut self.delivery[k], self.seed, self.replication, purpose).slot(slot)
    }

    /// The draws of an instance's `ordinal`-th approval request, for `slot`.
    /// The replication this workspace simulates.
    pub(super) fn replication(&self) -> u64 {
        self.replication
    }

    pub(super) fn admin_slot(&mut self, ordinal: u32, slot: u64) -> Slot<'_> {
        let purpose = Purpose::Admin(ordinal);
        let stream = &mut self.admin[ordinal as usize];
        opened(stream, self.seed, self.replication, purpose).slot(slot)
    }

    /// The reminder responses of an instance's `ordinal`-th approval request, for `slot`.
    pub(super) fn reminder_slot(&mut self, ordinal: u32, slot: u64) -> Slot<'_> {
        let purpose = Purpose::Reminders(ordinal);
        let stream = &mut self.reminders[ordinal as usize];
        opened(stream, self.seed, self.replication, purpose).slot(slot)
    }

    /// Events processed and the most pending at once, over every instance so far.
    pub fn engine_counts(&self) -> (u64, usize) {
        (self.queue.processed(), self.queue.peak_pending())
    }
}

/// The evolving state of the instance being simulated.
pub(super) struct InstanceState {
    pub(super) installed: VersionId,
    /// The open approval episode: its id and the release that opened it.
    pub(super) episode: Option<(u32, usize)>,
    pub(super) episodes_opened: u32,
    /// The admin rejected with `on_reject: stay`: it keeps its version until a later
    /// update asks for something new.
    pub(super) declined: bool,
    /// The version the admin was last asked to approve: a later update that asks for
    /// more than it did brings a new notice and a fresh decision.
    pub(super) asked: Option<VersionId>,
    pub(super) uninstalled: bool,
}

/// A stream opened the first time a chunk needs it: most scenarios never read most
/// purposes (no slip, no Forge, no second approval request, no reminders).
fn opened(
    stream: &mut Option<DrawStream>,
    seed: u64,
    replication: u64,
    purpose: Purpose,
) -> &mut DrawStream {
    stream.get_or_insert_with(|| DrawStream::new(seed, replication, purpose))
}
