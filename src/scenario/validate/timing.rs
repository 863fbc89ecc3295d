//! `timing` and `rules`: the preset's platform timings with the file's overrides, and the
//! platform rules about permission changes.

use super::*;

/// The preset's timings with the file's overrides.
pub(super) fn timing(mut t: Timing, f: &file::TimingFile, platform: Platform) -> Check<Timing> {
    if platform == Platform::Connect && f.migration_spread.is_some() {
        return Err(FieldError::new(
            "timing.migration_spread",
            "applies to a move from Connect to Forge: use the connect-to-forge platform",
        ));
    }
    if let Some(d) = f.descriptor_poll {
        t.descriptor_poll = positive(d.0, "timing.descriptor_poll")?;
    }
    if let Some(d) = f.upm_poll {
        t.upm_poll = positive(d.0, "timing.upm_poll")?;
    }
    if let Some(d) = f.maintenance_slip {
        t.maintenance_slip = d.0;
    }
    if let Some(p) = f.slip_probability {
        t.slip_probability = probability(p, "timing.slip_probability")?;
    }
    if let Some(r) = &f.forge_detection {
        t.forge_detection = range(r, "timing.forge_detection")?;
    }
    if let Some(r) = &f.forge_propagation {
        t.forge_propagation = range(r, "timing.forge_propagation")?;
    }
    if let Some(r) = &f.licensing_review {
        t.licensing_review = range(r, "timing.licensing_review")?;
    }
    if let Some(scope) = f.slip_scope {
        t.slip_scope = match scope {
            file::SlipScopeFile::Instance => SlipScope::Instance,
            file::SlipScopeFile::Release => SlipScope::Release,
        };
    }
    if let Some(r) = &f.migration_spread {
        t.migration_spread = Some(range(r, "timing.migration_spread")?);
    }
    Ok(t)
}

/// The platform rules, with the documented defaults for keys left out.
pub(super) fn rules(f: &file::RulesFile) -> PlatformRules {
    let defaults = PlatformRules::default();
    PlatformRules {
        scope_removal_needs_approval: f
            .scope_removal
            .map_or(defaults.scope_removal_needs_approval, |r| {
                r == file::ScopeRemovalFile::Approval
            }),
        gate_crosses_major_lines: f
            .gate_crosses_major_lines
            .unwrap_or(defaults.gate_crosses_major_lines),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn file(v: serde_json::Value) -> file::TimingFile {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn overrides_replace_preset_values_and_are_checked() {
        let preset = presets::connect().timing;
        let t = timing(
            preset.clone(),
            &file(json!({"upm_poll": "12h", "slip_scope": "release"})),
            Platform::Connect,
        )
        .unwrap();
        assert_eq!(t.upm_poll, SimDuration::from_hours(12));
        assert_eq!(t.slip_scope, SlipScope::Release);
        assert_eq!(t.descriptor_poll, preset.descriptor_poll);
        let e = timing(
            preset.clone(),
            &file(json!({"forge_detection": ["5m", "1m"]})),
            Platform::Forge,
        )
        .unwrap_err();
        assert_eq!(e.field, "timing.forge_detection");
        let e = timing(
            preset,
            &file(json!({"migration_spread": ["0h", "1h"]})),
            Platform::Connect,
        )
        .unwrap_err();
        assert_eq!(e.field, "timing.migration_spread");
    }

    #[test]
    fn rules_default_to_the_documented_readings() {
        let r = rules(&serde_json::from_value(json!({})).unwrap());
        assert_eq!(r, PlatformRules::default());
        assert!(r.scope_removal_needs_approval && !r.gate_crosses_major_lines);
        let r = rules(
            &serde_json::from_value(
                json!({"scope_removal": "automatic", "gate_crosses_major_lines": true}),
            )
            .unwrap(),
        );
        assert!(!r.scope_removal_needs_approval && r.gate_crosses_major_lines);
    }
}
