//! `releases`: deploy times, change kinds (written or derived from descriptor facts),
//! labels, Forge backports, and version numbers that fit.

use super::file::ChangeKindFile;
use super::*;
use crate::platform::{Bump, derive_changes, derive_versions};

pub(super) fn release_time(text: &str, start: DateTime<Utc>, field: &str) -> Check<SimTime> {
    if let Ok(d) = SimDuration::parse(text) {
        return Ok(SimTime::ZERO + d);
    }
    let instant = DateTime::parse_from_rfc3339(text).map_err(|_| {
        FieldError::new(
            field,
            format!(
                "{text:?} is neither an offset from start (e.g. \"3d\") nor an RFC 3339 instant"
            ),
        )
    })?;
    let ms = (instant.with_timezone(&Utc) - start).num_milliseconds();
    if ms < 0 {
        return Err(FieldError::new(
            field,
            format!("{text} is before the scenario start {}", start.to_rfc3339()),
        ));
    }
    Ok(SimTime::from_millis(ms))
}

pub(super) fn release_changes(
    r: &file::ReleaseFile,
    platform: Platform,
    field: &dyn Fn(&str) -> String,
) -> Check<ChangeSet> {
    if r.changes.is_empty() {
        return Err(FieldError::new(
            field("changes"),
            "needs at least one change kind (api_version, scopes, licensing, other), or the descriptor facts scopes, api_version, licensing",
        ));
    }
    let mut changes = ChangeSet::default();
    for kind in &r.changes {
        match kind {
            ChangeKindFile::ApiVersion if platform == Platform::Forge => {
                return Err(FieldError::new(
                    field("changes"),
                    "api_version changes exist only on Connect",
                ));
            }
            ChangeKindFile::ApiVersion => changes.api_version = true,
            ChangeKindFile::Scopes => changes.scopes = true,
            ChangeKindFile::Licensing => changes.licensing = true,
            ChangeKindFile::Other => changes.other = true,
        }
    }
    Ok(changes)
}

pub(super) fn releases(
    files: &[file::ReleaseFile],
    start: DateTime<Utc>,
    horizon: SimDuration,
    platform: Platform,
    initial: &Facts,
    initial_major: u32,
    rules: PlatformRules,
) -> Check<Vec<ReleaseSpec>> {
    if files.is_empty() {
        return Err(FieldError::new("releases", "needs at least one release"));
    }
    let horizon_t = SimTime::ZERO + horizon;
    let mut out: Vec<ReleaseSpec> = Vec::with_capacity(files.len());
    let mut current = initial.clone();
    let mut newest_major = initial_major;
    let mut line_permissions = BTreeMap::from([(initial_major, initial.permissions.clone())]);
    for (i, r) in files.iter().enumerate() {
        let field = |key: &str| format!("releases[{i}].{key}");
        if let Some(label) = &r.label {
            check_label(&field("label"), label, "release label")?;
        }
        let at = release_time(&r.at, start, &field("at"))?;
        if at > horizon_t {
            return Err(FieldError::new(
                field("at"),
                format!(
                    "{} is after the horizon ({horizon}); releases must fall inside it",
                    r.at
                ),
            ));
        }
        if let Some(prev) = out.last()
            && at < prev.at
        {
            return Err(FieldError::new(
                field("at"),
                "releases must be listed in deploy order (each at or after the one before)",
            ));
        }
        let stated = stated_facts(r);
        if stated && !r.changes.is_empty() {
            return Err(FieldError::new(
                field("changes"),
                "give either `changes` or the descriptor facts (scopes, api_version, licensing), not both",
            ));
        }
        if let Some(line) = r.line {
            let lines = (initial_major, newest_major);
            out.push(backport(
                r,
                at,
                line,
                platform,
                lines,
                &line_permissions,
                &field,
            )?);
            continue;
        }
        let (changes, next) = next_facts(i, r, &current, platform, rules, &field)?;
        if platform == Platform::Forge && changes.needs_approval() {
            newest_major = newest_major.saturating_add(1);
        }
        line_permissions.insert(newest_major, next.permissions.clone());
        let label = r.label.clone().unwrap_or_else(|| changes.names().join("+"));
        out.push(ReleaseSpec {
            at,
            changes,
            label,
            label_given: r.label.is_some(),
            permissions: next.permissions.clone(),
            api_version: (stated && r.api_version.is_some()).then_some(next.api_version),
            line: None,
        });
        current = next;
    }
    Ok(out)
}

