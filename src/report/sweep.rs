//! What `sweep` reports: every grid point's settings and figures (its files and table
//! are in `export::sweep`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::{PrecisionReport, Report, SCHEMA_VERSION, Stat, ThresholdKey, Tool};

#[derive(Clone, Debug, Serialize)]
/// What `sweep` writes to `sweep.json`.
pub struct SweepReport {
    /// The version of the report contract ([`SCHEMA_VERSION`]).
    pub schema_version: u32,
    /// The tool that wrote the report.
    pub tool: Tool,
    /// The swept scenario's name.
    pub scenario: String,
    /// The path of each axis that takes several values, in order.
    pub axes: Vec<String>,
    /// Settings given a single value (`--set PATH=V`): the same at every point, so
    /// shown once here and not in each point's `settings`.
    pub fixed: Vec<(String, Value)>,
    /// Every grid point, the first axis varying slowest.
    pub points: Vec<SweepPoint>,
}

#[derive(Clone, Debug, Serialize)]
/// The figures at one grid point.
pub struct SweepPoint {
    /// The point's index in the grid.
    pub index: usize,
    /// The value of each axis at this point, in axis order.
    pub settings: Vec<(String, Value)>,
    /// Replications run at the point.
    pub replications: u32,
    /// Per release, its headline figures.
    pub releases: Vec<SweepRelease>,
    /// How a `--precision` run ended at this point; `null` otherwise.
    pub precision: Option<PrecisionReport>,
}

/// The headline figures of one release at one grid point (the same `STAT`s as `report.json`).
#[derive(Clone, Debug, Serialize)]
pub struct SweepRelease {
    /// The release's index.
    pub index: usize,
    /// The release's label.
    pub label: String,
    /// The version it deploys.
    pub version: String,
    /// Hours to each threshold share, as in `report.json`.
    pub time_to_share_hours: BTreeMap<ThresholdKey, Stat>,
    /// Hours of coexistence, as in `report.json`.
    pub coexistence_hours: Stat,
    /// Instances left behind at the drop date, as in `report.json`.
    pub left_behind: Option<Stat>,
    /// Instances still older than the release at the horizon, as in `report.json`.
    pub left_over_at_horizon: Stat,
    /// Their share of the active instances, as in `report.json`.
    pub left_over_share_at_horizon: Stat,
    /// The recommended compatibility window in hours.
    pub recommended_compat_window_hours: Option<f64>,
}

impl SweepPoint {
    /// The point `index` with axis values `settings`, from the run's report.
    pub fn new(index: usize, settings: Vec<(String, Value)>, report: Report) -> Self {
        SweepPoint {
            index,
            settings,
            replications: report.scenario.replications,
            precision: report.precision,
            releases: report
                .releases
                .into_iter()
                .map(|r| SweepRelease {
                    index: r.index,
                    label: r.label,
                    version: r.version,
                    time_to_share_hours: r.time_to_share_hours,
                    coexistence_hours: r.coexistence_hours,
                    left_behind: r.left_behind,
                    left_over_at_horizon: r.left_over_at_horizon,
                    left_over_share_at_horizon: r.left_over_share_at_horizon,
                    recommended_compat_window_hours: r.recommended_compat_window_hours,
                })
                .collect(),
        }
    }
}

impl SweepReport {
    /// The sweep report of `scenario` over `axes` (path and number of values, in
    /// order): axes of one value become `fixed` and leave the points' settings.
    pub fn new(scenario: String, axes: &[(String, usize)], mut points: Vec<SweepPoint>) -> Self {
        let is_fixed = |path: &str| axes.iter().any(|(p, n)| p == path && *n == 1);
        let fixed = points.first().map_or_else(Vec::new, |p| {
            p.settings
                .iter()
                .filter(|(path, _)| is_fixed(path))
                .cloned()
                .collect()
        });
        for p in &mut points {
            p.settings.retain(|(path, _)| !is_fixed(path));
        }
        SweepReport {
            schema_version: SCHEMA_VERSION,
            tool: Tool::this(),
            scenario,
            axes: axes
                .iter()
                .filter(|(_, n)| *n > 1)
                .map(|(p, _)| p.clone())
                .collect(),
            fixed,
            points,
        }
    }
}
