//! Maintenance windows on the calendar, in the site's or a named time zone.

use chrono::{DateTime, Datelike, Timelike, Utc};
use chrono_tz::Tz;

use crate::scenario::{Calendar, WindowZone};

/// Whether any window of `calendar` is open at `instant` for a site in `site_zone`.
pub fn is_open(calendar: &Calendar, instant: DateTime<Utc>, site_zone: Tz) -> bool {
    calendar.windows.iter().any(|w| {
        let zone = match w.zone {
            WindowZone::Site => site_zone,
            WindowZone::Named(z) => z,
        };
        let local = instant.with_timezone(&zone);
        let day = local.weekday().num_days_from_monday() as usize;
        let time = local.time().with_nanosecond(0).unwrap_or(local.time());
        if w.from < w.to {
            w.days[day] && time >= w.from && time < w.to
        } else {
            // The window runs past midnight: its tail belongs to the previous day.
            (w.days[day] && time >= w.from) || (w.days[(day + 6) % 7] && time < w.to)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Window;
    use chrono::NaiveTime;

    fn window(days: [bool; 7], from: (u32, u32), to: (u32, u32), zone: WindowZone) -> Calendar {
        Calendar {
            windows: vec![Window {
                days,
                from: NaiveTime::from_hms_opt(from.0, from.1, 0).unwrap(),
                to: NaiveTime::from_hms_opt(to.0, to.1, 0).unwrap(),
                zone,
            }],
        }
    }

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn platform_window_is_in_site_time() {
        let cal = window([true; 7], (1, 0), (3, 0), WindowZone::Site);
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // 00:30 UTC in March (CET, UTC+1) is 01:30 in Berlin: open there, closed in UTC.
        assert!(is_open(&cal, utc("2026-03-02T00:30:00Z"), berlin));
        assert!(!is_open(&cal, utc("2026-03-02T00:30:00Z"), Tz::UTC));
        // In July (CEST, UTC+2) the same local window is 23:00-01:00 UTC.
        assert!(is_open(&cal, utc("2026-07-01T23:30:00Z"), berlin));
        assert!(!is_open(&cal, utc("2026-07-01T01:30:00Z"), berlin));
        // The end is exclusive.
        assert!(!is_open(&cal, utc("2026-03-02T03:00:00Z"), Tz::UTC));
    }

    #[test]
    fn windows_past_midnight_belong_to_their_start_day() {
        // Saturdays 22:00 to 02:00 UTC.
        let mut days = [false; 7];
        days[5] = true;
        let cal = window(days, (22, 0), (2, 0), WindowZone::Named(Tz::UTC));
        assert!(is_open(&cal, utc("2026-03-07T23:00:00Z"), Tz::UTC)); // Saturday night
        assert!(is_open(&cal, utc("2026-03-08T01:00:00Z"), Tz::UTC)); // Sunday early
        assert!(!is_open(&cal, utc("2026-03-09T01:00:00Z"), Tz::UTC)); // Monday early
        assert!(!is_open(&cal, utc("2026-03-06T23:00:00Z"), Tz::UTC)); // Friday night
    }
}
