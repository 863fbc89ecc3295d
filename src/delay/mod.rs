//! Delay laws: how long an admin takes to act once prompted, each law in one file.
//!
//! A law's file owns everything about it: its parameters and the ranges they may take,
//! the form a scenario file writes (`{"lognormal": {"median": "2d", "sigma": 1}}`) and
//! the messages that refuse a bad one, the inverse CDF the simulator samples, and, for
//! the laws `fit` estimates, the parameterisation the optimiser works in, the CDF the
//! likelihood integrates and the scenario JSON a fitted law is written as
//! ([`Fitting`]). The scenario validates through [`Delay::from_file`], the model samples
//! with [`Delay::quantile`], the fit and the command line read [`Family`].
//!
//! [`delay_laws!`] below registers every law once. Adding a law is one new file, which
//! implements [`DelayLaw`] (and gives a [`Fitting`] when `fit` should try it), and one
//! line in that list (GUIDE.md, "Adding a delay law").

mod empirical;
mod exponential;
mod fitting;
mod fixed;
mod gamma;
mod lognormal;
mod mixture;
mod uniform;
mod weibull;

use schemars::JsonSchema;
use serde::Deserialize;

pub use empirical::Empirical;
pub use exponential::Exponential;
pub(crate) use fitting::round_to;
pub use fitting::{Cdf, Family, Fitting, Law, MAX_PARAMETERS, Parameter, Parameters};
pub use fixed::Fixed;
pub use gamma::Gamma;
pub use lognormal::Lognormal;
pub use mixture::Mixture;
pub use uniform::Uniform;
pub use weibull::Weibull;

use crate::input::{FieldError, positive};
use crate::time::{DurationText, SimDuration};

/// What every delay law provides.
pub(crate) trait DelayLaw: Sized {
    /// The law as a scenario file writes it, inside `{"<name>": ...}`.
    type File;
    /// How `fit` estimates the law, if it does.
    const FITTING: Option<&'static Fitting> = None;
    /// Checks the file form; `field` is the law's own path
    /// (`admins.careful.delay.lognormal`), which errors extend.
    fn from_file(file: &Self::File, field: &str) -> Result<Self, FieldError>;
    /// The inverse CDF at `u` in (0, 1): the simulator draws a delay from one uniform.
    fn quantile(&self, u: f64) -> SimDuration;
}

