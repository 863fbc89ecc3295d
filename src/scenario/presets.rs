//! Platform presets: the timings each platform documents, with where each number comes from.

use crate::platform::NumberingRule;
use crate::time::SimDuration;

use chrono::NaiveTime;

use super::{AdminProfile, Calendar, Delay, OnReject, SlipScope, Timing, Window, WindowZone};

/// A named set of platform timings.
pub struct Preset {
    pub name: &'static str,
    pub numbering: NumberingRule,
    pub timing: Timing,
    pub summary: &'static str,
    /// (parameter, value, source) rows for `rollout-sim presets` and the README.
    pub sources: &'static [(&'static str, &'static str, &'static str)],
}

const PAGE: &str = "Marketplace page \"Upgrade and version cloud apps\" (shared/seeds)";

pub fn connect() -> Preset {
    Preset {
        name: "connect",
        numbering: NumberingRule::Connect,
        timing: Timing {
            descriptor_poll: SimDuration::from_hours(5),
            upm_poll: SimDuration::from_hours(24),
            maintenance_slip: SimDuration::from_hours(4),
            slip_probability: 1.0,
            forge_detection: (SimDuration::from_minutes(1), SimDuration::from_minutes(5)),
            forge_propagation: (SimDuration::ZERO, SimDuration::from_minutes(5)),
            licensing_review: (SimDuration::from_days(1), SimDuration::from_days(5)),
            slip_scope: SlipScope::Instance,
            migration_spread: None,
        },
        summary: "Atlassian Connect: descriptor polled every 5 h, instances poll UPM every 24 h",
        sources: &[
            ("descriptor_poll", "5h", PAGE),
            ("upm_poll", "24h", PAGE),
            ("maintenance_slip", "4h", PAGE),
            (
                "maintenance window",
                "daily 01:00-03:00 site time",
                "Atlassian developer documentation",
            ),
            ("slip_probability", "1", "assumption"),
            ("licensing_review", "uniform 1d..5d", "assumption"),
        ],
    }
}

pub fn forge() -> Preset {
    let connect = connect();
    Preset {
        name: "forge",
        numbering: NumberingRule::Forge,
        timing: connect.timing,
        summary: "Atlassian Forge: detected within minutes, automatic changes reach instances within minutes",
        sources: &[
            (
                "forge_detection",
                "uniform 1m..5m",
                "assumption (page: \"a few minutes\")",
            ),
            (
                "forge_propagation",
                "uniform 0..5m",
                "assumption (page: \"within a few minutes\")",
            ),
            ("upm_poll", "24h", PAGE),
            ("maintenance_slip", "4h", PAGE),
            (
                "maintenance window",
                "daily 01:00-03:00 site time",
                "Atlassian developer documentation",
            ),
            ("slip_probability", "1", "assumption"),
            ("licensing_review", "uniform 1d..5d", "assumption"),
        ],
    }
}

/// The 2018 documentation: descriptor polled every minute, instances every 6 h, updates
/// within 10 h. Lets users replay old behaviour.
pub fn connect_2018() -> Preset {
    let mut timing = connect().timing;
    timing.descriptor_poll = SimDuration::from_minutes(1);
    timing.upm_poll = SimDuration::from_hours(6);
    // The 2018 documentation names polls and a 10 h bound but no maintenance slip: its
    // 1 min + 6 h polls fit inside 10 h only without the 4 h slip of today's page.
    timing.maintenance_slip = SimDuration::ZERO;
    Preset {
        name: "connect-2018",
        numbering: NumberingRule::Connect,
        timing,
        summary: "Atlassian Connect as documented in 2018: descriptor polled every minute, instances every 6 h, updates within 10 h",
        sources: &[
            (
                "descriptor_poll",
                "1m",
                "Atlassian developer documentation, 2018",
            ),
            ("upm_poll", "6h", "Atlassian developer documentation, 2018"),
            (
                "documented bound",
                "10h",
                "Atlassian developer documentation, 2018",
            ),
            (
                "maintenance_slip",
                "0h",
                "the 2018 documentation states no slip; 1m + 6h polls + 4h would exceed its 10h bound",
            ),
            ("licensing_review", "uniform 1d..5d", "assumption"),
        ],
    }
}

/// A Connect app moved to Forge without new permissions: the migration (the scenario's
/// first release) is released progressively to installations over up to 120 h; later
/// releases follow the Forge rules.
pub fn connect_to_forge() -> Preset {
    let mut timing = forge().timing;
    timing.migration_spread = Some((SimDuration::ZERO, SimDuration::from_hours(120)));
    Preset {
        name: "connect-to-forge",
        numbering: NumberingRule::Forge,
        timing,
        summary: "A Connect app moved to Forge without new permissions, rolled out progressively over up to 120 h",
        sources: &[
            ("forge_detection", "uniform 1m..5m", "assumption (as forge)"),
            (
                "migration_spread",
                "uniform 0..120h, first release only",
                "Atlassian developer documentation (\"up to 120 hours\"); uniform is an assumption",
            ),
            (
                "forge_propagation",
                "uniform 0..5m, later releases",
                "assumption (as forge)",
            ),
            ("upm_poll", "24h", PAGE),
            ("maintenance_slip", "4h", PAGE),
        ],
    }
}

/// Every preset, in the order `rollout-sim presets` lists them.
pub fn all() -> Vec<Preset> {
    vec![connect(), forge(), connect_2018(), connect_to_forge()]
}

pub fn by_name(name: &str) -> Option<Preset> {
    all().into_iter().find(|p| p.name == name)
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
