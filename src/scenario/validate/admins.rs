//! `admins`: admin behaviour profiles, built-in ones merged with the file's.

use super::calendars::days;
use super::file::{AdminFile, DaysFile, OnRejectFile, WorkingHoursFile};
use super::*;
use crate::delay::Delay;

/// Reminders a profile may have: as many as the reminder draw slot has word pairs for.
pub(super) const MAX_REMINDERS: usize = crate::draws::reminder_slot::MAX_REMINDERS;

/// Parameter draws a profile may have: far more than replications ever need to carry a
/// fit's uncertainty, few enough to keep scenario files small.
pub(super) const MAX_PARAMETER_DRAWS: usize = 10_000;

pub(super) fn admin_profiles(
    files: &BTreeMap<String, AdminFile>,
) -> Check<BTreeMap<String, AdminProfile>> {
    let mut profiles: BTreeMap<String, AdminProfile> = presets::builtin_admins()
        .into_iter()
        .map(|p| (p.name.clone(), p))
        .collect();
    for (name, a) in files {
        check_label(
            &format!("admins.{}", input::echo(name)),
            name,
            "profile name",
        )?;
        let builtin = profiles.get(name);
        let profile = profile(name, a, builtin, builtin.unwrap_or(&profiles["default"]))?;
        profiles.insert(name.clone(), profile);
    }
    Ok(profiles)
}

/// The profile `name` as file `a` gives it. A profile named like a built-in one
/// changes only the keys it gives (so `--set admins.careful.approve=0.5` works), a new
/// profile must give both probabilities; a delay not given is `inherited`'s.
fn profile(
    name: &str,
    a: &AdminFile,
    builtin: Option<&AdminProfile>,
    inherited: &AdminProfile,
) -> Check<AdminProfile> {
    let field = |key: &str| format!("admins.{name}.{key}");
    let required = |value: Option<f64>, key: &str, inherited: Option<f64>| {
        value.or(inherited).ok_or_else(|| {
            FieldError::new(
                field(key),
                format!(
                    "is required for the new profile {name:?} (the built-in profiles {} may leave it out)",
                    presets::builtin_admins().iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
                ),
            )
        })
    };
    let approve = probability(
        required(a.approve, "approve", builtin.map(|b| b.approve))?,
        &field("approve"),
    )?;
    let reject = probability(
        required(a.reject, "reject", builtin.map(|b| b.reject))?,
        &field("reject"),
    )?;
    if approve + reject > 1.0 + 1e-12 {
        return Err(FieldError::new(
            field("reject"),
            format!(
                "approve + reject = {} exceeds 1; the rest (1 - approve - reject) is the share who ignore",
                approve + reject
            ),
        ));
    }
    let delay = match &a.delay {
        Some(d) => Delay::from_file(d, &field("delay"))?,
        None => inherited.delay.clone(),
    };
    let on_reject = match a.on_reject {
        Some(OnRejectFile::Uninstall) => OnReject::Uninstall,
        Some(OnRejectFile::Stay) => OnReject::Stay,
        None => builtin.map_or(OnReject::Stay, |b| b.on_reject),
    };
    let working_hours = match &a.working_hours {
        Some(w) => Some(working_hours(w, &field("working_hours"))?),
        None => None,
    };
    let (reminders, reminder_response) = reminders(a, &field)?;
    Ok(AdminProfile {
        name: name.to_string(),
        approve,
        reject,
        delay,
        on_reject,
        working_hours,
        reminders,
        reminder_response,
        parameter_draws: parameter_draws(name, a, reject)?,
    })
}

/// The reminders' offsets and the probability that an ignoring admin responds to each.
fn reminders(a: &AdminFile, field: &dyn Fn(&str) -> String) -> Check<(Vec<SimDuration>, f64)> {
    let reminders: Vec<SimDuration> = a.reminders.iter().map(|d| d.0).collect();
    if reminders.len() > MAX_REMINDERS {
        return Err(FieldError::new(
            field("reminders"),
            format!(
                "at most {MAX_REMINDERS} reminders are modelled, got {}",
                reminders.len()
            ),
        ));
    }
    if reminders.windows(2).any(|w| w[1] <= w[0]) {
        return Err(FieldError::new(
            field("reminders"),
            "reminder offsets must be strictly increasing",
        ));
    }
    let reminder_response = probability(
        a.reminder_response.unwrap_or(0.0),
        &field("reminder_response"),
    )?;
    if !reminders.is_empty() && a.reminder_response.is_none() {
        return Err(FieldError::new(
            field("reminder_response"),
            "is required with reminders: the probability that an ignoring admin responds to each",
        ));
    }
    Ok((reminders, reminder_response))
}