/// Registers each law: its name in scenario files, its variant, and the type that
/// implements it. The order is the order `fit --family auto` tries the fitted ones (ties
/// in AIC go to the earlier one) and the order they are listed in help and schema.
macro_rules! delay_laws {
    ($($(#[$doc:meta])* $name:literal => $variant:ident($law:ty),)*) => {
        /// Response delay of an admin who acts: one of the registered laws.
        #[derive(Clone, Debug, PartialEq)]
        pub enum Delay {
            $($(#[$doc])* $variant($law),)*
        }

        /// A delay as a scenario file writes it: `{"<law>": <its parameters>}`.
        #[derive(Debug, Clone, Deserialize, JsonSchema)]
        #[serde(deny_unknown_fields)]
        pub(crate) enum DelayFile {
            $($(#[$doc])* #[serde(rename = $name)] $variant(<$law as DelayLaw>::File),)*
        }

        impl Delay {
            /// The inverse CDF at `u` in (0, 1).
            pub fn quantile(&self, u: f64) -> SimDuration {
                match self {
                    $(Delay::$variant(law) => law.quantile(u),)*
                }
            }

            /// Checks a delay as the file at `field` writes it.
            pub(crate) fn from_file(file: &DelayFile, field: &str) -> Result<Delay, FieldError> {
                match file {
                    $(DelayFile::$variant(f) => {
                        <$law>::from_file(f, &format!("{field}.{}", $name)).map(Delay::$variant)
                    })*
                }
            }
        }

        /// The fitted families, in registration order.
        const FITTINGS: &[Option<&'static Fitting>] = &[$(<$law as DelayLaw>::FITTING,)*];
    };
}

delay_laws! {
    /// Always this long.
    "fixed" => Fixed(Fixed),
    /// Uniform between two durations.
    "uniform" => Uniform(Uniform),
    /// Lognormal, by median and sigma (the standard deviation of the logarithm).
    "lognormal" => Lognormal(Lognormal),
    /// Exponential, by mean.
    "exponential" => Exponential(Exponential),
    /// Weibull, by shape and scale: `P(delay > x) = exp(-(x / scale)^shape)`.
    "weibull" => Weibull(Weibull),
    /// Gamma, by shape and scale (mean `shape * scale`).
    "gamma" => Gamma(Gamma),
    /// A CDF table: (duration, cumulative probability) rows, increasing, ending at 1.
    "empirical" => Empirical(Empirical),
    /// Admins of several speeds: each component's share (summing to 1) and law.
    "mixture" => Mixture(Mixture),
}

/// The shapes a Weibull or gamma delay may take: beyond them the quantiles of the
/// extreme draws leave any meaningful range of durations.
pub(crate) const SHAPE_RANGE: (f64, f64) = (0.05, 100.0);

/// A law by shape and scale (Weibull, gamma) as a scenario file writes it:
/// `{"shape": 0.7, "scale": "1d"}`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(inline)]
pub(crate) struct ShapeScaleFile {
    shape: f64,
    scale: DurationText,
}

impl ShapeScaleFile {
    /// The shape (in [`SHAPE_RANGE`]) and the scale (longer than zero); `field` is the
    /// law's path, which errors extend by the key.
    fn checked(&self, field: &str) -> Result<(f64, SimDuration), FieldError> {
        let (lo, hi) = SHAPE_RANGE;
        if !(self.shape.is_finite() && (lo..=hi).contains(&self.shape)) {
            return Err(FieldError::new(
                format!("{field}.shape"),
                format!(
                    "{} is not allowed; the shape must be between {lo} and {hi}",
                    self.shape
                ),
            ));
        }
        Ok((
            self.shape,
            positive(self.scale.0, &format!("{field}.scale"))?,
        ))
    }
}

/// The fitted parameters of a law by shape and scale.
const SHAPE_SCALE_PARAMETERS: &[Parameter] = &[
    Parameter {
        name: "shape",
        range: SHAPE_RANGE,
    },
    Parameter {
        name: "scale_hours",
        range: fitting::HOURS_RANGE,
    },
];

/// Where the optimiser starts a law by shape and scale: shape 1, where both are the
/// exponential, whose median is scale * ln 2.
fn shape_scale_start(median_hours: f64) -> Parameters {
    [1.0, median_hours / std::f64::consts::LN_2, 0.0, 0.0, 0.0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_law_reads_its_own_name_and_nothing_else() {
        // Each registered name reaches its own variant, with the field path extended by
        // that name, and an unknown law is refused naming the known ones.
        let samples = [
            (r#"{"fixed": "6h"}"#, "fixed"),
            (r#"{"uniform": ["1h", "3h"]}"#, "uniform"),
            (
                r#"{"lognormal": {"median": "2d", "sigma": 1}}"#,
                "lognormal",
            ),
            (r#"{"exponential": {"mean": "10h"}}"#, "exponential"),
            (r#"{"weibull": {"shape": 0.7, "scale": "1d"}}"#, "weibull"),
            (r#"{"gamma": {"shape": 2, "scale": "9h"}}"#, "gamma"),
            (r#"{"empirical": [["1h", 0.5], ["1d", 1]]}"#, "empirical"),
            (
                r#"{"mixture": [{"share": 0.5, "delay": {"fixed": "1h"}},
                                {"share": 0.5, "delay": {"fixed": "1d"}}]}"#,
                "mixture",
            ),
        ];
        for (json, name) in samples {
            let file: DelayFile = serde_json::from_str(json).unwrap();
            let delay = Delay::from_file(&file, "d").unwrap();
            assert!(
                format!("{delay:?}").to_lowercase().starts_with(name),
                "{json}"
            );
            // Draws rise with the uniform they come from (common random numbers rely on it).
            let draws: Vec<_> = (1..1000)
                .map(|i| delay.quantile(f64::from(i) / 1000.0))
                .collect();
            assert!(draws.windows(2).all(|w| w[0] <= w[1]), "{json}");
        }
        let unknown = serde_json::from_str::<DelayFile>(r#"{"pareto": 1}"#).unwrap_err();
        assert!(unknown.to_string().contains("`lognormal`"), "{unknown}");
    }

    #[test]
    fn delay_laws_are_checked() {
        let d = |v: serde_json::Value| Delay::from_file(&serde_json::from_value(v).unwrap(), "d");
        assert!(d(json!({"lognormal": {"median": "1d", "sigma": 1.0}})).is_ok());
        assert_eq!(
            d(json!({"lognormal": {"median": "1d", "sigma": -1.0}}))
                .unwrap_err()
                .field,
            "d.lognormal.sigma"
        );
        assert!(d(json!({"weibull": {"shape": 1.5, "scale": "2d"}})).is_ok());
        assert!(d(json!({"gamma": {"shape": 2.0, "scale": "1d"}})).is_ok());
        assert_eq!(
            d(json!({"weibull": {"shape": 0.0, "scale": "2d"}}))
                .unwrap_err()
                .field,
            "d.weibull.shape"
        );
        assert_eq!(
            d(json!({"gamma": {"shape": 2.0, "scale": "0h"}}))
                .unwrap_err()
                .field,
            "d.gamma.scale"
        );
        assert_eq!(
            d(json!({"empirical": [["1h", 0.5]]})).unwrap_err().field,
            "d.empirical[0]"
        );
    }
}
