//! Mixture: admins of several speeds (a fast and a slow group, say), each component a
//! share of the admins with a law of its own. `fit` estimates the two-speed lognormal
//! one (with `approve`, the mixture cure model: never / fast / slow).

use schemars::JsonSchema;
use serde::Deserialize;

use super::fitting::{Cdf, Fitting, HOURS_RANGE, Parameter, round_to};
use super::lognormal::{self, SIGMA_RANGE};
use super::{Delay, DelayFile, DelayLaw};
use crate::input::FieldError;
use crate::time::SimDuration;

/// Each component's share (summing to 1) and law, none itself a mixture.
#[derive(Clone, Debug, PartialEq)]
pub struct Mixture(pub Vec<(f64, Delay)>);

/// One speed of a mixture delay.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MixtureComponentFile {
    pub share: f64,
    pub delay: DelayFile,
}

/// Components a mixture delay may have.
const MAX_COMPONENTS: usize = 8;

/// The fast share a fitted mixture may take.
const SHARE_RANGE: (f64, f64) = (0.01, 0.99);

impl DelayLaw for Mixture {
    /// `[{"share": 0.6, "delay": {...}}, {"share": 0.4, "delay": {...}}]`.
    type File = Vec<MixtureComponentFile>;
    const FITTING: Option<&'static Fitting> = Some(&FITTING);

    fn from_file(
        components: &Vec<MixtureComponentFile>,
        field: &str,
    ) -> Result<Mixture, FieldError> {
        if !(2..=MAX_COMPONENTS).contains(&components.len()) {
            return Err(FieldError::new(
                field,
                format!(
                    "has {} components; a mixture has 2 to {MAX_COMPONENTS}, each {{\"share\": ..., \"delay\": {{...}}}}",
                    components.len()
                ),
            ));
        }
        let mut laws = Vec::with_capacity(components.len());
        for (i, c) in components.iter().enumerate() {
            let here = format!("{field}[{i}]");
            if !(c.share.is_finite() && c.share > 0.0 && c.share <= 1.0) {
                return Err(FieldError::new(
                    format!("{here}.share"),
                    format!(
                        "{} is not allowed; a share is above 0 and at most 1",
                        c.share
                    ),
                ));
            }
            if matches!(c.delay, DelayFile::Mixture(_)) {
                return Err(FieldError::new(
                    format!("{here}.delay"),
                    "a component cannot itself be a mixture; list its parts as components",
                ));
            }
            laws.push((
                c.share,
                Delay::from_file(&c.delay, &format!("{here}.delay"))?,
            ));
        }
        let total: f64 = laws.iter().map(|l| l.0).sum();
        if (total - 1.0).abs() > 1e-9 {
            return Err(FieldError::new(
                field,
                format!("the shares sum to {total}; they must sum to 1"),
            ));
        }
        Ok(Mixture(laws))
    }

    /// Composition: `u` picks the component by the shares, and its position within that
    /// component's slice of (0, 1) is the component's own uniform.
    fn quantile(&self, u: f64) -> SimDuration {
        let mut below = 0.0;
        for (i, (share, law)) in self.0.iter().enumerate() {
            if u < below + share || i + 1 == self.0.len() {
                let within = ((u - below) / share).clamp(1e-12, 1.0 - 1e-12);
                return law.quantile(within);
            }
            below += share;
        }
        SimDuration::ZERO
    }
}

const FITTING: Fitting = Fitting {
    name: "mixture",
    about: "Two speeds: a fast and a slow lognormal, by the fast share and each's median and sigma",
    first_round: false,
    parameters: &[
        Parameter {
            name: "fast_share",
            range: SHARE_RANGE,
        },
        Parameter {
            name: "fast_median_hours",
            range: HOURS_RANGE,
        },
        Parameter {
            name: "fast_sigma",
            range: SIGMA_RANGE,
        },
        Parameter {
            name: "slow_median_hours",
            range: HOURS_RANGE,
        },
        Parameter {
            name: "slow_sigma",
            range: SIGMA_RANGE,
        },
    ],
    // Half fast, half slow, a decade apart around the median.
    start: |median| {
        [
            0.5,
            (median / 3.0).max(HOURS_RANGE.0),
            1.0,
            median * 3.0,
            1.0,
        ]
    },
    cdf: |&[share, fast_median, fast_sigma, slow_median, slow_sigma]| {
        let prepared = [
            share,
            libm::log(fast_median),
            fast_sigma,
            libm::log(slow_median),
            slow_sigma,
        ];
        Cdf::from_log(
            prepared,
            |&[p, fast_mu, fast_sigma, slow_mu, slow_sigma], log_hours| {
                p * lognormal::cdf_at_log(fast_mu, fast_sigma, log_hours)
                    + (1.0 - p) * lognormal::cdf_at_log(slow_mu, slow_sigma, log_hours)
            },
        )
    },
    delay: |&[share, fast_median, fast_sigma, slow_median, slow_sigma]| {
        Delay::Mixture(Mixture(vec![
            (
                share,
                Delay::Lognormal(lognormal::law(fast_median, fast_sigma)),
            ),
            (
                1.0 - share,
                Delay::Lognormal(lognormal::law(slow_median, slow_sigma)),
            ),
        ]))
    },
    scenario_json: |&[share, fast_median, fast_sigma, slow_median, slow_sigma]| {
        // The shares as written must sum to exactly 1.
        let fast = round_to(share, 4);
        serde_json::json!({"mixture": [
            {"share": fast, "delay": lognormal::scenario_json(fast_median, fast_sigma)},
            {"share": round_to(1.0 - fast, 4), "delay": lognormal::scenario_json(slow_median, slow_sigma)}
        ]})
    },
};

#[cfg(test)]
mod tests {
    use super::super::{Family, Law};
    use super::*;

    #[test]
    fn a_fitted_mixture_is_its_components_in_their_shares() {
        let law = Law {
            family: Family::named("mixture").unwrap(),
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
        // Its scenario form reads back as the law it wrote.
        let file: DelayFile = serde_json::from_value(law.to_scenario_json()).unwrap();
        let read = Delay::from_file(&file, "d").unwrap();
        assert!((read.quantile(0.3).as_hours() - delay.quantile(0.3).as_hours()).abs() < 0.01);
    }
}
