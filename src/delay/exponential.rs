//! Exponential: by mean. Admins act at a constant rate, with no memory of how long the
//! request has waited.

use schemars::JsonSchema;
use serde::Deserialize;

use super::fitting::{Cdf, Fitting, HOURS_RANGE, Parameter, hours_text};
use super::{Delay, DelayLaw};
use crate::input::{FieldError, positive};
use crate::time::{DurationText, SimDuration};

/// Exponential.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Exponential {
    /// Its mean.
    pub mean: SimDuration,
}

/// `{"mean": "10h"}`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(inline)]
pub(crate) struct ExponentialFile {
    mean: DurationText,
}

impl DelayLaw for Exponential {
    type File = ExponentialFile;
    const FITTING: Option<&'static Fitting> = Some(&FITTING);

    fn from_file(file: &ExponentialFile, field: &str) -> Result<Exponential, FieldError> {
        Ok(Exponential {
            mean: positive(file.mean.0, &format!("{field}.mean"))?,
        })
    }

    fn quantile(&self, u: f64) -> SimDuration {
        self.mean.mul_f64(-libm::log(1.0 - u))
    }
}

const FITTING: Fitting = Fitting {
    name: "exponential",
    about: "Exponential, by mean",
    first_round: true,
    parameters: &[Parameter {
        name: "mean_hours",
        range: HOURS_RANGE,
    }],
    // The median is mean * ln 2.
    start: |median| [median / std::f64::consts::LN_2, 0.0, 0.0, 0.0, 0.0],
    cdf: |&[mean, ..]| {
        Cdf::new([mean, 0.0, 0.0, 0.0, 0.0], |&[mean, ..], hours| {
            -libm::expm1(-hours / mean)
        })
    },
    delay: |&[mean, ..]| {
        Delay::Exponential(Exponential {
            mean: SimDuration::from_hours_f64(mean),
        })
    },
    scenario_json: |&[mean, ..]| serde_json::json!({"exponential": {"mean": hours_text(mean)}}),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_mean_times_ln_2() {
        let law = Exponential {
            mean: SimDuration::from_hours(10),
        };
        assert!((law.quantile(0.5).as_hours() - 10.0 * libm::log(2f64)).abs() < 1e-6);
    }
}
