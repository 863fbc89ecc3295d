//! The response-delay families a fit chooses from, in the parameters scenario files use.
//!
//! The optimiser works on unconstrained coordinates (the logarithm of every parameter),
//! clamped to the ranges a scenario accepts, so that every point it tries is a valid law.

use serde::Serialize;

use crate::scenario::{Delay, SHAPE_RANGE};
use crate::stats::{gamma_cdf, normal_cdf};
use crate::time::SimDuration;

/// A family of response-delay laws.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    /// By median and sigma (the standard deviation of the logarithm).
    Lognormal,
    /// By mean.
    Exponential,
    /// By shape and scale.
    Weibull,
    /// By shape and scale.
    Gamma,
    /// Two speeds of admins: a share acting after a fast lognormal delay, the rest after
    /// a slow one (with `approve`, the mixture cure model: never / fast / slow).
    Mixture,
}

/// Durations a fitted time parameter may take, in hours: from 36 s to about 11 years.
const HOURS_RANGE: (f64, f64) = (0.01, 1e5);
/// The lognormal sigmas a fit may take.
const SIGMA_RANGE: (f64, f64) = (0.01, 10.0);
/// The fast share a mixture may take.
const SHARE_RANGE: (f64, f64) = (0.01, 0.99);
/// The most parameters a family has.
pub(super) const MAX_PARAMETERS: usize = 5;

impl Family {
    /// The one-speed families, in the order `auto` tries them (ties in AIC go to the
    /// earlier one); `auto` adds the mixture when none of them fits.
    pub const SINGLE: [Family; 4] = [
        Family::Lognormal,
        Family::Exponential,
        Family::Weibull,
        Family::Gamma,
    ];

    /// Every family.
    pub const ALL: [Family; 5] = [
        Family::Lognormal,
        Family::Exponential,
        Family::Weibull,
        Family::Gamma,
        Family::Mixture,
    ];

    /// The name used on the command line and in `fit.json`.
    pub fn name(self) -> &'static str {
        match self {
            Family::Lognormal => "lognormal",
            Family::Exponential => "exponential",
            Family::Weibull => "weibull",
            Family::Gamma => "gamma",
            Family::Mixture => "mixture",
        }
    }

    /// The `fit.json` names of the family's parameters, in coordinate order.
    pub fn parameter_names(self) -> &'static [&'static str] {
        match self {
            Family::Lognormal => &["median_hours", "sigma"],
            Family::Exponential => &["mean_hours"],
            Family::Weibull | Family::Gamma => &["shape", "scale_hours"],
            Family::Mixture => &[
                "fast_share",
                "fast_median_hours",
                "fast_sigma",
                "slow_median_hours",
                "slow_sigma",
            ],
        }
    }

    /// How many parameters the family has.
    pub fn arity(self) -> usize {
        self.parameter_names().len()
    }

    /// The range each parameter may take.
    fn ranges(self) -> &'static [(f64, f64)] {
        match self {
            Family::Lognormal => &[HOURS_RANGE, SIGMA_RANGE],
            Family::Exponential => &[HOURS_RANGE],
            Family::Weibull | Family::Gamma => &[SHAPE_RANGE, HOURS_RANGE],
            Family::Mixture => &[
                SHARE_RANGE,
                HOURS_RANGE,
                SIGMA_RANGE,
                HOURS_RANGE,
                SIGMA_RANGE,
            ],
        }
    }

    /// The bounds of each coordinate (the logarithms of the ranges).
    pub fn coordinate_bounds(self) -> Vec<(f64, f64)> {
        self.ranges()
            .iter()
            .map(|&(lo, hi)| (libm::log(lo), libm::log(hi)))
            .collect()
    }

    /// The law at the given coordinates (clamped into range).
    pub fn law(self, coordinates: &[f64]) -> Law {
        let mut params = [0.0; MAX_PARAMETERS];
        for (i, &(lo, hi)) in self.ranges().iter().enumerate() {
            params[i] = libm::exp(coordinates[i]).clamp(lo, hi);
        }
        Law {
            family: self,
            params,
        }
    }

    /// A law of this family with the given median and, where the family has one, a
    /// middling second parameter: where the optimiser starts.
    pub fn starting_law(self, median_hours: f64) -> Law {
        let m = median_hours.clamp(HOURS_RANGE.0, HOURS_RANGE.1);
        let params = match self {
            Family::Lognormal => [m, 1.0, 0.0, 0.0, 0.0],
            Family::Exponential => [m / std::f64::consts::LN_2, 0.0, 0.0, 0.0, 0.0],
            // Shape 1: the exponential, whose median is scale * ln 2.
            Family::Weibull | Family::Gamma => [1.0, m / std::f64::consts::LN_2, 0.0, 0.0, 0.0],
            // Half fast, half slow, a decade apart around the median.
            Family::Mixture => [0.5, (m / 3.0).max(HOURS_RANGE.0), 1.0, m * 3.0, 1.0],
        };
        Law {
            family: self,
            params,
        }
    }
}

