//! `maintenance`: named calendars of maintenance windows, and days of the week.

use super::file::{CalendarFile, DaysFile, WindowFile};
use super::*;

pub(super) fn calendars(
    files: &BTreeMap<String, CalendarFile>,
) -> Check<BTreeMap<String, Calendar>> {
    let mut out = BTreeMap::from([
        ("default".to_string(), presets::platform_window()),
        ("none".to_string(), Calendar::default()),
    ]);
    for (name, c) in files {
        check_label(
            &format!("maintenance.{}", input::echo(name)),
            name,
            "calendar name",
        )?;
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

pub(super) fn window(w: &WindowFile, field: &str) -> Check<Window> {
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

pub(super) fn days(d: &DaysFile, field: &str) -> Check<[bool; 7]> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn days_read_words_ranges_and_lists() {
        let d = |v: serde_json::Value| days(&serde_json::from_value(v).unwrap(), "days");
        assert_eq!(
            d(json!("weekdays")).unwrap(),
            [true, true, true, true, true, false, false]
        );
        assert_eq!(
            d(json!("fri-mon")).unwrap(),
            [true, false, false, false, true, true, true]
        );
        assert_eq!(
            d(json!(["sat", "sun"])).unwrap(),
            [false, false, false, false, false, true, true]
        );
        assert_eq!(d(json!("someday")).unwrap_err().field, "days");
    }

    #[test]
    fn calendars_keep_the_platform_default_and_name_bad_windows() {
        let c = calendars(
            &serde_json::from_value(json!({"night": {"from": "22:00", "to": "02:00"}})).unwrap(),
        )
        .unwrap();
        assert_eq!(c["default"], presets::platform_window());
        assert!(c["none"].windows.is_empty());
        assert_eq!(c["night"].windows.len(), 1);
        let e = calendars(
            &serde_json::from_value(json!({"w": [{"from": "1am", "to": "03:00"}]})).unwrap(),
        )
        .unwrap_err();
        assert_eq!(e.field, "maintenance.w[0].from");
    }
}
