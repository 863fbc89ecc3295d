//! How `fit` estimates a law: the registered laws that give a [`Fitting`] are the
//! families it chooses from, in the parameters scenario files use.
//!
//! The optimiser works on unconstrained coordinates (the logarithm of every parameter),
//! clamped to the ranges a scenario accepts, so that every point it tries is a valid law.

use std::fmt;
use std::hash::{Hash, Hasher};

use serde::{Serialize, Serializer};

use super::{Delay, FITTINGS};

/// The most parameters a family has.
pub const MAX_PARAMETERS: usize = 5;

/// A law's parameters in [`Fitting::parameters`] order (durations in hours; unused slots
/// are zero).
pub type Parameters = [f64; MAX_PARAMETERS];

/// Durations a fitted time parameter may take, in hours: from 36 s to about 11 years.
pub(super) const HOURS_RANGE: (f64, f64) = (0.01, 1e5);

/// One parameter of a fitted law.
#[derive(Debug)]
pub struct Parameter {
    /// Its `fit.json` name (`median_hours`).
    pub name: &'static str,
    /// The range a fit may give it.
    pub range: (f64, f64),
}

/// How `fit` estimates one law: a law's file gives one as [`super::DelayLaw::FITTING`].
#[derive(Debug)]
pub struct Fitting {
    /// The name on the command line (`--family`) and in `fit.json`.
    pub name: &'static str,
    /// One line for `--help`.
    pub about: &'static str,
    /// Whether `--family auto` tries it in its first round; the others (several speeds
    /// of admins) only when none of the first round fits.
    pub first_round: bool,
    /// The parameters, in coordinate order.
    pub parameters: &'static [Parameter],
    /// Where the optimiser starts, given the data's median delay in hours.
    pub start: fn(median_hours: f64) -> Parameters,
    /// The CDF, prepared for many evaluations.
    pub cdf: fn(&Parameters) -> Cdf,
    /// The same law as a scenario's delay, which the simulator samples.
    pub delay: fn(&Parameters) -> Delay,
    /// The law as a scenario file writes it.
    pub scenario_json: fn(&Parameters) -> serde_json::Value,
}

/// A family of delay laws `fit` can estimate.
#[derive(Clone, Copy)]
pub struct Family(&'static Fitting);

impl Family {
    /// Every fitted family, in registration order.
    pub fn all() -> impl Iterator<Item = Family> {
        FITTINGS.iter().flatten().map(|&f| Family(f))
    }

    /// The families `--family auto` tries first (ties in AIC go to the earlier one); it
    /// adds the others when none of them fits.
    pub fn first_round() -> impl Iterator<Item = Family> {
        Family::all().filter(|f| f.0.first_round)
    }

    /// The family called `name`.
    pub fn named(name: &str) -> Option<Family> {
        Family::all().find(|f| f.name() == name)
    }

    /// How it is estimated.
    pub fn fitting(self) -> &'static Fitting {
        self.0
    }

    /// The name used on the command line and in `fit.json`.
    pub fn name(self) -> &'static str {
        self.0.name
    }

    /// The `fit.json` names of the family's parameters, in coordinate order.
    pub fn parameter_names(self) -> impl Iterator<Item = &'static str> {
        self.0.parameters.iter().map(|p| p.name)
    }

    /// How many parameters the family has.
    pub fn arity(self) -> usize {
        self.0.parameters.len()
    }

    /// The bounds of each coordinate (the logarithms of the ranges).
    pub fn coordinate_bounds(self) -> Vec<(f64, f64)> {
        self.0
            .parameters
            .iter()
            .map(|p| (libm::log(p.range.0), libm::log(p.range.1)))
            .collect()
    }

    /// The law at the given coordinates (clamped into range).
    pub fn law(self, coordinates: &[f64]) -> Law {
        let mut params = [0.0; MAX_PARAMETERS];
        for (i, p) in self.0.parameters.iter().enumerate() {
            params[i] = libm::exp(coordinates[i]).clamp(p.range.0, p.range.1);
        }
        Law {
            family: self,
            params,
        }
    }

    /// A law of this family with the given median and, where the family has one, a
    /// middling second parameter: where the optimiser starts.
    pub fn starting_law(self, median_hours: f64) -> Law {
        let median = median_hours.clamp(HOURS_RANGE.0, HOURS_RANGE.1);
        Law {
            family: self,
            params: (self.0.start)(median),
        }
    }
}

impl PartialEq for Family {
    fn eq(&self, other: &Family) -> bool {
        self.name() == other.name()
    }
}

impl Eq for Family {}

impl Hash for Family {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name().hash(state);
    }
}

impl fmt::Debug for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Serialize for Family {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl std::str::FromStr for Family {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Family::named(s).ok_or_else(|| {
            let names: Vec<_> = Family::all().map(Family::name).collect();
            format!("unknown family `{s}`; expected one of {}", names.join(", "))
        })
    }
}

/// One delay law: a family and its natural parameters (durations in hours).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Law {
    /// Its family.
    pub family: Family,
    /// The parameters in [`Family::parameter_names`] order (unused slots are zero).
    pub params: Parameters,
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
        (self.family.0.cdf)(&self.params)
    }

    /// The same law as a scenario's delay, which the simulator samples by inverse
    /// transform: a fitted profile runs exactly the law that was fitted.
    pub fn to_delay(&self) -> Delay {
        (self.family.0.delay)(&self.params)
    }

    /// The law as a scenario file writes it (`{"lognormal": {"median": "..."}}`).
    pub fn to_scenario_json(&self) -> serde_json::Value {
        (self.family.0.scenario_json)(&self.params)
    }
}

