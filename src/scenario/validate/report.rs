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
    let coexistence_tolerance = tolerance(f)?;
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

/// `report.coexistence_tolerance` or its other name `report.switch_off_when_at_most`.
fn tolerance(f: &file::ReportFile) -> Check<Tolerance> {
    const ALIAS: &str = "report.switch_off_when_at_most";
    let share = |eps: f64, field: &str| {
        if (0.0..1.0).contains(&eps) {
            Ok(Tolerance::Share(eps))
        } else {
            Err(FieldError::new(
                field,
                format!(
                    "{eps} is not allowed; allowed: a share from 0 (no old instance left) up to, not including, 1"
                ),
            ))
        }
    };
    match (f.coexistence_tolerance, &f.switch_off_when_at_most) {
        (Some(_), Some(_)) => Err(FieldError::new(
            ALIAS,
            "is another name for report.coexistence_tolerance: give one of them",
        )),
        (Some(eps), None) => share(eps, "report.coexistence_tolerance"),
        (None, None) => Ok(Tolerance::Share(0.0)),
        (None, Some(file::AtMostFile::Share(eps))) => share(*eps, ALIAS),
        (None, Some(file::AtMostFile::Text(text))) => {
            let t = text.trim();
            let bad = || {
                FieldError::new(
                    ALIAS,
                    format!(
                        "\"{}\" is not allowed; allowed: a share such as 0.05 or \"5%\", or a count such as \"100 instances\"",
                        crate::input::echo(text)
                    ),
                )
            };
            if let Some(pct) = t.strip_suffix('%') {
                let pct: f64 = pct.trim().parse().map_err(|_| bad())?;
                share(pct / 100.0, ALIAS)
            } else {
                let n = t
                    .strip_suffix("instances")
                    .or_else(|| t.strip_suffix("instance"))
                    .unwrap_or(t);
                n.trim()
                    .parse::<u64>()
                    .map(Tolerance::Instances)
                    .map_err(|_| bad())
            }
        }
    }
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

    #[test]
    fn the_switch_off_tolerance_takes_a_share_or_a_count_under_either_name() {
        let t = |v| check(json!(v)).map(|r| r.coexistence_tolerance);
        assert_eq!(t(json!({})), Ok(Tolerance::Share(0.0)));
        assert_eq!(
            t(json!({"coexistence_tolerance": 0.05})),
            Ok(Tolerance::Share(0.05))
        );
        assert_eq!(
            t(json!({"switch_off_when_at_most": 0.05})),
            Ok(Tolerance::Share(0.05))
        );
        assert_eq!(
            t(json!({"switch_off_when_at_most": "5%"})),
            Ok(Tolerance::Share(0.05))
        );
        assert_eq!(
            t(json!({"switch_off_when_at_most": "100 instances"})),
            Ok(Tolerance::Instances(100))
        );
        for bad in [
            json!({"switch_off_when_at_most": "100%"}),
            json!({"switch_off_when_at_most": "-3 instances"}),
            json!({"switch_off_when_at_most": "many"}),
            json!({"switch_off_when_at_most": 1.5}),
            json!({"coexistence_tolerance": 0.1, "switch_off_when_at_most": 0.1}),
        ] {
            assert_eq!(t(bad).unwrap_err().field, "report.switch_off_when_at_most");
        }
    }
}
