//! Parameter sweeps: a grid over any scenario values addressed by JSON path.

use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::input::echo;
use crate::scenario::setting::parse_value;
use crate::scenario::{FieldError, Setting};
use crate::time::SimDuration;

/// One axis of the grid: a path and the values it takes.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Axis {
    /// The JSON path the axis sets.
    pub path: String,
    /// The values it takes, in order.
    pub values: Vec<Value>,
    /// A name for each value, for values people name rather than read (a whole
    /// release list: `"bundled"`, `"isolated"`); empty when the values speak for
    /// themselves.
    #[serde(default)]
    pub names: Vec<String>,
}

/// An axis written wrongly on the command line.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("\"{0}\": {1}")]
pub struct AxisParseError(pub String, pub String);

/// What a sweep axis must look like.
const AXIS_FORM: &str = "expected PATH=V1,V2,... with at least one value, such as admins.casual.approve=0.5,0.7, or PATH=LO..HI/STEP of numbers, durations or RFC 3339 instants, such as policy.drop_old_support_after=7d..21d/7d";

impl Axis {
    /// The name this axis gives the value `setting` sets, when it names its values and
    /// the setting is one of its own.
    pub fn name_of(&self, setting: &Setting) -> Option<&str> {
        if setting.path != self.path {
            return None;
        }
        let k = self.values.iter().position(|v| *v == setting.value)?;
        self.names.get(k).map(String::as_str)
    }

    /// `PATH=V1,V2,...`; each value is JSON if it parses as JSON, else text.
    pub fn parse(text: &str) -> Result<Axis, AxisParseError> {
        let (path, values) = text
            .split_once('=')
            .ok_or_else(|| AxisParseError(echo(text), AXIS_FORM.into()))?;
        let values: Vec<Value> = match range(values.trim()) {
            Some(expanded) => expanded.map_err(|e| AxisParseError(echo(text), e))?,
            None => values
                .split(',')
                .filter(|v| !v.trim().is_empty())
                .map(parse_value)
                .collect::<Result<_, _>>()
                .map_err(|e| AxisParseError(echo(text), e))?,
        };
        if path.trim().is_empty() || values.is_empty() {
            return Err(AxisParseError(echo(text), AXIS_FORM.into()));
        }
        Ok(Axis {
            path: path.trim().to_string(),
            values,
            names: Vec::new(),
        })
    }
}

/// The most values a range may expand to.
const MAX_RANGE_VALUES: f64 = 10_000.0;

/// `LO..HI/STEP`, of numbers (`0..0.6/0.2`) or durations (`7d..21d/7d`, written back in
/// hours): every value from LO up to HI in steps of STEP. `None` when `text` is not a
/// range at all.
fn range(text: &str) -> Option<Result<Vec<Value>, String>> {
    let (lo, rest) = text.split_once("..")?;
    let (hi, step) = rest.split_once('/')?;
    let number = |s: &str| s.trim().parse::<f64>().ok().filter(|v| v.is_finite());
    let hours = |s: &str| SimDuration::parse(s.trim()).ok().map(SimDuration::as_hours);
    let (lo_v, hi_v, step_v, durations) = match (number(lo), number(hi), number(step)) {
        (Some(a), Some(b), Some(c)) => (a, b, c, false),
        _ => match (hours(lo), hours(hi), hours(step)) {
            (Some(a), Some(b), Some(c)) => (a, b, c, true),
            _ => return Some(instant_range(lo.trim(), hi.trim(), step.trim())),
        },
    };
    if step_v <= 0.0 || hi_v < lo_v {
        return Some(Err("a range needs LO <= HI and a positive STEP".into()));
    }
    let count = ((hi_v - lo_v) / step_v + 1e-9).floor() + 1.0;
    if count > MAX_RANGE_VALUES {
        return Some(Err(format!(
            "the range has {count} values; at most {MAX_RANGE_VALUES}"
        )));
    }
    let values = (0..count as u64)
        .map(|i| {
            // Rounded to a millionth so that 0.1 steps print as 0.3, not 0.30000000000000004.
            let v = ((lo_v + i as f64 * step_v) * 1e6).round() / 1e6;
            if durations && (v / 24.0).fract() == 0.0 {
                Value::String(format!("{}d", v / 24.0))
            } else if durations {
                Value::String(format!("{v}h"))
            } else {
                serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
            }
        })
        .collect();
    Some(Ok(values))
}

