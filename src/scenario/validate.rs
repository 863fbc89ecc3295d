//! Raw scenario file -> typed [`Scenario`], checking every value against what is allowed.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use super::file::{
    AdminFile, CalendarFile, ChangeKindFile, DaysFile, DelayFile, OnRejectFile, ScenarioFile,
    WindowFile,
};
use super::*;
use crate::model::plan::Permissions;
use crate::model::version::{Bump, derive_versions};
use crate::time::{SimDuration, SimTime};

type Check<T> = Result<T, FieldError>;

const SHARE_TOLERANCE: f64 = 1e-6;

/// Each reminder uses two uniforms of the admin's 16-word draw slot, after two for the
/// first response.
pub const MAX_REMINDERS: usize = 7;

/// Segments are encoded in 8 bits of the report's sweep keys.
pub const MAX_SEGMENTS: usize = 256;

/// The longest scenario name: it becomes a folder name under `output/`.
pub const MAX_NAME_LEN: usize = 100;

/// A scenario's name names its default output folder (`output/<name>`), so it must be a
/// plain slug that cannot leave `output/`: letters, digits, `-`, `_` and `.`, starting
/// with a letter or digit, at most [`MAX_NAME_LEN`] characters.
fn check_name(name: &str) -> Check<()> {
    let ok = name.len() <= MAX_NAME_LEN
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        return Ok(());
    }
    Err(FieldError::new(
        "name",
        format!(
            "{name:?} is not allowed; a name is 1 to {MAX_NAME_LEN} of the characters A-Z a-z 0-9 - _ . starting with a letter or digit (it names the output folder output/<name>)"
        ),
    ))
}

fn time_of_day(text: &str, field: &str) -> Check<NaiveTime> {
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
    let timing = timing(preset.timing.clone(), &f.timing)?;
    if platform == Platform::Connect && f.timing.migration_spread.is_some() {
        return Err(FieldError::new(
            "timing.migration_spread",
            "applies to a move from Connect to Forge: use the connect-to-forge platform",
        ));
    }
    let rules = PlatformRules {
        scope_removal_needs_approval: f
            .rules
            .scope_removal
            .is_none_or(|r| r == file::ScopeRemovalFile::Approval),
        gate_crosses_major_lines: f.rules.gate_crosses_major_lines.unwrap_or(false),
    };
    let admins = admin_profiles(&f.admins)?;
    let calendars = calendars(&f.maintenance)?;
    let population = population(&f.population, &admins, &calendars)?;
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
    let releases = releases(
        &f.releases,
        start,
        horizon,
        platform,
        &initial_facts,
        initial_version.major,
        rules,
    )?;
    let bumps = releases.iter().map(|r| Bump {
        changes: r.changes,
        api_version: r.api_version,
        line: r.line,
    });
    if let Err(k) = derive_versions(preset.numbering, initial_version, bumps) {
        return Err(FieldError::new(
            format!("releases[{k}]"),
            format!(
                "this release's version number would pass {} (the largest a version component may be); start from a smaller initial_version",
                u32::MAX
            ),
        ));
    }
    let policy = Policy {
        drop_old_support_after: f.policy.drop_old_support_after.map(|d| d.0),
        uninstall_unapproved_after: f.policy.uninstall_unapproved_after.map(|d| d.0),
        bulk_upgrade: bulk_upgrade(&f.policy, start, platform)?,
        cutoff: cutoff(&f.policy, start, platform)?,
    };
    let report = report(&f.report, horizon)?;
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

fn probability(value: f64, field: &str) -> Check<f64> {
    if !(0.0..=1.0).contains(&value) {
        return Err(FieldError::new(
            field,
            format!("{value} is not a probability; allowed: 0 to 1"),
        ));
    }
    Ok(value)
}

fn range(pair: &[file::DurationText; 2], field: &str) -> Check<(SimDuration, SimDuration)> {
    let (lo, hi) = (pair[0].0, pair[1].0);
    if lo > hi {
        return Err(FieldError::new(
            field,
            format!("the lower bound {lo} is above the upper bound {hi}"),
        ));
    }
    Ok((lo, hi))
}

fn positive(d: SimDuration, field: &str) -> Check<SimDuration> {
    if d.is_zero() {
        return Err(FieldError::new(field, "must be longer than zero"));
    }
    Ok(d)
}

fn timing(mut t: Timing, f: &file::TimingFile) -> Check<Timing> {
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

/// Built-in admin profiles, usable by name and overridable in `admins`. Every number is an
/// assumption, documented in the README.
pub fn builtin_admins() -> Vec<AdminProfile> {
    let lognormal = |median_h: i64, sigma: f64| Delay::Lognormal {
        median: SimDuration::from_hours(median_h),
        sigma,
    };
    let profile = |name: &str, approve, reject, delay| AdminProfile {
        name: name.into(),
        approve,
        reject,
        delay,
        on_reject: OnReject::Stay,
        working_hours: None,
        reminders: Vec::new(),
        reminder_response: 0.0,
    };
    vec![
        profile("default", 0.75, 0.05, lognormal(48, 1.2)),
        profile("prompt", 0.95, 0.02, lognormal(4, 1.0)),
        profile("casual", 0.70, 0.05, lognormal(72, 1.2)),
        profile("careful", 0.90, 0.05, lognormal(168, 0.8)),
    ]
}

fn admin_profiles(files: &BTreeMap<String, AdminFile>) -> Check<BTreeMap<String, AdminProfile>> {
    let mut profiles: BTreeMap<String, AdminProfile> = builtin_admins()
        .into_iter()
        .map(|p| (p.name.clone(), p))
        .collect();
    for (name, a) in files {
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
                        builtin_admins().iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", ")
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
            Some(w) => {
                let field = field("working_hours");
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
                Some(WorkingHours {
                    days: days(&w.days, &format!("{field}.days"))?,
                    from,
                    to,
                })
            }
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
            },
        );
    }
    Ok(profiles)
}

