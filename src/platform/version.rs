//! App versions and the Marketplace's numbering rules.
//!
//! The user never types a version number for a release: the platform derives it from the
//! kinds of change, as the Marketplace does (the Marketplace page "Upgrade and version cloud apps"; see `docs/model.md`).

use std::fmt;

/// A `MAJOR.MINOR.MICRO` version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// Incompatible changes.
    pub major: u32,
    /// Compatible additions.
    pub minor: u32,
    /// Fixes.
    pub micro: u32,
}

impl Version {
    /// The version `major.minor.micro`.
    pub fn new(major: u32, minor: u32, micro: u32) -> Self {
        Version {
            major,
            minor,
            micro,
        }
    }

    /// Parses `MAJOR.MINOR.MICRO` (digits only); `None` when malformed or out of range.
    pub fn parse(text: &str) -> Option<Version> {
        let mut parts = text.trim().split('.');
        let mut next = || -> Option<u32> {
            let p = parts.next()?;
            if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            p.parse().ok()
        };
        let v = Version {
            major: next()?,
            minor: next()?,
            micro: next()?,
        };
        parts.next().is_none().then_some(v)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.micro)
    }
}

/// The kinds of descriptor change one release makes; several may combine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChangeSet {
    /// A new Connect API version (Connect only).
    pub api_version: bool,
    /// Added or changed scopes: new permissions, so admins must approve.
    pub scopes: bool,
    /// Free to paid: needs Marketplace review, then each customer's approval.
    pub licensing: bool,
    /// Anything else in the descriptor.
    pub other: bool,
}

impl ChangeSet {
    /// Whether any kind in the set needs an admin's approval.
    pub fn needs_approval(&self) -> bool {
        self.scopes || self.licensing
    }

    /// The kinds in the set, by their scenario names.
    pub fn names(&self) -> Vec<&'static str> {
        let mut names = Vec::new();
        for (on, name) in [
            (self.api_version, "api_version"),
            (self.scopes, "scopes"),
            (self.licensing, "licensing"),
            (self.other, "other"),
        ] {
            if on {
                names.push(name);
            }
        }
        names
    }
}

/// Which platform's numbering rule applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumberingRule {
    /// API version -> major (the new API version); scopes or licensing -> minor
    /// (approval); anything else -> micro (automatic).
    Connect,
    /// Scopes or licensing -> major (approval); anything else -> minor (automatic).
    Forge,
}

impl NumberingRule {
    /// The version that follows `previous` after `changes`; the strongest rule wins.
    /// `None` when a component would pass `u32::MAX` (the number cannot be written).
    pub fn next(self, previous: Version, changes: &ChangeSet) -> Option<Version> {
        let major = || previous.major.checked_add(1).map(|m| Version::new(m, 0, 0));
        match self {
            NumberingRule::Connect if changes.api_version => major(),
            NumberingRule::Connect if changes.needs_approval() => previous
                .minor
                .checked_add(1)
                .map(|m| Version::new(previous.major, m, 0)),
            NumberingRule::Connect => previous
                .micro
                .checked_add(1)
                .map(|m| Version::new(previous.major, previous.minor, m)),
            NumberingRule::Forge if changes.needs_approval() => major(),
            NumberingRule::Forge => previous
                .minor
                .checked_add(1)
                .map(|m| Version::new(previous.major, m, 0)),
        }
    }
}

/// One release as the numbering rule sees it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Bump {
    /// The release's kinds of change.
    pub changes: ChangeSet,
    /// Connect: the API version the descriptor states, when given as a fact.
    pub api_version: Option<u32>,
    /// Forge: the older major line a backport goes to.
    pub line: Option<u32>,
}

