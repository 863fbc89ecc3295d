//! The release plan: every version a scenario will publish, derived once per scenario.
//!
//! Version 0 is the initial version; version `k + 1` is the one release `k` creates.
//! The plan also answers the two questions the per-instance model asks on its hot path,
//! as lookup tables: does a version's consent cover another's permissions (the approval
//! gate), and is a version at least as new as a release's version (the report's "on `V_k`
//! or later").

use crate::scenario::{Platform, Scenario};

use crate::platform::{Bump, Permissions, Version, derive_versions};

/// Index into [`VersionTable::versions`].
pub(crate) type VersionId = usize;

#[derive(Clone, Debug)]
/// The versions a scenario's releases produce and the approval gates between them, derived once per run.
pub struct VersionTable {
    /// Every version, the initial one first, then one per release.
    pub versions: Vec<Version>,
    /// What each version asks admins to grant, by `VersionId`.
    pub permissions: Vec<Permissions>,
    /// Per release: the version it replaces.
    pub from_version: Vec<VersionId>,
    /// Per release: whether instances on `from_version` need an admin's approval.
    pub needs_approval: Vec<bool>,
    /// Per release: it moves from free to paid (Marketplace review first).
    pub licensing: Vec<bool>,
    /// Versions older than this stop working at the cut-off, if there is one.
    pub cutoff_below: Option<Version>,
    covers: Vec<bool>,
    at_least: Vec<bool>,
    /// Per version: how many versions are older by number, so that "newer" is one
    /// integer comparison on the hot path.
    rank: Vec<usize>,
    releases: usize,
}

impl VersionTable {
    /// Derives the plan of `scenario` (validation has refused any overflowing version).
    pub fn new(scenario: &Scenario) -> Self {
        let bumps = scenario.releases.iter().map(|r| Bump {
            changes: r.changes,
            api_version: r.api_version,
            line: r.line,
        });
        let (versions, from_version) =
            derive_versions(scenario.numbering, scenario.initial_version, bumps)
                .expect("validation refused releases whose version numbers overflow");
        let permissions: Vec<Permissions> = std::iter::once(&scenario.initial_permissions)
            .chain(scenario.releases.iter().map(|r| &r.permissions))
            .cloned()
            .collect();
        let licensing: Vec<bool> = scenario
            .releases
            .iter()
            .map(|r| r.changes.licensing)
            .collect();
        let n = versions.len();
        let releases = n - 1;
        let rules = scenario.rules;
        // The consent gate: permissions, and on Forge (unless the rules let the gate cross
        // lines) no move to a newer major line without consent.
        let covers: Vec<bool> = (0..n * n)
            .map(|i| {
                let (granted, wanted) = (i / n, i % n);
                permissions[granted]
                    .covers(&permissions[wanted], rules.scope_removal_needs_approval)
                    && (scenario.platform == Platform::Connect
                        || rules.gate_crosses_major_lines
                        || versions[wanted].major <= versions[granted].major)
            })
            .collect();
        let at_least = (0..n * releases)
            .map(|i| versions[i / releases] >= versions[i % releases + 1])
            .collect();
        let needs_approval = (0..releases)
            .map(|k| !covers[from_version[k] * n + k + 1])
            .collect();
        let cutoff_below = scenario.policy.cutoff.map(|c| {
            c.below
                .unwrap_or(*versions.iter().max().expect("at least the initial version"))
        });
        let mut by_number = versions.clone();
        by_number.sort_unstable();
        let rank = versions
            .iter()
            .map(|v| by_number.partition_point(|w| w < v))
            .collect();
        VersionTable {
            versions,
            permissions,
            from_version,
            needs_approval,
            licensing,
            cutoff_below,
            covers,
            at_least,
            rank,
            releases,
        }
    }

    /// Releases in the scenario.
    pub fn release_count(&self) -> usize {
        self.releases
    }

    /// Versions (releases plus the initial one).
    pub fn version_count(&self) -> usize {
        self.versions.len()
    }

    /// The version release `k` creates.
    pub fn version_of(&self, release: usize) -> VersionId {
        release + 1
    }

    /// An instance that granted what `granted` needs may move to `target` unasked.
    #[inline]
    pub fn covers(&self, granted: VersionId, target: VersionId) -> bool {
        self.covers[granted * self.versions.len() + target]
    }

    /// `version` is release `k`'s version or newer.
    #[inline]
    pub fn at_least(&self, version: VersionId, release: usize) -> bool {
        self.at_least[version * self.releases + release]
    }

    /// Whether `candidate` is a newer version than `current`.
    #[inline]
    pub fn is_newer(&self, candidate: VersionId, current: VersionId) -> bool {
        self.rank[candidate] > self.rank[current]
    }

    /// Whether `version` is older than the cut-off version.
    pub fn below_cutoff(&self, version: VersionId) -> bool {
        self.cutoff_below
            .is_some_and(|below| self.versions[version] < below)
    }

    /// The major line of a version (Forge keeps several lines alive).
    pub fn line(&self, version: VersionId) -> u32 {
        self.versions[version].major
    }

    /// Whether the move to `target` is from free to paid (rejecting it means uninstalling).
    pub fn is_paid_transition(&self, from: VersionId, target: VersionId) -> bool {
        self.permissions[target].paid && !self.permissions[from].paid
    }
}