fn delay(d: &DelayFile, field: &str) -> Check<Delay> {
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
    })
}

/// The platform's default maintenance window: daily 01:00 to 03:00 in the site's zone.
pub fn platform_window() -> Calendar {
    Calendar {
        windows: vec![Window {
            days: [true; 7],
            from: NaiveTime::from_hms_opt(1, 0, 0).expect("valid time"),
            to: NaiveTime::from_hms_opt(3, 0, 0).expect("valid time"),
            zone: WindowZone::Site,
        }],
    }
}

fn calendars(files: &BTreeMap<String, CalendarFile>) -> Check<BTreeMap<String, Calendar>> {
    let mut out = BTreeMap::from([
        ("default".to_string(), platform_window()),
        ("none".to_string(), Calendar::default()),
    ]);
    for (name, c) in files {
        let list: Vec<(&WindowFile, String)> = match c {
            CalendarFile::One(w) => vec![(w, format!("maintenance.{name}"))],
            CalendarFile::Many(ws) => ws
                .iter()
                .enumerate()
                .map(|(i, w)| (w, format!("maintenance.{name}[{i}]")))
                .collect(),
        };
        let windows = list
            .into_iter()
            .map(|(w, field)| window(w, &field))
            .collect::<Check<Vec<_>>>()?;
        out.insert(name.clone(), Calendar { windows });
    }
    Ok(out)
}

fn window(w: &WindowFile, field: &str) -> Check<Window> {
    let time = |text: &str, key: &str| time_of_day(text, &format!("{field}.{key}"));
    let (from, to) = (time(&w.from, "from")?, time(&w.to, "to")?);
    if from == to {
        return Err(FieldError::new(
            format!("{field}.to"),
            "the window is empty: `to` equals `from`",
        ));
    }
    let zone = match w.zone.as_str() {
        "site" => WindowZone::Site,
        name => WindowZone::Named(time_zone(name, &format!("{field}.zone"))?),
    };
    Ok(Window {
        days: days(&w.days, &format!("{field}.days"))?,
        from,
        to,
        zone,
    })
}

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

