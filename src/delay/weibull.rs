//! Weibull: by shape and scale, `P(delay > x) = exp(-(x / scale)^shape)`. Below shape 1
//! the hazard falls (most act early or not soon at all); above 1 it rises.

use super::fitting::{Cdf, Fitting, hours_text, round_to};
use super::{Delay, DelayLaw, SHAPE_SCALE_PARAMETERS, ShapeScaleFile, shape_scale_start};
use crate::input::FieldError;
use crate::time::SimDuration;

/// Weibull.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weibull {
    /// Below 1 the hazard falls (most act early or never soon); above 1 it rises.
    pub shape: f64,
    /// The 63.2% point.
    pub scale: SimDuration,
}

impl DelayLaw for Weibull {
    type File = ShapeScaleFile;
    const FITTING: Option<&'static Fitting> = Some(&FITTING);

    fn from_file(file: &ShapeScaleFile, field: &str) -> Result<Weibull, FieldError> {
        let (shape, scale) = file.checked(field)?;
        Ok(Weibull { shape, scale })
    }

    fn quantile(&self, u: f64) -> SimDuration {
        self.scale
            .mul_f64(libm::pow(-libm::log(1.0 - u), 1.0 / self.shape))
    }
}

const FITTING: Fitting = Fitting {
    name: "weibull",
    about: "Weibull, by shape and scale",
    first_round: true,
    parameters: SHAPE_SCALE_PARAMETERS,
    start: shape_scale_start,
    cdf: |&[shape, scale, ..]| {
        Cdf::new(
            [shape, scale, 0.0, 0.0, 0.0],
            |&[shape, scale, ..], hours| -libm::expm1(-libm::pow(hours / scale, shape)),
        )
    },
    delay: |&[shape, scale, ..]| {
        Delay::Weibull(Weibull {
            shape,
            scale: SimDuration::from_hours_f64(scale),
        })
    },
    scenario_json: |&[shape, scale, ..]| serde_json::json!({"weibull": {"shape": round_to(shape, 4), "scale": hours_text(scale)}}),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_is_the_scale_times_ln_2_to_one_over_shape() {
        let law = Weibull {
            shape: 2.0,
            scale: SimDuration::from_hours(10),
        };
        assert!((law.quantile(0.5).as_hours() - 10.0 * libm::log(2f64).sqrt()).abs() < 1e-6);
    }
}