/// Draws of (approve, delay) carrying a fit's uncertainty, one per replication; each
/// approve leaves room for the profile's `reject`.
fn parameter_draws(name: &str, a: &AdminFile, reject: f64) -> Check<Vec<(f64, Delay)>> {
    if a.parameter_draws.len() > MAX_PARAMETER_DRAWS {
        return Err(FieldError::new(
            format!("admins.{name}.parameter_draws"),
            format!(
                "at most {MAX_PARAMETER_DRAWS} draws, got {}",
                a.parameter_draws.len()
            ),
        ));
    }
    a.parameter_draws
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let at = |key: &str| format!("admins.{name}.parameter_draws[{i}].{key}");
            let approve = probability(d.approve, &at("approve"))?;
            if approve + reject > 1.0 + 1e-12 {
                return Err(FieldError::new(
                    at("approve"),
                    format!(
                        "approve + reject = {} exceeds 1 (reject is the profile's, {reject})",
                        approve + reject
                    ),
                ));
            }
            Ok((approve, Delay::from_file(&d.delay, &at("delay"))?))
        })
        .collect()
}

fn working_hours(w: &WorkingHoursFile, field: &str) -> Check<WorkingHours> {
    let (from, to) = (
        time_of_day(&w.from, &format!("{field}.from"))?,
        time_of_day(&w.to, &format!("{field}.to"))?,
    );
    if from >= to {
        return Err(FieldError::new(
            format!("{field}.to"),
            "working hours must end after they start on the same day",
        ));
    }
    Ok(WorkingHours {
        days: days(&w.days, &format!("{field}.days"))?,
        from,
        to,
    })
}

/// Working hours written `DAYS HH:MM-HH:MM` (days as in a scenario, several joined by
/// commas: `mon-fri 09:00-17:00`, `mon,wed 08:00-12:00`), checked as a scenario's are.
pub(crate) fn working_hours_text(text: &str) -> Result<WorkingHours, String> {
    let not_hours = || {
        format!(
            "{:?} is not working hours; expected DAYS HH:MM-HH:MM, e.g. \"mon-fri 09:00-17:00\"",
            crate::input::echo(text)
        )
    };
    let (days, times) = text
        .trim()
        .split_once(char::is_whitespace)
        .ok_or_else(not_hours)?;
    let (from, to) = times.trim().split_once('-').ok_or_else(not_hours)?;
    let file = WorkingHoursFile {
        days: DaysFile::List(days.split(',').map(str::to_string).collect()),
        from: from.trim().into(),
        to: to.trim().into(),
    };
    working_hours(&file, "working hours").map_err(|e| format!("{}: {}", e.field, e.message))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profiles(v: serde_json::Value) -> Check<BTreeMap<String, AdminProfile>> {
        admin_profiles(&serde_json::from_value(v).unwrap())
    }

    #[test]
    fn a_built_in_profile_is_merged_a_new_one_is_complete() {
        let p = profiles(json!({"careful": {"approve": 0.5}})).unwrap();
        let builtin = presets::builtin_admins()
            .into_iter()
            .find(|b| b.name == "careful")
            .unwrap();
        assert_eq!(p["careful"].approve, 0.5);
        assert_eq!(
            (p["careful"].reject, &p["careful"].delay),
            (builtin.reject, &builtin.delay)
        );
        assert_eq!(
            profiles(json!({"new": {"approve": 0.5}}))
                .unwrap_err()
                .field,
            "admins.new.reject"
        );
        assert_eq!(
            profiles(json!({"x": {"approve": 0.8, "reject": 0.3}}))
                .unwrap_err()
                .field,
            "admins.x.reject"
        );
    }

    #[test]
    fn reminders_are_bounded_by_the_draw_layout() {
        let many: Vec<String> = (1..=MAX_REMINDERS + 1).map(|d| format!("{d}d")).collect();
        let e = profiles(json!({"x": {"approve": 0.5, "reject": 0.0, "reminders": many, "reminder_response": 0.5}})).unwrap_err();
        assert_eq!(e.field, "admins.x.reminders");
        assert_eq!(MAX_REMINDERS, 7);
    }
}
