//! Maximum likelihood and profile-likelihood intervals for one group's admin profile.
//!
//! Coordinates: the logit of `approve`, then the logarithms of the delay law's
//! parameters. Maximisation is Nelder-Mead (argmin), restarted once from its own
//! optimum; each 95% interval end is where twice the drop of the profile log-likelihood
//! (the other coordinates re-maximised) reaches the chi-square(1) 95% point, found by
//! Brent's method. Intervals map through the monotone coordinate transforms unchanged.

use argmin::core::{CostFunction, Error as ArgminError, Executor, State};
use argmin::solver::brent::BrentRoot;
use argmin::solver::neldermead::NelderMead;
use rayon::prelude::*;

use super::likelihood::LogLikelihood;
use crate::delay::{Family, Law};

/// The logit of `approve` stays within this bound (`approve` within about 6e-6 of 0 and 1).
pub(super) const LOGIT_BOUND: f64 = 12.0;
/// The chi-square(1) distribution's 95% point.
const CHI2_1_95: f64 = 3.841_458_820_694_124;

/// A maximum-likelihood fit of one group.
#[derive(Clone, Debug)]
pub(super) struct Estimate {
    /// The coordinates at the maximum.
    pub coordinates: Vec<f64>,
    /// The maximised log-likelihood.
    pub log_likelihood: f64,
    /// The family fitted.
    pub family: Family,
}

impl Estimate {
    /// The share that approves.
    pub(super) fn approve(&self) -> f64 {
        logistic(self.coordinates[0])
    }

    /// The delay law.
    pub(super) fn law(&self) -> Law {
        self.family.law(&self.coordinates[1..])
    }

    /// Akaike's information criterion: `2k - 2 ln L`.
    pub(super) fn aic(&self) -> f64 {
        2.0 * self.coordinates.len() as f64 - 2.0 * self.log_likelihood
    }
}

pub(super) fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + libm::exp(-x.clamp(-LOGIT_BOUND, LOGIT_BOUND)))
}

fn logit(p: f64) -> f64 {
    libm::log(p / (1.0 - p)).clamp(-LOGIT_BOUND, LOGIT_BOUND)
}

/// The negative log-likelihood over the free coordinates, one coordinate held fixed
/// when profiling.
struct Negative<'a> {
    group: &'a dyn LogLikelihood,
    family: Family,
    fixed: Option<(usize, f64)>,
}

impl Negative<'_> {
    fn full(&self, free: &[f64]) -> Vec<f64> {
        let mut all = free.to_vec();
        if let Some((i, v)) = self.fixed {
            all.insert(i, v);
        }
        all
    }

    fn log_likelihood(&self, coordinates: &[f64]) -> f64 {
        let law = self.family.law(&coordinates[1..]);
        self.group.log_likelihood(logistic(coordinates[0]), &law)
    }
}

impl CostFunction for Negative<'_> {
    type Param = Vec<f64>;
    type Output = f64;
    fn cost(&self, free: &Vec<f64>) -> Result<f64, ArgminError> {
        let ll = self.log_likelihood(&self.full(free));
        // A point no data can come from is as bad as can be, but finite for the simplex.
        Ok(if ll.is_finite() { -ll } else { 1e300 })
    }
}

/// Nelder-Mead from `start` with a simplex of `step` along each coordinate.
fn nelder_mead(cost: Negative<'_>, start: Vec<f64>, step: f64, iterations: u64) -> (Vec<f64>, f64) {
    let mut simplex = vec![start.clone()];
    for i in 0..start.len() {
        let mut vertex = start.clone();
        vertex[i] += step;
        simplex.push(vertex);
    }
    let solver = NelderMead::new(simplex)
        .with_sd_tolerance(1e-6)
        .expect("a positive tolerance");
    let result = Executor::new(cost, solver)
        .configure(|state| state.max_iters(iterations))
        .run()
        .expect("the cost function never fails");
    let state = result.state();
    (
        state.get_best_param().cloned().unwrap_or(start),
        state.get_best_cost(),
    )
}

/// The maximum-likelihood estimate of `family` from `approve` and `median_hours`.
pub(super) fn maximise(
    group: &dyn LogLikelihood,
    family: Family,
    approve: f64,
    median_hours: f64,
) -> Estimate {
    let start: Vec<f64> = std::iter::once(logit(approve))
        .chain(family.starting_law(median_hours).coordinates())
        .collect();
    let cost = || Negative {
        group,
        family,
        fixed: None,
    };
    let (first, _) = nelder_mead(cost(), start, 0.7, 600);
    let (best, value) = nelder_mead(cost(), first, 0.14, 600);
    Estimate {
        coordinates: best,
        log_likelihood: -value,
        family,
    }
}

/// A quick refit from a nearby point (the bootstrap's data sets start at the estimate
/// they were drawn from): one Nelder-Mead run with a small simplex.
pub(super) fn refit(group: &dyn LogLikelihood, family: Family, start: Vec<f64>) -> Estimate {
    let cost = Negative {
        group,
        family,
        fixed: None,
    };
    let (best, value) = nelder_mead(cost, start, 0.15, 400);
    Estimate {
        coordinates: best,
        log_likelihood: -value,
        family,
    }
}

