//! The CI recipes a vendor copies (`examples/ci/`: GitHub Actions, GitLab CI, Bitbucket
//! Pipelines), run as their runners would (`ci_runners.rs`) in a scratch repository that
//! holds scenarios and baselines only, against a release folder. The real `cargo
//! install` of the fallback, from this repository's git history, is a system test
//! (minutes, needs the crate registry): `cargo test` skips it and says so, `.ci/run`
//! runs it.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::ci_runners::{ASSET, Ci, Recipe, Runner, list, load, text};
use crate::release::repo;

/// Makes `connect-micro` drift (a 25 h poll instead of 24 h), or unreadable.
fn break_scenario(repo: &Path, unreadable: bool) {
    let micro = repo.join("scenarios/connect-micro.json");
    if unreadable {
        fs::write(&micro, "{ not json").unwrap();
        return;
    }
    let mut doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&micro).unwrap()).unwrap();
    doc["timing"]["upm_poll"] = serde_json::json!("25h");
    fs::write(&micro, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
}

/// Each recipe installs the pinned binary without building, passes a clean check, fails
/// a drift with exit 1 and an unreadable scenario with exit 2, and keeps its reports.
fn the_recipe_gates_as_the_exit_codes_say(ci: Ci) {
    let mut runner = Runner::new(ci);
    let recipe = Recipe::of(ci);
    let first = runner.run_job();
    assert_eq!(
        first.code(),
        0,
        "{ci:?}: {:?}\n{}",
        first.codes,
        first.stderr
    );
    assert!(runner.installed().exists(), "{ci:?}: installed");
    assert_eq!(runner.cargo_args(), None, "{ci:?}: nothing built");
    assert!(
        runner.repo().join(ci.junit()).exists(),
        "{ci:?}: JUnit report"
    );
    for kept in &recipe.artifacts {
        let kept = kept.trim_end_matches("/**");
        assert!(runner.repo().join(kept).exists(), "{ci:?}: artifact {kept}");
    }
    if let Ci::GitHub = ci {
        assert!(
            first.summary.starts_with("## ✅ rollout-sim check"),
            "{}",
            first.summary
        );
    }

    // A change that moves numbers: exit 1, from the cache (no second install).
    break_scenario(&runner.repo(), false);
    let drifted = runner.run_job();
    assert_eq!(
        drifted.code(),
        1,
        "{ci:?}: {:?}\n{}",
        drifted.codes,
        drifted.stderr
    );
    assert!(
        fs::read_to_string(runner.repo().join(ci.junit()))
            .unwrap()
            .contains("<failure")
    );
    if let Ci::GitHub = ci {
        assert_eq!(drifted.step("Install"), None, "restored from the cache");
        assert_eq!(drifted.step("Job summary"), Some(0));
        assert!(drifted.stdout.contains(
            "::error file=scenarios/connect-micro.json,title=rollout-sim check: connect-micro::"
        ));
        assert!(drifted.summary.starts_with("## ❌ rollout-sim check"));
    }

    // A scenario that cannot be read: exit 2, before any report is written.
    break_scenario(&runner.repo(), true);
    let broken = runner.run_job();
    assert_eq!(broken.code(), 2, "{ci:?}: {:?}", broken.codes);
    assert!(!runner.repo().join(ci.junit()).exists());
    if let Ci::GitHub = ci {
        assert_eq!(broken.step("Job summary"), Some(0), "{:?}", broken.codes);
        assert_eq!(broken.summary, "");
    }
}

/// A download that does not match the pinned hash fails the job before anything is
/// installed or checked; an unpinned recipe says what to pin; a release without the
/// binary falls back to `cargo install` of the version's tag.
fn the_recipe_installs_only_a_verified_binary(ci: Ci) {
    let mut runner = Runner::new(ci);
    let archive = runner.release.path().join("v0.1.0").join(ASSET);
    let mut bytes = fs::read(&archive).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(&archive, &bytes).unwrap();
    let tampered = runner.run_job();
    assert_ne!(tampered.code(), 0, "{ci:?}");
    assert!(
        tampered.stderr.contains("did NOT match"),
        "{ci:?}: sha256sum's word: {}",
        tampered.stderr
    );
    assert!(!runner.installed().exists(), "{ci:?}: nothing installed");
    assert!(
        !runner.repo().join(ci.junit()).exists(),
        "{ci:?}: nothing checked"
    );
    assert_eq!(
        runner.cargo_args(),
        None,
        "{ci:?}: no fallback on a bad checksum"
    );

    // As shipped, without a pinned hash: exit 2 and what to do.
    runner.pins.remove("ROLLOUT_SIM_SHA256");
    let unpinned = runner.run_job();
    assert_eq!(unpinned.code(), 2, "{ci:?}");
    assert!(
        unpinned.stdout.contains("set ROLLOUT_SIM_SHA256")
            || unpinned.stderr.contains("set ROLLOUT_SIM_SHA256")
    );

    // No binary in the release: built from the version's git tag, then checked.
    fs::remove_file(&archive).unwrap();
    runner
        .pins
        .insert("ROLLOUT_SIM_SHA256".into(), "0".repeat(64));
    let built = runner.run_job();
    assert_eq!(
        built.code(),
        0,
        "{ci:?}: {:?}\n{}",
        built.codes,
        built.stderr
    );
    let args = runner.cargo_args().expect("the fallback ran cargo");
    assert!(
        args.starts_with("install --locked --git file:///nowhere/rollout-sim --tag v0.1.0 --root "),
        "{ci:?}: {args}"
    );
    assert!(runner.repo().join(ci.junit()).exists());
}

