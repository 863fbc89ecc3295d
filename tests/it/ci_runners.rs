//! The runners of the CI recipes, as far as the recipes use them: GitHub Actions' steps
//! each in `bash -eo pipefail`, `if:` honoured, `GITHUB_PATH` and `GITHUB_STEP_SUMMARY`
//! as the runner sets them; GitLab's and Bitbucket's script lines in one shell session
//! each, stopping at the first that fails. A job starts from a fresh checkout of a
//! scratch repository holding scenarios and baselines only, with its cache restored.
//! The release it downloads is a folder served as a `file://` URL, packed by
//! `.ci/package` around the binary this suite built (see `release_archives.rs`); its fallback
//! build from source meets a stand-in `cargo` that records its arguments.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use yaml_rust2::{Yaml, YamlLoader};

use crate::release::repo;
use crate::release_archives::{release_folder, sha256_hex, stand_in_binary};

/// The scenarios of the scratch repository: three that check in well under a second.
pub(crate) const SCENARIOS: [&str; 3] = ["connect-micro", "forge-minor", "policy-bundle"];
pub(crate) const ASSET: &str = "rollout-sim-x86_64-unknown-linux-musl.tar.gz";

#[derive(Clone, Copy, Debug)]
pub(crate) enum Ci {
    GitHub,
    GitLab,
    Bitbucket,
}

impl Ci {
    pub(crate) fn file(self) -> &'static str {
        match self {
            Ci::GitHub => "examples/ci/github-actions.yml",
            Ci::GitLab => "examples/ci/gitlab-ci.yml",
            Ci::Bitbucket => "examples/ci/bitbucket-pipelines.yml",
        }
    }
    /// Where the recipe writes the `JUnit` report.
    pub(crate) fn junit(self) -> &'static str {
        match self {
            Ci::GitHub | Ci::GitLab => "check-junit.xml",
            Ci::Bitbucket => "test-results/rollout-sim-check.xml",
        }
    }
}

/// When a step runs.
#[derive(Clone, Copy, PartialEq)]
pub(crate) enum When {
    OnSuccess,
    Always,
    CacheMiss,
}

pub(crate) struct Step {
    pub(crate) name: String,
    pub(crate) when: When,
    pub(crate) run: Option<String>,
    pub(crate) uses: Option<String>,
}

/// A recipe as its runner reads it: the variables it sets, its steps, the files it
/// keeps as artifacts.
pub(crate) struct Recipe {
    pub(crate) env: BTreeMap<String, String>,
    pub(crate) steps: Vec<Step>,
    pub(crate) artifacts: Vec<String>,
}

pub(crate) fn load(ci: Ci) -> Yaml {
    let text = fs::read_to_string(repo().join(ci.file())).unwrap();
    YamlLoader::load_from_str(&text).unwrap().remove(0)
}

pub(crate) fn text(y: &Yaml) -> String {
    match y {
        Yaml::String(s) => s.clone(),
        Yaml::Integer(i) => i.to_string(),
        Yaml::Real(r) => r.clone(),
        Yaml::Boolean(b) => b.to_string(),
        _ => String::new(),
    }
}

pub(crate) fn list(y: &Yaml) -> Vec<String> {
    y.as_vec()
        .map(|v| v.iter().map(text).collect())
        .unwrap_or_default()
}

fn variables(y: &Yaml) -> BTreeMap<String, String> {
    y.as_hash()
        .map(|h| h.iter().map(|(k, v)| (text(k), text(v))).collect())
        .unwrap_or_default()
}

impl Recipe {
    pub(crate) fn of(ci: Ci) -> Recipe {
        let y = load(ci);
        let script_steps = |lines: Vec<String>| {
            lines
                .into_iter()
                .map(|run| Step {
                    name: run.lines().next().unwrap_or("").to_string(),
                    when: When::OnSuccess,
                    run: Some(run),
                    uses: None,
                })
                .collect()
        };
        match ci {
            Ci::GitHub => Recipe {
                env: variables(&y["env"]),
                steps: y["jobs"]["check"]["steps"]
                    .as_vec()
                    .unwrap()
                    .iter()
                    .map(|s| Step {
                        name: text(&s["name"]),
                        when: match s["if"].as_str() {
                            None => When::OnSuccess,
                            Some(c) if c.contains("always()") => When::Always,
                            Some("steps.tool.outputs.cache-hit != 'true'") => When::CacheMiss,
                            Some(other) => panic!("the test does not know the condition {other:?}"),
                        },
                        run: s["run"].as_str().map(str::to_string),
                        uses: s["uses"].as_str().map(str::to_string),
                    })
                    .collect(),
                artifacts: y["jobs"]["check"]["steps"]
                    .as_vec()
                    .unwrap()
                    .iter()
                    .flat_map(|s| {
                        text(&s["with"]["path"])
                            .lines()
                            .map(str::to_string)
                            .collect::<Vec<_>>()
                    })
                    .filter(|p| !p.is_empty() && !p.starts_with('~'))
                    .collect(),
            },
            Ci::GitLab => {
                let job = &y["rollout-sim-check"];
                Recipe {
                    env: variables(&job["variables"]),
                    steps: script_steps(list(&job["script"])),
                    artifacts: list(&job["artifacts"]["paths"]),
                }
            }
            Ci::Bitbucket => {
                let step = &y["definitions"]["steps"][0]["step"];
                Recipe {
                    env: BTreeMap::new(),
                    steps: script_steps(list(&step["script"])),
                    artifacts: list(&step["artifacts"]),
                }
            }
        }
    }
}

