//! Raw scenario file -> typed [`Scenario`], checking every value against what is allowed.
//!
//! As ripgrep turns its low-level arguments into typed high-level ones once, each section
//! of the file has its own module that turns its raw part into typed values and names
//! the field of anything wrong: [`timing`], [`admins`], [`calendars`], [`population`],
//! [`releases`], [`policy`] and [`report`]. This module checks the top-level keys and
//! puts the sections together.

mod admins;
pub(crate) use admins::working_hours_text;
mod calendars;
mod policy;
mod population;
mod releases;
mod report;
mod timing;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use super::file::ScenarioFile;
use super::*;
use crate::input;
pub(super) use crate::input::{positive, range};
use crate::platform::{Facts, Permissions};
use crate::time::SimDuration;

/// A checked value, or the field that is wrong and why.
pub(super) type Check<T> = Result<T, FieldError>;

/// The longest scenario name: it becomes a folder name under `output/`.
pub(super) const MAX_NAME_LEN: usize = 100;

/// A scenario's name names its default output folder (`output/<name>`), so it must be a
/// plain slug that cannot leave `output/`: letters, digits, `-`, `_` and `.`, starting
/// with a letter or digit, at most [`MAX_NAME_LEN`] characters. It must also name a
/// folder on every system, so that a scenario that runs on one runs on all: not a
/// Windows device name ([`windows_device`]) and not ending in `.` (which Windows drops,
/// so `a.` would write into `a`).
fn check_name(name: &str) -> Check<()> {
    let ok = name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if !ok {
        return Err(FieldError::new(
            "name",
            format!(
                "\"{}\" is not allowed; a name is 1 to {MAX_NAME_LEN} of the characters A-Z a-z 0-9 - _ . starting with a letter or digit (it names the output folder output/<name>)",
                input::echo(name)
            ),
        ));
    }
    let unportable = if let Some(device) = windows_device(name) {
        format!(
            "{device} is a device name on Windows, so output/{name} could not be a folder there; choose another name"
        )
    } else if name.ends_with('.') {
        format!(
            "a name must not end in \".\" (Windows drops it, so output/{name} would be another folder there)"
        )
    } else {
        return Ok(());
    };
    Err(FieldError::new(
        "name",
        format!("\"{name}\" is not allowed: {unportable}"),
    ))
}

/// The device name a file name stands for on Windows, whatever its case and extension
/// (`con`, `Aux.json`, `COM1.txt`): such a name opens the device, not a file.
fn windows_device(name: &str) -> Option<String> {
    let stem = name.split('.').next().unwrap_or(name).to_ascii_uppercase();
    let numbered = |prefix: &str| {
        stem.strip_prefix(prefix)
            .is_some_and(|n| n.len() == 1 && n.as_bytes()[0].is_ascii_digit())
    };
    (matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL") || numbered("COM") || numbered("LPT"))
        .then_some(stem)
}

/// The longest segment name or release label: they head table rows and chart legends.
pub(super) const MAX_LABEL_LEN: usize = 200;

/// A segment name or release label is printed to terminals, tables, CSV and charts, so it
/// is one line of printable text: not empty, no control character (ESC, BEL, CR, a
/// newline could drive or garble a terminal), at most [`MAX_LABEL_LEN`] characters.
pub(super) fn check_label(field: &str, text: &str, what: &str) -> Check<()> {
    if text.trim().is_empty() {
        return Err(FieldError::new(
            field,
            format!("a {what} must not be empty"),
        ));
    }
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        return Err(FieldError::new(
            field,
            format!(
                "\"{}\" holds the control character U+{:04X}; a {what} is one line of printable text (it is printed to terminals)",
                input::echo(text),
                u32::from(c)
            ),
        ));
    }
    let len = text.chars().count();
    if len > MAX_LABEL_LEN {
        return Err(FieldError::new(
            field,
            format!("a {what} is at most {MAX_LABEL_LEN} characters, got {len}"),
        ));
    }
    Ok(())
}

pub(super) fn time_of_day(text: &str, field: &str) -> Check<NaiveTime> {
    NaiveTime::parse_from_str(text, "%H:%M").map_err(|_| {
        FieldError::new(
            field,
            format!("{text:?} is not a time of day; expected HH:MM, e.g. \"09:00\""),
        )
    })
}

