//! `check`'s outputs: a table for the terminal, GitHub-flavoured Markdown for a pull
//! request, `JUnit` XML for CI dashboards, and GitHub Actions annotations.

use std::fmt::Write as _;
use std::io::Cursor;

use quick_xml::Writer;
use quick_xml::events::{BytesCData, BytesDecl, BytesEnd, BytesStart, Event};

use crate::report::check::{CheckReport, Verdict, p_text};

impl CheckReport {
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
            // Only a figure that drifted is marked; the others held, whatever the
            // scenario's verdict.
            for t in &s.tests {
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} | {} | {} | {} | {} |",
                    s.scenario,
                    if t.drifted { "**drifted**" } else { "held" },
                    t.figure,
                    t.test,
                    t.value(t.baseline_mean),
                    t.value(t.new_mean),
                    t.value(t.difference),
                    p_text(t.p_value)
                );
            }
        }
        let _ = writeln!(out, "\n</details>");
        out
    }

    /// `JUnit` XML: one test case per scenario, the drifted figures in the failure message.
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
        // A property value also escapes its separators (`:` and `,`).
        let escape_property = |s: &str| escape(s).replace(':', "%3A").replace(',', "%2C");
        let mut out = String::new();
        for s in &self.scenarios {
            for p in s.problems() {
                // `file=` makes GitHub mark the scenario file in the pull request.
                let _ = writeln!(
                    out,
                    "::error file={},title=rollout-sim check: {}::{}",
                    escape_property(&s.file),
                    escape_property(&s.scenario),
                    escape(&p)
                );
            }
        }
        out
    }
}
