//! The shape of the code: no import circle between modules, and no command importing
//! another command (what commands share lives in their helpers or in the library).
//!
//! The imports are read from the sources (`crate::a::b` and `super::c` paths, tests left
//! out) and resolved to the module files they reach. A module and its own submodules may
//! name each other (a folder's `mod.rs` declares and re-exports its files); any other
//! pair of modules that reach each other, directly or around a longer loop, is a circle.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

/// Module paths (`["fit", "observed", "rows"]`) of every source file under `src/`.
fn modules(dir: &Path, prefix: &[String], out: &mut BTreeMap<Vec<String>, String>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        if path.is_dir() {
            let mut inner = prefix.to_vec();
            inner.push(name);
            modules(&path, &inner, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let mut module = prefix.to_vec();
            if !["mod", "lib", "main"].contains(&name.as_str()) {
                module.push(name);
            }
            let text = fs::read_to_string(&path).unwrap();
            // Unit tests may reach anywhere: leave them out.
            let code = text
                .split("#[cfg(test)]\nmod tests")
                .next()
                .unwrap()
                .to_string();
            out.insert(module, code);
        }
    }
}

/// Every module each module imports, other than its ancestors and descendants.
fn imports() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let mut library = BTreeMap::new();
    for entry in fs::read_dir("src").unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .is_some_and(|n| n == "cli" || n == "main.rs")
        {
            continue;
        }
        if path.is_dir() {
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            modules(&path, &[name], &mut library);
        } else {
            let name = path.file_stem().unwrap().to_str().unwrap().to_string();
            let module = if name == "lib" { vec![] } else { vec![name] };
            library.insert(module, fs::read_to_string(&path).unwrap());
        }
    }
    let resolve = |parts: &[String]| {
        (1..=parts.len())
            .rev()
            .map(|n| parts[..n].to_vec())
            .find(|m| library.contains_key(m))
    };
    let related = |a: &[String], b: &[String]| a.starts_with(b) || b.starts_with(a);
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (module, code) in &library {
        for (at, _) in code
            .match_indices("crate::")
            .chain(code.match_indices("super::"))
        {
            let path: Vec<String> = code[at..]
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap()
                .split("::")
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect();
            let parts: Vec<String> = if path[0] == "crate" {
                path[1..].to_vec()
            } else {
                let ups = path.iter().take_while(|p| *p == "super").count();
                let base = &module[..module.len().saturating_sub(ups)];
                base.iter()
                    .cloned()
                    .chain(path[ups..].iter().cloned())
                    .collect()
            };
            if let Some(target) = resolve(&parts)
                && !related(module, &target)
            {
                edges.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    edges
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let edges = imports();
    // A module that reaches itself through others is in a circle.
    let mut circles = Vec::new();
    for start in edges.keys() {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<Vec<Vec<String>>> = vec![vec![start.clone()]];
        while let Some(trail) = stack.pop() {
            let last = trail.last().unwrap();
            for next in edges.get(last).into_iter().flatten() {
                if next == start {
                    let names: Vec<String> = trail.iter().map(|m| m.join("/")).collect();
                    circles.push(format!("{} -> {}", names.join(" -> "), start.join("/")));
                } else if seen.insert(next.clone()) {
                    let mut longer = trail.clone();
                    longer.push(next.clone());
                    stack.push(longer);
                }
            }
        }
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
    // The check sees imports: the commands do import the library's modules.
    assert!(
        edges[&vec!["commands".to_string(), "run".to_string()]]
            .contains(&vec!["montecarlo".to_string()])
    );
}

#[test]
fn no_command_imports_another_command() {
    let edges = imports();
    let commands: BTreeSet<String> = fs::read_to_string("src/commands/mod.rs")
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod "))
        .map(|m| m.trim_end_matches(';').to_string())
        .filter(|m| m != "publish")
        .collect();
    assert!(commands.contains("run") && commands.contains("plan"));
    let command = |m: &Vec<String>| m.len() == 2 && m[0] == "commands" && commands.contains(&m[1]);
    let crossings: Vec<String> = edges
        .iter()
        .filter(|(from, _)| command(from))
        .flat_map(|(from, to)| {
            to.iter()
                .filter(|t| command(t))
                .map(move |t| format!("{} -> {}", from.join("/"), t.join("/")))
        })
        .collect();
    assert!(
        crossings.is_empty(),
        "commands importing commands:\n{}",
        crossings.join("\n")
    );
}
