//! Maintenance windows on the calendar, in the site's or a named time zone.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::scenario::{Calendar, WindowZone, WorkingHours};
use crate::time::SimDuration;

/// The instant a local wall-clock time names. In a daylight-saving gap (a time that does
/// not exist) the clock has jumped forward: take the first instant after the gap; in an
/// overlap take the earlier instant.
fn local_instant(zone: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let mut naive = date.and_time(time);
    for _ in 0..4 {
        if let Some(t) = zone.from_local_datetime(&naive).earliest() {
            return t.with_timezone(&Utc);
        }
        naive += chrono::Duration::minutes(30);
    }
    Utc.from_utc_datetime(&date.and_time(time))
}

/// The admin's working periods `(open, close)` from `start` on, in order: each working
/// day's hours in `zone`, holidays (local dates) skipped, the first one clipped to begin
/// no earlier than `start`. Ends after ten years of days, far beyond any horizon.
pub(crate) fn working_spans<'a>(
    start: DateTime<Utc>,
    hours: &'a WorkingHours,
    holidays: &'a [NaiveDate],
    zone: Tz,
) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + 'a {
    let first = start.with_timezone(&zone).date_naive();
    std::iter::successors(Some(first), NaiveDate::succ_opt)
        .take(3660)
        .filter(|date| {
            hours.days[date.weekday().num_days_from_monday() as usize] && !holidays.contains(date)
        })
        .filter_map(move |date| {
            let open = local_instant(zone, date, hours.from).max(start);
            let close = local_instant(zone, date, hours.to);
            (open < close).then_some((open, close))
        })
}

/// The instant at which `work` of working time has passed after `start`, counting only
/// the admin's working hours in `zone` and skipping `holidays` (local dates). With zero
/// work this is the first working moment at or after `start`.
pub(super) fn after_working_time(
    start: DateTime<Utc>,
    work: SimDuration,
    hours: &WorkingHours,
    holidays: &[NaiveDate],
    zone: Tz,
) -> DateTime<Utc> {
    let mut remaining = chrono::Duration::milliseconds(work.as_millis());
    for (begin, close) in working_spans(start, hours, holidays, zone) {
        let available = close - begin;
        if remaining <= available {
            return begin.checked_add_signed(remaining).unwrap_or(close);
        }
        remaining -= available;
    }
    // Beyond ten years: far past any horizon; the calendar's end stands for "never".
    start
        .checked_add_signed(remaining)
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// Whether any window of `calendar` is open at `instant` for a site in `site_zone`.
pub(super) fn is_open(calendar: &Calendar, instant: DateTime<Utc>, site_zone: Tz) -> bool {
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

    fn office() -> WorkingHours {
        let mut days = [false; 7];
        days[..5].iter_mut().for_each(|d| *d = true);
        WorkingHours {
            days,
            from: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            to: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
        }
    }

    #[test]
    fn a_delay_beyond_the_calendar_saturates_instead_of_panicking() {
        let start = utc("2026-03-02T10:00:00Z");
        let work = SimDuration::from_millis(i64::MAX / 2);
        let done = after_working_time(start, work, &office(), &[], Tz::UTC);
        assert_eq!(done, DateTime::<Utc>::MAX_UTC);
        let near_end = DateTime::<Utc>::MAX_UTC - chrono::Duration::days(2);
        let done = after_working_time(
            near_end,
            SimDuration::from_hours(30),
            &office(),
            &[],
            Tz::UTC,
        );
        assert!(done >= near_end);
    }

    #[test]
    fn working_time_skips_nights_weekends_and_holidays() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // Friday 2026-03-06 16:00 CET (15:00 UTC), 2 h of work: 1 h on Friday, 1 h on Monday.
        let done = after_working_time(
            utc("2026-03-06T15:00:00Z"),
            SimDuration::from_hours(2),
            &office(),
            &[],
            berlin,
        );
        assert_eq!(
            done.with_timezone(&berlin).to_string(),
            "2026-03-09 10:00:00 CET"
        );
        // With Monday a holiday, Tuesday 10:00.
        let holiday = NaiveDate::from_ymd_opt(2026, 3, 9).unwrap();
        let done = after_working_time(
            utc("2026-03-06T15:00:00Z"),
            SimDuration::from_hours(2),
            &office(),
            &[holiday],
            berlin,
        );
        assert_eq!(
            done.with_timezone(&berlin).to_string(),
            "2026-03-10 10:00:00 CET"
        );
        // A notice at night with no delay is acted on when work starts.
        let done = after_working_time(
            utc("2026-03-10T22:00:00Z"),
            SimDuration::ZERO,
            &office(),
            &[],
            berlin,
        );
        assert_eq!(
            done.with_timezone(&berlin).to_string(),
            "2026-03-11 09:00:00 CET"
        );
    }

    #[test]
    fn working_time_across_a_daylight_saving_change() {
        // Berlin moves to CEST on Sunday 2026-03-29. Friday 27th 16:00 CET + 2 h of work
        // ends on Monday 30th 10:00 CEST, which is 08:00 UTC (not 09:00).
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let done = after_working_time(
            utc("2026-03-27T15:00:00Z"),
            SimDuration::from_hours(2),
            &office(),
            &[],
            berlin,
        );
        assert_eq!(
            done.with_timezone(&berlin).to_string(),
            "2026-03-30 10:00:00 CEST"
        );
        assert_eq!(done, utc("2026-03-30T08:00:00Z"));
        // A gap: 02:30 does not exist on 29 March; it resolves to the first instant after.
        let t = local_instant(
            berlin,
            NaiveDate::from_ymd_opt(2026, 3, 29).unwrap(),
            NaiveTime::from_hms_opt(2, 30, 0).unwrap(),
        );
        assert_eq!(t, utc("2026-03-29T01:00:00Z"));
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