/// What one run of the job did: each step's exit code (`None`: not run).
pub(crate) struct JobRun {
    pub(crate) codes: Vec<(String, Option<i32>)>,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
    pub(crate) summary: String,
}

impl JobRun {
    /// The job's outcome: the first failing step's code, or 0.
    pub(crate) fn code(&self) -> i32 {
        self.codes
            .iter()
            .find_map(|(_, c)| c.filter(|&c| c != 0))
            .unwrap_or(0)
    }
    pub(crate) fn step(&self, name_part: &str) -> Option<i32> {
        self.codes
            .iter()
            .find(|(n, _)| n.contains(name_part))
            .unwrap_or_else(|| panic!("no step {name_part} in {:?}", self.codes))
            .1
    }
}

/// The scratch world of one recipe: the vendor's repository, a home, the release
/// folder, a `bin` with a stand-in `cargo`, and the variables the vendor pins.
pub(crate) struct Runner {
    pub(crate) ci: Ci,
    pub(crate) root: tempfile::TempDir,
    pub(crate) release: tempfile::TempDir,
    pub(crate) pins: BTreeMap<String, String>,
    pub(crate) cache_hit: bool,
}

impl Runner {
    pub(crate) fn new(ci: Ci) -> Runner {
        let root = tempfile::tempdir().unwrap();
        let vendor = root.path().join("repo");
        for dir in ["scenarios", "baselines"] {
            fs::create_dir_all(vendor.join(dir)).unwrap();
            for name in SCENARIOS {
                let f = format!("{dir}/{name}.json");
                fs::copy(repo().join(&f), vendor.join(&f)).unwrap();
            }
        }
        for dir in ["home", "tmp", "bin"] {
            fs::create_dir(root.path().join(dir)).unwrap();
        }
        // The fallback's `cargo install`: records its arguments, installs the stand-in.
        let cargo = root.path().join("bin/cargo");
        fs::write(
            &cargo,
            format!(
                "#!/bin/sh\necho \"$@\" > '{log}'\nwhile [ \"$1\" != --root ]; do shift; done\nmkdir -p \"$2/bin\" && cp '{bin}' \"$2/bin/rollout-sim\"\n",
                log = root.path().join("cargo-args").display(),
                bin = stand_in_binary().display()
            ),
        )
        .unwrap();
        make_executable(&cargo);
        // The release: v0.1.0/ holds the archive; its hash is the vendor's pin.
        let release = tempfile::tempdir().unwrap();
        let packed = release_folder("x86_64-unknown-linux-musl");
        let version = Recipe::of(ci)
            .env
            .get("ROLLOUT_SIM_VERSION")
            .cloned()
            .unwrap_or("0.1.0".into());
        let dir = release.path().join(format!("v{version}"));
        fs::create_dir(&dir).unwrap();
        let bytes = fs::read(packed.path().join(ASSET)).unwrap();
        fs::write(dir.join(ASSET), &bytes).unwrap();
        let pins = BTreeMap::from([
            ("ROLLOUT_SIM_SHA256".to_string(), sha256_hex(&bytes)),
            (
                "ROLLOUT_SIM_RELEASES".to_string(),
                format!("file://{}", release.path().display()),
            ),
            (
                "ROLLOUT_SIM_GIT".to_string(),
                "file:///nowhere/rollout-sim".to_string(),
            ),
        ]);
        Runner {
            ci,
            root,
            release,
            pins,
            cache_hit: false,
        }
    }

    pub(crate) fn repo(&self) -> PathBuf {
        self.root.path().join("repo")
    }

    pub(crate) fn installed(&self) -> PathBuf {
        match self.ci {
            Ci::GitHub => self.root.path().join("home/.rollout-sim/bin/rollout-sim"),
            Ci::GitLab | Ci::Bitbucket => self.repo().join(".rollout-sim/bin/rollout-sim"),
        }
    }

    pub(crate) fn cargo_args(&self) -> Option<String> {
        fs::read_to_string(self.root.path().join("cargo-args")).ok()
    }

