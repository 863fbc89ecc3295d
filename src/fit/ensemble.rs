//! The fit's uncertainty as draws of the parameters, so that a forecast's bands are
//! predictive: each replication of the fitted scenario runs with its own draw.
//!
//! Within a family the draws come from the posterior under a flat prior on `approve`
//! (uniform on [0, 1]) and on the logarithms of the delay law's parameters, sampled by
//! an adaptive Metropolis chain (see [`posterior_draws`]). Across families the draws
//! are shared out by Akaike weights (Burnham and Anderson's model averaging), so a
//! family the data cannot rule out contributes its own laws.

use nalgebra::{DMatrix, DVector, SymmetricEigen};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use rayon::prelude::*;

use super::estimate::{Estimate, LOGIT_BOUND, hessian, logistic};
use super::likelihood::LogLikelihood;
use crate::delay::{Family, Law};
use crate::draws::open_uniform;
use crate::stats::standard_normal_quantile;

/// Burn-in steps, during which the proposal adapts.
const BURN_IN: usize = 3_000;
/// Steps adapting the proposal's covariance from the second half of the chain so far.
const ADAPT_EVERY: usize = 250;
/// Kept steps per draw.
const THIN: usize = 20;
/// The widest proposal standard deviation along any direction, in coordinates.
const MAX_SD: f64 = 3.0;

/// One draw of a group's admin parameters.
#[derive(Clone, Debug, PartialEq)]
pub struct ParameterDraw {
    /// The share that approves.
    pub approve: f64,
    /// The delay law.
    pub law: Law,
}

/// Akaike weights of fits: `exp(-delta AIC / 2)`, normalised.
pub(super) fn akaike_weights(aics: &[f64]) -> Vec<f64> {
    let best = aics.iter().copied().fold(f64::INFINITY, f64::min);
    let raw: Vec<f64> = aics.iter().map(|a| libm::exp(-(a - best) / 2.0)).collect();
    let total: f64 = raw.iter().sum();
    raw.iter().map(|w| w / total).collect()
}

/// `count` split in proportion to `weights` (largest remainder; ties to the earlier).
pub(super) fn apportion(count: usize, weights: &[f64]) -> Vec<usize> {
    let exact: Vec<f64> = weights.iter().map(|w| w * count as f64).collect();
    let mut shares: Vec<usize> = exact.iter().map(|e| e.floor() as usize).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        (exact[b] - exact[b].floor())
            .total_cmp(&(exact[a] - exact[a].floor()))
            .then(a.cmp(&b))
    });
    let missing = count.saturating_sub(shares.iter().sum());
    for &i in order.iter().take(missing) {
        shares[i] += 1;
    }
    shares
}

/// `count` posterior draws of `estimate`'s family, seeded by `seed` and `stream`, and
/// the chain's effective sample size (of `approve`).
///
/// Adaptive random-walk Metropolis (Haario, Saksman and Tamminen 2001): the chain
/// starts at the maximum with steps shaped by the observed information, learns the
/// posterior's covariance during burn-in (a ridge, as between `approve` and the delay's
/// scale when the curve has not flattened, is learnt too), then runs with that fixed
/// proposal; the draws are evenly spaced along the kept chain.
pub(super) fn posterior_draws(
    group: &dyn LogLikelihood,
    estimate: &Estimate,
    count: usize,
    seed: u64,
    stream: u64,
) -> (Vec<ParameterDraw>, f64) {
    if count == 0 {
        return (Vec::new(), 0.0);
    }
    let family = estimate.family;
    let d = estimate.coordinates.len();
    let bounds: Vec<(f64, f64)> = std::iter::once((-LOGIT_BOUND, LOGIT_BOUND))
        .chain(family.coordinate_bounds())
        .collect();
    let log_posterior = |x: &DVector<f64>| -> f64 {
        if !x
            .iter()
            .zip(&bounds)
            .all(|(v, (lo, hi))| (lo..=hi).contains(&v))
        {
            return f64::NEG_INFINITY;
        }
        let approve = logistic(x[0]);
        let law = family.law(&x.as_slice()[1..]);
        // A flat prior on approve, seen in the logit coordinate, is approve(1 - approve).
        let value = group.log_likelihood(approve, &law) + libm::log(approve * (1.0 - approve));
        if value.is_nan() {
            f64::NEG_INFINITY
        } else {
            value
        }
    };
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    let mut uniform = move || open_uniform(rng.next_u64());
    // The optimal random-walk scale for a Gaussian target (Roberts, Gelman and Gilks).
    let step = 2.38 / (d as f64).sqrt();
    // The first steps from the observed information: its inverse's directions, a flat
    // or negative curvature (as at a bound) capped at the widest step.
    let mut root = square_root(&hessian(group, estimate), |curvature| {
        if curvature > 0.0 {
            1.0 / curvature
        } else {
            f64::INFINITY
        }
    }) * step;
    let mut x = DVector::from_column_slice(&estimate.coordinates);
    let mut lp = log_posterior(&x);
    if !lp.is_finite() {
        // The maximum sits on a bound: start just inside.
        for (v, (lo, hi)) in x.iter_mut().zip(&bounds) {
            *v = v.clamp(lo + 1e-6, hi - 1e-6);
        }
        lp = log_posterior(&x);
    }
    let keep = count.saturating_mul(THIN);
    let mut history: Vec<DVector<f64>> = Vec::with_capacity(BURN_IN + keep);
    for t in 0..BURN_IN + keep {
        let z = DVector::from_fn(d, |_, _| standard_normal_quantile(uniform()));
        let y = &x + &root * z;
        let ly = log_posterior(&y);
        if ly.is_finite() && libm::log(uniform()) < ly - lp {
            x = y;
            lp = ly;
        }
        history.push(x.clone());
        // Adapt during burn-in only: the kept chain is a plain Metropolis chain.
        if t < BURN_IN && (t + 1) % ADAPT_EVERY == 0 {
            let recent = &history[history.len() / 2..];
            let n = recent.len() as f64;
            let mean = recent.iter().fold(DVector::zeros(d), |m, v| m + v) / n;
            let covariance = recent.iter().fold(DMatrix::zeros(d, d), |c, v| {
                let dx = v - &mean;
                c + &dx * dx.transpose()
            }) / n;
            root = square_root(&covariance, |v| v) * step;
        }
    }
    let chain = &history[BURN_IN..];
    let draws = (0..count)
        .map(|k| {
            let x = &chain[k * chain.len() / count];
            ParameterDraw {
                approve: logistic(x[0]),
                law: family.law(&x.as_slice()[1..]),
            }
        })
        .collect();
    let approve: Vec<f64> = chain.iter().map(|x| x[0]).collect();
    (draws, effective_size(&approve))
}