/// A Forge backport: release `r` on the older major `line` (`lines` are the initial
/// and the newest majors), with that line's permissions.
fn backport(
    r: &file::ReleaseFile,
    at: SimTime,
    line: u32,
    platform: Platform,
    (initial_major, newest_major): (u32, u32),
    line_permissions: &BTreeMap<u32, Permissions>,
    field: &dyn Fn(&str) -> String,
) -> Check<ReleaseSpec> {
    if platform != Platform::Forge {
        return Err(FieldError::new(
            field("line"),
            "only Forge keeps several major lines alive; Connect has one descriptor",
        ));
    }
    if stated_facts(r) {
        return Err(FieldError::new(
            field("line"),
            "a backport is written with `changes`, not descriptor facts",
        ));
    }
    if line < initial_major || line >= newest_major {
        return Err(FieldError::new(
            field("line"),
            format!(
                "line {line} is not an older major line here; older lines are {initial_major} to {} (the newest line, {newest_major}, takes releases without `line`)",
                newest_major.saturating_sub(1)
            ),
        ));
    }
    let changes = release_changes(r, platform, field)?;
    if changes.needs_approval() {
        return Err(FieldError::new(
            field("changes"),
            "a backport cannot add permissions (that would make a new major version)",
        ));
    }
    let label = r
        .label
        .clone()
        .unwrap_or_else(|| format!("{} (line {line})", changes.names().join("+")));
    Ok(ReleaseSpec {
        at,
        changes,
        label,
        label_given: r.label.is_some(),
        permissions: line_permissions[&line].clone(),
        api_version: None,
        line: Some(line),
    })
}

/// Whether release `r` states descriptor facts instead of change kinds.
fn stated_facts(r: &file::ReleaseFile) -> bool {
    r.scopes.is_some() || r.api_version.is_some() || r.licensing.is_some()
}

/// Release `i`'s changes and the descriptor facts after it: derived from the facts it
/// states, or the facts its change kinds make of the `current` ones.
fn next_facts(
    i: usize,
    r: &file::ReleaseFile,
    current: &Facts,
    platform: Platform,
    rules: PlatformRules,
    field: &dyn Fn(&str) -> String,
) -> Check<(ChangeSet, Facts)> {
    if !stated_facts(r) {
        let changes = release_changes(r, platform, field)?;
        let mut next = current.clone();
        if changes.scopes {
            next.permissions.scopes.insert(format!("scope-change-{i}"));
        }
        next.permissions.paid |= changes.licensing;
        if changes.api_version {
            next.api_version = next.api_version.saturating_add(1);
        }
        return Ok((changes, next));
    }
    if platform == Platform::Forge && r.api_version.is_some() {
        return Err(FieldError::new(
            field("api_version"),
            "API versions exist only on Connect",
        ));
    }
    let mut next = current.clone();
    if let Some(scopes) = &r.scopes {
        next.permissions.scopes = scopes.iter().cloned().collect();
    }
    if let Some(api) = r.api_version {
        next.api_version = api;
    }
    if let Some(l) = r.licensing {
        next.permissions.paid = l == file::LicensingFile::Paid;
    }
    let changes = derive_changes(current, &next, rules);
    if changes == ChangeSet::default() {
        return Err(FieldError::new(
            field("scopes"),
            "the descriptor facts are the same as the previous release's: a deploy that changes no descriptor fact is not a release",
        ));
    }
    Ok((changes, next))
}

/// Refuses a release list whose derived version numbers would pass `u32::MAX`.
pub(super) fn check_version_numbers(
    releases: &[ReleaseSpec],
    numbering: NumberingRule,
    initial: Version,
) -> Check<()> {
    let bumps = releases.iter().map(|r| Bump {
        changes: r.changes,
        api_version: r.api_version,
        line: r.line,
    });
    derive_versions(numbering, initial, bumps).map(|_| ()).map_err(|k| {
        FieldError::new(
            format!("releases[{k}]"),
            format!(
                "this release's version number would pass {} (the largest a version component may be); start from a smaller initial_version",
                u32::MAX
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: serde_json::Value, platform: Platform) -> Check<Vec<ReleaseSpec>> {
        let start: DateTime<Utc> = "2026-03-02T14:00:00Z".parse().unwrap();
        let initial = Facts {
            permissions: Permissions::default(),
            api_version: 1,
        };
        let files: Vec<file::ReleaseFile> = serde_json::from_value(v).unwrap();
        releases(
            &files,
            start,
            SimDuration::from_days(10),
            platform,
            &initial,
            1,
            PlatformRules::default(),
        )
    }

    #[test]
    fn releases_are_in_deploy_order_inside_the_horizon() {
        assert_eq!(
            check(
                json!([{"at": "2d", "changes": ["other"]}, {"at": "1d", "changes": ["other"]}]),
                Platform::Connect
            )
            .unwrap_err()
            .field,
            "releases[1].at"
        );
        assert_eq!(
            check(
                json!([{"at": "11d", "changes": ["other"]}]),
                Platform::Connect
            )
            .unwrap_err()
            .field,
            "releases[0].at"
        );
        let r = check(
            json!([{"at": "2026-03-03T14:00:00Z", "changes": ["scopes"], "label": "x"}]),
            Platform::Connect,
        )
        .unwrap();
        assert_eq!(r[0].at.as_hours(), 24.0);
        assert!(r[0].label_given && r[0].changes.needs_approval());
    }

    #[test]
    fn version_overflow_is_refused() {
        let r = check(
            json!([{"at": "0h", "changes": ["other"]}]),
            Platform::Connect,
        )
        .unwrap();
        let top = Version::new(1, 4, u32::MAX);
        assert_eq!(
            check_version_numbers(&r, NumberingRule::Connect, top)
                .unwrap_err()
                .field,
            "releases[0]"
        );
        assert!(check_version_numbers(&r, NumberingRule::Connect, Version::new(1, 4, 2)).is_ok());
    }
}