fn days(d: &DaysFile, field: &str) -> Check<[bool; 7]> {
    let bad = |text: &str| {
        FieldError::new(
            field,
            format!(
                "{text:?} is not a set of days; allowed: \"daily\", \"weekdays\", \"weekends\", a day (\"mon\"), a range (\"mon-fri\") or a list [\"sat\", \"sun\"]"
            ),
        )
    };
    let day = |name: &str| {
        DAY_NAMES
            .iter()
            .position(|d| *d == name.trim().to_ascii_lowercase())
    };
    let mut set = [false; 7];
    let items: Vec<String> = match d {
        DaysFile::Text(t) => vec![t.clone()],
        DaysFile::List(l) => l.clone(),
    };
    for item in &items {
        match item.trim().to_ascii_lowercase().as_str() {
            "daily" => set = [true; 7],
            "weekdays" => set[..5].iter_mut().for_each(|d| *d = true),
            "weekends" => set[5..].iter_mut().for_each(|d| *d = true),
            other => match other.split_once('-') {
                Some((a, b)) => {
                    let (a, b) = (
                        day(a).ok_or_else(|| bad(item))?,
                        day(b).ok_or_else(|| bad(item))?,
                    );
                    let mut i = a;
                    loop {
                        set[i] = true;
                        if i == b {
                            break;
                        }
                        i = (i + 1) % 7;
                    }
                }
                None => set[day(other).ok_or_else(|| bad(item))?] = true,
            },
        }
    }
    if !set.iter().any(|&d| d) {
        return Err(bad(&format!("{items:?}")));
    }
    Ok(set)
}

fn time_zone(name: &str, field: &str) -> Check<Tz> {
    name.parse::<Tz>().map_err(|_| {
        FieldError::new(field, format!("unknown time zone {name:?}; expected an IANA name such as \"Europe/Berlin\" or \"UTC\""))
    })
}