pub(super) fn validate(f: ScenarioFile) -> Check<Scenario> {
    check_name(&f.name)?;
    let preset = presets::by_name(&f.platform).ok_or_else(|| {
        let names: Vec<_> = presets::all().iter().map(|p| p.name).collect();
        FieldError::new(
            "platform",
            format!(
                "unknown platform {:?}; allowed: {}",
                f.platform,
                names.join(", ")
            ),
        )
    })?;
    let platform = if preset.numbering == NumberingRule::Forge {
        Platform::Forge
    } else {
        Platform::Connect
    };
    let start = DateTime::parse_from_rfc3339(&f.start)
        .map_err(|e| {
            FieldError::new(
                "start",
                format!(
                    "{:?} is not an RFC 3339 instant ({e}), e.g. \"2026-03-02T14:00:00Z\"",
                    f.start
                ),
            )
        })?
        .with_timezone(&Utc);
    let horizon = f.horizon.0;
    if horizon.is_zero() {
        return Err(FieldError::new("horizon", "must be longer than zero"));
    }
    let replications = u32::try_from(f.replications)
        .ok()
        .filter(|&r| r > 0)
        .ok_or_else(|| {
            FieldError::new(
                "replications",
                format!("must be between 1 and {}, got {}", u32::MAX, f.replications),
            )
        })?;
    let initial_version = parse_version(&f.initial_version, "initial_version", platform)?;
    let timing = timing::timing(preset.timing.clone(), &f.timing, platform)?;
    let rules = timing::rules(&f.rules);
    let admins = admins::admin_profiles(&f.admins)?;
    let calendars = calendars::calendars(&f.maintenance)?;
    let population = population::population(&f.population, &admins, &calendars)?;
    let initial_permissions = Permissions {
        scopes: f.initial_scopes.iter().cloned().collect(),
        paid: f.initial_licensing == Some(file::LicensingFile::Paid),
    };
    if platform == Platform::Forge && f.initial_api_version.is_some() {
        return Err(FieldError::new(
            "initial_api_version",
            "API versions exist only on Connect",
        ));
    }
    let initial_facts = Facts {
        permissions: initial_permissions.clone(),
        api_version: f.initial_api_version.unwrap_or(initial_version.major),
    };
    let releases = releases::releases(
        &f.releases,
        start,
        horizon,
        platform,
        &initial_facts,
        initial_version.major,
        rules,
    )?;
    releases::check_version_numbers(&releases, preset.numbering, initial_version)?;
    let policy = policy::policy(&f.policy, start, platform)?;
    let report = report::report(&f.report, horizon)?;
    let expect = report::expectations(&f.expect)?;
    Ok(Scenario {
        name: f.name,
        description: f.description,
        platform,
        preset: preset.name,
        numbering: preset.numbering,
        start,
        horizon,
        seed: f.seed,
        replications,
        initial_version,
        initial_permissions,
        timing,
        rules,
        population,
        releases,
        policy,
        report,
        expect,
    })
}

fn parse_version(text: &str, field: &str, platform: Platform) -> Check<Version> {
    let v = Version::parse(text).ok_or_else(|| {
        FieldError::new(
            field,
            format!("{text:?} is not a version; expected MAJOR.MINOR.MICRO, e.g. \"1.4.2\""),
        )
    })?;
    if platform == Platform::Forge && v.micro != 0 {
        return Err(FieldError::new(
            field,
            format!("{text:?}: Forge versions have the form MAJOR.MINOR.0"),
        ));
    }
    Ok(v)
}

pub(super) fn probability(value: f64, field: &str) -> Check<f64> {
    if !(0.0..=1.0).contains(&value) {
        return Err(FieldError::new(
            field,
            format!("{value} is not a probability; allowed: 0 to 1"),
        ));
    }
    Ok(value)
}

pub(super) fn time_zone(name: &str, field: &str) -> Check<Tz> {
    name.parse::<Tz>().map_err(|_| {
        let names = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name());
        FieldError::new(
            field,
            format!(
                "unknown time zone {name:?}{}; expected an IANA name such as \"Europe/Berlin\" or \"UTC\"",
                did_you_mean(name, names)
            ),
        )
    })
}

/// " (did you mean \"Europe/Berlin\"?)" when one of `candidates` is close to `given`
/// (Jaro-Winkler similarity of at least 0.85, case ignored), else nothing.
pub(super) fn did_you_mean<'a>(
    given: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    let given = given.to_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&given, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.85)
        .fold(None, |best: Option<(f64, &str)>, (score, c)| match best {
            Some((b, _)) if b >= score => best,
            _ => Some((score, c)),
        })
        .map_or(String::new(), |(_, c)| format!(" (did you mean {c:?}?)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_slugs() {
        for ok in ["a", "connect-micro", "v1.2_x"] {
            assert!(check_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", ".a", "a/b", "../x", "a b", "ä"] {
            assert_eq!(check_name(bad).unwrap_err().field, "name", "{bad}");
        }
        // Names that are devices or lose their last character on Windows, in any case,
        // with or without an extension; names that only start like one are fine.
        for device in [
            "con", "CON", "Aux.json", "nul.x.y", "COM1", "lpt9.txt", "prn", "a.",
        ] {
            let e = check_name(device).unwrap_err();
            assert_eq!(e.field, "name", "{device}");
            assert!(e.message.contains("Windows"), "{device}: {}", e.message);
        }
        for fine in [
            "console",
            "com10",
            "lpt",
            "nul-check",
            "auxiliary.v1",
            "comX",
            "a.b",
        ] {
            assert!(check_name(fine).is_ok(), "{fine}");
        }
        assert!(check_name(&"x".repeat(MAX_NAME_LEN)).is_ok());
        assert!(check_name(&"x".repeat(MAX_NAME_LEN + 1)).is_err());
    }

    #[test]
    fn shared_checks_name_their_field() {
        assert_eq!(probability(1.5, "p").unwrap_err().field, "p");
        assert!(probability(0.0, "p").is_ok() && probability(1.0, "p").is_ok());
        assert!(time_of_day("24:00", "t").is_err());
        assert_eq!(
            time_of_day("09:30", "t").unwrap(),
            NaiveTime::from_hms_opt(9, 30, 0).unwrap()
        );
        assert!(time_zone("Mars/Olympus", "z").is_err());
        assert!(positive(SimDuration::ZERO, "d").is_err());
        assert_eq!(
            parse_version("1.4.2", "v", Platform::Forge)
                .unwrap_err()
                .message,
            "\"1.4.2\": Forge versions have the form MAJOR.MINOR.0"
        );
    }
}
