//! Goodness of fit: the largest distance between the observed adoption curve
//! (Kaplan-Meier for per-instance data, which respects censoring; the shares
//! themselves for aggregate data) and the fitted one, with a parametric-bootstrap
//! p-value: data sets simulated from the fitted model, with the observed censoring, are
//! refitted and their distances counted.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

use super::likelihood::{Cells, GroupLikelihood, Seen};
use crate::delay::Law;

/// One group's observations in the form the fit works on.
#[derive(Clone, Debug)]
pub(super) enum GroupData {
    /// What was seen of each instance.
    Instances(Vec<Seen>),
    /// A cumulative share curve `(hours, share)` over `instances`.
    Shares {
        /// The curve.
        points: Vec<(f64, f64)>,
        /// The field size.
        instances: u64,
    },
}

impl GroupData {
    /// Instances observed, and how many were seen updated (aggregate: rounded from the
    /// last share).
    pub(super) fn counts(&self) -> (u64, u64) {
        match self {
            GroupData::Instances(rows) => (
                rows.len() as u64,
                rows.iter().filter(|r| r.first_new.is_some()).count() as u64,
            ),
            GroupData::Shares { points, instances } => (
                *instances,
                (points.last().map_or(0.0, |p| p.1) * *instances as f64).round() as u64,
            ),
        }
    }

    /// The last observation, in hours after the deploy.
    pub(super) fn until(&self) -> f64 {
        match self {
            GroupData::Instances(rows) => rows.iter().map(Seen::until).fold(0.0, f64::max),
            GroupData::Shares { points, .. } => points.last().map_or(0.0, |p| p.0),
        }
    }

    /// The cells of the likelihood.
    pub(super) fn cells(&self) -> Cells {
        match self {
            GroupData::Instances(rows) => Cells::from_instances(rows),
            GroupData::Shares { points, instances } => {
                Cells::from_shares(points, *instances as f64)
            }
        }
    }

    /// The observed cumulative share updated, as a step curve `(hours, share)`:
    /// Kaplan-Meier (updates before censorings at tied times) or the shares.
    pub(super) fn observed_curve(&self) -> Vec<(f64, f64)> {
        match self {
            GroupData::Shares { points, .. } => points.clone(),
            GroupData::Instances(rows) => {
                // An update known only between two sightings counts at the sighting that
                // saw it (the curve is then right at the sighting times, which is where
                // the distance compares it; the likelihood uses the interval).
                let mut sorted: Vec<(f64, bool)> = rows
                    .iter()
                    .map(|r| (r.until(), r.first_new.is_some()))
                    .collect();
                sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
                let mut at_risk = sorted.len() as f64;
                let mut survival = 1.0;
                let mut curve = Vec::new();
                let mut i = 0;
                while i < sorted.len() {
                    let t = sorted[i].0;
                    let (mut events, mut leaving) = (0.0, 0.0);
                    while i < sorted.len() && sorted[i].0 == t {
                        events += f64::from(u8::from(sorted[i].1));
                        leaving += 1.0;
                        i += 1;
                    }
                    if events > 0.0 {
                        survival *= 1.0 - events / at_risk;
                        curve.push((t, 1.0 - survival));
                    }
                    at_risk -= leaving;
                }
                curve
            }
        }
    }

    /// The largest gap between the observed curve and `fitted` (evaluated at the
    /// curve's times; for a step curve on both sides of each step).
    pub(super) fn distance(&self, group: &GroupLikelihood, approve: f64, law: &Law) -> f64 {
        let observed = self.observed_curve();
        let times: Vec<f64> = observed.iter().map(|p| p.0).collect();
        let fitted = group.fitted_curve(approve, law, &times);
        // Exact times: the step's both sides; sightings and shares: the sighting.
        let both_sides = matches!(self, GroupData::Instances(_)) && self.is_exact();
        let mut before = 0.0;
        let mut worst: f64 = 0.0;
        for (&(_, share), f) in observed.iter().zip(fitted) {
            let left = if both_sides { (before - f).abs() } else { 0.0 };
            worst = worst.max(left).max((share - f).abs());
            before = share;
        }
        worst
    }

    /// Whether every time is exact and observed from the deploy: only such data can be
    /// simulated with their own censoring for the bootstrap.
    pub(super) fn is_exact(&self) -> bool {
        match self {
            GroupData::Instances(rows) => rows
                .iter()
                .all(|r| r.entered == 0.0 && r.first_new.is_none_or(|n| n == r.last_old)),
            GroupData::Shares { .. } => true,
        }
    }

    /// A data set drawn from the fitted model with this one's censoring: each
    /// per-instance row keeps its censoring time (updated rows: the last observation),
    /// aggregate data keep their observation times and field size. Replicate
    /// `replicate` of `seed` has its own `ChaCha` stream.
    pub(super) fn simulate(
        &self,
        group: &GroupLikelihood,
        approve: f64,
        law: &Law,
        seed: u64,
        replicate: u64,
    ) -> GroupData {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(replicate);
        let mut uniform = move || (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        // One field-wide draw for the whole data set, from the model's own distribution.
        let u = uniform();
        let mut cumulative = 0.0;
        let node = (0..group.node_count())
            .find(|&j| {
                cumulative += group.node_weight(j);
                u < cumulative
            })
            .unwrap_or(group.node_count() - 1);
        let (_, slip_probability) = group.node(node);
        let delay = law.to_delay();
        let mut draw = || -> Option<f64> {
            let (acts, slips, wait, d) = (uniform(), uniform(), uniform(), uniform());
            (acts < approve).then(|| {
                let hours = delay.quantile(d).as_hours();
                group.update_time(node, slips < slip_probability, wait, hours, &mut uniform)
            })
        };
        match self {
            GroupData::Instances(rows) => {
                let until = self.until();
                GroupData::Instances(
                    rows.iter()
                        .map(|r| {
                            let censor = if r.first_new.is_some() {
                                until
                            } else {
                                r.last_old
                            };
                            match draw() {
                                Some(t) if t <= censor => Seen::exact(t, true),
                                _ => Seen::exact(censor, false),
                            }
                        })
                        .collect(),
                )
            }
            GroupData::Shares { points, instances } => {
                let mut times: Vec<f64> = (0..*instances).filter_map(|_| draw()).collect();
                times.sort_by(f64::total_cmp);
                let n = *instances as f64;
                GroupData::Shares {
                    points: points
                        .iter()
                        .map(|&(h, _)| (h, times.partition_point(|&t| t <= h) as f64 / n))
                        .collect(),
                    instances: *instances,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kaplan_meier_handles_censoring() {
        // 4 instances: updates at 1 and 3, one censored at 2, one at 5.
        let data = GroupData::Instances(
            [(1.0, true), (2.0, false), (3.0, true), (5.0, false)]
                .map(|(h, u)| Seen::exact(h, u))
                .to_vec(),
        );
        let curve = data.observed_curve();
        // S(1) = 3/4; S(3) = 3/4 * (1 - 1/2) = 3/8.
        assert_eq!(curve, vec![(1.0, 0.25), (3.0, 0.625)]);
    }
}
