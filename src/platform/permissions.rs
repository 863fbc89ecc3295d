//! What a version asks an admin to grant, and the change kinds between two descriptors.

use std::collections::BTreeSet;

use super::{ChangeSet, PlatformRules};

/// What a version asks an admin to grant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Permissions {
    /// Scope tokens; with change kinds, each `scopes` change adds one new token.
    pub scopes: BTreeSet<String>,
    /// Whether the version is a paid one.
    pub paid: bool,
}

impl Permissions {
    /// Whether an instance that granted `self` may run `wanted` without a new approval:
    /// `wanted` asks for no scope and no paid licence beyond `self`, and, when removals
    /// are approved changes too (`removal_needs_approval`), drops no scope either.
    pub fn covers(&self, wanted: &Permissions, removal_needs_approval: bool) -> bool {
        wanted.scopes.is_subset(&self.scopes)
            && (!removal_needs_approval || self.scopes.is_subset(&wanted.scopes))
            && (self.paid || !wanted.paid)
    }
}

/// The facts of a descriptor that decide versions and approvals.
#[derive(Clone, Debug)]
pub(crate) struct Facts {
    /// The scopes and licence the descriptor asks for.
    pub permissions: Permissions,
    /// The descriptor's `apiVersion` (Connect).
    pub api_version: u32,
}

/// The change kinds between two descriptors, as the Marketplace derives them: added
/// scopes or free -> paid need approval; removed scopes count as changed scopes (and so
/// need approval) unless the rules say otherwise; paid -> free and anything else do not.
pub(crate) fn derive_changes(before: &Facts, after: &Facts, rules: PlatformRules) -> ChangeSet {
    let (b, a) = (&before.permissions, &after.permissions);
    let added = !a.scopes.is_subset(&b.scopes);
    let removed = !b.scopes.is_subset(&a.scopes);
    let removal_is_change = removed && rules.scope_removal_needs_approval;
    ChangeSet {
        api_version: after.api_version != before.api_version,
        scopes: added || removal_is_change,
        licensing: a.paid && !b.paid,
        other: (removed && !removal_is_change && !added) || (b.paid && !a.paid),
    }
}
