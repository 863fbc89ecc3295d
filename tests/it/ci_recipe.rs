//! The CI recipe a vendor copies (`examples/ci/github-actions.yml`), run step by step
//! in a scratch repository that holds scenarios and baselines only, as GitHub's runner
//! would: its shell steps in order, `if:` honoured, `GITHUB_PATH`, `GITHUB_STEP_SUMMARY`
//! and `GITHUB_ACTIONS` as the runner sets them. The install step builds rollout-sim
//! from this repository's git history (`cargo install --git file://... --rev HEAD`), so
//! the test is a system test: it takes minutes and needs git and the crate registry.
//! `cargo test` skips it (and says so); `.ci/run` runs it.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

const RECIPE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/examples/ci/github-actions.yml"
);

/// The workflow, parsed.
fn workflow() -> Yaml {
    let text = fs::read_to_string(RECIPE).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

/// One step of the job: its `if:`, and either its shell command or the action it uses.
struct Step {
    id: String,
    condition: Option<String>,
    run: Option<String>,
    uses: Option<String>,
}

fn steps(workflow: &Yaml) -> Vec<Step> {
    workflow["jobs"]["check"]["steps"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|s| Step {
            id: s["id"]
                .as_str()
                .or(s["name"].as_str())
                .or(s["uses"].as_str())
                .unwrap_or("")
                .to_string(),
            condition: s["if"].as_str().map(str::to_string),
            run: s["run"].as_str().map(str::to_string),
            uses: s["uses"].as_str().map(str::to_string),
        })
        .collect()
}

/// The checks on the workflow's shape that need no run.
#[test]
fn the_recipe_runs_once_per_change_and_builds_nothing_of_the_vendors() {
    let w = workflow();
    let on = &w["on"];
    assert!(!on["pull_request"].is_badvalue(), "runs on pull requests");
    // A push to a pull request's branch must not run it a second time.
    assert!(
        on["push"]["branches"].as_vec().is_some(),
        "push is limited to branches"
    );
    let all: Vec<Step> = steps(&w);
    let commands: Vec<&str> = all.iter().filter_map(|s| s.run.as_deref()).collect();
    for command in &commands {
        // The vendor's repository has no Cargo.toml: nothing may build from it.
        assert!(!command.contains("cargo build"), "{command}");
        assert!(!command.contains("./target/"), "{command}");
    }
    let install = commands
        .iter()
        .find(|c| c.contains("cargo install"))
        .expect("an install step");
    for pinned in ["--locked", "--git", "--rev"] {
        assert!(install.contains(pinned), "pinned install: {install}");
    }
    assert!(
        all.iter().any(|s| s
            .uses
            .as_deref()
            .is_some_and(|u| u.starts_with("actions/cache@"))),
        "the build is cached"
    );
    assert!(
        commands
            .iter()
            .any(|c| c.starts_with("rollout-sim check scenarios --baseline baselines")),
        "the check is the guide's command"
    );
}

/// What one run of the job did.
struct JobRun {
    /// Per step (by id): its exit code, or `None` when skipped.
    codes: Vec<(String, Option<i32>)>,
    stdout: String,
    summary: String,
}

impl JobRun {
    fn code(&self, id_part: &str) -> Option<i32> {
        self.codes
            .iter()
            .find(|(id, _)| id.contains(id_part))
            .unwrap_or_else(|| panic!("no step {id_part}"))
            .1
    }
    fn failed(&self) -> bool {
        self.codes.iter().any(|(_, c)| c.is_some_and(|c| c != 0))
    }
}

/// The runner, for the steps of this recipe: a step runs when no earlier step failed
/// (or its `if:` says `always()`); the cache is a miss on the first run only.
struct Runner {
    repo: PathBuf,
    home: PathBuf,
    env: BTreeMap<String, String>,
    cache_hit: bool,
}

impl Runner {
    fn new(scratch: &Path) -> Runner {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"));
        let rev = Command::new("git")
            .args(["rev-parse", "HEAD"])
            .current_dir(source)
            .output()
            .expect("git runs");
        assert!(rev.status.success(), "this repository is a git clone");
        let home = scratch.join("home");
        fs::create_dir_all(&home).unwrap();
        let real_home = std::env::var("HOME").unwrap_or_default();
        let mut env = BTreeMap::new();
        // The registry cache and toolchain of this machine, but the scratch home: the
        // recipe's `~/.rollout-sim` lands in the scratch folder.
        env.insert(
            "CARGO_HOME".into(),
            std::env::var("CARGO_HOME").unwrap_or(format!("{real_home}/.cargo")),
        );
        env.insert(
            "RUSTUP_HOME".into(),
            std::env::var("RUSTUP_HOME").unwrap_or(format!("{real_home}/.rustup")),
        );
        env.insert("HOME".into(), home.display().to_string());
        env.insert(
            "ROLLOUT_SIM_GIT".into(),
            format!("file://{}", source.display()),
        );
        env.insert(
            "ROLLOUT_SIM_REV".into(),
            String::from_utf8_lossy(&rev.stdout).trim().to_string(),
        );
        // Reuse one build folder across runs of this test.
        env.insert(
            "CARGO_TARGET_DIR".into(),
            source.join("target/ci-recipe").display().to_string(),
        );
        env.insert("GITHUB_ACTIONS".into(), "true".into());
        Runner {
            repo: scratch.join("repo"),
            home,
            env,
            cache_hit: false,
        }
    }

    fn run_job(&mut self) -> JobRun {
        let path_file = self.home.join("github_path");
        let summary_file = self.home.join("step_summary");
        fs::write(&path_file, "").unwrap();
        fs::write(&summary_file, "").unwrap();
        let mut path = std::env::var("PATH").unwrap_or_default();
        let mut codes = Vec::new();
        let mut stdout = String::new();
        let mut failed = false;
        for step in steps(&workflow()) {
            let runs = match step.condition.as_deref() {
                None => !failed,
                Some(c) if c.contains("always()") => true,
                Some("steps.tool.outputs.cache-hit != 'true'") => !failed && !self.cache_hit,
                Some(other) => panic!("the test does not know the condition {other:?}"),
            };
            let Some(command) = step.run.filter(|_| runs) else {
                codes.push((step.id, None));
                continue;
            };
            let out = Command::new("bash")
                .args(["-e", "-c", &command])
                .current_dir(&self.repo)
                .env_clear()
                .envs(&self.env)
                .env("PATH", &path)
                .env("GITHUB_PATH", &path_file)
                .env("GITHUB_STEP_SUMMARY", &summary_file)
                .output()
                .expect("bash runs");
            stdout.push_str(&String::from_utf8_lossy(&out.stdout));
            let code = out.status.code().unwrap_or(-1);
            if code != 0 && !command.contains("rollout-sim check") {
                eprintln!(
                    "step {} failed:\n{}",
                    step.id,
                    String::from_utf8_lossy(&out.stderr)
                );
            }
            failed |= code != 0;
            codes.push((step.id, Some(code)));
            // What a step appends to GITHUB_PATH is on the PATH of the steps after it.
            for dir in fs::read_to_string(&path_file).unwrap().lines().rev() {
                path = format!("{dir}:{path}");
            }
            fs::write(&path_file, "").unwrap();
        }
        // The cache step saves the build for the next run of the job.
        self.cache_hit = true;
        JobRun {
            codes,
            stdout,
            summary: fs::read_to_string(&summary_file).unwrap(),
        }
    }
}

/// A copy of this repository's scenarios and baselines, and nothing else.
fn vendor_repository(scratch: &Path) -> PathBuf {
    let repo = scratch.join("repo");
    for dir in ["scenarios", "baselines"] {
        fs::create_dir_all(repo.join(dir)).unwrap();
        for e in fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            fs::copy(&p, repo.join(dir).join(p.file_name().unwrap())).unwrap();
        }
    }
    repo
}

