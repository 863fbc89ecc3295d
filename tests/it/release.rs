//! The release path, on every system: the crate's manifest and package, and the release
//! workflow (`.github/workflows/release.yml`). The archives and the installer are tested
//! on Unix (`release_archives.rs`).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

/// Every target a release carries a binary for (the README's table says the same).
pub(crate) const TARGETS: [&str; 7] = [
    "x86_64-unknown-linux-gnu",
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-gnu",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
];

/// This repository.
pub(crate) fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn yaml(path: &str) -> Yaml {
    let text = fs::read_to_string(repo().join(path)).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

fn strings(list: &Yaml) -> Vec<String> {
    match list {
        Yaml::Array(items) => items
            .iter()
            .filter_map(|i| i.as_str().map(str::to_string))
            .collect(),
        Yaml::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// The manifest, as cargo reads it.
fn manifest() -> serde_json::Value {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    all["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "rollout-sim")
        .unwrap()
        .clone()
}

#[test]
fn the_crate_declares_what_a_registry_and_its_users_need() {
    let m = manifest();
    for field in [
        "description",
        "license",
        "repository",
        "readme",
        "rust_version",
    ] {
        assert!(
            m[field].as_str().is_some_and(|v| !v.is_empty()),
            "Cargo.toml lacks {field}"
        );
    }
    let keywords: Vec<&str> = m["keywords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k.as_str().unwrap())
        .collect();
    // crates.io's rules: at most five, each at most 20 ASCII characters.
    assert!((1..=5).contains(&keywords.len()), "{keywords:?}");
    for k in &keywords {
        assert!(k.len() <= 20 && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    }
    assert!(!m["categories"].as_array().unwrap().is_empty());
    // The declared toolchain is the one the release workflow's msrv job reads.
    let release = fs::read_to_string(repo().join(".github/workflows/release.yml")).unwrap();
    assert!(release.contains(r#"s/^rust-version = "\(.*\)"/\1/p"#));
    for licence in ["LICENSE-MIT", "LICENSE-APACHE"] {
        assert!(repo().join(licence).is_file(), "{licence}");
    }
}

/// The files `cargo package` would upload, with their sizes.
fn packaged_files() -> Vec<(String, u64)> {
    let out = Command::new(env!("CARGO"))
        .args([
            "package",
            "--list",
            "--offline",
            "--allow-dirty",
            "-p",
            "rollout-sim",
        ])
        .current_dir(repo())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|f| {
            // Cargo writes two files of its own (the normalised manifest and the VCS
            // info); their sizes are a few kB.
            let size = fs::metadata(repo().join(f)).map_or(0, |m| m.len());
            (f.to_string(), size)
        })
        .collect()
}

#[test]
fn the_package_holds_what_a_library_user_needs_and_stays_small() {
    let files = packaged_files();
    let names: BTreeSet<&str> = files.iter().map(|(f, _)| f.as_str()).collect();
    for needed in [
        "Cargo.toml",
        "Cargo.lock",
        "README.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
        "src/lib.rs",
        "src/main.rs",
        "src/charts/font/DejaVuSans.ttf",
        "src/charts/font/LICENSE",
    ] {
        assert!(names.contains(needed), "the package lacks {needed}");
    }
    for f in &names {
        for left_out in [
            "tests/",
            "benches/",
            "scenarios/",
            "baselines/",
            "web/",
            "docs/",
            "fuzz/",
            ".ci/",
            "examples/",
            "output/",
        ] {
            assert!(!f.starts_with(left_out), "the package holds {f}");
        }
    }
    // The sources are under 2 MiB and the font 0.7 MiB: a package past 4 MiB has picked
    // up something it should not (crates.io refuses past 10 MiB).
    let total: u64 = files.iter().map(|(_, s)| s).sum();
    assert!(total < 4 << 20, "{total} bytes");
}

#[test]
fn the_release_workflow_tests_every_system_before_it_builds_every_target() {
    let w = yaml(".github/workflows/release.yml");
    assert_eq!(strings(&w["on"]["push"]["tags"]), ["v*"]);
    let jobs = &w["jobs"];
    let oses = strings(&jobs["test"]["strategy"]["matrix"]["os"]);
    for os in ["ubuntu", "macos", "windows"] {
        assert!(oses.iter().any(|o| o.starts_with(os)), "{oses:?}");
    }
    let built: BTreeSet<String> = jobs["binaries"]["strategy"]["matrix"]["include"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|e| e["target"].as_str().unwrap().to_string())
        .collect();
    let wanted: BTreeSet<String> = TARGETS.iter().map(ToString::to_string).collect();
    assert_eq!(built, wanted);
    // Nothing is built before the tests, the toolchain floor and the package pass;
    // nothing is published before every archive is built.
    let needs = |job: &str| strings(&jobs[job]["needs"]);
    for gate in ["test", "msrv", "crate"] {
        assert!(
            needs("binaries").contains(&gate.to_string()),
            "binaries needs {gate}"
        );
    }
    for built in ["binaries", "page"] {
        assert!(needs("publish").contains(&built.to_string()));
    }
    for after in ["image", "crates-io"] {
        assert_eq!(needs(after), ["publish"]);
    }
    // Every script and file the workflow names is in the repository.
    let text = fs::read_to_string(repo().join(".github/workflows/release.yml")).unwrap();
    let mut named = 0;
    for word in text.split_whitespace() {
        let word = word.trim_matches(|c: char| !(c.is_alphanumeric() || "/._-".contains(c)));
        if word.starts_with(".ci/") || word.starts_with("web/") {
            named += 1;
            assert!(repo().join(word).exists(), "the workflow names {word}");
        }
    }
    assert!(named >= 4, "{named}");
    for step in [
        "sha256sum -- * > SHA256SUMS",
        "cp .ci/install.sh dist/install.sh",
    ] {
        assert!(text.contains(step), "{step}");
    }
    // Every target is in the README's table of downloads.
    let readme = fs::read_to_string(repo().join("README.md")).unwrap();
    for t in TARGETS {
        assert!(readme.contains(&format!("`{t}`")), "README lacks {t}");
    }
}
