//! What `check` reports: a table for the terminal, GitHub-flavoured Markdown for a pull
//! request, JUnit XML for CI dashboards, and GitHub Actions annotations.

use std::fmt::Write as _;
use std::io::Cursor;

use quick_xml::Writer;
use quick_xml::events::{BytesCData, BytesDecl, BytesEnd, BytesStart, Event};

use crate::check::{ExpectationResult, FigureTest};

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
                    num(t.baseline_mean),
                    num(t.new_mean),
                    num(t.difference),
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

fn num(x: Option<f64>) -> String {
    x.map_or("-".into(), |v| format!("{v:.3}"))
}

/// A p-value for people: three significant digits, or a bound below 1e-12.
fn p_text(p: f64) -> String {
    if p < 1e-12 {
        "< 1e-12".into()
    } else {
        format!("{p:.3}")
    }
}

impl CheckReport {
    /// Drifted or failed scenarios, and errors.
    pub fn counts(&self) -> (usize, usize) {
        let count = |v| self.scenarios.iter().filter(|s| s.verdict == v).count();
        (count(Verdict::Drifted), count(Verdict::Error))
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

    /// The table printed on stdout.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let width = self
            .scenarios
            .iter()
            .map(|s| s.scenario.len())
            .max()
            .unwrap_or(8)
            .max(8);
        let _ = writeln!(out, "{:<width$}  verdict", "scenario");
        for s in &self.scenarios {
            let _ = writeln!(out, "{:<width$}  {}", s.scenario, s.verdict.name());
            for p in s.problems() {
                let _ = writeln!(out, "{:<width$}    {p}", "");
            }
        }
        let mode = if self.exact {
            "exact fingerprints".to_string()
        } else {
            format!("paired tests, family-wise alpha {} (Holm)", self.alpha)
        };
        let _ = writeln!(out, "\n{} ({mode})", self.headline());
        out
    }

    /// GitHub-flavoured Markdown: the verdict first, what drifted, the rest folded.
    pub fn markdown(&self) -> String {
        let (drifted, errors) = self.counts();
        let mut out = String::new();
        let mark = if drifted + errors == 0 { "✅" } else { "❌" };
        let _ = writeln!(out, "## {mark} rollout-sim check\n\n{}\n", self.headline());
        let problems: Vec<(&str, String)> = self
            .scenarios
            .iter()
            .flat_map(|s| {
                s.problems()
                    .into_iter()
                    .map(move |p| (s.scenario.as_str(), p))
            })
            .collect();
        if !problems.is_empty() {
            let _ = writeln!(out, "| scenario | what moved |\n|---|---|");
            for (s, p) in &problems {
                let _ = writeln!(out, "| `{s}` | {} |", p.replace('|', "\\|"));
            }
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "<details><summary>Every scenario and figure</summary>\n"
        );
        let _ = writeln!(
            out,
            "| scenario | verdict | figure | test | baseline | new | difference | p |\n|---|---|---|---|---|---|---|---|"
        );
        for s in &self.scenarios {
            if s.tests.is_empty() {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | | | | | | |",
                    s.scenario,
                    s.verdict.name()
                );
            }
            for t in &s.tests {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
                    s.scenario,
                    s.verdict.name(),
                    t.figure,
                    t.test,
                    num(t.baseline_mean),
                    num(t.new_mean),
                    num(t.difference),
                    p_text(t.p_value)
                );
            }
        }
        let _ = writeln!(out, "\n</details>");
        out
    }

    /// JUnit XML: one test case per scenario, the drifted figures in the failure message.
    pub fn junit(&self) -> String {
        let mut w = Writer::new_with_indent(Cursor::new(Vec::new()), b' ', 2);
        let (drifted, errors) = self.counts();
        let write = |w: &mut Writer<Cursor<Vec<u8>>>, e: Event<'_>| {
            w.write_event(e).expect("writing to memory");
        };
        write(
            &mut w,
            Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)),
        );
        let mut suite = BytesStart::new("testsuite");
        suite.push_attribute(("name", "rollout-sim check"));
        suite.push_attribute(("tests", self.scenarios.len().to_string().as_str()));
        suite.push_attribute(("failures", drifted.to_string().as_str()));
        suite.push_attribute(("errors", errors.to_string().as_str()));
        write(&mut w, Event::Start(suite));
        for s in &self.scenarios {
            let mut case = BytesStart::new("testcase");
            case.push_attribute(("classname", "rollout-sim.check"));
            case.push_attribute(("name", s.scenario.as_str()));
            let problems = s.problems().join("\n");
            match s.verdict {
                Verdict::Identical | Verdict::Equivalent => write(&mut w, Event::Empty(case)),
                Verdict::Drifted | Verdict::Error => {
                    write(&mut w, Event::Start(case));
                    let tag = if s.verdict == Verdict::Error {
                        "error"
                    } else {
                        "failure"
                    };
                    let mut failure = BytesStart::new(tag);
                    failure.push_attribute(("message", s.verdict.name()));
                    write(&mut w, Event::Start(failure));
                    write(&mut w, Event::CData(BytesCData::new(problems.as_str())));
                    write(&mut w, Event::End(BytesEnd::new(tag)));
                    write(&mut w, Event::End(BytesEnd::new("testcase")));
                }
            }
        }
        write(&mut w, Event::End(BytesEnd::new("testsuite")));
        let mut xml = String::from_utf8(w.into_inner().into_inner()).expect("UTF-8 XML");
        xml.push('\n');
        xml
    }

    /// GitHub Actions workflow commands, one `::error` per problem.
    pub fn github_annotations(&self) -> String {
        let escape = |s: &str| {
            s.replace('%', "%25")
                .replace('\r', "%0D")
                .replace('\n', "%0A")
        };
        let mut out = String::new();
        for s in &self.scenarios {
            for p in s.problems() {
                let _ = writeln!(
                    out,
                    "::error title=rollout-sim check: {}::{}",
                    escape(&s.scenario),
                    escape(&p)
                );
            }
        }
        out
    }
}