#[test]
#[ignore = "system test: builds rollout-sim with cargo install from this git repository (minutes; needs git and the crate registry); run with `cargo test -- --include-ignored` (.ci/run does)"]
fn the_recipe_passes_flags_drift_and_survives_a_check_that_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = vendor_repository(tmp.path());
    let mut runner = Runner::new(tmp.path());

    // 1. As shipped: every step passes, the summary says so.
    let first = runner.run_job();
    assert!(!first.failed(), "{:?}", first.codes);
    assert_eq!(first.code("Install"), Some(0));
    assert_eq!(first.code("Check"), Some(0));
    assert!(
        first.summary.starts_with("## ✅ rollout-sim check"),
        "{}",
        first.summary
    );
    assert!(repo.join("check-junit.xml").exists());

    // 2. A change that moves numbers: the check fails with annotations on the file, and
    // the summary still reaches the job page. The build comes from the cache.
    let micro = repo.join("scenarios/connect-micro.json");
    let mut doc: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(&micro).unwrap()).unwrap();
    doc["timing"]["upm_poll"] = serde_json::json!("25h");
    fs::write(&micro, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
    let drifted = runner.run_job();
    assert_eq!(drifted.code("Install"), None, "restored from the cache");
    assert_eq!(drifted.code("Check"), Some(1));
    assert_eq!(drifted.code("Job summary"), Some(0));
    assert!(
        drifted.stdout.contains(
            "::error file=scenarios/connect-micro.json,title=rollout-sim check: connect-micro::"
        ),
        "{}",
        drifted.stdout
    );
    assert!(drifted.summary.starts_with("## ❌ rollout-sim check"));
    assert!(drifted.summary.contains("**drifted**"));

    // 3. A scenario that cannot be read: the check stops before writing its summary
    // (exit 2); the summary step has nothing to add and passes.
    fs::write(&micro, "{ not json").unwrap();
    for f in ["check-summary.md", "check-junit.xml"] {
        fs::remove_file(repo.join(f)).unwrap();
    }
    let broken = runner.run_job();
    assert_eq!(broken.code("Check"), Some(2));
    assert!(!repo.join("check-summary.md").exists());
    assert_eq!(broken.code("Job summary"), Some(0), "{:?}", broken.codes);
    assert_eq!(broken.summary, "");
}
