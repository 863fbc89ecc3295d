//! Gamma: by shape and scale (mean `shape * scale`): the time for `shape` steps, each
//! exponential with mean `scale`.

use schemars::JsonSchema;
use serde::Deserialize;

use super::fitting::{Cdf, Fitting, HOURS_RANGE, Parameter, duration, hours_text, round_to};
use super::{Delay, DelayLaw, SHAPE_RANGE, shape_in_range};
use crate::input::{FieldError, positive};
use crate::stats::{gamma_cdf, gamma_quantile};
use crate::time::{DurationText, SimDuration};

/// Gamma, by shape and scale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gamma {
    /// Its shape.
    pub shape: f64,
    /// Its scale.
    pub scale: SimDuration,
}

/// `{"shape": 2.5, "scale": "9h"}`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(inline)]
pub(crate) struct GammaFile {
    shape: f64,
    scale: DurationText,
}

impl DelayLaw for Gamma {
    type File = GammaFile;
    const FITTING: Option<&'static Fitting> = Some(&FITTING);

    fn from_file(file: &GammaFile, field: &str) -> Result<Gamma, FieldError> {
        Ok(Gamma {
            shape: shape_in_range(file.shape, &format!("{field}.shape"))?,
            scale: positive(file.scale.0, &format!("{field}.scale"))?,
        })
    }

    fn quantile(&self, u: f64) -> SimDuration {
        self.scale.mul_f64(gamma_quantile(self.shape, u))
    }
}

const FITTING: Fitting = Fitting {
    name: "gamma",
    about: "Gamma, by shape and scale",
    first_round: true,
    parameters: &[
        Parameter {
            name: "shape",
            range: SHAPE_RANGE,
        },
        Parameter {
            name: "scale_hours",
            range: HOURS_RANGE,
        },
    ],
    // Shape 1: the exponential, whose median is scale * ln 2.
    start: |median| [1.0, median / std::f64::consts::LN_2, 0.0, 0.0, 0.0],
    cdf: |&[shape, scale, ..]| {
        Cdf::new(
            [shape, scale, 0.0, 0.0, 0.0],
            |&[shape, scale, ..], hours| gamma_cdf(shape, hours / scale),
        )
    },
    delay: |&[shape, scale, ..]| {
        Delay::Gamma(Gamma {
            shape,
            scale: duration(scale),
        })
    },
    scenario_json: |&[shape, scale, ..]| serde_json::json!({"gamma": {"shape": round_to(shape, 4), "scale": hours_text(scale)}}),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_one_is_the_exponential() {
        let law = Gamma {
            shape: 1.0,
            scale: SimDuration::from_hours(10),
        };
        assert!((law.quantile(0.5).as_hours() - 10.0 * libm::log(2f64)).abs() < 1e-6);
    }
}
