//! The time figures as calendar instants: a planner plans in dates, not hours.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{ReleaseReport, Stat, ThresholdKey, verdict};
use crate::scenario::Scenario;

/// A release's time figures as instants a planner can put in a calendar: the deploy
/// plus the figure, in UTC and in the time zone most instances are in. A figure some
/// replication did not reach before the horizon has no instant (`null`): a mean of the
/// replications that did would be a date too early.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CalendarReport {
    /// The zone of `local` (the zone most instances are in; `UTC` when none is named).
    pub zone: String,
    /// Mean time to each threshold share, keyed as `time_to_share_hours`.
    pub time_to_share: BTreeMap<ThresholdKey, Option<Instant>>,
    /// Mean coexistence window's end.
    pub coexistence: Option<Instant>,
    /// The recommended compatibility window's end: until when to keep serving the
    /// older version.
    pub recommended_compat_window: Option<Instant>,
}

/// One instant, in UTC and in the planner's zone (RFC 3339, to the minute).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Instant {
    /// In UTC, such as `2026-03-04T18:48:00Z`.
    pub utc: String,
    /// In [`CalendarReport::zone`], such as `2026-03-04T13:48:00-05:00`.
    pub local: String,
}

impl CalendarReport {
    /// The instants of release `r`'s figures in `scenario`.
    pub(crate) fn of(scenario: &Scenario, r: &ReleaseReport) -> CalendarReport {
        let zone = verdict::planner_zone(scenario).unwrap_or(chrono_tz::UTC);
        let instant = |hours: Option<f64>| {
            hours.map(|h| {
                let at = verdict::after_deploy(scenario, r, h);
                Instant {
                    utc: at.format("%Y-%m-%dT%H:%M:00Z").to_string(),
                    local: at
                        .with_timezone(&zone)
                        .format("%Y-%m-%dT%H:%M:00%:z")
                        .to_string(),
                }
            })
        };
        let of_stat = |s: &Stat| instant(s.mean.filter(|_| s.censored == 0));
        CalendarReport {
            zone: zone.name().to_string(),
            time_to_share: r
                .time_to_share_hours
                .iter()
                .map(|(k, s)| (*k, of_stat(s)))
                .collect(),
            coexistence: of_stat(&r.coexistence_hours),
            recommended_compat_window: instant(r.recommended_compat_window.hours),
        }
    }
}