impl std::str::FromStr for Family {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Family::ALL
            .into_iter()
            .find(|f| f.name() == s)
            .ok_or_else(|| format!("unknown family `{s}`"))
    }
}

/// One delay law: a family and its natural parameters (durations in hours).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Law {
    /// Its family.
    pub family: Family,
    /// The parameters in [`Family::parameter_names`] order (unused slots are zero).
    pub params: [f64; MAX_PARAMETERS],
}

/// A law ready to evaluate its CDF many times, in closed forms (and the incomplete
/// gamma) computed with the same bits on every target.
#[derive(Clone, Debug)]
pub enum Cdf {
    /// Lognormal.
    Lognormal {
        /// The mean of the delay's logarithm (of hours).
        mu: f64,
        /// The standard deviation of the delay's logarithm.
        sigma: f64,
    },
    /// Exponential.
    Exponential {
        /// The mean, in hours.
        mean: f64,
    },
    /// Weibull.
    Weibull {
        /// The shape.
        shape: f64,
        /// The scale, in hours.
        scale: f64,
    },
    /// Gamma.
    Gamma {
        /// The shape.
        shape: f64,
        /// The scale, in hours.
        scale: f64,
    },
    /// A share of one lognormal, the rest of another.
    Mixture(f64, Box<Cdf>, Box<Cdf>),
}

impl Cdf {
    /// `P(delay <= hours)`.
    pub fn at(&self, hours: f64) -> f64 {
        if hours <= 0.0 {
            return 0.0;
        }
        match self {
            Cdf::Lognormal { mu, sigma } => normal_cdf((libm::log(hours) - mu) / sigma),
            Cdf::Exponential { mean } => -libm::expm1(-hours / mean),
            Cdf::Weibull { shape, scale } => -libm::expm1(-libm::pow(hours / scale, *shape)),
            Cdf::Gamma { shape, scale } => gamma_cdf(*shape, hours / scale),
            Cdf::Mixture(p, fast, slow) => p * fast.at(hours) + (1.0 - p) * slow.at(hours),
        }
    }
}

impl Law {
    /// The coordinates of this law (see [`Family::law`]).
    pub fn coordinates(&self) -> Vec<f64> {
        self.params[..self.family.arity()]
            .iter()
            .map(|&p| libm::log(p))
            .collect()
    }

    /// The CDF, prepared (parameters are in range by construction).
    pub fn cdf(&self) -> Cdf {
        let [a, b, c, d, e] = self.params;
        let lognormal = |median: f64, sigma: f64| Cdf::Lognormal {
            mu: libm::log(median),
            sigma,
        };
        match self.family {
            Family::Lognormal => lognormal(a, b),
            Family::Exponential => Cdf::Exponential { mean: a },
            Family::Weibull => Cdf::Weibull { shape: a, scale: b },
            Family::Gamma => Cdf::Gamma { shape: a, scale: b },
            Family::Mixture => {
                Cdf::Mixture(a, Box::new(lognormal(b, c)), Box::new(lognormal(d, e)))
            }
        }
    }

    /// The same law as a scenario's delay, which the simulator samples by inverse
    /// transform: a fitted profile runs exactly the law that was fitted.
    pub fn to_delay(&self) -> Delay {
        let [a, b, c, d, e] = self.params;
        let hours = |h: f64| SimDuration::from_millis_f64(h * 3_600_000.0);
        match self.family {
            Family::Mixture => Delay::Mixture(vec![
                (
                    a,
                    Delay::Lognormal {
                        median: hours(b),
                        sigma: c,
                    },
                ),
                (
                    1.0 - a,
                    Delay::Lognormal {
                        median: hours(d),
                        sigma: e,
                    },
                ),
            ]),
            Family::Lognormal => Delay::Lognormal {
                median: hours(a),
                sigma: b,
            },
            Family::Exponential => Delay::Exponential { mean: hours(a) },
            Family::Weibull => Delay::Weibull {
                shape: a,
                scale: hours(b),
            },
            Family::Gamma => Delay::Gamma {
                shape: a,
                scale: hours(b),
            },
        }
    }

