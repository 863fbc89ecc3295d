//! Every command of the tool as a library function: typed options in, a typed outcome
//! out.
//!
//! Each command has one home here ([`run`], [`compare`], [`sweep`], [`merge`],
//! [`check`], [`plan`], [`fit`], [`trace`], [`init`]): it reads and validates its
//! inputs, checks every output path before any work ([`Destination`]), runs the
//! simulation on a thread pool of the size asked for, and publishes its files all or
//! nothing through [`crate::output`]. What it returns is data (a report, the folder
//! written); printing it, and turning raw arguments into the options here, is the
//! binary's job. No command imports another: what `run` and `sweep` share with `merge`
//! is in [`publish`], part files are [`crate::shard`]'s.

pub mod check;
pub mod compare;
pub mod fit;
pub mod init;
pub mod merge;
pub mod plan;
mod plan_parts;
pub mod publish;
mod resources;
pub mod run;
pub mod sweep;
pub mod trace;

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

use crate::model::{Figure, FigureRef};
use crate::montecarlo::PrecisionTarget;
use crate::output::OutputDir;
use crate::scenario::{self, Overrides, Scenario, ScenarioError, Setting};
use crate::time::SimDuration;

pub(crate) use resources::check_trace_memory;

/// How a command simulates: the scenario overrides, the threads, and an optional
/// precision target.
#[derive(Clone, Debug, Default)]
pub struct Simulation {
    /// Seed, replications, instances and `--set` values applied to every scenario.
    pub overrides: Overrides,
    /// Worker threads; all cores when `None`. Results do not depend on it.
    pub threads: Option<NonZeroUsize>,
    /// Add replications until a figure's CI is this narrow.
    pub precision: Option<PrecisionRequest>,
}

/// `--precision` as given: resolved against each scenario (its thresholds and
/// releases name the figures) by [`precision_target`].
#[derive(Clone, Debug)]
pub struct PrecisionRequest {
    /// The half-width: a duration such as `0.5h`, or a number of instances for
    /// `left_behind`.
    pub half_width: String,
    /// The figure watched (`coexistence`, `share:P`, `published`, `left_behind`,
    /// optionally `@K`); the last release's coexistence when `None`.
    pub figure: Option<String>,
    /// Replications added per step.
    pub batch: u64,
    /// The most replications run.
    pub max_replications: u64,
}

/// What a command draws for people beside its data files.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Presentation {
    /// Charts and the HTML page.
    pub charts: bool,
    /// Each chart also as a PNG beside its SVG.
    pub png: bool,
}

impl Default for Presentation {
    fn default() -> Self {
        Presentation {
            charts: true,
            png: false,
        }
    }
}

/// The precision target `request` asks for, resolved against `scenario`.
pub fn precision_target(
    request: Option<&PrecisionRequest>,
    scenario: &Scenario,
) -> Result<Option<PrecisionTarget>> {
    let Some(request) = request else {
        return Ok(None);
    };
    let text = &request.half_width;
    let figure = match &request.figure {
        Some(f) => FigureRef::parse(f, &scenario.report.thresholds, scenario.releases.len())
            .map_err(|e| anyhow!("--precision-figure {e}"))?,
        None => FigureRef::last_coexistence(scenario.releases.len()),
    };
    let half_width = match figure.figure {
        Figure::LeftBehind => text.parse::<f64>().ok().filter(|v| *v > 0.0),
        _ => SimDuration::parse(text).ok().filter(|d| !d.is_zero()).map(SimDuration::as_hours),
    }
    .ok_or_else(|| anyhow!("--precision \"{}\": expected a positive duration such as 0.5h (a number of instances for left_behind)", crate::input::echo(text)))?;
    Ok(Some(PrecisionTarget {
        figure,
        half_width,
        batch: request.batch,
        max_replications: request.max_replications,
    }))
}

/// The output folder asked for, or `output/<name>`.
fn folder_or_default(out: Option<&Path>, name: &str) -> PathBuf {
    out.map_or_else(|| PathBuf::from("output").join(name), Path::to_path_buf)
}

/// Where a command writes its folder of files, and what it draws there for people.
#[derive(Clone, Debug, Default)]
pub struct Destination {
    /// The output folder; under `output/`, named after the scenario and the command,
    /// when `None`.
    pub out: Option<PathBuf>,
    /// Replace an output folder rollout-sim did not write.
    pub force: bool,
    /// Charts and page.
    pub presentation: Presentation,
}

impl Destination {
    /// The folder asked for, or `output/<default_name>`.
    pub fn folder(&self, default_name: &str) -> PathBuf {
        folder_or_default(self.out.as_deref(), default_name)
    }

    /// The folder checked and its staging folder made, before any work: `what` names
    /// the output in errors (`cannot write the plan`).
    fn prepare(&self, default_name: &str, what: &str) -> Result<(PathBuf, OutputDir)> {
        let folder = self.folder(default_name);
        let out = OutputDir::prepare(&folder, self.force)
            .with_context(|| format!("cannot write the {what}"))?;
        Ok((folder, out))
    }
}

/// The files named, each folder replaced by its files that `keep` accepts, in name order;
/// a folder with none of them is an error naming `what` it should hold.
fn expand_folders(
    paths: &[PathBuf],
    keep: impl Fn(&Path) -> bool,
    what: &str,
) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for path in paths {
        if !path.is_dir() {
            out.push(path.clone());
            continue;
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("{}: cannot list the folder", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| keep(p))
            .collect();
        if files.is_empty() {
            bail!("{}: holds no {what}", path.display());
        }
        files.sort();
        out.extend(files);
    }
    Ok(out)
}

/// The scenario of every grid point, each validated, before anything runs; an error
/// names the point as `noun` ("grid point ", "candidate #") before its index and values.
pub(super) fn point_scenarios(
    text: &str,
    file: &Path,
    base: &Overrides,
    points: &[Vec<Setting>],
    noun: &str,
) -> Result<Vec<Scenario>> {
    points
        .iter()
        .enumerate()
        .map(|(i, settings)| {
            let mut ov = base.clone();
            ov.settings.extend(settings.iter().cloned());
            let described: Vec<String> = settings
                .iter()
                .map(|s| format!("{}={}", s.path, s.value))
                .collect();
            scenario::parse(text, file, &ov)
                .map_err(|e: ScenarioError| anyhow!("{noun}{i} ({}): {e}", described.join(", ")))
        })
        .collect()
}
