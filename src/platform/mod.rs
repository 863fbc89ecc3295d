//! The platform's vocabulary, shared by the scenario and the model: versions and the
//! Marketplace's numbering rules, change kinds, permissions and the rules about them.
//!
//! It sits below both: the scenario uses it to check releases as it reads them, the model
//! to decide who may move where. It knows nothing of either.

mod permissions;
mod version;

pub use permissions::Permissions;
pub(crate) use permissions::{Facts, derive_changes};
pub(crate) use version::{Bump, derive_versions};
pub use version::{ChangeSet, NumberingRule, Version};

/// How the Marketplace treats permission changes: documented platform behaviour that
/// has changed over time, so a parameter rather than a constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlatformRules {
    /// A release that removes a scope is a scope change (Connect minor, Forge major) that
    /// admins must approve, as the Marketplace page says of "increase/changed scopes";
    /// `false`: an ordinary descriptor change (the permission-comparison reading).
    pub scope_removal_needs_approval: bool,
    /// Forge: a version on a newer major line reaches an instance without its admin's
    /// consent when it asks for nothing the instance has not granted; `false` (Forge's
    /// documentation: "a new major version won't be applied to a site until its admin
    /// consents") keeps every move to a newer major line behind consent.
    pub gate_crosses_major_lines: bool,
}

impl Default for PlatformRules {
    fn default() -> Self {
        PlatformRules {
            scope_removal_needs_approval: true,
            gate_crosses_major_lines: false,
        }
    }
}