/// The versions a list of releases creates, in order after `initial`, and for each
/// release the index (into `[initial, versions...]`) of the version it follows.
///
/// A backport follows the newest version of its line, anything else the newest version.
/// `Err(k)` when release `k`'s version number would overflow.
pub(crate) fn derive_versions(
    rule: NumberingRule,
    initial: Version,
    bumps: impl IntoIterator<Item = Bump>,
) -> Result<(Vec<Version>, Vec<usize>), usize> {
    let mut versions = vec![initial];
    let mut from = Vec::new();
    // The newest version so far, overall and per major line, kept as versions come
    // (linear in releases; ties go to the later version, as a scan's `max_by_key` does).
    let mut newest = 0;
    let mut newest_of_line = std::collections::BTreeMap::from([(initial.major, 0)]);
    for (k, bump) in bumps.into_iter().enumerate() {
        let previous = match bump.line {
            None => newest,
            Some(line) => *newest_of_line.get(&line).ok_or(k)?,
        };
        let mut next = rule.next(versions[previous], &bump.changes).ok_or(k)?;
        if let Some(api) = bump.api_version.filter(|_| bump.changes.api_version) {
            // Connect: "the new major version matches the API version in your descriptor".
            next = Version::new(api.max(next.major), 0, 0);
        }
        let index = versions.len();
        versions.push(next);
        from.push(previous);
        if next >= versions[newest] {
            newest = index;
        }
        let of_line = newest_of_line.entry(next.major).or_insert(index);
        if next >= versions[*of_line] {
            *of_line = index;
        }
    }
    Ok((versions, from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bump_past_u32_max_is_refused_not_wrapped() {
        let other = kinds(&["other"]);
        let top = Version::new(1, 4, u32::MAX);
        assert_eq!(NumberingRule::Connect.next(top, &other), None);
        assert_eq!(
            NumberingRule::Forge.next(Version::new(u32::MAX, 0, 0), &kinds(&["scopes"])),
            None
        );
        assert_eq!(
            NumberingRule::Forge.next(Version::new(1, u32::MAX, 0), &other),
            None
        );
        let bump = Bump {
            changes: other,
            api_version: None,
            line: None,
        };
        assert_eq!(
            derive_versions(
                NumberingRule::Connect,
                Version::new(1, 4, u32::MAX - 1),
                [bump, bump]
            ),
            Err(1)
        );
    }

    /// The scan that `derive_versions` replaced: every earlier version, each time.
    fn derive_by_scan(
        rule: NumberingRule,
        initial: Version,
        bumps: &[Bump],
    ) -> Result<(Vec<Version>, Vec<usize>), usize> {
        let mut versions = vec![initial];
        let mut from = Vec::new();
        for (k, bump) in bumps.iter().enumerate() {
            let previous = (0..versions.len())
                .filter(|&v| bump.line.is_none_or(|line| versions[v].major == line))
                .max_by_key(|&v| versions[v])
                .ok_or(k)?;
            let mut next = rule.next(versions[previous], &bump.changes).ok_or(k)?;
            if let Some(api) = bump.api_version.filter(|_| bump.changes.api_version) {
                next = Version::new(api.max(next.major), 0, 0);
            }
            versions.push(next);
            from.push(previous);
        }
        Ok((versions, from))
    }

    proptest::proptest! {
        #[test]
        fn the_linear_derivation_equals_the_scan_over_every_earlier_version(
            steps in proptest::collection::vec((0usize..4, proptest::option::of(1u32..6), proptest::option::of(1u32..5)), 0..40),
            forge in proptest::bool::ANY,
        ) {
            let names = ["other", "scopes", "api_version", "licensing"];
            let bumps: Vec<Bump> = steps
                .iter()
                .map(|&(kind, api, line)| Bump { changes: kinds(&[names[kind]]), api_version: api, line })
                .collect();
            let rule = if forge { NumberingRule::Forge } else { NumberingRule::Connect };
            let initial = Version::new(2, 1, 0);
            proptest::prop_assert_eq!(
                derive_versions(rule, initial, bumps.iter().copied()),
                derive_by_scan(rule, initial, &bumps)
            );
        }
    }

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }
    fn kinds(list: &[&str]) -> ChangeSet {
        let mut c = ChangeSet::default();
        for k in list {
            match *k {
                "api_version" => c.api_version = true,
                "scopes" => c.scopes = true,
                "licensing" => c.licensing = true,
                _ => c.other = true,
            }
        }
        c
    }

    #[test]
    fn parses_and_prints() {
        assert_eq!(v("1.4.2"), Version::new(1, 4, 2));
        assert_eq!(v("1.4.2").to_string(), "1.4.2");
        for bad in [
            "1.4",
            "1.4.2.1",
            "a.b.c",
            "1..2",
            "",
            "-1.0.0",
            "1.0.0-beta",
        ] {
            assert!(Version::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn connect_numbering_follows_the_marketplace_page() {
        let r = NumberingRule::Connect;
        // Examples from the page: 1.2.3 -> 2.0.0 / 1.3.0 / 1.2.4.
        assert_eq!(
            r.next(v("1.2.3"), &kinds(&["api_version"])),
            Some(v("2.0.0"))
        );
        assert_eq!(r.next(v("1.2.3"), &kinds(&["scopes"])), Some(v("1.3.0")));
        assert_eq!(r.next(v("1.2.3"), &kinds(&["licensing"])), Some(v("1.3.0")));
        assert_eq!(r.next(v("1.2.3"), &kinds(&["other"])), Some(v("1.2.4")));
        // The strongest rule wins when kinds combine.
        assert_eq!(
            r.next(v("1.2.3"), &kinds(&["other", "scopes"])),
            Some(v("1.3.0"))
        );
        assert_eq!(
            r.next(v("1.2.3"), &kinds(&["scopes", "api_version"])),
            Some(v("2.0.0"))
        );
    }

    #[test]
    fn forge_numbering_follows_the_marketplace_page() {
        let r = NumberingRule::Forge;
        // Examples from the page: 1.2.0 -> 2.0.0 / 1.3.0.
        assert_eq!(r.next(v("1.2.0"), &kinds(&["scopes"])), Some(v("2.0.0")));
        assert_eq!(r.next(v("1.2.0"), &kinds(&["licensing"])), Some(v("2.0.0")));
        assert_eq!(r.next(v("1.2.0"), &kinds(&["other"])), Some(v("1.3.0")));
        assert_eq!(
            r.next(v("1.2.0"), &kinds(&["other", "licensing"])),
            Some(v("2.0.0"))
        );
    }

    #[test]
    fn approval_is_needed_if_any_kind_needs_it() {
        assert!(kinds(&["other", "scopes"]).needs_approval());
        assert!(kinds(&["licensing"]).needs_approval());
        assert!(!kinds(&["api_version", "other"]).needs_approval());
    }
}
