//! The fit chart: the observed share updated against the fitted curve.

use super::{Axis, Chart, Drawing, Series, time_axis};
use crate::fit::FitOutcome;

/// The observed cumulative share updated against the fitted curve, per segment.
pub(crate) fn fit_chart(o: &FitOutcome) -> Chart {
    let until = o
        .segments
        .iter()
        .filter_map(|s| s.fitted_curve.last().map(|p| p.0))
        .fold(1.0, f64::max);
    let (x, scale) = time_axis(until, "after the deploy");
    let mut series = Vec::new();
    for s in &o.segments {
        let mut steps = vec![(0.0, 0.0)];
        for &(t, share) in &s.observed_curve {
            let last = steps.last().map_or(0.0, |p: &(f64, f64)| p.1);
            steps.push((t / scale, last));
            steps.push((t / scale, share));
        }
        series.push(Series {
            label: format!("{} observed", s.name),
            line: steps,
            band: Vec::new(),
            markers: Vec::new(),
            colour: None,
        });
        series.push(Series {
            label: format!(
                "{} fitted: approve {:.2}, {} delay",
                s.name,
                s.approve.estimate,
                s.law.family.name()
            ),
            line: s
                .fitted_curve
                .iter()
                .map(|&(t, f)| (t / scale, f))
                .collect(),
            band: Vec::new(),
            markers: Vec::new(),
            colour: None,
        });
    }
    Chart {
        name: "fit".into(),
        title: format!("{}: observed and fitted adoption of release {}", o.scenario, o.release),
        caption: "The share of observed instances on the new version after the deploy: observed (Kaplan-Meier, which accounts for instances no longer observed; or the shares given) and as the fitted model predicts it, platform part included.".into(),
        drawing: Drawing::Lines {
            x,
            y: Axis::share("share of instances updated"),
            series,
            references: Vec::new(),
        },
    }
}
