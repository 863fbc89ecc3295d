//! `report`: thresholds, sampling, the coexistence tolerance and the recommended
//! window's quantile.

use super::*;

pub(super) fn report(f: &file::ReportFile, horizon: SimDuration) -> Check<ReportSettings> {
    let thresholds = f
        .thresholds
        .clone()
        .unwrap_or_else(|| vec![0.5, 0.9, 0.99, 0.999, 1.0]);
    if thresholds.is_empty() {
        return Err(FieldError::new(
            "report.thresholds",
            "needs at least one threshold",
        ));
    }
    for (i, &p) in thresholds.iter().enumerate() {
        if !(p > 0.0 && p <= 1.0) {
            return Err(FieldError::new(
                format!("report.thresholds[{i}]"),
                format!("{p} is not allowed; a threshold share is in (0, 1]"),
            ));
        }
        if i > 0 && p <= thresholds[i - 1] {
            return Err(FieldError::new(
                format!("report.thresholds[{i}]"),
                "thresholds must be strictly increasing",
            ));
        }
    }
    let sample_every = positive(
        f.sample_every.map_or(SimDuration::from_hours(1), |d| d.0),
        "report.sample_every",
    )?;
    if horizon.as_millis() / sample_every.as_millis() > 1_000_000 {
        return Err(FieldError::new(
            "report.sample_every",
            format!("{sample_every} gives more than a million samples over the horizon {horizon}"),
        ));
    }
    let coexistence_tolerance = f.coexistence_tolerance.unwrap_or(0.0);
    if !(0.0..1.0).contains(&coexistence_tolerance) {
        return Err(FieldError::new(
            "report.coexistence_tolerance",
            format!(
                "{coexistence_tolerance} is not allowed; allowed: 0 (no old instance left) up to, not including, 1"
            ),
        ));
    }
    let compat_window_quantile = f.compat_window_quantile.unwrap_or(0.95);
    if !(compat_window_quantile > 0.0 && compat_window_quantile < 1.0) {
        return Err(FieldError::new(
            "report.compat_window_quantile",
            format!(
                "{compat_window_quantile} is not allowed; a quantile is strictly between 0 and 1"
            ),
        ));
    }
    Ok(ReportSettings {
        thresholds,
        sample_every,
        coexistence_tolerance,
        compat_window_quantile,
    })
}

/// The `expect` assertions: bounds read as hours (durations) or counts (numbers).
pub(super) fn expectations(files: &[file::ExpectFile]) -> Check<Vec<Expectation>> {
    files
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let bound = |b: Option<file::BoundFile>, key: &str| -> Check<Option<f64>> {
                match b {
                    None => Ok(None),
                    Some(file::BoundFile::Duration(d)) => Ok(Some(d.0.as_hours())),
                    Some(file::BoundFile::Number(x)) if x.is_finite() => Ok(Some(x)),
                    Some(file::BoundFile::Number(x)) => Err(FieldError::new(
                        format!("expect[{i}].{key}"),
                        format!("{x} is not a bound; give a duration such as \"48h\" or a count"),
                    )),
                }
            };
            let (min, max) = (bound(e.min, "min")?, bound(e.max, "max")?);
            if min.is_none() && max.is_none() {
                return Err(FieldError::new(
                    format!("expect[{i}]"),
                    "needs \"min\", \"max\" or both",
                ));
            }
            let stat = match e.stat.unwrap_or(file::ExpectStatFile::Mean) {
                file::ExpectStatFile::Mean => ExpectStat::Mean,
                file::ExpectStatFile::P5 => ExpectStat::P5,
                file::ExpectStatFile::P50 => ExpectStat::P50,
                file::ExpectStatFile::P95 => ExpectStat::P95,
                file::ExpectStatFile::Max => ExpectStat::Max,
            };
            Ok(Expectation {
                figure: e.figure.clone(),
                stat,
                min,
                max,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(v: serde_json::Value) -> Check<ReportSettings> {
        report(
            &serde_json::from_value(v).unwrap(),
            SimDuration::from_days(10),
        )
    }

    #[test]
    fn expectations_read_durations_and_counts() {
        let e: Vec<file::ExpectFile> = serde_json::from_value(json!([
            {"figure": "coexistence@0", "max": "48h"},
            {"figure": "left_behind@1", "max": 200, "stat": "p95"}
        ]))
        .unwrap();
        let x = expectations(&e).unwrap();
        assert_eq!((x[0].max, x[0].stat), (Some(48.0), ExpectStat::Mean));
        assert_eq!((x[1].max, x[1].stat), (Some(200.0), ExpectStat::P95));
        let e: Vec<file::ExpectFile> =
            serde_json::from_value(json!([{"figure": "coexistence"}])).unwrap();
        assert_eq!(expectations(&e).unwrap_err().field, "expect[0]");
    }

    #[test]
    fn defaults_and_bad_thresholds() {
        let r = check(json!({})).unwrap();
        assert_eq!(r.thresholds, vec![0.5, 0.9, 0.99, 0.999, 1.0]);
        assert_eq!(
            check(json!({"thresholds": [0.9, 0.5]})).unwrap_err().field,
            "report.thresholds[1]"
        );
        assert_eq!(
            check(json!({"sample_every": "0h"})).unwrap_err().field,
            "report.sample_every"
        );
    }
}
