//! `fitted-scenario.json`: the scenario as given, with the fitted admin profiles in
//! `admins` and its segments pointing at them, ready for `run` and `compare`.

use serde_json::{Map, Value, json};

use super::FitOutcome;
use crate::delay::round_to;

/// The name of the profile fitted to `segment` (`fitted` for the whole field).
pub(crate) fn profile_name(segment: &str) -> String {
    if segment == "all" {
        "fitted".into()
    } else {
        format!("fitted-{segment}")
    }
}

/// The scenario file `original` (JSON text, already validated) with the fit's profiles.
///
/// A fitted profile approves with the estimated share and never rejects (the rest never
/// act: the data cannot tell a rejection from silence), has no reminders, and keeps the
/// working hours the fit chose (its delay then counts working time from the notice;
/// otherwise wall-clock time). Its
/// `parameter_draws` carry the fit's uncertainty, one draw per replication, so the run's
/// bands are predictive. The name gains `-fitted`, so its run writes beside the
/// original's.
pub(crate) fn fitted_scenario(original: &str, outcome: &FitOutcome) -> serde_json::Result<String> {
    let mut doc: Value = serde_json::from_str(original)?;
    let root = doc
        .as_object_mut()
        .expect("a validated scenario is an object");
    // The schema path was relative to the original's folder.
    root.remove("$schema");
    let name = root
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("scenario")
        .to_string();
    root.insert("name".into(), json!(format!("{name}-fitted")));
    let original_description = root
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .trim();
    // The original's last sentence may lack its full stop: the two must not run together.
    let separator = match original_description.chars().last() {
        None => "",
        Some('.' | '!' | '?') => " ",
        Some(_) => ". ",
    };
    let description = format!(
        "{original_description}{separator}Admin profiles fitted by `rollout-sim fit` to the observed adoption of release {} ({}){}.",
        outcome.release,
        outcome.release_label,
        if outcome.segments.iter().any(|s| !s.draws.is_empty()) {
            "; each replication draws its profiles' parameters from the fit's uncertainty"
        } else {
            ""
        }
    );
    root.insert("description".into(), json!(description));
    let admins = root
        .entry("admins")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .expect("admins is an object");
    for seg in &outcome.segments {
        let mut profile = json!({
            "approve": round_to(seg.approve.estimate, 4),
            "reject": 0.0,
            "delay": seg.law.to_scenario_json(),
        });
        if let Some(hours) = &seg.working_hours {
            profile["working_hours"] = hours.to_scenario_json();
        }
        if !seg.draws.is_empty() {
            profile["parameter_draws"] = seg
                .draws
                .iter()
                .map(|d| json!({"approve": round_to(d.approve, 4), "delay": d.law.to_scenario_json()}))
                .collect();
        }
        admins.insert(profile_name(&seg.name), profile);
    }
    let population = root
        .get_mut("population")
        .and_then(Value::as_object_mut)
        .expect("a validated scenario has a population");
    let segments = population
        .entry("segments")
        .or_insert_with(|| json!([{"name": "all", "share": 1.0}]));
    for segment in segments.as_array_mut().expect("segments is an array") {
        let seg_name = segment
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let fitted = outcome
            .segments
            .iter()
            .find(|f| f.name == "all" || f.name == seg_name);
        if let Some(f) = fitted {
            segment
                .as_object_mut()
                .expect("a segment is an object")
                .insert("admin".into(), json!(profile_name(&f.name)));
        }
    }
    let mut text = serde_json::to_string_pretty(&doc)?;
    text.push('\n');
    Ok(text)
}
