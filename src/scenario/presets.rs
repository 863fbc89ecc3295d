//! Platform presets: the timings each platform documents, with where each number comes
//! from, and the other defaults of a scenario (built-in admin profiles, the platform's
//! maintenance window).

use chrono::NaiveTime;

use crate::platform::NumberingRule;
use crate::time::SimDuration;

use super::{AdminProfile, Calendar, OnReject, SlipScope, Timing, Window, WindowZone};
use crate::delay::{Delay, Lognormal};

/// A named set of platform timings.
pub struct Preset {
    /// The name a scenario's `platform` key gives.
    pub name: &'static str,
    /// How releases number their versions.
    pub numbering: NumberingRule,
    /// The platform's timings.
    pub timing: Timing,
    /// One line for `rollout-sim presets`.
    pub summary: &'static str,
    /// What the documentation promises for an automatic update, for the verdicts to set
    /// beside the simulated window; `None` when it promises nothing.
    pub guidance: Option<&'static str>,
    /// Where each value comes from; the values themselves are read from `timing`, so
    /// the listing can never disagree with what a run uses.
    pub sources: &'static [(Param, &'static str)],
}

/// A value a preset documents.
#[derive(Clone, Copy, Debug)]
pub enum Param {
    /// Connect: how often the Marketplace polls a descriptor.
    DescriptorPoll,
    /// How often UPM polls on each instance.
    UpmPoll,
    /// How long a maintenance window delays a change.
    MaintenanceSlip,
    /// The default maintenance window.
    MaintenanceWindow,
    /// Probability that an open window slips a change.
    SlipProbability,
    /// Forge: how soon the Marketplace detects a deploy.
    ForgeDetection,
    /// Forge: how soon an automatic update reaches instances.
    ForgePropagation,
    /// How long the Marketplace reviews a free -> paid change.
    LicensingReview,
    /// How widely a forced migration is spread.
    MigrationSpread,
    /// A documented figure that is not a parameter (name, value).
    Fact(&'static str, &'static str),
}

fn range((lo, hi): (SimDuration, SimDuration)) -> String {
    format!("uniform {lo}..{hi}")
}

impl Preset {
    /// (parameter, value, source) rows for `rollout-sim presets` and the guide.
    pub fn rows(&self) -> Vec<(&'static str, String, &'static str)> {
        let t = &self.timing;
        self.sources
            .iter()
            .map(|&(param, source)| {
                let (name, value) = match param {
                    Param::DescriptorPoll => ("descriptor_poll", t.descriptor_poll.to_string()),
                    Param::UpmPoll => ("upm_poll", t.upm_poll.to_string()),
                    Param::MaintenanceSlip => ("maintenance_slip", t.maintenance_slip.to_string()),
                    Param::MaintenanceWindow => {
                        let w = &platform_window().windows[0];
                        (
                            "maintenance window",
                            format!(
                                "daily {}-{} site time",
                                w.from.format("%H:%M"),
                                w.to.format("%H:%M")
                            ),
                        )
                    }
                    Param::SlipProbability => ("slip_probability", t.slip_probability.to_string()),
                    Param::ForgeDetection => ("forge_detection", range(t.forge_detection)),
                    Param::ForgePropagation => ("forge_propagation", range(t.forge_propagation)),
                    Param::LicensingReview => ("licensing_review", range(t.licensing_review)),
                    Param::MigrationSpread => (
                        "migration_spread",
                        t.migration_spread.map_or("none".into(), |r| {
                            format!("{}, first release only", range(r))
                        }),
                    ),
                    Param::Fact(name, value) => (name, value.to_string()),
                };
                (name, value, source)
            })
            .collect()
    }
}

const PAGE: &str = "Marketplace page \"Upgrade and version cloud apps\"";
const DOCS: &str = "Atlassian developer documentation";
const DOCS_2018: &str = "Atlassian developer documentation, 2018";

