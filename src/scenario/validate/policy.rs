//! `policy`: the vendor's levers (dropping support, the paid deadline, bulk upgrades,
//! cut-offs).

use super::releases::release_time;
use super::*;

/// The vendor policy, checked.
pub(super) fn policy(
    f: &file::PolicyFile,
    start: DateTime<Utc>,
    platform: Platform,
) -> Check<Policy> {
    Ok(Policy {
        drop_old_support_after: f.drop_old_support_after.map(|d| d.0),
        uninstall_unapproved_after: f.uninstall_unapproved_after.map(|d| d.0),
        bulk_upgrade: bulk_upgrade(f, start, platform)?,
        cutoff: cutoff(f, start, platform)?,
    })
}

pub(super) fn bulk_upgrade(
    p: &file::PolicyFile,
    start: DateTime<Utc>,
    platform: Platform,
) -> Check<Option<BulkUpgrade>> {
    let Some(b) = &p.bulk_upgrade else {
        return Ok(None);
    };
    if platform != Platform::Forge {
        return Err(FieldError::new(
            "policy.bulk_upgrade",
            "bulk upgrades are a Forge lever",
        ));
    }
    if !(1..=500).contains(&b.request_size) {
        return Err(FieldError::new(
            "policy.bulk_upgrade.request_size",
            format!(
                "{} is not allowed; a request moves 1 to 500 installations",
                b.request_size
            ),
        ));
    }
    if !(b.requests_per_hour.is_finite() && b.requests_per_hour > 0.0) {
        return Err(FieldError::new(
            "policy.bulk_upgrade.requests_per_hour",
            "must be a positive number",
        ));
    }
    Ok(Some(BulkUpgrade {
        at: release_time(&b.at, start, "policy.bulk_upgrade.at")?,
        request_size: b.request_size,
        interval: SimDuration::from_hours(1).mul_f64(1.0 / b.requests_per_hour),
    }))
}

pub(super) fn cutoff(
    p: &file::PolicyFile,
    start: DateTime<Utc>,
    platform: Platform,
) -> Check<Option<Cutoff>> {
    let Some(at) = &p.cutoff_at else {
        if p.cutoff_below.is_some() || p.cutoff_action.is_some() {
            return Err(FieldError::new(
                "policy.cutoff_at",
                "is required with cutoff_below or cutoff_action",
            ));
        }
        return Ok(None);
    };
    Ok(Some(Cutoff {
        at: release_time(at, start, "policy.cutoff_at")?,
        below: p
            .cutoff_below
            .as_deref()
            .map(|v| parse_version(v, "policy.cutoff_below", platform))
            .transpose()?,
        action: match p.cutoff_action {
            Some(file::CutoffActionFile::Uninstall) => CutoffAction::Uninstall,
            _ => CutoffAction::Broken,
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: serde_json::Value, platform: Platform) -> Check<Policy> {
        let start: DateTime<Utc> = "2026-03-02T14:00:00Z".parse().unwrap();
        policy(&serde_json::from_value(v).unwrap(), start, platform)
    }

    #[test]
    fn bulk_upgrades_are_forge_only_and_cutoffs_are_read() {
        let bulk = json!({"bulk_upgrade": {"at": "1d", "requests_per_hour": 2}});
        assert_eq!(
            check(bulk.clone(), Platform::Connect).unwrap_err().field,
            "policy.bulk_upgrade"
        );
        let p = check(bulk, Platform::Forge).unwrap();
        assert_eq!(p.bulk_upgrade.unwrap().request_size, 500);
        let p = check(
            json!({"cutoff_at": "3d", "cutoff_action": "uninstall"}),
            Platform::Connect,
        )
        .unwrap();
        assert_eq!(p.cutoff.unwrap().at.as_hours(), 72.0);
        assert_eq!(
            check(json!({"cutoff_at": "soon"}), Platform::Connect)
                .unwrap_err()
                .field,
            "policy.cutoff_at"
        );
    }
}
