//! Lognormal: by median and sigma, the standard deviation of the delay's logarithm. Most
//! admins act around the median, a long tail much later.

use schemars::JsonSchema;
use serde::Deserialize;

use super::fitting::{Cdf, Fitting, HOURS_RANGE, Parameter, hours_text, round_to};
use super::{Delay, DelayLaw};
use crate::input::{FieldError, positive};
use crate::stats::{normal_cdf, standard_normal_quantile};
use crate::time::{DurationText, SimDuration};

/// Lognormal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Lognormal {
    /// Its median.
    pub median: SimDuration,
    /// The standard deviation of its logarithm.
    pub sigma: f64,
}

/// `{"median": "2d", "sigma": 1.0}`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(inline)]
pub(crate) struct LognormalFile {
    median: DurationText,
    sigma: f64,
}

/// The sigmas a fit may give it.
pub(super) const SIGMA_RANGE: (f64, f64) = (0.01, 10.0);

impl DelayLaw for Lognormal {
    type File = LognormalFile;
    const FITTING: Option<&'static Fitting> = Some(&FITTING);

    fn from_file(file: &LognormalFile, field: &str) -> Result<Lognormal, FieldError> {
        let sigma = file.sigma;
        if !(sigma.is_finite() && sigma >= 0.0) {
            return Err(FieldError::new(
                format!("{field}.sigma"),
                format!("{sigma} is not allowed; sigma must be a finite number >= 0"),
            ));
        }
        Ok(Lognormal {
            median: positive(file.median.0, &format!("{field}.median"))?,
            sigma,
        })
    }

    fn quantile(&self, u: f64) -> SimDuration {
        self.median
            .mul_f64(libm::exp(self.sigma * standard_normal_quantile(u)))
    }
}

const FITTING: Fitting = Fitting {
    name: "lognormal",
    about: "Lognormal, by median and sigma",
    first_round: true,
    parameters: &[
        Parameter {
            name: "median_hours",
            range: HOURS_RANGE,
        },
        Parameter {
            name: "sigma",
            range: SIGMA_RANGE,
        },
    ],
    start: |median| [median, 1.0, 0.0, 0.0, 0.0],
    cdf: |&[median, sigma, ..]| prepared_cdf(median, sigma),
    delay: |&[median, sigma, ..]| Delay::Lognormal(law(median, sigma)),
    scenario_json: |&[median, sigma, ..]| scenario_json(median, sigma),
};

/// The law of median and sigma given in hours.
pub(super) fn law(median_hours: f64, sigma: f64) -> Lognormal {
    Lognormal {
        median: SimDuration::from_hours_f64(median_hours),
        sigma,
    }
}

/// The CDF of median and sigma given in hours: `[mu, sigma]` prepared.
pub(super) fn prepared_cdf(median_hours: f64, sigma: f64) -> Cdf {
    Cdf::from_log(
        [libm::log(median_hours), sigma, 0.0, 0.0, 0.0],
        |&[mu, sigma, ..], log_hours| cdf_at_log(mu, sigma, log_hours),
    )
}

/// `P(delay <= hours)` for the logarithm's mean `mu` (of hours) and sigma, given
/// `ln hours`.
pub(super) fn cdf_at_log(mu: f64, sigma: f64, log_hours: f64) -> f64 {
    normal_cdf((log_hours - mu) / sigma)
}

/// `{"lognormal": {"median": "...h", "sigma": ...}}`.
pub(super) fn scenario_json(median_hours: f64, sigma: f64) -> serde_json::Value {
    serde_json::json!({"lognormal": {"median": hours_text(median_hours), "sigma": round_to(sigma, 4)}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_and_the_upper_sigma_point_are_where_they_belong() {
        let ln = Lognormal {
            median: SimDuration::from_hours(48),
            sigma: 1.0,
        };
        assert!((ln.quantile(0.5).as_hours() - 48.0).abs() < 1e-6);
        // The 84.13% point is median * e^sigma.
        assert!((ln.quantile(0.841_344_746).as_hours() - 48.0 * libm::exp(1f64)).abs() < 1e-3);
    }
}