/// Atlassian Connect's timings.
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
        guidance: Some(
            "the Marketplace page says automatic updates reach every instance within 33 h (or two days to be safe)",
        ),
        sources: &[
            (Param::DescriptorPoll, PAGE),
            (Param::UpmPoll, PAGE),
            (Param::MaintenanceSlip, PAGE),
            (Param::MaintenanceWindow, DOCS),
            (Param::SlipProbability, "assumption"),
            (Param::LicensingReview, "assumption"),
        ],
    }
}

/// Forge's timings.
pub fn forge() -> Preset {
    Preset {
        name: "forge",
        numbering: NumberingRule::Forge,
        timing: connect().timing,
        summary: "Atlassian Forge: detected within minutes, automatic changes reach instances within minutes",
        guidance: Some(
            "the Marketplace page says automatic changes reach Forge instances within a few minutes",
        ),
        sources: &[
            (
                Param::ForgeDetection,
                "assumption (page: \"a few minutes\")",
            ),
            (
                Param::ForgePropagation,
                "assumption (page: \"within a few minutes\")",
            ),
            (Param::UpmPoll, PAGE),
            (Param::MaintenanceSlip, PAGE),
            (Param::MaintenanceWindow, DOCS),
            (Param::SlipProbability, "assumption"),
            (Param::LicensingReview, "assumption"),
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
        guidance: Some("the 2018 documentation said updates reach every instance within 10 h"),
        sources: &[
            (Param::DescriptorPoll, DOCS_2018),
            (Param::UpmPoll, DOCS_2018),
            (Param::Fact("documented bound", "10h"), DOCS_2018),
            (
                Param::MaintenanceSlip,
                "the 2018 documentation states no slip; 1m + 6h polls + 4h would exceed its 10h bound",
            ),
            (Param::LicensingReview, "assumption"),
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
        guidance: Some(
            "the documentation says the migration reaches every installation within 120 h",
        ),
        sources: &[
            (Param::ForgeDetection, "assumption (as forge)"),
            (
                Param::MigrationSpread,
                "Atlassian developer documentation (\"up to 120 hours\"); uniform is an assumption",
            ),
            (
                Param::ForgePropagation,
                "assumption (as forge), later releases",
            ),
            (Param::UpmPoll, PAGE),
            (Param::MaintenanceSlip, PAGE),
        ],
    }
}

/// Every preset, in the order `rollout-sim presets` lists them.
pub fn all() -> Vec<Preset> {
    vec![connect(), forge(), connect_2018(), connect_to_forge()]
}

/// The preset named `name`, if there is one.
pub fn by_name(name: &str) -> Option<Preset> {
    all().into_iter().find(|p| p.name == name)
}

/// The text of `rollout-sim presets`: each preset with its values and their sources.
pub fn describe_all() -> String {
    let mut out = String::new();
    for p in all() {
        out.push_str(&format!("{}: {}\n", p.name, p.summary));
        for (param, value, source) in p.rows() {
            out.push_str(&format!("  {param:<20} {value:<36} {source}\n"));
        }
        out.push('\n');
    }
    out
}

/// Built-in admin profiles, usable by name and overridable in `admins`. Every number is an
/// assumption, documented in the guide (GUIDE.md).
pub fn builtin_admins() -> Vec<AdminProfile> {
    let lognormal = |median_h: i64, sigma: f64| {
        Delay::Lognormal(Lognormal {
            median: SimDuration::from_hours(median_h),
            sigma,
        })
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
        parameter_draws: Vec::new(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_shows_the_values_a_run_uses() {
        let text = describe_all();
        assert!(text.contains("descriptor_poll      5h"), "{text}");
        assert!(text.contains("upm_poll             6h"), "{text}");
        assert!(
            text.contains("migration_spread     uniform 0h..5d, first release only"),
            "{text}"
        );
        assert!(
            text.contains("maintenance window   daily 01:00-03:00 site time"),
            "{text}"
        );
    }
}