/// A law ready to evaluate its CDF many times: values prepared once from the parameters
/// (a logarithm, say) and the law's own closed form, computed with the same bits on every
/// target.
#[derive(Clone, Debug)]
pub struct Cdf {
    prepared: Parameters,
    closed_form: ClosedForm,
}

/// Where a law's closed form starts.
#[derive(Clone, Copy, Debug)]
enum ClosedForm {
    /// From the hours: `f(prepared, hours)`.
    Hours(fn(&Parameters, f64) -> f64),
    /// From the logarithm of the hours, `f(prepared, ln hours)`: on a grid
    /// ([`Cdf::on_grid`]) the logarithms are computed once for every evaluation.
    LogHours(fn(&Parameters, f64) -> f64),
}

impl Cdf {
    /// A CDF that evaluates `at(prepared, hours)` for positive hours.
    pub fn new(prepared: Parameters, at: fn(&Parameters, f64) -> f64) -> Cdf {
        Cdf {
            prepared,
            closed_form: ClosedForm::Hours(at),
        }
    }

    /// A CDF whose closed form starts from the logarithm of the hours:
    /// `at_log(prepared, ln hours)`. One point at a time ([`Cdf::at`]) it takes the
    /// logarithm first, so a point gives the same bits alone and on a grid.
    pub fn from_log(prepared: Parameters, at_log: fn(&Parameters, f64) -> f64) -> Cdf {
        Cdf {
            prepared,
            closed_form: ClosedForm::LogHours(at_log),
        }
    }

    /// `P(delay <= hours)`.
    pub fn at(&self, hours: f64) -> f64 {
        if hours <= 0.0 {
            return 0.0;
        }
        match self.closed_form {
            ClosedForm::Hours(f) => f(&self.prepared, hours),
            ClosedForm::LogHours(f) => f(&self.prepared, libm::log(hours)),
        }
    }

    /// [`Cdf::at`] each point of a grid `hours` whose logarithms `logs` were computed
    /// once (`logs[k] = ln hours[k]`).
    pub fn on_grid(&self, hours: &[f64], logs: &[f64]) -> Vec<f64> {
        match self.closed_form {
            ClosedForm::LogHours(f) => hours
                .iter()
                .zip(logs)
                .map(|(&h, &l)| if h <= 0.0 { 0.0 } else { f(&self.prepared, l) })
                .collect(),
            ClosedForm::Hours(_) => hours.iter().map(|&h| self.at(h)).collect(),
        }
    }
}

/// Hours as a scenario file writes them, to 4 decimals (`"30.1235h"`).
pub(super) fn hours_text(hours: f64) -> String {
    format!("{}h", round_to(hours, 4))
}

/// `x` with at most `digits` decimals (scenario files are read by people): what a
/// fitted scenario writes.
pub(crate) fn round_to(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fitted_cdf_is_the_law_the_simulator_samples() {
        // The fit's CDF and the simulator's inverse transform (Delay::quantile)
        // must describe one law: F(Q(u)) = u for every one-speed family.
        let laws = [
            ("lognormal", [30.0, 1.2]),
            ("exponential", [12.0, 0.0]),
            ("weibull", [0.7, 40.0]),
            ("gamma", [2.5, 9.0]),
        ];
        assert_eq!(
            laws.len(),
            Family::first_round().count(),
            "a family untested"
        );
        for (name, [a, b]) in laws {
            let family = Family::named(name).unwrap();
            let params = [a, b, 0.0, 0.0, 0.0];
            let law = Law { family, params };
            let (cdf, delay) = (law.cdf(), law.to_delay());
            for i in 1..20 {
                let u = f64::from(i) / 20.0;
                let x = delay.quantile(u).as_hours();
                assert!((cdf.at(x) - u).abs() < 1e-6, "{law:?} at u = {u}");
            }
            let back = law.family.law(&law.coordinates());
            for (a, b) in back.params.iter().zip(law.params) {
                assert!((a - b).abs() < 1e-9);
            }
        }
    }

    #[test]
    fn a_grid_gives_the_bits_of_one_point_at_a_time() {
        let hours: Vec<f64> = (0..64).map(|k| f64::from(k) * 1.7).collect();
        let logs: Vec<f64> = hours.iter().map(|&h| libm::log(h)).collect();
        for family in Family::all() {
            let law = family.starting_law(20.0);
            let cdf = law.cdf();
            let one_by_one: Vec<u64> = hours.iter().map(|&h| cdf.at(h).to_bits()).collect();
            let grid: Vec<u64> = cdf
                .on_grid(&hours, &logs)
                .iter()
                .map(|v| v.to_bits())
                .collect();
            assert_eq!(grid, one_by_one, "{family:?}");
        }
    }

    #[test]
    fn families_are_found_by_name_and_clamped_into_valid_laws() {
        let names: Vec<_> = Family::all().map(Family::name).collect();
        assert_eq!(
            names,
            ["lognormal", "exponential", "weibull", "gamma", "mixture"]
        );
        let first: Vec<_> = Family::first_round().map(Family::name).collect();
        assert_eq!(first, ["lognormal", "exponential", "weibull", "gamma"]);
        let weibull: Family = "weibull".parse().unwrap();
        let law = weibull.law(&[100.0, -100.0]);
        assert_eq!(
            law.params,
            [super::super::SHAPE_RANGE.1, HOURS_RANGE.0, 0.0, 0.0, 0.0]
        );
        assert!(law.cdf().at(1.0).is_finite());
        let err = "pareto".parse::<Family>().unwrap_err();
        assert!(err.contains("lognormal, exponential"), "{err}");
    }
}
