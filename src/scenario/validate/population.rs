//! `population`: instances, segments (share, zones, admins, calendars, holidays,
//! weight) and churn.

use super::*;

/// Segments a scenario may have: the segment is a tag of the tally's sweep keys.
pub(super) const MAX_SEGMENTS: usize = crate::stats::sweep_key::MAX_TAGS;

const SHARE_TOLERANCE: f64 = 1e-6;

pub(super) fn population(
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
    let churn = churn(&p.churn)?;
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
    let mut names: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, s) in files.iter().enumerate() {
        let name_field = format!("population.segments[{i}].name");
        check_label(&name_field, &s.name, "segment name")?;
        if let Some(first) = names.insert(&s.name, i) {
            return Err(FieldError::new(
                name_field,
                format!(
                    "\"{}\" is already the name of population.segments[{first}]; segment names must be unique (fit and every report tell segments apart by name)",
                    input::echo(&s.name)
                ),
            ));
        }
        segments.push(segment(i, s, admins, calendars)?);
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

fn churn(c: &file::ChurnFile) -> Check<Churn> {
    for (key, value) in [
        ("installs_per_day", c.installs_per_day),
        ("uninstall_rate_per_day", c.uninstall_rate_per_day),
    ] {
        if !(value.is_finite() && value >= 0.0) {
            return Err(FieldError::new(
                format!("population.churn.{key}"),
                format!("{value} is not allowed; a rate is a number >= 0"),
            ));
        }
    }
    Ok(Churn {
        installs_per_day: c.installs_per_day,
        uninstall_rate_per_day: c.uninstall_rate_per_day,
    })
}

/// Segment `i` (its name is checked by the caller).
fn segment(
    i: usize,
    s: &file::SegmentFile,
    admins: &BTreeMap<String, AdminProfile>,
    calendars: &BTreeMap<String, Calendar>,
) -> Check<Segment> {
    let field = |key: &str| format!("population.segments[{i}].{key}");
    if !(s.share.is_finite() && s.share >= 0.0 && s.share <= 1.0) {
        return Err(FieldError::new(
            field("share"),
            format!("{} is not allowed; a share is between 0 and 1", s.share),
        ));
    }
    let zones = match &s.timezones {
        None => vec![(Tz::UTC, 1.0)],
        Some(map) => zones(map, &field("timezones"))?,
    };
    let admin = defined(admins, s.admin.as_deref(), &field("admin"), "admin profile")?;
    let maintenance = defined(
        calendars,
        s.maintenance.as_deref(),
        &field("maintenance"),
        "maintenance calendar",
    )?;
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
    Ok(Segment {
        weight,
        holidays,
        name: s.name.clone(),
        share: s.share,
        zones,
        admin,
        maintenance,
    })
}

/// A segment's time zones and their weights, normalised to sum to 1.
fn zones(map: &BTreeMap<String, f64>, field: &str) -> Check<Vec<(Tz, f64)>> {
    if map.is_empty() {
        return Err(FieldError::new(field, "needs at least one time zone"));
    }
    let mut zones = Vec::with_capacity(map.len());
    for (name, &w) in map {
        let zone = time_zone(name, &format!("{field}.{name}"))?;
        if !(w.is_finite() && w > 0.0) {
            return Err(FieldError::new(
                format!("{field}.{name}"),
                format!("weight {w} is not allowed; weights are positive numbers"),
            ));
        }
        zones.push((zone, w));
    }
    let total: f64 = zones.iter().map(|z| z.1).sum();
    zones.iter_mut().for_each(|z| z.1 /= total);
    Ok(zones)
}

/// The `what` named `name` (`default` when `None`) among those `defined`.
fn defined<T: Clone>(
    defined: &BTreeMap<String, T>,
    name: Option<&str>,
    field: &str,
    what: &str,
) -> Check<T> {
    let name = name.unwrap_or("default");
    defined.get(name).cloned().ok_or_else(|| {
        FieldError::new(
            field,
            format!(
                "unknown {what} {name:?}{}; defined: {}",
                did_you_mean(name, defined.keys().map(String::as_str)),
                defined.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: serde_json::Value) -> Check<Population> {
        let admins = admins::admin_profiles(&BTreeMap::new()).unwrap();
        let calendars = calendars::calendars(&BTreeMap::new()).unwrap();
        population(&serde_json::from_value(v).unwrap(), &admins, &calendars)
    }

    #[test]
    fn shares_must_sum_to_one_and_zones_are_normalised() {
        let p = check(json!({"instances": 10, "segments": [
            {"name": "a", "share": 0.5, "timezones": {"UTC": 1.0, "Europe/Berlin": 3.0}},
            {"name": "b", "share": 0.5}]}))
        .unwrap();
        let weights: Vec<f64> = p.segments[0].zones.iter().map(|z| z.1).collect();
        assert_eq!(weights.iter().sum::<f64>(), 1.0);
        let e = check(json!({"instances": 10, "segments": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.4}]})).unwrap_err();
        assert_eq!(e.field, "population.segments[1].share");
    }

    #[test]
    fn segments_are_bounded_by_the_sweep_key() {
        let segs: Vec<_> = (0..=MAX_SEGMENTS)
            .map(|i| json!({"name": format!("s{i}"), "share": 0.0}))
            .collect();
        let e = check(json!({"instances": 10, "segments": segs})).unwrap_err();
        assert_eq!(e.field, "population.segments");
        assert_eq!(MAX_SEGMENTS, 256);
    }
}
