//! An [`Observer`] that keeps every instance's whole life, for traces, event logs and
//! tests. Meant for small runs: memory grows with instances x events.

use crate::time::SimTime;

use super::instance::{Attributes, Happening, InstanceModel, Observer, Workspace};
use super::replication::ReplicationContext;
use super::versions::VersionId;

/// One instance's attributes and everything that happened to it, in time order.
#[derive(Clone, Debug, PartialEq)]
pub struct Life {
    /// The member id (initial instances first, then new installs).
    pub instance: u64,
    /// What the instance drew for itself.
    pub attributes: Attributes,
    /// When it was installed (zero for initial instances).
    pub installed_at: SimTime,
    /// The version it was installed on.
    pub first_version: VersionId,
    /// Everything that happened to it, in time order.
    pub happenings: Vec<(SimTime, Happening)>,
}

impl Life {
    /// When the instance moved to exactly `version`, if it did.
    pub fn updated_to(&self, version: VersionId) -> Option<SimTime> {
        self.happenings.iter().find_map(|&(t, h)| match h {
            Happening::Updated { to, .. } if to == version => Some(t),
            _ => None,
        })
    }
}

/// Simulates the members with ids in `ids` (initial instances, then new installs; ids
/// past the last member are skipped) of replication `replication`, keeping their lives.
pub fn record(
    model: &InstanceModel<'_>,
    replication: u64,
    ids: std::ops::Range<u64>,
) -> (ReplicationContext, Vec<Life>) {
    let ctx = ReplicationContext::new(model, replication);
    let mut work = Workspace::new(
        model.scenario().seed,
        replication,
        model.plan().release_count(),
    );
    let mut recorder = Recorder::default();
    for id in ids.start..ids.end.min(ctx.members()) {
        ctx.simulate(model, id, &mut work, &mut recorder);
    }
    (ctx, recorder.lives)
}

#[derive(Debug, Default)]
/// An observer that keeps whole lives (for traces and event logs; not for large runs).
pub(crate) struct Recorder {
    /// The lives heard so far, in simulation order.
    pub lives: Vec<Life>,
}

impl Observer for Recorder {
    fn begin(
        &mut self,
        instance: u64,
        attributes: &Attributes,
        installed_at: SimTime,
        version: VersionId,
    ) {
        self.lives.push(Life {
            instance,
            attributes: *attributes,
            installed_at,
            first_version: version,
            happenings: Vec::new(),
        });
    }

    fn happened(&mut self, at: SimTime, what: Happening) {
        if let Some(life) = self.lives.last_mut() {
            life.happenings.push((at, what));
        }
    }

    fn end(&mut self) {}
}
