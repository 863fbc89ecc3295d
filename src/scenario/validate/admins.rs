//! `admins`: admin behaviour profiles, built-in ones merged with the file's.

use super::calendars::days;
use super::file::{AdminFile, DaysFile, DelayFile, OnRejectFile, WorkingHoursFile};
use super::*;

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
        let field = |key: &str| format!("admins.{name}.{key}");
        // A profile named like a built-in one changes only the keys it gives (so
        // `--set admins.careful.approve=0.5` works); a new profile must give both
        // probabilities.
        let builtin = profiles.get(name).cloned();
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
            required(a.approve, "approve", builtin.as_ref().map(|b| b.approve))?,
            &field("approve"),
        )?;
        let reject = probability(
            required(a.reject, "reject", builtin.as_ref().map(|b| b.reject))?,
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
            Some(d) => delay(d, &field("delay"))?,
            None => builtin
                .as_ref()
                .unwrap_or(&profiles["default"])
                .delay
                .clone(),
        };
        let on_reject = match a.on_reject {
            Some(OnRejectFile::Uninstall) => OnReject::Uninstall,
            Some(OnRejectFile::Stay) => OnReject::Stay,
            None => builtin.as_ref().map_or(OnReject::Stay, |b| b.on_reject),
        };
        let working_hours = match &a.working_hours {
            Some(w) => Some(working_hours(w, &field("working_hours"))?),
            None => None,
        };
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
        if a.parameter_draws.len() > MAX_PARAMETER_DRAWS {
            return Err(FieldError::new(
                field("parameter_draws"),
                format!(
                    "at most {MAX_PARAMETER_DRAWS} draws, got {}",
                    a.parameter_draws.len()
                ),
            ));
        }
        let parameter_draws = a
            .parameter_draws
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
                Ok((approve, self::delay(&d.delay, &at("delay"))?))
            })
            .collect::<Check<Vec<_>>>()?;
        profiles.insert(
            name.clone(),
            AdminProfile {
                name: name.clone(),
                approve,
                reject,
                delay,
                on_reject,
                working_hours,
                reminders,
                reminder_response,
                parameter_draws,
            },
        );
    }
    Ok(profiles)
}

