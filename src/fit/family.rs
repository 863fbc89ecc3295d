//! The response-delay families a fit chooses from, in the parameters scenario files use.
//!
//! The optimiser works on unconstrained coordinates (the logarithm of every parameter),
//! clamped to the ranges a scenario accepts, so that every point it tries is a valid law.

use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Exp, Gamma, LogNormal, Weibull};

use crate::scenario::{Delay, SHAPE_RANGE};
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
}

/// Durations a fitted time parameter may take, in hours: from 36 s to about 11 years.
const HOURS_RANGE: (f64, f64) = (0.01, 1e5);
/// The lognormal sigmas a fit may take.
const SIGMA_RANGE: (f64, f64) = (0.01, 10.0);

impl Family {
    /// Every family, in the order `auto` tries them (ties in AIC go to the earlier one).
    pub const ALL: [Family; 4] = [
        Family::Lognormal,
        Family::Exponential,
        Family::Weibull,
        Family::Gamma,
    ];

    /// The name used on the command line and in `fit.json`.
    pub fn name(self) -> &'static str {
        match self {
            Family::Lognormal => "lognormal",
            Family::Exponential => "exponential",
            Family::Weibull => "weibull",
            Family::Gamma => "gamma",
        }
    }

    /// The `fit.json` names of the family's parameters, in coordinate order.
    pub fn parameter_names(self) -> &'static [&'static str] {
        match self {
            Family::Lognormal => &["median_hours", "sigma"],
            Family::Exponential => &["mean_hours"],
            Family::Weibull | Family::Gamma => &["shape", "scale_hours"],
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
        }
    }

    /// The bounds of each coordinate (the logarithms of the ranges).
    pub fn coordinate_bounds(self) -> Vec<(f64, f64)> {
        self.ranges()
            .iter()
            .map(|&(lo, hi)| (lo.ln(), hi.ln()))
            .collect()
    }

    /// The law at the given coordinates (clamped into range).
    pub fn law(self, coordinates: &[f64]) -> Law {
        let mut params = [0.0; 2];
        for (i, &(lo, hi)) in self.ranges().iter().enumerate() {
            params[i] = coordinates[i].exp().clamp(lo, hi);
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
            Family::Lognormal => [m, 1.0],
            Family::Exponential => [m / std::f64::consts::LN_2, 0.0],
            // Shape 1: the exponential, whose median is scale * ln 2.
            Family::Weibull | Family::Gamma => [1.0, m / std::f64::consts::LN_2],
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
    pub params: [f64; 2],
}

/// A law ready to evaluate its CDF many times.
#[derive(Clone, Debug)]
pub enum Cdf {
    /// Lognormal.
    Lognormal(LogNormal),
    /// Exponential.
    Exponential(Exp),
    /// Weibull.
    Weibull(Weibull),
    /// Gamma.
    Gamma(Gamma),
}

impl Cdf {
    /// `P(delay <= hours)`.
    pub fn at(&self, hours: f64) -> f64 {
        if hours <= 0.0 {
            return 0.0;
        }
        match self {
            Cdf::Lognormal(d) => d.cdf(hours),
            Cdf::Exponential(d) => d.cdf(hours),
            Cdf::Weibull(d) => d.cdf(hours),
            Cdf::Gamma(d) => d.cdf(hours),
        }
    }
}

impl Law {
    /// The coordinates of this law (see [`Family::law`]).
    pub fn coordinates(&self) -> Vec<f64> {
        self.params[..self.family.arity()]
            .iter()
            .map(|p| p.ln())
            .collect()
    }

    /// The CDF, prepared (statrs' distributions: parameters are in range by construction).
    pub fn cdf(&self) -> Cdf {
        let [a, b] = self.params;
        let valid = "parameters are clamped into range";
        match self.family {
            Family::Lognormal => Cdf::Lognormal(LogNormal::new(a.ln(), b).expect(valid)),
            Family::Exponential => Cdf::Exponential(Exp::new(1.0 / a).expect(valid)),
            Family::Weibull => Cdf::Weibull(Weibull::new(a, b).expect(valid)),
            Family::Gamma => Cdf::Gamma(Gamma::new(a, 1.0 / b).expect(valid)),
        }
    }

    /// The same law as a scenario's delay, which the simulator samples by inverse
    /// transform: a fitted profile runs exactly the law that was fitted.
    pub fn to_delay(&self) -> Delay {
        let [a, b] = self.params;
        let hours = |h: f64| SimDuration::from_millis_f64(h * 3_600_000.0);
        match self.family {
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
        let [a, b] = self.params;
        let hours = |h: f64| format!("{}h", round_to(h, 4));
        match self.family {
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
        // The fit's CDF (statrs) and the simulator's inverse transform (Delay::quantile)
        // must describe one law: F(Q(u)) = u for every family.
        let laws = [
            (Family::Lognormal, [30.0, 1.2]),
            (Family::Exponential, [12.0, 0.0]),
            (Family::Weibull, [0.7, 40.0]),
            (Family::Gamma, [2.5, 9.0]),
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
    fn coordinates_are_clamped_into_valid_laws() {
        let law = Family::Weibull.law(&[100.0, -100.0]);
        assert_eq!(law.params, [SHAPE_RANGE.1, HOURS_RANGE.0]);
        assert!(law.cdf().at(1.0).is_finite());
        assert_eq!("gamma".parse::<Family>(), Ok(Family::Gamma));
        assert!("pareto".parse::<Family>().is_err());
    }
}