/// What a range may be made of.
const RANGE_FORM: &str = "a range is LO..HI/STEP of numbers (0..0.6/0.2), of durations (7d..21d/7d) or of RFC 3339 instants stepped by a duration (2027-01-04T09:00:00Z..2027-01-08T09:00:00Z/1d)";

/// `LO..HI/STEP` of RFC 3339 instants and a duration, such as deploy times for
/// `releases[1].at`: every instant from LO up to HI, written with LO's UTC offset.
fn instant_range(lo: &str, hi: &str, step: &str) -> Result<Vec<Value>, String> {
    let instant = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    let (Some(lo), Some(hi), Ok(step)) = (instant(lo), instant(hi), SimDuration::parse(step))
    else {
        return Err(RANGE_FORM.into());
    };
    let step_ms = step.as_millis();
    let span_ms = (hi - lo).num_milliseconds();
    if step_ms <= 0 || span_ms < 0 {
        return Err("a range needs LO <= HI and a positive STEP".into());
    }
    let count = span_ms / step_ms + 1;
    if count as f64 > MAX_RANGE_VALUES {
        return Err(format!(
            "the range has {count} values; at most {MAX_RANGE_VALUES}"
        ));
    }
    // Every value lies between LO and HI, so none can overflow.
    Ok((0..count)
        .map(|i| {
            let at = lo + chrono::TimeDelta::milliseconds(i * step_ms);
            Value::String(at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
        })
        .collect())
}

/// A sweep file: `{"axes": [{"path": "timing.upm_poll", "values": ["12h", "24h"]}]}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SweepFile {
    /// The grid's axes; the first varies slowest.
    pub axes: Vec<Axis>,
}

/// Reads a sweep file's axes.
pub fn load_sweep_file(path: &Path) -> Result<Vec<Axis>, FieldError> {
    let text = crate::input::read_bounded(path)
        .map_err(|e| FieldError::new("(file)", format!("{e:#}")))?;
    // Each key at most once, at any depth, as in scenario files.
    let value =
        crate::input::parse_json(&text).map_err(|e| FieldError::new("(file)", e.to_string()))?;
    let file: SweepFile = serde_path_to_error::deserialize(value)
        .map_err(|e| FieldError::new(e.path().to_string(), e.inner().to_string()))?;
    if file.axes.iter().any(|a| a.values.is_empty()) || file.axes.is_empty() {
        return Err(FieldError::new(
            "axes",
            "needs at least one axis, each with at least one value",
        ));
    }
    if let Some(i) = file
        .axes
        .iter()
        .position(|a| !a.names.is_empty() && a.names.len() != a.values.len())
    {
        return Err(FieldError::new(
            format!("axes[{i}].names"),
            "needs one name per value, or none",
        ));
    }
    Ok(file.axes)
}

/// The most grid points a sweep may have: each point is a whole scenario, validated
/// before anything runs and simulated with all its replications.
pub const MAX_GRID_POINTS: u128 = 10_000;