pub(super) fn delay(d: &DelayFile, field: &str) -> Check<Delay> {
    Ok(match d {
        DelayFile::Fixed(x) => Delay::Fixed(x.0),
        DelayFile::Uniform(pair) => {
            let (lo, hi) = range(pair, &format!("{field}.uniform"))?;
            Delay::Uniform(lo, hi)
        }
        DelayFile::Exponential { mean } => Delay::Exponential {
            mean: positive(mean.0, &format!("{field}.exponential.mean"))?,
        },
        DelayFile::Lognormal { median, sigma } => {
            if !(sigma.is_finite() && *sigma >= 0.0) {
                return Err(FieldError::new(
                    format!("{field}.lognormal.sigma"),
                    format!("{sigma} is not allowed; sigma must be a finite number >= 0"),
                ));
            }
            Delay::Lognormal {
                median: positive(median.0, &format!("{field}.lognormal.median"))?,
                sigma: *sigma,
            }
        }
        DelayFile::Weibull { shape, scale } => Delay::Weibull {
            shape: shape_in_range(*shape, &format!("{field}.weibull.shape"))?,
            scale: positive(scale.0, &format!("{field}.weibull.scale"))?,
        },
        DelayFile::Gamma { shape, scale } => Delay::Gamma {
            shape: shape_in_range(*shape, &format!("{field}.gamma.shape"))?,
            scale: positive(scale.0, &format!("{field}.gamma.scale"))?,
        },
        DelayFile::Empirical(rows) => {
            if rows.is_empty() {
                return Err(FieldError::new(
                    format!("{field}.empirical"),
                    "needs at least one [duration, cumulative probability] row",
                ));
            }
            let mut table = Vec::with_capacity(rows.len());
            let (mut last_d, mut last_p) = (SimDuration::ZERO, 0.0);
            for (i, (d, p)) in rows.iter().enumerate() {
                let f = format!("{field}.empirical[{i}]");
                if d.0 < last_d || *p < last_p || !(*p > 0.0 && *p <= 1.0) {
                    return Err(FieldError::new(
                        f,
                        "rows must have increasing durations and cumulative probabilities in (0, 1]",
                    ));
                }
                (last_d, last_p) = (d.0, *p);
                table.push((d.0, *p));
            }
            if (last_p - 1.0).abs() > 1e-9 {
                return Err(FieldError::new(
                    format!("{field}.empirical[{}]", rows.len() - 1),
                    format!("the last cumulative probability is {last_p}; it must be 1"),
                ));
            }
            Delay::Empirical(table)
        }
        DelayFile::Mixture(components) => {
            let at = format!("{field}.mixture");
            if !(2..=MAX_MIXTURE_COMPONENTS).contains(&components.len()) {
                return Err(FieldError::new(
                    at,
                    format!(
                        "has {} components; a mixture has 2 to {MAX_MIXTURE_COMPONENTS}, each {{\"share\": ..., \"delay\": {{...}}}}",
                        components.len()
                    ),
                ));
            }
            let mut laws = Vec::with_capacity(components.len());
            for (i, c) in components.iter().enumerate() {
                let here = format!("{at}[{i}]");
                if !(c.share.is_finite() && c.share > 0.0 && c.share <= 1.0) {
                    return Err(FieldError::new(
                        format!("{here}.share"),
                        format!(
                            "{} is not allowed; a share is above 0 and at most 1",
                            c.share
                        ),
                    ));
                }
                if matches!(c.delay, DelayFile::Mixture(_)) {
                    return Err(FieldError::new(
                        format!("{here}.delay"),
                        "a component cannot itself be a mixture; list its parts as components",
                    ));
                }
                laws.push((c.share, delay(&c.delay, &format!("{here}.delay"))?));
            }
            let total: f64 = laws.iter().map(|l| l.0).sum();
            if (total - 1.0).abs() > 1e-9 {
                return Err(FieldError::new(
                    at,
                    format!("the shares sum to {total}; they must sum to 1"),
                ));
            }
            Delay::Mixture(laws)
        }
    })
}

/// Components a mixture delay may have.
const MAX_MIXTURE_COMPONENTS: usize = 8;

/// The shapes a Weibull or gamma delay may take: beyond them the quantiles of the
/// extreme draws leave any meaningful range of durations.
pub(crate) const SHAPE_RANGE: (f64, f64) = (0.05, 100.0);

fn shape_in_range(shape: f64, field: &str) -> Check<f64> {
    let (lo, hi) = SHAPE_RANGE;
    if shape.is_finite() && (lo..=hi).contains(&shape) {
        Ok(shape)
    } else {
        Err(FieldError::new(
            field.to_string(),
            format!("{shape} is not allowed; the shape must be between {lo} and {hi}"),
        ))
    }
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

    #[test]
    fn delay_laws_are_checked() {
        let d = |v: serde_json::Value| delay(&serde_json::from_value(v).unwrap(), "d");
        assert!(d(json!({"lognormal": {"median": "1d", "sigma": 1.0}})).is_ok());
        assert_eq!(
            d(json!({"lognormal": {"median": "1d", "sigma": -1.0}}))
                .unwrap_err()
                .field,
            "d.lognormal.sigma"
        );
        assert!(d(json!({"weibull": {"shape": 1.5, "scale": "2d"}})).is_ok());
        assert!(d(json!({"gamma": {"shape": 2.0, "scale": "1d"}})).is_ok());
        assert_eq!(
            d(json!({"weibull": {"shape": 0.0, "scale": "2d"}}))
                .unwrap_err()
                .field,
            "d.weibull.shape"
        );
        assert_eq!(
            d(json!({"gamma": {"shape": 2.0, "scale": "0h"}}))
                .unwrap_err()
                .field,
            "d.gamma.scale"
        );
        assert_eq!(
            d(json!({"empirical": [["1h", 0.5]]})).unwrap_err().field,
            "d.empirical[0]"
        );
    }
}
