//! What `check` reports: each scenario's verdict, tests and expectations (its table,
//! Markdown, `JUnit` XML and annotations are in `export::check`).

use crate::check::{ExpectationResult, FigureTest};

/// A p-value for people: three significant digits, or a bound below 1e-12.
pub(crate) fn p_text(p: f64) -> String {
    if p < 1e-12 {
        "< 1e-12".into()
    } else {
        format!("{p:.3}")
    }
}

/// The outcome for one scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Same fingerprints: the outputs and the event sequence are byte-identical.
    Identical,
    /// Fingerprints differ, but no figure moved beyond sampling error.
    Equivalent,
    /// A figure moved beyond sampling error, a fingerprint changed under `--exact`, or
    /// an expectation failed.
    Drifted,
    /// The check could not be made (missing or corrupt baseline, bad scenario).
    Error,
}

impl Verdict {
    /// The verdict as the reports write it.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Identical => "identical",
            Verdict::Equivalent => "equivalent",
            Verdict::Drifted => "drifted",
            Verdict::Error => "error",
        }
    }
}

/// One scenario's check.
#[derive(Clone, Debug)]
pub struct ScenarioCheck {
    /// The scenario's name.
    pub scenario: String,
    /// The scenario file, as named on the command line (annotations point at it).
    pub file: String,
    /// What the check found.
    pub verdict: Verdict,
    /// Every statistical test made (empty when identical or without a baseline).
    pub tests: Vec<FigureTest>,
    /// Under `--exact`: the report files and figures whose fingerprints differ.
    pub exact_differences: Vec<String>,
    /// The scenario's expectations, evaluated.
    pub expectations: Vec<ExpectationResult>,
    /// Why the verdict is `error`.
    pub error: Option<String>,
}

impl ScenarioCheck {
    /// One line per reason the scenario drifted or failed.
    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .tests
            .iter()
            .filter(|t| t.drifted)
            .map(|t| {
                format!(
                    "{} ({}): baseline {} -> new {}, difference {}{}, p {}",
                    t.figure,
                    t.test,
                    t.value(t.baseline_mean),
                    t.value(t.new_mean),
                    t.value(t.difference),
                    t.ci95.map_or(String::new(), |[lo, hi]| format!(
                        " (95% CI {lo:.3} to {hi:.3})"
                    )),
                    if t.p_value < 1e-12 {
                        p_text(t.p_value)
                    } else {
                        format!("= {}", p_text(t.p_value))
                    }
                )
            })
            .collect();
        out.extend(
            self.exact_differences
                .iter()
                .map(|d| format!("fingerprint differs: {d}")),
        );
        out.extend(self.expectations.iter().filter(|e| !e.held).map(|e| {
            format!(
                "expectation {} {}{}{} failed: {}",
                e.stat,
                e.figure,
                e.min.map_or(String::new(), |m| format!(" >= {m}")),
                e.max.map_or(String::new(), |m| format!(" <= {m}")),
                e.reason.as_deref().unwrap_or("")
            )
        }));
        out.extend(self.error.iter().cloned());
        out
    }
}

/// Every scenario's check, in the order given.
#[derive(Clone, Debug)]
pub struct CheckReport {
    /// The family-wise error rate of the tests.
    pub alpha: f64,
    /// Whether `--exact` asked for byte-identical outputs.
    pub exact: bool,
    /// Every scenario checked.
    pub scenarios: Vec<ScenarioCheck>,
}

impl CheckReport {
    /// Drifted or failed scenarios, and errors.
    pub fn counts(&self) -> (usize, usize) {
        let count = |v| self.scenarios.iter().filter(|s| s.verdict == v).count();
        (count(Verdict::Drifted), count(Verdict::Error))
    }

    /// The scenarios that could not be checked, with why, as one message; `None` when
    /// every scenario was checked.
    pub fn errors(&self) -> Option<String> {
        let names: Vec<String> = self
            .scenarios
            .iter()
            .filter_map(|s| s.error.as_ref().map(|e| format!("{}: {e}", s.scenario)))
            .collect();
        (!names.is_empty()).then(|| names.join("; "))
    }

    /// The one-sentence verdict for the whole check.
    pub fn headline(&self) -> String {
        let (drifted, errors) = self.counts();
        let n = self.scenarios.len();
        match (drifted, errors) {
            (0, 0) => format!(
                "all {n} scenario(s) identical or equivalent to their baselines, every expectation held"
            ),
            _ => format!("{drifted} of {n} scenario(s) drifted, {errors} could not be checked"),
        }
    }
}
