//! The docs cannot drift: every `console` example in `README.md` and `GUIDE.md` is run
//! (in a sandbox holding a copy of the shipped files, in document order) and must print
//! what the text shows; `...` on a line of its own stands for lines left out and `[..]`
//! for part of a line (snapbox's wildcards, as trycmd uses them). Every path the docs
//! name, as a link or as `code`, must exist, and every link to a section must find it.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
#[cfg(unix)]
use std::process::{Command, Stdio};

#[cfg(unix)]
use assert_cmd::cargo::cargo_bin;
#[cfg(unix)]
use snapbox::{Assert, IntoData};

const DOCS: [&str; 2] = ["README.md", "GUIDE.md"];

#[cfg(unix)]
/// One command of a `console` block and what the text says it prints.
struct Example {
    line: usize,
    command: String,
    expected: String,
}

#[cfg(unix)]
/// The examples of a Markdown file, in order.
fn console_examples(text: &str) -> Vec<Example> {
    let mut out: Vec<Example> = Vec::new();
    let mut in_console = false;
    for (i, line) in text.lines().enumerate() {
        if !in_console {
            in_console = line.trim_end() == "```console";
            continue;
        }
        if line.starts_with("```") {
            in_console = false;
        } else if let Some(command) = line.strip_prefix("$ ") {
            out.push(Example {
                line: i + 1,
                command: command.to_string(),
                expected: String::new(),
            });
        } else if let Some(last) = out.last_mut() {
            last.expected.push_str(line);
            last.expected.push('\n');
        }
    }
    out
}

#[cfg(unix)]
fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let target = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &target);
        } else {
            fs::copy(&p, &target).unwrap();
        }
    }
}

/// A scratch folder with the shipped scenarios, baselines, docs and examples, and
/// `rollout-sim` on the `PATH`.
#[cfg(unix)] // the examples are shell commands run by bash
fn sandbox() -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().unwrap();
    for dir in [
        "scenarios",
        "baselines",
        "benches/scenarios",
        "docs",
        "examples",
    ] {
        copy_tree(Path::new(dir), &tmp.path().join(dir));
    }
    let bin = tmp.path().join(".bin");
    fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(cargo_bin("rollout-sim"), bin.join("rollout-sim")).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (tmp, path)
}

#[cfg(unix)] // the examples are shell commands run by bash
#[test]
fn every_console_example_in_the_docs_prints_what_the_text_shows() {
    let mut failures = Vec::new();
    let mut ran = 0;
    for doc in DOCS {
        let (dir, path) = sandbox();
        for example in console_examples(&fs::read_to_string(doc).unwrap()) {
            // In a clone, `cargo run --release --` is the binary.
            let command = example
                .command
                .replacen("cargo run --release -- ", "rollout-sim ", 1);
            let out = Command::new("bash")
                .args(["-c", &format!("{{ {command}\n}} 2>&1")])
                .current_dir(dir.path())
                .env("PATH", &path)
                .env("NO_COLOR", "1")
                .env_remove("GITHUB_ACTIONS")
                .stdin(Stdio::null())
                .output()
                .unwrap();
            ran += 1;
            let actual = String::from_utf8_lossy(&out.stdout).into_owned();
            let name = format!("{doc}:{} `{}`", example.line, example.command);
            if let Err(e) = Assert::new().try_eq(
                Some(&name),
                actual.into_data(),
                example.expected.into_data(),
            ) {
                failures.push(format!("{name}\n{e}"));
            }
        }
    }
    assert!(ran >= 10, "{ran} examples");
    assert!(
        failures.is_empty(),
        "{} of {ran} examples print something else:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// GitHub's anchor of a heading.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(doc: &str) -> BTreeSet<String> {
    let text = fs::read_to_string(doc).unwrap();
    let mut in_code = false;
    text.lines()
        .filter(|l| {
            if l.starts_with("```") {
                in_code = !in_code;
            }
            !in_code
        })
        .filter_map(|l| {
            l.trim_start_matches('#')
                .strip_prefix(' ')
                .filter(|_| l.starts_with('#'))
        })
        .map(anchor)
        .collect()
}

/// Every link target and every `code` span that names a file of the repository.
fn named_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        rest = &rest[i + 2..];
        if let Some(end) = rest.find(')') {
            out.push(rest[..end].to_string());
        }
    }
    let roots = [
        "src/",
        "tests/",
        "docs/",
        "examples/",
        "benches/",
        "baselines/",
        "scenarios/",
        ".ci/",
        "fuzz/",
        "web/",
        ".github/",
    ];
    for (i, span) in text.split('`').enumerate() {
        let is_path = i % 2 == 1
            && roots.iter().any(|r| span.starts_with(r))
            && span
                .chars()
                .all(|c| c.is_alphanumeric() || "/._-".contains(c));
        if is_path {
            out.push(span.to_string());
        }
    }
    out
}