#[cfg(unix)]
#[test]
fn the_github_recipe_gates_on_exit_codes_and_installs_only_a_verified_binary() {
    the_recipe_gates_as_the_exit_codes_say(Ci::GitHub);
    the_recipe_installs_only_a_verified_binary(Ci::GitHub);
}

#[cfg(unix)]
#[test]
fn the_gitlab_recipe_gates_on_exit_codes_and_installs_only_a_verified_binary() {
    the_recipe_gates_as_the_exit_codes_say(Ci::GitLab);
    the_recipe_installs_only_a_verified_binary(Ci::GitLab);
}

#[cfg(unix)]
#[test]
fn the_bitbucket_recipe_gates_on_exit_codes_and_installs_only_a_verified_binary() {
    the_recipe_gates_as_the_exit_codes_say(Ci::Bitbucket);
    the_recipe_installs_only_a_verified_binary(Ci::Bitbucket);
}

/// The checks on the recipes' shape that need no run.
#[test]
fn every_recipe_runs_once_per_change_and_builds_nothing_of_the_vendors() {
    for ci in [Ci::GitHub, Ci::GitLab, Ci::Bitbucket] {
        let recipe = Recipe::of(ci);
        let commands: Vec<&str> = recipe
            .steps
            .iter()
            .filter_map(|s| s.run.as_deref())
            .collect();
        for command in &commands {
            // The vendor's repository has no Cargo.toml: nothing may build from it.
            assert!(!command.contains("cargo build"), "{ci:?}: {command}");
            assert!(!command.contains("./target/"), "{ci:?}: {command}");
        }
        let install = commands
            .iter()
            .find(|c| c.contains("sha256sum --check"))
            .expect("a verified install");
        for pinned in [
            "ROLLOUT_SIM_SHA256",
            "ROLLOUT_SIM_VERSION",
            "cargo install --locked --git",
            "--tag",
        ] {
            assert!(install.contains(pinned), "{ci:?}: {pinned} in {install}");
        }
        assert!(
            commands
                .iter()
                .any(|c| c.contains("rollout-sim check scenarios --baseline baselines")),
            "{ci:?}: the check is the guide's command"
        );
    }
    let github = load(Ci::GitHub);
    assert!(!github["on"]["pull_request"].is_badvalue());
    assert!(
        github["on"]["push"]["branches"].as_vec().is_some(),
        "push is limited to branches"
    );
    assert!(Recipe::of(Ci::GitHub).steps.iter().any(|s| {
        s.uses
            .as_deref()
            .is_some_and(|u| u.starts_with("actions/cache@"))
    }));
    let gitlab = load(Ci::GitLab);
    assert_eq!(
        text(&gitlab["rollout-sim-check"]["artifacts"]["reports"]["junit"]),
        "check-junit.xml"
    );
    assert_eq!(
        list(&gitlab["rollout-sim-check"]["cache"]["paths"]),
        [".rollout-sim/"]
    );
    let bitbucket = load(Ci::Bitbucket);
    let pipelines = &bitbucket["pipelines"];
    assert!(
        !pipelines["pull-requests"]["**"].is_badvalue()
            && !pipelines["branches"]["main"].is_badvalue()
    );
    assert_eq!(
        text(&bitbucket["definitions"]["caches"]["rollout-sim"]),
        ".rollout-sim"
    );
}

#[test]
#[ignore = "system test: builds rollout-sim with cargo install from a git clone of this repository (minutes; needs git and the crate registry); run with `cargo test -- --include-ignored` (.ci/run does)"]
fn the_github_recipe_falls_back_to_building_the_tag_from_source() {
    let mut runner = Runner::new(Ci::GitHub);
    // A bare clone of this repository's HEAD, tagged as the pinned version.
    let clone = runner.root.path().join("rollout-sim.git");
    let source = repo();
    let git = |args: &[&str], dir: &Path| {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("git runs");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    git(
        &[
            "clone",
            "--quiet",
            "--bare",
            source.to_str().unwrap(),
            clone.to_str().unwrap(),
        ],
        source,
    );
    git(&["tag", "v0.1.0", "HEAD"], &clone);
    fs::remove_file(runner.release.path().join("v0.1.0").join(ASSET)).unwrap();
    runner.pins.insert(
        "ROLLOUT_SIM_GIT".into(),
        format!("file://{}", clone.display()),
    );
    // The real cargo and toolchain, a build folder reused across runs of this test.
    fs::remove_file(runner.root.path().join("bin/cargo")).unwrap();
    let real_home = std::env::var("HOME").unwrap_or_default();
    for (key, default) in [("CARGO_HOME", ".cargo"), ("RUSTUP_HOME", ".rustup")] {
        let value = std::env::var(key).unwrap_or(format!("{real_home}/{default}"));
        runner.pins.insert(key.into(), value);
    }
    runner.pins.insert(
        "CARGO_TARGET_DIR".into(),
        source.join("target/ci-recipe").display().to_string(),
    );
    let run = runner.run_job();
    assert_eq!(run.code(), 0, "{:?}\n{}", run.codes, run.stderr);
    assert!(
        run.stdout.contains(
            "::warning::no rollout-sim-x86_64-unknown-linux-musl.tar.gz in release v0.1.0"
        )
    );
    let version = Command::new(runner.installed())
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("rollout-sim "));
}