/// The effective sample size of a chain's values: `n / (1 + 2 sum of autocorrelations)`,
/// summed while they stay above 0.05.
fn effective_size(values: &[f64]) -> f64 {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
    if variance <= 0.0 {
        return n as f64;
    }
    let mut sum = 0.0;
    for lag in 1..n / 2 {
        let rho = values[..n - lag]
            .iter()
            .zip(&values[lag..])
            .map(|(a, b)| (a - mean) * (b - mean))
            .sum::<f64>()
            / (n as f64 * variance);
        if rho < 0.05 {
            break;
        }
        sum += rho;
    }
    n as f64 / (1.0 + 2.0 * sum)
}

/// A square root of a covariance given by its eigenvalues through `variance` (of the
/// matrix's own eigenvalue), each direction's variance between a floor and [`MAX_SD`]
/// squared; a matrix with a non-finite entry gives a small sphere.
fn square_root(matrix: &DMatrix<f64>, variance: impl Fn(f64) -> f64) -> DMatrix<f64> {
    let d = matrix.nrows();
    if !matrix.iter().all(|v| v.is_finite()) {
        return DMatrix::identity(d, d) * 0.25;
    }
    let eigen = SymmetricEigen::new(matrix.clone());
    let scales = eigen
        .eigenvalues
        .map(|v| variance(v).clamp(1e-8, MAX_SD * MAX_SD).sqrt());
    &eigen.eigenvectors * DMatrix::from_diagonal(&scales)
}

/// The families' draws for one group: `count` in all, shared out by Akaike weight.
pub(super) fn averaged_draws(
    group: &dyn LogLikelihood,
    fits: &[Estimate],
    count: usize,
    seed: u64,
    group_index: u64,
) -> (Vec<ParameterDraw>, Vec<(Family, f64)>, f64) {
    let aics: Vec<f64> = fits.iter().map(Estimate::aic).collect();
    let weights = akaike_weights(&aics);
    let shares = apportion(count, &weights);
    // Each family's chain on its own stream, the chains in parallel, gathered in the
    // families' order: the same draws on any number of threads.
    let chains: Vec<(Vec<ParameterDraw>, f64)> = fits
        .par_iter()
        .zip(shares.par_iter())
        .enumerate()
        .filter(|(_, (_, share))| **share > 0)
        .map(|(f, (fit, &share))| {
            posterior_draws(group, fit, share, seed, group_index * 16 + f as u64)
        })
        .collect();
    let mut draws = Vec::with_capacity(count);
    let mut effective = f64::INFINITY;
    for (mut d, ess) in chains {
        effective = effective.min(ess);
        draws.append(&mut d);
    }
    // Shuffled, so that any first replications of a run draw from every family and the
    // whole posterior, not from the first family's lowest proposals.
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(group_index * 16 + 15);
    for i in (1..draws.len()).rev() {
        let j = (rng.next_u64() % (i as u64 + 1)) as usize;
        draws.swap(i, j);
    }
    let weights = fits.iter().map(|f| f.family).zip(weights).collect();
    (draws, weights, effective)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn akaike_weights_and_apportionment() {
        let w = akaike_weights(&[100.0, 102.0, 110.0]);
        assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!((w[1] / w[0] - libm::exp(-1.0f64)).abs() < 1e-12);
        assert_eq!(apportion(200, &w).iter().sum::<usize>(), 200);
        assert_eq!(apportion(10, &[0.55, 0.45]), vec![6, 4]);
        assert_eq!(apportion(3, &[1.0, 0.0]), vec![3, 0]);
    }
}
