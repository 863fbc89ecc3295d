//! The parts of the `report.json` contract below the report itself: a release's figures,
//! the compatibility window, latency quantiles, the cut-off, what was simulated and by
//! which tool; and the version mix and adoption bands the charts and CSVs read.

use serde::Serialize;

use std::collections::BTreeMap;

use super::{CalendarReport, Stat};
use crate::model::mix::VersionCell;
use crate::stats::{quantile_ci, quantile_with_censoring};

/// Instances still below the cut-off version when it takes effect (`affected`: a `STAT`
/// over replications, censored when the cut-off is past the horizon).
#[derive(Clone, Debug, Serialize)]
pub struct CutoffReport {
    /// When the cut-off takes effect, in hours after the start.
    pub at_hours: f64,
    /// The version below which instances stop working.
    pub below: String,
    /// `broken` or `uninstall`.
    pub action: &'static str,
    /// Instances below `below` at the cut-off, over replications.
    pub affected: Stat,
}

#[derive(Clone, Debug, Serialize)]
/// The tool that wrote a report.
pub struct Tool {
    /// `rollout-sim`.
    pub name: &'static str,
    /// Its version.
    pub version: &'static str,
}

impl Tool {
    /// This build of rollout-sim.
    pub fn this() -> Self {
        Tool {
            name: env!("CARGO_PKG_NAME"),
            version: env!("CARGO_PKG_VERSION"),
        }
    }
}

#[derive(Clone, Debug, Serialize)]
/// What a run simulated.
pub struct ScenarioInfo {
    /// The scenario's name.
    pub name: String,
    /// `connect` or `forge`.
    pub platform: &'static str,
    /// The seed of the first replication's draws.
    pub seed: u64,
    /// Replications run.
    pub replications: u32,
    /// Initial instances per replication.
    pub instances: u64,
    /// The scenario's start (RFC 3339, UTC).
    pub start: String,
    /// Simulated hours after the start.
    pub horizon_hours: f64,
}

#[derive(Clone, Debug, Serialize)]
/// One release's figures over replications.
pub struct ReleaseReport {
    /// The release's index in the scenario.
    pub index: usize,
    /// The release's label.
    pub label: String,
    /// The version it replaces.
    pub from_version: String,
    /// The version it deploys.
    pub version: String,
    /// Whether instances on `from_version` need an admin's approval.
    pub needs_approval: bool,
    /// When it was deployed (RFC 3339, UTC).
    pub deployed_at: String,
    /// Hours from the deploy to the Marketplace's publication.
    pub published_after_hours: Stat,
    /// Keyed by threshold share, in increasing order ("0.5", ..., "1").
    pub time_to_share_hours: BTreeMap<ThresholdKey, Stat>,
    /// The same by segment weight; `null` when every segment weighs 1.
    pub time_to_weighted_share_hours: Option<BTreeMap<ThresholdKey, Stat>>,
    /// Hours from the deploy until at most the tolerance of active instances are older.
    pub coexistence_hours: Stat,
    /// Instance latency pooled over replications.
    pub instance_latency_hours: LatencyQuantiles,
    /// Instances older than the release when the vendor drops support; `null` without a drop date.
    pub left_behind: Option<Stat>,
    /// Active instances still older than the release at the horizon (never censored).
    pub left_over_at_horizon: Stat,
    /// The same as a share of the active instances at the horizon.
    pub left_over_share_at_horizon: Stat,
    /// The recommended compatibility window in hours (the same as `recommended_compat_window.hours`).
    pub recommended_compat_window_hours: Option<f64>,
    /// The time figures as calendar instants.
    pub calendar: CalendarReport,
    /// The recommended compatibility window with its confidence interval.
    pub recommended_compat_window: CompatWindow,
}

/// The recommended compatibility window: a quantile over replications of the
/// coexistence window, with a distribution-free 95% CI from order statistics.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CompatWindow {
    /// The quantile over replications (`report.compat_window_quantile`).
    pub quantile: f64,
    /// The window in hours; `null` when too many replications were censored.
    pub hours: Option<f64>,
    /// `null` bounds: the lower one needs more replications, the upper one lies beyond
    /// the horizon (censored replications).
    pub ci95: [Option<f64>; 2],
    /// Why `hours` is `null`, when it is.
    pub reason: Option<String>,
}

impl CompatWindow {
    /// The window at `quantile` of per-replication coexistence values (`None`: censored).
    pub fn of(coexistence: &[Option<f64>], quantile: f64) -> Self {
        let hours = quantile_with_censoring(coexistence, quantile);
        let (lo, hi) = quantile_ci(coexistence, quantile, 0.95);
        let censored = coexistence.iter().filter(|v| v.is_none()).count();
        let reason = hours.is_none().then(|| {
            format!(
                "{censored} of {} replications still had older instances at the horizon, more than the {:.0}% the quantile allows",
                coexistence.len(),
                (1.0 - quantile) * 100.0
            )
        });
        CompatWindow {
            quantile,
            hours,
            ci95: [lo, hi],
            reason,
        }
    }
}

/// A threshold share as a report key: ordered by value, printed in shortest form.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThresholdKey(pub f64);

impl Eq for ThresholdKey {}
impl PartialOrd for ThresholdKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for ThresholdKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}
impl Serialize for ThresholdKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// Pooled instance latency by Kaplan-Meier; a quantile is `null` when the survival
/// curve never falls that far before the horizon.
#[derive(Clone, Debug, Serialize)]
pub struct LatencyQuantiles {
    /// Median hours from deploy to update.
    pub p50: Option<f64>,
    /// 90th percentile.
    pub p90: Option<f64>,
    /// 99th percentile.
    pub p99: Option<f64>,
    /// Longest observed latency.
    pub max: Option<f64>,
    /// Share of instances still waiting (or gone) at the end of their observation.
    pub censored_fraction: Option<f64>,
}

/// One row of the version mix over time.
#[derive(Clone, Debug, PartialEq)]
pub struct MixRow {
    /// Hours after the start.
    pub hours: f64,
    /// The version.
    pub version: String,
    /// The version's shares and counts at the sample, over replications.
    pub cell: VersionCell,
}

/// A release's adoption at one sample: the share of installed instances on its version
/// or a later one, over replications.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    /// Hours after the scenario's start.
    pub hours: f64,
    /// Mean share.
    pub mean: f64,
    /// 5th percentile of the share over replications.
    pub p5: f64,
    /// 95th percentile of the share over replications.
    pub p95: f64,
    /// Mean count of installed instances not yet on the release (what a cut-off at
    /// this time would break).
    pub mean_behind: f64,
}
