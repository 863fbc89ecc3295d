//! Gamma: by shape and scale (mean `shape * scale`): the time for `shape` steps, each
//! exponential with mean `scale`.

use super::fitting::{Cdf, Fitting, hours_text, round_to};
use super::{Delay, DelayLaw, SHAPE_SCALE_PARAMETERS, ShapeScaleFile, shape_scale_start};
use crate::input::FieldError;
use crate::stats::{gamma_cdf, gamma_quantile};
use crate::time::SimDuration;

/// Gamma, by shape and scale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gamma {
    /// Its shape.
    pub shape: f64,
    /// Its scale.
    pub scale: SimDuration,
}

impl DelayLaw for Gamma {
    type File = ShapeScaleFile;
    const FITTING: Option<&'static Fitting> = Some(&FITTING);

    fn from_file(file: &ShapeScaleFile, field: &str) -> Result<Gamma, FieldError> {
        let (shape, scale) = file.checked(field)?;
        Ok(Gamma { shape, scale })
    }

    fn quantile(&self, u: f64) -> SimDuration {
        self.scale.mul_f64(gamma_quantile(self.shape, u))
    }
}

const FITTING: Fitting = Fitting {
    name: "gamma",
    about: "Gamma, by shape and scale",
    first_round: true,
    parameters: SHAPE_SCALE_PARAMETERS,
    start: shape_scale_start,
    cdf: |&[shape, scale, ..]| {
        Cdf::new(
            [shape, scale, 0.0, 0.0, 0.0],
            |&[shape, scale, ..], hours| gamma_cdf(shape, hours / scale),
        )
    },
    delay: |&[shape, scale, ..]| {
        Delay::Gamma(Gamma {
            shape,
            scale: SimDuration::from_hours_f64(scale),
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