fn population(
    p: &file::PopulationFile,
    admins: &BTreeMap<String, AdminProfile>,
    calendars: &BTreeMap<String, Calendar>,
) -> Check<Population> {
    if p.instances == 0 {
        return Err(FieldError::new(
            "population.instances",
            "must be at least 1",
        ));
    }
    for (key, value) in [
        ("installs_per_day", p.churn.installs_per_day),
        ("uninstall_rate_per_day", p.churn.uninstall_rate_per_day),
    ] {
        if !(value.is_finite() && value >= 0.0) {
            return Err(FieldError::new(
                format!("population.churn.{key}"),
                format!("{value} is not allowed; a rate is a number >= 0"),
            ));
        }
    }
    let churn = Churn {
        installs_per_day: p.churn.installs_per_day,
        uninstall_rate_per_day: p.churn.uninstall_rate_per_day,
    };
    let Some(files) = &p.segments else {
        return Ok(Population {
            instances: p.instances,
            segments: vec![Segment {
                name: "all".into(),
                share: 1.0,
                zones: vec![(Tz::UTC, 1.0)],
                admin: admins["default"].clone(),
                maintenance: calendars["default"].clone(),
                holidays: Vec::new(),
                weight: 1.0,
            }],
            churn,
        });
    };
    if files.is_empty() {
        return Err(FieldError::new(
            "population.segments",
            "needs at least one segment (or leave the key out)",
        ));
    }
    if files.len() > MAX_SEGMENTS {
        return Err(FieldError::new(
            "population.segments",
            format!("at most {MAX_SEGMENTS} segments, got {}", files.len()),
        ));
    }
    let mut segments = Vec::with_capacity(files.len());
    for (i, s) in files.iter().enumerate() {
        let field = |key: &str| format!("population.segments[{i}].{key}");
        if !(s.share.is_finite() && s.share >= 0.0 && s.share <= 1.0) {
            return Err(FieldError::new(
                field("share"),
                format!("{} is not allowed; a share is between 0 and 1", s.share),
            ));
        }
        let zones = match &s.timezones {
            None => vec![(Tz::UTC, 1.0)],
            Some(map) if map.is_empty() => {
                return Err(FieldError::new(
                    field("timezones"),
                    "needs at least one time zone",
                ));
            }
            Some(map) => {
                let mut zones = Vec::with_capacity(map.len());
                for (name, &w) in map {
                    let zone = time_zone(name, &format!("{}.{name}", field("timezones")))?;
                    if !(w.is_finite() && w > 0.0) {
                        return Err(FieldError::new(
                            format!("{}.{name}", field("timezones")),
                            format!("weight {w} is not allowed; weights are positive numbers"),
                        ));
                    }
                    zones.push((zone, w));
                }
                let total: f64 = zones.iter().map(|z| z.1).sum();
                zones.iter_mut().for_each(|z| z.1 /= total);
                zones
            }
        };
        let admin_name = s.admin.as_deref().unwrap_or("default");
        let admin = admins.get(admin_name).cloned().ok_or_else(|| {
            FieldError::new(
                field("admin"),
                format!(
                    "unknown admin profile {admin_name:?}; defined: {}",
                    admins.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        let cal_name = s.maintenance.as_deref().unwrap_or("default");
        let maintenance = calendars.get(cal_name).cloned().ok_or_else(|| {
            FieldError::new(
                field("maintenance"),
                format!(
                    "unknown maintenance calendar {cal_name:?}; defined: {}",
                    calendars.keys().cloned().collect::<Vec<_>>().join(", ")
                ),
            )
        })?;
        let holidays = s
            .holidays
            .iter()
            .enumerate()
            .map(|(j, d)| {
                NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                    FieldError::new(
                        format!("{}[{j}]", field("holidays")),
                        format!("{d:?} is not a date; expected YYYY-MM-DD"),
                    )
                })
            })
            .collect::<Check<Vec<_>>>()?;
        let weight = s.weight.unwrap_or(1.0);
        if !(weight.is_finite() && weight > 0.0 && weight <= 1e6) {
            return Err(FieldError::new(
                field("weight"),
                format!("{weight} is not allowed; a weight is a number above 0 and at most 1e6"),
            ));
        }
        segments.push(Segment {
            weight,
            holidays,
            name: s.name.clone(),
            share: s.share,
            zones,
            admin,
            maintenance,
        });
    }
    let total: f64 = segments.iter().map(|s| s.share).sum();
    if (total - 1.0).abs() > SHARE_TOLERANCE {
        return Err(FieldError::new(
            format!("population.segments[{}].share", segments.len() - 1),
            format!(
                "segment shares sum to {}; they must sum to 1",
                (total * 1e9).round() / 1e9
            ),
        ));
    }
    Ok(Population {
        instances: p.instances,
        segments,
        churn,
    })
}

fn release_time(text: &str, start: DateTime<Utc>, field: &str) -> Check<SimTime> {
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

/// The facts of a descriptor that decide versions and approvals.
#[derive(Clone, Debug)]
struct Facts {
    permissions: Permissions,
    api_version: u32,
}

fn release_changes(
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

/// The change kinds between two descriptors, as the Marketplace derives them: added
/// scopes or free -> paid need approval; removed scopes count as changed scopes (and so
/// need approval) unless the rules say otherwise; paid -> free and anything else do not.
fn derive_changes(before: &Facts, after: &Facts, rules: PlatformRules) -> ChangeSet {
    let (b, a) = (&before.permissions, &after.permissions);
    let added = !a.scopes.is_subset(&b.scopes);
    let removed = !b.scopes.is_subset(&a.scopes);
    let removal_is_change = removed && rules.scope_removal_needs_approval;
    ChangeSet {
        api_version: after.api_version != before.api_version,
        scopes: added || removal_is_change,
        licensing: a.paid && !b.paid,
        other: (removed && !removal_is_change && !added) || (b.paid && !a.paid),
    }
}

fn releases(
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
        let stated = r.scopes.is_some() || r.api_version.is_some() || r.licensing.is_some();
        if stated && !r.changes.is_empty() {
            return Err(FieldError::new(
                field("changes"),
                "give either `changes` or the descriptor facts (scopes, api_version, licensing), not both",
            ));
        }
        if let Some(line) = r.line {
            if platform != Platform::Forge {
                return Err(FieldError::new(
                    field("line"),
                    "only Forge keeps several major lines alive; Connect has one descriptor",
                ));
            }
            if stated {
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
            let changes = release_changes(r, platform, &field)?;
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
            out.push(ReleaseSpec {
                at,
                changes,
                label,
                label_given: r.label.is_some(),
                permissions: line_permissions[&line].clone(),
                api_version: None,
                line: Some(line),
            });
            continue;
        }
        let (changes, next) = if stated {
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
            let changes = derive_changes(&current, &next, rules);
            if changes == ChangeSet::default() {
                return Err(FieldError::new(
                    field("scopes"),
                    "the descriptor facts are the same as the previous release's: a deploy that changes no descriptor fact is not a release",
                ));
            }
            (changes, next)
        } else {
            let changes = release_changes(r, platform, &field)?;
            let mut next = current.clone();
            if changes.scopes {
                next.permissions.scopes.insert(format!("scope-change-{i}"));
            }
            next.permissions.paid |= changes.licensing;
            if changes.api_version {
                next.api_version = next.api_version.saturating_add(1);
            }
            (changes, next)
        };
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

fn report(f: &file::ReportFile, horizon: SimDuration) -> Check<ReportSettings> {
    let thresholds = f
        .thresholds
        .clone()
        .unwrap_or_else(|| vec![0.5, 0.9, 0.99, 0.999, 1.0]);
    if thresholds.is_empty() {
        return Err(FieldError::new(
            "report.thresholds",
            "needs at least one threshold",
        ));
    }
    for (i, &p) in thresholds.iter().enumerate() {
        if !(p > 0.0 && p <= 1.0) {
            return Err(FieldError::new(
                format!("report.thresholds[{i}]"),
                format!("{p} is not allowed; a threshold share is in (0, 1]"),
            ));
        }
        if i > 0 && p <= thresholds[i - 1] {
            return Err(FieldError::new(
                format!("report.thresholds[{i}]"),
                "thresholds must be strictly increasing",
            ));
        }
    }
    let sample_every = positive(
        f.sample_every.map_or(SimDuration::from_hours(1), |d| d.0),
        "report.sample_every",
    )?;
    if horizon.as_millis() / sample_every.as_millis() > 1_000_000 {
        return Err(FieldError::new(
            "report.sample_every",
            format!("{sample_every} gives more than a million samples over the horizon {horizon}"),
        ));
    }
    let coexistence_tolerance = f.coexistence_tolerance.unwrap_or(0.0);
    if !(0.0..1.0).contains(&coexistence_tolerance) {
        return Err(FieldError::new(
            "report.coexistence_tolerance",
            format!(
                "{coexistence_tolerance} is not allowed; allowed: 0 (no old instance left) up to, not including, 1"
            ),
        ));
    }
    let compat_window_quantile = f.compat_window_quantile.unwrap_or(0.95);
    if !(compat_window_quantile > 0.0 && compat_window_quantile < 1.0) {
        return Err(FieldError::new(
            "report.compat_window_quantile",
            format!(
                "{compat_window_quantile} is not allowed; a quantile is strictly between 0 and 1"
            ),
        ));
    }
    Ok(ReportSettings {
        thresholds,
        sample_every,
        coexistence_tolerance,
        compat_window_quantile,
    })
}

fn bulk_upgrade(
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

fn cutoff(p: &file::PolicyFile, start: DateTime<Utc>, platform: Platform) -> Check<Option<Cutoff>> {
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
