//! Scenarios: the typed, validated description of one simulation.
//!
//! A scenario file is read as JSON, optional overrides are applied to the JSON value,
//! the value is deserialised into the raw [`file`] structs (unknown keys rejected) and
//! `validate` turns those into a [`Scenario`] whose every value is typed and checked.

pub mod error;
pub(crate) mod file;

mod admins;
mod load;
pub mod presets;
pub mod setting;
pub mod starter;
mod validate;

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

pub(crate) use crate::platform::PlatformRules;
use crate::platform::{ChangeSet, NumberingRule, Permissions, Version};
use crate::time::{SimDuration, SimTime};

pub(crate) use admins::DAY_NAMES;
pub use admins::{AdminProfile, OnReject, WorkingHours};
pub(crate) use error::{FieldError, ScenarioError};
pub use load::{json_schema, load, parse, read};
pub use presets::builtin_admins;
pub use setting::Setting;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// The app platform, which decides how a change reaches instances.
pub enum Platform {
    /// Atlassian Connect: the Marketplace polls the descriptor.
    Connect,
    /// Forge: the Marketplace learns of a deploy within minutes.
    Forge,
}

impl Platform {
    /// The platform's name in scenario files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Platform::Connect => "connect",
            Platform::Forge => "forge",
        }
    }
}

/// Platform timings (a preset, possibly overridden by the scenario's `timing`).
#[derive(Clone, Debug, PartialEq)]
pub struct Timing {
    /// Connect: the Marketplace polls the descriptor with this period.
    pub descriptor_poll: SimDuration,
    /// Each instance polls the Marketplace (UPM) with this period.
    pub upm_poll: SimDuration,
    /// Extra delay for a release deployed inside a maintenance window.
    pub maintenance_slip: SimDuration,
    /// Probability that the slip applies when the window was open.
    pub slip_probability: f64,
    /// Whether `slip_probability` is drawn per instance or once per release.
    pub slip_scope: SlipScope,
    /// Forge: uniform range of the Marketplace detection delay.
    pub forge_detection: (SimDuration, SimDuration),
    /// Forge: uniform range of the delay from publication to an instance.
    pub forge_propagation: (SimDuration, SimDuration),
    /// Free -> paid: uniform range of the Marketplace review before publication.
    pub licensing_review: (SimDuration, SimDuration),
    /// A Connect app moved to Forge: the first release (the migration) reaches each
    /// installation after a delay uniform in this range instead of `forge_propagation`.
    pub migration_spread: Option<(SimDuration, SimDuration)>,
}

impl Timing {
    /// The uniform range of the delay from publication to an instance for release `k`
    /// delivered the Forge way: the migration spread for the migration release only.
    pub fn propagation(&self, k: usize) -> (SimDuration, SimDuration) {
        match self.migration_spread {
            Some(spread) if k == 0 => spread,
            _ => self.forge_propagation,
        }
    }
}

/// Who shares one draw of the maintenance slip.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlipScope {
    /// Each instance whose window was open draws its own (default).
    Instance,
    /// One draw per release for the whole field (an outage-like slip).
    Release,
}

#[derive(Clone, Debug)]
/// A validated scenario: every value typed, checked and defaulted.
pub struct Scenario {
    /// A slug naming the scenario (and its default output folder).
    pub name: String,
    /// Free text for the reader.
    pub description: String,
    /// The app platform.
    pub platform: Platform,
    /// The preset named by the file's `platform` key.
    pub preset: &'static str,
    /// How a release's changes number its version.
    pub numbering: NumberingRule,
    /// Simulated time zero.
    pub start: DateTime<Utc>,
    /// How long after `start` the simulation ends.
    pub horizon: SimDuration,
    /// Seed of the random draws.
    pub seed: u64,
    /// Monte Carlo replications.
    pub replications: u32,
    /// The version every initial instance runs.
    pub initial_version: Version,
    /// What the initial version asks admins to grant.
    pub initial_permissions: Permissions,
    /// The platform's timings (polls, propagation, maintenance slips).
    pub timing: Timing,
    /// The platform's rules in force (approval gates).
    pub rules: PlatformRules,
    /// Who is installed: size, segments, churn.
    pub population: Population,
    /// The vendor's releases, in time order.
    pub releases: Vec<ReleaseSpec>,
    /// The vendor's support policy.
    pub policy: Policy,
    /// What the reports compute.
    pub report: ReportSettings,
    /// Assertions `check` evaluates; figure names are resolved by the check itself.
    pub expect: Vec<Expectation>,
}

/// An assertion on a figure's statistic over replications: times in hours, counts as
/// counts.
#[derive(Clone, Debug, PartialEq)]
pub struct Expectation {
    /// The figure, as `check` names it (e.g. `coexistence@0`).
    pub figure: String,
    /// The statistic over replications that is bounded.
    pub stat: ExpectStat,
    /// The least value allowed.
    pub min: Option<f64>,
    /// The greatest value allowed.
    pub max: Option<f64>,
}