#[test]
fn every_path_and_section_the_docs_name_exists() {
    let mut missing = Vec::new();
    for doc in DOCS {
        let text = fs::read_to_string(doc).unwrap();
        for target in named_paths(&text) {
            if target.starts_with("http") || target.starts_with("mailto:") {
                continue;
            }
            let (file, section) = target.split_once('#').unwrap_or((&target, ""));
            let file = if file.is_empty() { doc } else { file };
            if !PathBuf::from(file).exists() {
                missing.push(format!("{doc}: {target}: no such file"));
            } else if !section.is_empty()
                && Path::new(file).extension().is_some_and(|e| e == "md")
                && !anchors(file).contains(section)
            {
                missing.push(format!("{doc}: {target}: no such section"));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn the_guide_lists_every_section_in_its_contents() {
    let text = fs::read_to_string("GUIDE.md").unwrap();
    let (head, body) = text.split_once("\n## Contents\n").unwrap();
    assert!(head.starts_with("# "));
    let (contents, _) = body.split_once("\n## ").unwrap();
    let mut in_code = false;
    for heading in body.lines().filter(|l| {
        if l.starts_with("```") {
            in_code = !in_code;
        }
        !in_code && l.starts_with("## ")
    }) {
        let link = format!("(#{})", anchor(&heading[3..]));
        assert!(contents.contains(&link), "the contents miss {heading}");
    }
}

/// The text of the guide's section under `heading`, up to the next heading of its level.
fn section<'a>(doc: &'a str, heading: &str) -> &'a str {
    let start = doc.find(heading).unwrap_or_else(|| panic!("no {heading}"));
    let level = heading.split(' ').next().unwrap_or("##");
    let body = &doc[start + heading.len()..];
    let end = body
        .match_indices(&format!("\n{level} "))
        .map(|(i, _)| i)
        .next()
        .unwrap_or(body.len());
    &body[..end]
}

/// The names of the modules in folder `dir`: its `.rs` files and its folders, without
/// `mod.rs`, `tests.rs` and the crate roots.
fn modules_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let stem = p.file_stem()?.to_str()?.to_string();
            let is_module = p.is_dir() || p.extension().is_some_and(|e| e == "rs");
            (is_module && !["mod", "tests", "lib", "main"].contains(&stem.as_str())).then_some(stem)
        })
        .filter(|name| name != "font")
        .collect();
    names.sort();
    names
}

#[test]
fn the_guide_tables_name_every_module_command_and_system_test() {
    let guide = fs::read_to_string("GUIDE.md").unwrap();
    let layout = section(&guide, "## Layout of the code");
    let rows: Vec<&str> = layout.lines().filter(|l| l.starts_with("| `")).collect();
    let row = |module: &str| {
        rows.iter()
            .find(|r| {
                let first = r.split('|').nth(1).unwrap_or_default();
                first.contains(&format!("`{module}`"))
            })
            .copied()
    };
    let mut missing = Vec::new();
    // Every module of the library has a row, and every module inside it is named there.
    for module in modules_in(Path::new("src")) {
        let Some(r) = row(&module) else {
            missing.push(format!("no row for the module `{module}`"));
            continue;
        };
        let dir = Path::new("src").join(&module);
        if dir.is_dir() {
            for inner in modules_in(&dir) {
                if !r.contains(&format!("`{inner}")) {
                    missing.push(format!("`{module}` row does not name `{inner}`"));
                }
            }
        }
    }
    // Every command the binary has is described under Command line.
    let commands = section(&guide, "## Command line");
    let help = std::process::Command::new(assert_cmd::cargo::cargo_bin("rollout-sim"))
        .arg("--help")
        .output()
        .unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let listed = help
        .split("Commands:")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").next())
        .unwrap_or_default();
    let usage = |name: &str| {
        commands.lines().any(|l| {
            l.starts_with("rollout-sim ")
                && l.split(|c: char| !c.is_ascii_alphanumeric() && c != '-')
                    .any(|word| word == name)
        })
    };
    for name in listed.lines().filter_map(|l| l.split_whitespace().next()) {
        if name != "help" && !usage(name) {
            missing.push(format!("Command line does not show `rollout-sim {name}`"));
        }
    }
    // Every test that needs a real system (ignored by `cargo test`) is listed under Tests.
    let tests = section(&guide, "## Tests");
    for file in fs::read_dir("tests/it").unwrap().map(|e| e.unwrap().path()) {
        let text = fs::read_to_string(&file).unwrap();
        let stem = file.file_stem().unwrap().to_str().unwrap().to_string();
        let mut lines = text.lines();
        while let Some(line) = lines.next() {
            if !line.trim_start().starts_with("#[ignore") {
                continue;
            }
            let Some(name) = lines
                .by_ref()
                .find_map(|l| l.trim_start().strip_prefix("fn "))
                .and_then(|rest| rest.split('(').next())
            else {
                continue;
            };
            if !tests.contains(&format!("`{stem}::{name}`")) {
                missing.push(format!(
                    "Tests does not list the system test `{stem}::{name}`"
                ));
            }
        }
    }
    assert!(missing.is_empty(), "GUIDE.md:\n{}", missing.join("\n"));
}