/// Twice the drop of the profile log-likelihood at coordinate `i` = `v`, minus the
/// chi-square point: negative inside the 95% interval.
struct ProfileGap<'a> {
    group: &'a dyn LogLikelihood,
    estimate: &'a Estimate,
    coordinate: usize,
}

impl ProfileGap<'_> {
    fn at(&self, v: f64) -> f64 {
        let i = self.coordinate;
        let mut free = self.estimate.coordinates.clone();
        free.remove(i);
        let cost = Negative {
            group: self.group,
            family: self.estimate.family,
            fixed: Some((i, v)),
        };
        let (_, value) = nelder_mead(cost, free, 0.1, 300);
        2.0 * (self.estimate.log_likelihood + value) - CHI2_1_95
    }
}

impl CostFunction for ProfileGap<'_> {
    type Param = f64;
    type Output = f64;
    fn cost(&self, v: &f64) -> Result<f64, ArgminError> {
        Ok(self.at(*v))
    }
}

/// A 95% interval in coordinates; `None` where the data do not bound it before the
/// coordinate's own bound.
pub(super) type CoordinateInterval = (Option<f64>, Option<f64>);

/// The observed information: the Hessian of the negative log-likelihood at the
/// estimate, by central differences in the coordinates.
pub(super) fn hessian(group: &dyn LogLikelihood, estimate: &Estimate) -> nalgebra::DMatrix<f64> {
    let cost = Negative {
        group,
        family: estimate.family,
        fixed: None,
    };
    let x = &estimate.coordinates;
    let n = x.len();
    let h = 1e-3;
    let f = |dx: &[(usize, f64)]| {
        let mut p = x.clone();
        for &(i, d) in dx {
            p[i] += d;
        }
        -cost.log_likelihood(&p)
    };
    let f0 = f(&[]);
    let mut hessian = nalgebra::DMatrix::<f64>::zeros(n, n);
    for i in 0..n {
        hessian[(i, i)] = (f(&[(i, h)]) - 2.0 * f0 + f(&[(i, -h)])) / (h * h);
        for j in 0..i {
            let v = (f(&[(i, h), (j, h)]) - f(&[(i, h), (j, -h)]) - f(&[(i, -h), (j, h)])
                + f(&[(i, -h), (j, -h)]))
                / (4.0 * h * h);
            hessian[(i, j)] = v;
            hessian[(j, i)] = v;
        }
    }
    hessian
}

/// Standard errors of the coordinates from the observed information (the inverse of
/// [`hessian`]); used only to place the first guess of each profile-likelihood
/// interval end.
fn standard_errors(group: &dyn LogLikelihood, estimate: &Estimate) -> Vec<f64> {
    let n = estimate.coordinates.len();
    let fallback = vec![0.25; n];
    match hessian(group, estimate).try_inverse() {
        Some(inv) => (0..n)
            .map(|i| {
                let v = inv[(i, i)];
                if v.is_finite() && v > 0.0 {
                    v.sqrt().clamp(1e-3, 5.0)
                } else {
                    fallback[i]
                }
            })
            .collect(),
        None => fallback,
    }
}

/// Profile-likelihood 95% intervals of every coordinate, in coordinate order.
pub(super) fn intervals(group: &dyn LogLikelihood, estimate: &Estimate) -> Vec<CoordinateInterval> {
    let bounds: Vec<(f64, f64)> = std::iter::once((-LOGIT_BOUND, LOGIT_BOUND))
        .chain(estimate.family.coordinate_bounds())
        .collect();
    let errors = standard_errors(group, estimate);
    let ends: Vec<Option<f64>> = (0..2 * bounds.len())
        .into_par_iter()
        .map(|task| {
            let (i, upward) = (task / 2, task % 2 == 1);
            let gap = ProfileGap {
                group,
                estimate,
                coordinate: i,
            };
            let (lo, hi) = bounds[i];
            let centre = estimate.coordinates[i].clamp(lo, hi);
            let limit = if upward { hi } else { lo };
            // First guess where the likelihood is quadratic: 1.96 standard errors out;
            // then further out until the gap turns positive or the bound is reached.
            let (mut inside, mut step) = (centre, 1.96 * errors[i]);
            loop {
                let v = if upward {
                    (centre + step).min(hi)
                } else {
                    (centre - step).max(lo)
                };
                if gap.at(v) > 0.0 {
                    let (a, b) = if upward { (inside, v) } else { (v, inside) };
                    let solver = BrentRoot::new(a, b, 1e-3);
                    let found = Executor::new(
                        ProfileGap {
                            group,
                            estimate,
                            coordinate: i,
                        },
                        solver,
                    )
                    .configure(|s| s.param(f64::midpoint(a, b)).max_iters(40))
                    .run()
                    .ok()
                    .and_then(|r| r.state().get_best_param().copied());
                    return Some(found.unwrap_or(f64::midpoint(a, b)));
                }
                if v == limit {
                    return None;
                }
                inside = v;
                step *= 1.6;
            }
        })
        .collect();
    ends.chunks(2).map(|c| (c[0], c[1])).collect()
}

/// `approve`'s interval in its own units: an unbounded end is the end of [0, 1].
pub(super) fn approve_interval(interval: CoordinateInterval) -> (f64, f64) {
    (
        interval.0.map_or(0.0, logistic),
        interval.1.map_or(1.0, logistic),
    )
}