/// The statistic an expectation bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExpectStat {
    /// Mean over the observed replications.
    Mean,
    /// 5th percentile.
    P5,
    /// Median.
    P50,
    /// 95th percentile.
    P95,
    /// Largest value.
    Max,
}

impl ExpectStat {
    /// The statistic's name in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            ExpectStat::Mean => "mean",
            ExpectStat::P5 => "p5",
            ExpectStat::P50 => "p50",
            ExpectStat::P95 => "p95",
            ExpectStat::Max => "max",
        }
    }
}

impl Scenario {
    /// The end of simulated time.
    pub fn horizon_time(&self) -> SimTime {
        SimTime::ZERO + self.horizon
    }

    /// The calendar instant of a simulated time, saturating at the calendar's ends (no
    /// instant that far out is ever within a horizon).
    pub fn instant(&self, t: SimTime) -> DateTime<Utc> {
        let offset = chrono::Duration::milliseconds(t.as_millis());
        self.start
            .checked_add_signed(offset)
            .unwrap_or(if t.as_millis() < 0 {
                DateTime::<Utc>::MIN_UTC
            } else {
                DateTime::<Utc>::MAX_UTC
            })
    }
}

#[derive(Clone, Debug)]
/// The installed field of instances.
pub struct Population {
    /// Instances installed at the start.
    pub instances: u64,
    /// Groups of instances that share admin behaviour, zones and windows.
    pub segments: Vec<Segment>,
    /// New installs and uninstalls over time.
    pub churn: Churn,
}

/// Fixed-point units per unit of segment weight: weights add up exactly, in any order.
pub const WEIGHT_UNITS: f64 = 1e6;

impl Population {
    /// Each segment's weight in fixed-point units, or empty when every weight is 1
    /// (then shares by weight equal shares by instance and are not computed).
    pub fn weight_units(&self) -> Vec<i64> {
        if self.segments.iter().all(|s| s.weight == 1.0) {
            return Vec::new();
        }
        self.segments
            .iter()
            .map(|s| (s.weight * WEIGHT_UNITS).round() as i64)
            .collect()
    }
}

/// New installs and uninstalls (assumption; off by default).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Churn {
    /// Rate of the Poisson process of new installs.
    pub installs_per_day: f64,
    /// Each installed instance uninstalls with this hazard.
    pub uninstall_rate_per_day: f64,
}

#[derive(Clone, Debug)]
/// A group of instances that share admin behaviour, time zones and windows.
pub struct Segment {
    /// The segment's name.
    pub name: String,
    /// Its share of the instances (shares sum to 1).
    pub share: f64,
    /// Time zones with weights normalised to sum to 1.
    pub zones: Vec<(Tz, f64)>,
    /// How its admins respond to approval requests.
    pub admin: AdminProfile,
    /// Its maintenance windows.
    pub maintenance: Calendar,
    /// Local dates on which admins do not work (with working hours).
    pub holidays: Vec<NaiveDate>,
    /// What one instance of the segment counts for in weighted shares (seats, revenue).
    pub weight: f64,
}

/// Maintenance windows that apply to a segment; empty means none.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Calendar {
    /// The windows.
    pub windows: Vec<Window>,
}

/// A recurring window: on the given weekdays, from `from` to `to` local time
/// (`to` before `from` means the window runs past midnight).
#[derive(Clone, Debug, PartialEq)]
pub struct Window {
    /// Monday first.
    pub days: [bool; 7],
    /// Start, local time.
    pub from: NaiveTime,
    /// End, local time.
    pub to: NaiveTime,
    /// Whose local time.
    pub zone: WindowZone,
}

#[derive(Clone, Copy, Debug, PartialEq)]
/// The time zone a maintenance window is given in.
pub enum WindowZone {
    /// The instance's own time zone.
    Site,
    /// A fixed IANA time zone.
    Named(Tz),
}

#[derive(Clone, Debug)]
/// One release as validated.
pub struct ReleaseSpec {
    /// When the vendor deploys it.
    pub at: SimTime,
    /// The kinds of change: as written, or derived from the descriptor facts.
    pub changes: ChangeSet,
    /// Its label in reports.
    pub label: String,
    /// The label was written in the file (not derived from the change kinds): compare
    /// pairs releases of two scenarios by such labels.
    pub label_given: bool,
    /// What the release's version asks admins to grant.
    pub permissions: Permissions,
    /// Connect: the API version the descriptor states, when given as a fact.
    pub api_version: Option<u32>,
    /// Forge: the older major line the release is backported to.
    pub line: Option<u32>,
}

#[derive(Clone, Debug)]
/// The vendor's support policy.
pub struct Policy {
    /// When (after each release's deploy) the vendor stops serving older versions.
    pub drop_old_support_after: Option<SimDuration>,
    /// Free -> paid: how long after the paid version's publication instances that have
    /// not approved uninstall. They never paid, so, like admins who reject the paid
    /// version, they are removed at once: no cancellation period applies.
    pub uninstall_unapproved_after: Option<SimDuration>,
    /// Forge: the vendor moves installations on older major lines to the newest one.
    pub bulk_upgrade: Option<BulkUpgrade>,
    /// A date after which versions below a version stop working.
    pub cutoff: Option<Cutoff>,
}