    /// The law as a scenario file writes it (`{"lognormal": {"median": "..."}}`).
    pub fn to_scenario_json(&self) -> serde_json::Value {
        let [a, b, c, d, e] = self.params;
        let hours = |h: f64| format!("{}h", round_to(h, 4));
        match self.family {
            Family::Mixture => {
                // The shares as written must sum to exactly 1.
                let fast = round_to(a, 4);
                serde_json::json!({"mixture": [
                    {"share": fast, "delay": {"lognormal": {"median": hours(b), "sigma": round_to(c, 4)}}},
                    {"share": round_to(1.0 - fast, 4), "delay": {"lognormal": {"median": hours(d), "sigma": round_to(e, 4)}}}
                ]})
            }
            Family::Lognormal => {
                serde_json::json!({"lognormal": {"median": hours(a), "sigma": round_to(b, 4)}})
            }
            Family::Exponential => serde_json::json!({"exponential": {"mean": hours(a)}}),
            Family::Weibull => {
                serde_json::json!({"weibull": {"shape": round_to(a, 4), "scale": hours(b)}})
            }
            Family::Gamma => {
                serde_json::json!({"gamma": {"shape": round_to(a, 4), "scale": hours(b)}})
            }
        }
    }
}

/// `x` with at most `digits` decimals (scenario files are read by people).
fn round_to(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fitted_cdf_is_the_law_the_simulator_samples() {
        // The fit's CDF and the simulator's inverse transform (Delay::quantile)
        // must describe one law: F(Q(u)) = u for every family.
        let laws = [
            (Family::Lognormal, [30.0, 1.2, 0.0, 0.0, 0.0]),
            (Family::Exponential, [12.0, 0.0, 0.0, 0.0, 0.0]),
            (Family::Weibull, [0.7, 40.0, 0.0, 0.0, 0.0]),
            (Family::Gamma, [2.5, 9.0, 0.0, 0.0, 0.0]),
        ];
        for (family, params) in laws {
            let law = Law { family, params };
            let (cdf, delay) = (law.cdf(), law.to_delay());
            for i in 1..20 {
                let u = f64::from(i) / 20.0;
                let x = delay.quantile(u).as_hours();
                assert!((cdf.at(x) - u).abs() < 1e-6, "{law:?} at u = {u}");
            }
            let back = law.family.law(&law.coordinates());
            assert!((back.params[0] - law.params[0]).abs() < 1e-9);
        }
    }

    #[test]
    fn a_mixture_is_its_components_in_their_shares() {
        let law = Law {
            family: Family::Mixture,
            params: [0.4, 8.0, 0.8, 120.0, 0.6],
        };
        let (cdf, delay) = (law.cdf(), law.to_delay());
        // Its CDF: 0.4 of the fast law's plus 0.6 of the slow one's.
        // statrs, an independent implementation, is the oracle.
        use statrs::distribution::{ContinuousCDF, LogNormal};
        let fast = LogNormal::new(libm::log(8.0), 0.8).unwrap();
        let slow = LogNormal::new(libm::log(120.0), 0.6).unwrap();
        for h in [1.0, 8.0, 48.0, 120.0, 500.0] {
            let expected = 0.4 * fast.cdf(h) + 0.6 * slow.cdf(h);
            // statrs' error function is accurate to about 1e-10.
            assert!((cdf.at(h) - expected).abs() < 1e-9);
        }
        // The simulator's composition sampler draws that law: its empirical CDF over a
        // fine grid of uniforms matches within the grid's resolution.
        let n = 20_000;
        let draws: Vec<f64> = (0..n)
            .map(|i| {
                delay
                    .quantile((f64::from(i) + 0.5) / f64::from(n))
                    .as_hours()
            })
            .collect();
        for h in [4.0, 24.0, 100.0, 300.0] {
            let share = draws.iter().filter(|&&d| d <= h).count() as f64 / f64::from(n);
            assert!(
                (share - cdf.at(h)).abs() < 1e-3,
                "{h}: {share} vs {}",
                cdf.at(h)
            );
        }
        let back = law.family.law(&law.coordinates());
        for (a, b) in back.params.iter().zip(law.params) {
            assert!((a - b).abs() < 1e-9);
        }
    }

    #[test]
    fn coordinates_are_clamped_into_valid_laws() {
        let law = Family::Weibull.law(&[100.0, -100.0]);
        assert_eq!(law.params, [SHAPE_RANGE.1, HOURS_RANGE.0, 0.0, 0.0, 0.0]);
        assert!(law.cdf().at(1.0).is_finite());
        assert_eq!("gamma".parse::<Family>(), Ok(Family::Gamma));
        assert!("pareto".parse::<Family>().is_err());
    }
}