/// The number of points of the grid of `axes`, refused above [`MAX_GRID_POINTS`] before
/// any point is built: a grid of a million points would spend its memory and minutes
/// validating.
pub fn checked_grid_size(axes: &[Axis]) -> Result<usize, String> {
    let size = axes
        .iter()
        .fold(1u128, |n, a| n.saturating_mul(a.values.len() as u128));
    if size > MAX_GRID_POINTS {
        let shape: Vec<String> = axes.iter().map(|a| a.values.len().to_string()).collect();
        return Err(format!(
            "the grid has {size} points ({} values on the axes {}); a sweep has at most {MAX_GRID_POINTS}: use fewer values, or split the sweep into several runs",
            shape.join(" x "),
            axes.iter()
                .map(|a| echo(&a.path))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(size as usize)
}

/// Every combination of axis values, the first axis varying slowest: a stable order.
pub fn grid(axes: &[Axis]) -> Vec<Vec<Setting>> {
    let mut points: Vec<Vec<Setting>> = vec![Vec::new()];
    for axis in axes {
        points = points
            .into_iter()
            .flat_map(|point| {
                axis.values.iter().map(move |v| {
                    let mut p = point.clone();
                    p.push(Setting::new(axis.path.clone(), v.clone()));
                    p
                })
            })
            .collect();
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ranges_expand_to_their_values() {
        let a = Axis::parse("admins.casual.approve=0..0.6/0.2").unwrap();
        assert_eq!(
            a.values,
            vec![json!(0.0), json!(0.2), json!(0.4), json!(0.6)]
        );
        let a = Axis::parse("policy.drop_old_support_after=7d..21d/7d").unwrap();
        assert_eq!(a.values, vec![json!("7d"), json!("14d"), json!("21d")]);
        let a = Axis::parse("timing.upm_poll=12h..36h/12h").unwrap();
        assert_eq!(a.values, vec![json!("12h"), json!("1d"), json!("36h")]);
        let a =
            Axis::parse("releases[1].at=2027-01-04T09:00:00Z..2027-01-06T21:00:00Z/1d").unwrap();
        assert_eq!(
            a.values,
            vec![
                json!("2027-01-04T09:00:00Z"),
                json!("2027-01-05T09:00:00Z"),
                json!("2027-01-06T09:00:00Z")
            ]
        );
        // LO's offset is kept, and a step below a day works.
        let a =
            Axis::parse("releases[0].at=2027-01-04T09:00:00+01:00..2027-01-04T10:00:00+01:00/30m")
                .unwrap();
        assert_eq!(
            a.values,
            vec![
                json!("2027-01-04T09:00:00+01:00"),
                json!("2027-01-04T09:30:00+01:00"),
                json!("2027-01-04T10:00:00+01:00")
            ]
        );
        for bad in [
            "x=2027-01-04T09:00:00Z..2027-01-03T09:00:00Z/1d",
            "x=2027-01-04T09:00:00Z..2027-01-05T09:00:00Z/0h",
            "x=2027-01-04T09:00:00Z..2027-01-05T09:00:00Z/x",
            "x=2027-01-04..2027-01-05/1d",
            "x=1970-01-01T00:00:00Z..9999-12-31T00:00:00Z/1h",
            "x=3..1/1",
            "x=0..1/0",
            "x=0..1/-1",
            "x=1d..2/1",
            "x=",
            "x=0..1000000/1",
        ] {
            assert!(Axis::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_sweep_file_with_a_repeated_key_is_refused_at_any_depth() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("sweep.json");
        let text =
            r#"{"axes": [{"path": "admins.x", "values": [{"approve": 0.5, "approve": 0.9}]}]}"#;
        std::fs::write(&path, text).unwrap();
        let err = load_sweep_file(&path).unwrap_err();
        assert!(
            err.message.contains("duplicate") && err.message.contains("approve"),
            "{err:?}"
        );
    }

    #[test]
    fn a_grid_beyond_the_bound_is_refused_before_it_is_built() {
        let values = (0..1000)
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",");
        let big = [
            Axis::parse(&format!("a={values}")).unwrap(),
            Axis::parse(&format!("b={values}")).unwrap(),
        ];
        let err = checked_grid_size(&big).unwrap_err();
        assert!(
            err.contains("1000000 points") && err.contains("1000 x 1000"),
            "{err}"
        );
        assert_eq!(checked_grid_size(&big[..1]), Ok(1000));
        // Saturating: no overflow however many axes.
        let many: Vec<Axis> = (0..40).map(|_| big[0].clone()).collect();
        assert!(checked_grid_size(&many).is_err());
    }

    #[test]
    fn grid_is_the_cartesian_product_in_stable_order() {
        let axes = [
            Axis::parse("a=1,2").unwrap(),
            Axis::parse("b.c=12h,24h,36h").unwrap(),
        ];
        let g = grid(&axes);
        assert_eq!(g.len(), 6);
        assert_eq!(g[0], vec![Setting::new("a", 1), Setting::new("b.c", "12h")]);
        assert_eq!(g[1], vec![Setting::new("a", 1), Setting::new("b.c", "24h")]);
        assert_eq!(g[5], vec![Setting::new("a", 2), Setting::new("b.c", "36h")]);
    }

    #[test]
    fn axes_parse_values_as_json_or_text() {
        let a = Axis::parse("admins.casual.approve=0.5,0.7").unwrap();
        assert_eq!(a.values, vec![json!(0.5), json!(0.7)]);
        assert!(Axis::parse("novalues=").is_err());
        assert!(Axis::parse("noequals").is_err());
    }
}