    /// The environment of a job: the recipe's variables, then the vendor's pins (as
    /// repository or project variables override them), and the runner's own.
    fn env(&self, recipe: &Recipe) -> BTreeMap<String, String> {
        let mut env = recipe.env.clone();
        env.extend(self.pins.clone());
        let path = format!(
            "{}:{}",
            self.root.path().join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        env.insert("PATH".into(), path);
        env.insert(
            "HOME".into(),
            self.root.path().join("home").display().to_string(),
        );
        env.insert(
            "TMPDIR".into(),
            self.root.path().join("tmp").display().to_string(),
        );
        env
    }

    pub(crate) fn run_job(&mut self) -> JobRun {
        // Each job starts from a fresh checkout: the scenarios and baselines, and the
        // cache restored; the reports of an earlier job are gone.
        for entry in fs::read_dir(self.repo()).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if !["scenarios", "baselines", ".rollout-sim"].contains(&name.as_str()) {
                if path.is_dir() {
                    fs::remove_dir_all(&path).unwrap();
                } else {
                    fs::remove_file(&path).unwrap();
                }
            }
        }
        let recipe = Recipe::of(self.ci);
        let run = match self.ci {
            Ci::GitHub => self.run_github(&recipe),
            Ci::GitLab | Ci::Bitbucket => self.run_session(&recipe),
        };
        // A job that installed saves the cache for the next run.
        self.cache_hit |= self.installed().exists();
        run
    }

    fn run_github(&self, recipe: &Recipe) -> JobRun {
        let path_file = self.root.path().join("github_path");
        let summary_file = self.root.path().join("step_summary");
        fs::write(&summary_file, "").unwrap();
        let mut env = self.env(recipe);
        env.insert("GITHUB_ACTIONS".into(), "true".into());
        env.insert(
            "RUNNER_TEMP".into(),
            self.root.path().join("tmp").display().to_string(),
        );
        let (mut codes, mut stdout, mut stderr, mut failed) =
            (Vec::new(), String::new(), String::new(), false);
        for step in &recipe.steps {
            let runs = match step.when {
                When::OnSuccess => !failed,
                When::Always => true,
                When::CacheMiss => !failed && !self.cache_hit,
            };
            let Some(command) = step.run.as_ref().filter(|_| runs) else {
                codes.push((step.name.clone(), None));
                continue;
            };
            fs::write(&path_file, "").unwrap();
            let out = Command::new("bash")
                .args(["--noprofile", "--norc", "-eo", "pipefail", "-c", command])
                .current_dir(self.repo())
                .env_clear()
                .envs(&env)
                .env("GITHUB_PATH", &path_file)
                .env("GITHUB_STEP_SUMMARY", &summary_file)
                .output()
                .unwrap();
            stdout.push_str(&String::from_utf8_lossy(&out.stdout));
            stderr.push_str(&String::from_utf8_lossy(&out.stderr));
            let code = out.status.code().unwrap_or(-1);
            failed |= code != 0;
            codes.push((step.name.clone(), Some(code)));
            // What a step appends to GITHUB_PATH is on the PATH of the steps after it.
            for dir in fs::read_to_string(&path_file).unwrap().lines() {
                let path = format!("{dir}:{}", env["PATH"]);
                env.insert("PATH".into(), path);
            }
        }
        JobRun {
            codes,
            stdout,
            stderr,
            summary: fs::read_to_string(&summary_file).unwrap(),
        }
    }

    /// GitLab and Bitbucket run the script lines in one shell, in order, and the job
    /// fails with the first line that fails (GitLab's shell also has `-e -o pipefail`).
    fn run_session(&self, recipe: &Recipe) -> JobRun {
        let mut script = String::from(match self.ci {
            Ci::GitLab => "set -eo pipefail\n",
            _ => "",
        });
        for (i, step) in recipe.steps.iter().enumerate() {
            let command = step.run.as_deref().unwrap();
            script.push_str(&format!(
                "echo '::started {i}' >&2\n{command}\nstatus=$?\nif [ $status -ne 0 ]; then exit $status; fi\n"
            ));
        }
        let out = Command::new("bash")
            .args(["--noprofile", "--norc", "-c", &script])
            .current_dir(self.repo())
            .env_clear()
            .envs(self.env(recipe))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let started = stderr
            .lines()
            .filter(|l| l.starts_with("::started "))
            .count();
        let code = out.status.code().unwrap_or(-1);
        let codes = recipe
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let c = match i + 1 {
                    n if n < started => Some(0),
                    n if n == started => Some(code),
                    _ => None,
                };
                (s.name.clone(), c)
            })
            .collect();
        JobRun {
            codes,
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr,
            summary: String::new(),
        }
    }
}

fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}
