//! The scenario file as written by users: JSON, unknown keys rejected.
//!
//! These structs mirror the public file format one to one; `validate` turns them into
//! the typed [`Scenario`](super::Scenario). Durations are parsed here, so a malformed
//! `"5x"` is reported with its exact field path.

use std::collections::BTreeMap;

use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use std::borrow::Cow;

use crate::delay::DelayFile;
use crate::time::{DurationText, SimDuration};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScenarioFile {
    /// The JSON Schema the file follows (for editors); ignored by the simulator.
    #[serde(rename = "$schema")]
    #[expect(
        dead_code,
        reason = "accepted so that editors can find the schema; not simulated"
    )]
    pub schema: Option<String>,
    /// Names the run and its default output folder `output/<name>`: 1 to 100 of
    /// A-Z a-z 0-9 - _ . starting with a letter or digit.
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub platform: String,
    pub start: String,
    pub horizon: DurationText,
    #[serde(default)]
    pub seed: u64,
    #[serde(default = "default_replications")]
    pub replications: u64,
    #[serde(default = "default_initial_version")]
    pub initial_version: String,
    #[serde(default)]
    pub initial_scopes: Vec<String>,
    pub initial_api_version: Option<u32>,
    pub initial_licensing: Option<LicensingFile>,
    #[serde(default)]
    pub timing: TimingFile,
    #[serde(default)]
    pub rules: RulesFile,
    pub population: PopulationFile,
    #[serde(default)]
    pub admins: BTreeMap<String, AdminFile>,
    #[serde(default)]
    pub maintenance: BTreeMap<String, CalendarFile>,
    pub releases: Vec<ReleaseFile>,
    #[serde(default)]
    pub policy: PolicyFile,
    #[serde(default)]
    pub report: ReportFile,
    /// Assertions `rollout-sim check` evaluates on every run.
    #[serde(default)]
    pub expect: Vec<ExpectFile>,
}

/// An assertion on a figure, e.g. `{"figure": "recommended_compat_window@1", "max": "48h"}`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ExpectFile {
    /// `coexistence`, `share:P`, `published`, `left_behind` or
    /// `recommended_compat_window`, each optionally `@K` for release K.
    pub figure: String,
    /// Which statistic over replications is bounded (default `mean`).
    pub stat: Option<ExpectStatFile>,
    pub min: Option<BoundFile>,
    pub max: Option<BoundFile>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ExpectStatFile {
    Mean,
    P5,
    P50,
    P95,
    Max,
}

/// A bound: a duration (`"48h"`) for times, a number for counts.
#[derive(Debug, Clone, Copy, JsonSchema)]
#[serde(untagged)]
pub(crate) enum BoundFile {
    Number(f64),
    Duration(DurationText),
}