/// A Forge bulk upgrade: starting `at`, requests of at most `request_size` installations,
/// `interval` apart.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BulkUpgrade {
    /// When the first request is made.
    pub at: SimTime,
    /// Installations per request.
    pub request_size: u32,
    /// Time between requests.
    pub interval: SimDuration,
}

#[derive(Clone, Copy, Debug, PartialEq)]
/// A platform cut-off: from `at`, versions below `below` stop working.
pub struct Cutoff {
    /// When the cut-off takes effect.
    pub at: SimTime,
    /// Versions older than this stop working; `None`: the last release's version.
    pub below: Option<Version>,
    /// What happens to the instances below the version.
    pub action: CutoffAction,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// What a cut-off does to the instances it hits.
pub enum CutoffAction {
    /// The instances stay installed but broken: the report counts them.
    Broken,
    /// The instances uninstall at the cut-off.
    Uninstall,
}

#[derive(Clone, Debug)]
/// What the reports compute.
pub struct ReportSettings {
    /// Shares whose time to reach the report gives (increasing, in (0, 1]).
    pub thresholds: Vec<f64>,
    /// Interval of the version-mix samples.
    pub sample_every: SimDuration,
    /// How many active instances may still be older when coexistence is over: when the
    /// vendor can switch the old versions off.
    pub coexistence_tolerance: Tolerance,
    /// Quantile over replications of the recommended compatibility window.
    pub compat_window_quantile: f64,
}

/// How many instances may still run an older version when the vendor switches older
/// versions off (`report.coexistence_tolerance`, also named
/// `report.switch_off_when_at_most`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Tolerance {
    /// A share of the active instances, in [0, 1).
    Share(f64),
    /// A number of instances.
    Instances(u64),
}

impl Tolerance {
    /// Whether `old` of `active` instances is few enough.
    pub fn allows(self, active: i64, old: i64) -> bool {
        match self {
            Tolerance::Share(eps) => old <= (eps * active as f64 + 1e-9).floor() as i64,
            Tolerance::Instances(n) => old <= i64::try_from(n).unwrap_or(i64::MAX),
        }
    }

    /// In a planner's words: "no instance", "at most 5% of instances", "at most 100
    /// instances".
    pub fn describe(self) -> String {
        match self {
            Tolerance::Share(0.0) | Tolerance::Instances(0) => "no instance".into(),
            Tolerance::Share(eps) => format!("at most {}% of instances", eps * 100.0),
            Tolerance::Instances(1) => "at most 1 instance".into(),
            Tolerance::Instances(n) => format!("at most {n} instances"),
        }
    }

    /// Whether no old instance at all may be left.
    pub fn is_zero(self) -> bool {
        matches!(self, Tolerance::Share(e) if e == 0.0) || self == Tolerance::Instances(0)
    }
}

/// Values given on the command line that replace the file's.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    /// Replaces `seed`.
    pub seed: Option<u64>,
    /// Replaces `replications`.
    pub replications: Option<u64>,
    /// Replaces `population.instances`.
    pub instances: Option<u64>,
    /// Further values at JSON paths (a sweep's grid point), applied after the above.
    pub settings: Vec<Setting>,
}

impl Overrides {
    /// Every override as a setting, in the order they apply.
    pub fn settings(&self) -> Vec<Setting> {
        let mut out = Vec::new();
        if let Some(seed) = self.seed {
            out.push(Setting::new("seed", seed));
        }
        if let Some(r) = self.replications {
            out.push(Setting::new("replications", r));
        }
        if let Some(n) = self.instances {
            out.push(Setting::new("population.instances", n));
        }
        out.extend(self.settings.iter().cloned());
        out
    }

    /// The command-line flag that set `field` (or a value inside or around it), if any:
    /// an error in a value the user gave on the command line must name the flag.
    pub fn origin_of(&self, field: &str) -> Option<String> {
        let related = |path: &str| {
            let within = |a: &str, b: &str| {
                a == b || (a.starts_with(b) && matches!(a.as_bytes()[b.len()], b'.' | b'['))
            };
            within(field, path) || within(path, field)
        };
        let flags = [
            ("seed", self.seed.map(|v| format!("--seed {v}"))),
            (
                "replications",
                self.replications.map(|v| format!("--replications {v}")),
            ),
            (
                "population.instances",
                self.instances.map(|v| format!("--instances {v}")),
            ),
        ];
        let set = self
            .settings
            .iter()
            .rev()
            .find(|s| related(&s.path))
            .map(|s| format!("--set {}={}", s.path, s.value));
        set.or_else(|| {
            flags
                .into_iter()
                .find(|(path, flag)| flag.is_some() && related(path))
                .and_then(|(_, flag)| flag)
        })
    }
}