/// Told apart by the JSON type, so that a wrong type names the accepted forms (an
/// untagged enum would only say that no variant matched).
impl<'de> Deserialize<'de> for BoundFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = BoundFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number (for counts and shares, e.g. 50) or a duration text (for times, e.g. \"48h\")")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<BoundFile, E> {
                Ok(BoundFile::Number(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<BoundFile, E> {
                Ok(BoundFile::Number(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<BoundFile, E> {
                Ok(BoundFile::Number(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<BoundFile, E> {
                SimDuration::parse(v)
                    .map(|d| BoundFile::Duration(DurationText(d)))
                    .map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

fn default_replications() -> u64 {
    100
}
fn default_initial_version() -> String {
    "1.0.0".to_string()
}

/// Overrides of the platform preset's timings.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TimingFile {
    pub descriptor_poll: Option<DurationText>,
    pub upm_poll: Option<DurationText>,
    pub maintenance_slip: Option<DurationText>,
    pub slip_probability: Option<f64>,
    pub forge_detection: Option<[DurationText; 2]>,
    pub forge_propagation: Option<[DurationText; 2]>,
    pub licensing_review: Option<[DurationText; 2]>,
    pub slip_scope: Option<SlipScopeFile>,
    pub migration_spread: Option<[DurationText; 2]>,
}

/// Platform rules about permission changes.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RulesFile {
    pub scope_removal: Option<ScopeRemovalFile>,
    pub gate_crosses_major_lines: Option<bool>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ScopeRemovalFile {
    /// A changed scope set: a version bump admins approve.
    Approval,
    /// An ordinary descriptor change.
    Automatic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum SlipScopeFile {
    Instance,
    Release,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PopulationFile {
    pub instances: u64,
    pub segments: Option<Vec<SegmentFile>>,
    #[serde(default)]
    pub churn: ChurnFile,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChurnFile {
    #[serde(default)]
    pub installs_per_day: f64,
    #[serde(default)]
    pub uninstall_rate_per_day: f64,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SegmentFile {
    pub name: String,
    pub share: f64,
    pub timezones: Option<BTreeMap<String, f64>>,
    pub admin: Option<String>,
    pub maintenance: Option<String>,
    #[serde(default)]
    pub holidays: Vec<String>,
    pub weight: Option<f64>,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AdminFile {
    /// Required for a new profile; a built-in profile's own value when left out.
    pub approve: Option<f64>,
    pub reject: Option<f64>,
    pub delay: Option<DelayFile>,
    pub on_reject: Option<OnRejectFile>,
    pub working_hours: Option<WorkingHoursFile>,
    #[serde(default)]
    pub reminders: Vec<DurationText>,
    pub reminder_response: Option<f64>,
    /// The parameters' uncertainty as draws (from `rollout-sim fit`): replication `r`
    /// uses draw `r mod M` for `approve` and `delay`.
    #[serde(default)]
    pub parameter_draws: Vec<AdminDrawFile>,
}

/// One draw of an admin profile's uncertain parameters.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct AdminDrawFile {
    pub approve: f64,
    pub delay: DelayFile,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkingHoursFile {
    #[serde(default = "default_weekdays")]
    pub days: DaysFile,
    pub from: String,
    pub to: String,
}

fn default_weekdays() -> DaysFile {
    DaysFile::Text("mon-fri".into())
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum OnRejectFile {
    Stay,
    Uninstall,
}

/// One window or several.
#[derive(Debug)]
pub(crate) enum CalendarFile {
    One(WindowFile),
    Many(Vec<WindowFile>),
}

/// Told apart by the JSON type, so that an error inside a window keeps its field path
/// (an untagged enum would only say that no variant matched).
impl JsonSchema for CalendarFile {
    fn schema_name() -> Cow<'static, str> {
        "Calendar".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let window = generator.subschema_for::<WindowFile>();
        json_schema!({
            "description": "One maintenance window or a list of them",
            "oneOf": [window, {"type": "array", "items": window}]
        })
    }
}

impl<'de> Deserialize<'de> for CalendarFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CalendarFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a window {\"days\", \"from\", \"to\", \"zone\"} or a list of windows")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<CalendarFile, A::Error> {
                WindowFile::deserialize(MapAccessDeserializer::new(map)).map(CalendarFile::One)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<CalendarFile, A::Error> {
                Vec::deserialize(SeqAccessDeserializer::new(seq)).map(CalendarFile::Many)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WindowFile {
    #[serde(default = "default_days")]
    pub days: DaysFile,
    pub from: String,
    pub to: String,
    #[serde(default = "default_zone")]
    pub zone: String,
}

fn default_days() -> DaysFile {
    DaysFile::Text("daily".into())
}
fn default_zone() -> String {
    "site".into()
}

/// Days written as one word (`"daily"`, `"mon-fri"`) or as a list of day names.
#[derive(Debug, Clone)]
pub(crate) enum DaysFile {
    Text(String),
    List(Vec<String>),
}

impl JsonSchema for DaysFile {
    fn schema_name() -> Cow<'static, str> {
        "Days".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Days as a word (\"daily\", \"weekdays\", \"weekends\"), a day (\"mon\"), a range (\"mon-fri\"), or a list of those",
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
        })
    }
}

impl<'de> Deserialize<'de> for DaysFile {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DaysFile;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("days as text such as \"daily\", \"weekdays\" or \"mon-fri\", or a list such as [\"sat\", \"sun\"]")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DaysFile, E> {
                Ok(DaysFile::Text(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<DaysFile, A::Error> {
                Vec::deserialize(SeqAccessDeserializer::new(seq)).map(DaysFile::List)
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReleaseFile {
    pub at: String,
    #[serde(default)]
    pub changes: Vec<ChangeKindFile>,
    pub label: Option<String>,
    /// Descriptor facts instead of `changes`: the full scope set, the API version, the licensing.
    pub scopes: Option<Vec<String>>,
    pub api_version: Option<u32>,
    pub licensing: Option<LicensingFile>,
    /// Forge: an older major line this release is backported to.
    pub line: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum LicensingFile {
    Free,
    Paid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum ChangeKindFile {
    ApiVersion,
    Scopes,
    Licensing,
    Other,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PolicyFile {
    pub drop_old_support_after: Option<DurationText>,
    pub uninstall_unapproved_after: Option<DurationText>,
    pub bulk_upgrade: Option<BulkUpgradeFile>,
    pub cutoff_at: Option<String>,
    pub cutoff_below: Option<String>,
    pub cutoff_action: Option<CutoffActionFile>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct BulkUpgradeFile {
    pub at: String,
    #[serde(default = "default_request_size")]
    pub request_size: u32,
    pub requests_per_hour: f64,
}

fn default_request_size() -> u32 {
    500
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub(crate) enum CutoffActionFile {
    Broken,
    Uninstall,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReportFile {
    pub thresholds: Option<Vec<f64>>,
    pub sample_every: Option<DurationText>,
    pub coexistence_tolerance: Option<f64>,
    /// Another name for `coexistence_tolerance` that also takes a count: a share
    /// (`0.05` or `"5%"`) or a number of instances (`"100 instances"`).
    pub switch_off_when_at_most: Option<AtMostFile>,
    pub compat_window_quantile: Option<f64>,
}

/// `report.switch_off_when_at_most`: a share as a number, or text such as `"5%"` or
/// `"100 instances"`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub(crate) enum AtMostFile {
    Share(f64),
    Text(String),
}
