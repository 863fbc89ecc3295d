//! `plan`: the release policy that best meets the planner's goal under their
//! constraints, chosen by ranking and selection on common random numbers, published as
//! `plan.json`, `plan.csv`, `summary.md`, `best-scenario.json` and a page.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};

use super::plan_parts::{Progressed, StageParts, plan_job, run_work};
use super::resources::pool;
use super::sweep::point_scenarios;
use super::{PartWritten, Presentation, Simulation, folder_or_default};
use crate::charts::{chart_files, draw_all, plan_charts};
use crate::compare::Unit;
use crate::export::html::plan_page;
use crate::export::plan::{PLAN_CSV, plan_summary};
use crate::export::{self, Exporter};
use crate::input;
use crate::model::FigureRef;
use crate::montecarlo::Progress;
use crate::output::OutputDir;
use crate::plan::{Budget, Constraint, Direction, Goal, Selection, Selector};
use crate::report::plan::PlanReport;
use crate::scenario;
use crate::shard::{Job, ShardError, ShardSpec};
use crate::sweep::{Axis, grid};
use crate::time::SimDuration;

/// What `plan` is asked to do.
#[derive(Clone, Debug)]
pub struct PlanOptions {
    /// The scenario file the candidates vary.
    pub scenario: PathBuf,
    /// The decision variables: paths and their candidate values.
    pub vary: Vec<Axis>,
    /// A plan file whose variables follow those (`{"axes": [{"path", "values",
    /// "names"}]}`, as a sweep file, with optional names for values such as whole
    /// release lists).
    pub file: Option<PathBuf>,
    /// The figure to optimise and which way.
    pub goal: (String, Direction),
    /// The indifference zone as written: a duration for a time figure (`2h`), a number
    /// for a count or share.
    pub delta: String,
    /// The constraints.
    pub constraints: Vec<Constraint>,
    /// Confidence and replications.
    pub budget: Budget,
    /// Overrides (applied to every candidate) and threads; a precision target is refused.
    pub simulation: Simulation,
    /// The output folder; `output/plan-<scenario name>` when `None`.
    pub out: Option<PathBuf>,
    /// Replace an output folder rollout-sim did not write.
    pub force: bool,
    /// Chart and page.
    pub presentation: Presentation,
    /// Run only this shard of the first stage not yet complete in the parts folder.
    pub shard: Option<ShardSpec>,
    /// The parts folder of a sharded plan: where shards write their stages' parts, and
    /// (without `shard`) where the plan is published from. With `shard` and no folder,
    /// `output/plan-<scenario name>-parts`.
    pub parts: Option<PathBuf>,
}

/// What `plan` did.
#[derive(Debug)]
pub enum PlanOutcome {
    /// The plan, published.
    Published(Box<Planned>),
    /// A shard ran its block of a stage (or found its part already there).
    Shard(ShardRun),
    /// A shard found every stage complete: the plan can be published.
    Decided {
        /// The parts folder.
        parts: PathBuf,
    },
    /// Publishing from parts found a stage incomplete; nothing was written.
    Pending {
        /// The stage (from 0).
        stage: u64,
        /// Which shards are missing, or that none has run.
        message: String,
    },
}

/// What a shard did.
#[derive(Debug)]
pub struct ShardRun {
    /// The stage (from 0).
    pub stage: u64,
    /// The block of the stage's work items it ran.
    pub block: std::ops::Range<u64>,
    /// The stage's work items.
    pub total: u64,
    /// The part file.
    pub part: PartWritten,
    /// Whether it ran now (`false`: its part was already there, whole).
    pub fresh: bool,
}

/// What `plan` published.
#[derive(Debug)]
pub struct Planned {
    /// The plan, as `plan.json` holds it.
    pub report: PlanReport,
    /// `summary.md`: the answer in the planner's words.
    pub summary: String,
    /// The folder written.
    pub folder: PathBuf,
}

/// The indifference zone in the goal figure's unit.
fn delta(text: &str, time: bool) -> Result<f64> {
    let value = match text.trim().parse::<f64>() {
        Ok(v) => Some(v),
        Err(_) if time => SimDuration::parse(text.trim())
            .ok()
            .map(SimDuration::as_hours),
        Err(_) => None,
    };
    value.filter(|v| v.is_finite() && *v > 0.0).ok_or_else(|| {
        anyhow!(
            "--delta \"{}\": expected a positive {}",
            input::echo(text),
            if time {
                "duration such as 2h (or a number of hours)"
            } else {
                "number (instances, or a share for a share figure)"
            }
        )
    })
}

/// Plans the policy of `options`: the whole selection, one shard of a stage, or the
/// publication of a sharded plan from its parts.
pub fn plan(options: &PlanOptions, progress: &dyn Progress) -> Result<PlanOutcome> {
    let sim = &options.simulation;
    if sim.precision.is_some() {
        bail!("--precision cannot be used with plan: the selection decides the replications");
    }
    let mut vary = options.vary.clone();
    if let Some(file) = &options.file {
        vary.extend(
            crate::sweep::load_sweep_file(file)
                .map_err(|e| anyhow!("{}: {}: {}", file.display(), e.field, e.message))?,
        );
    }
    if vary.is_empty() {
        bail!(
            "a plan needs at least one decision variable: --vary PATH=V1,V2,... or PATH=LO..HI/STEP, or --file PLAN.json"
        );
    }
    crate::sweep::checked_grid_size(&vary).map_err(|e| anyhow!("{e}"))?;
    let text = scenario::read(&options.scenario)?;
    let points = grid(&vary);
    // Every candidate is validated before anything runs: a path that does not exist
    // or a value it cannot take is refused here.
    let scenarios = point_scenarios(
        &text,
        &options.scenario,
        &sim.overrides,
        &points,
        "candidate #",
    )?;
    let base = &scenarios[0];
    // The goal must exist in every candidate (variants may differ in releases).
    let goal_refs = scenarios
        .iter()
        .zip(&points)
        .enumerate()
        .map(|(i, (s, point))| {
            FigureRef::parse(&options.goal.0, &s.report.thresholds, s.releases.len()).map_err(|e| {
                anyhow!(
                    "--minimize/--maximize {e} in candidate #{i} ({})",
                    named(point, &vary)
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let goal_ref = goal_refs[0];
    let is_time = Unit::of(goal_ref.figure) == Unit::Hours;
    let goal = Goal {
        figure: options.goal.0.clone(),
        direction: options.goal.1,
        delta: delta(&options.delta, is_time)?,
    };
    let name = base.name.clone();
    let files: Vec<_> = scenarios
        .iter()
        .map(|s| (options.scenario.as_path(), s))
        .collect();
    let pool = pool(sim, &files)?;
    let mut selector = Selector::new(&scenarios, &goal, &options.constraints, options.budget)
        .map_err(|e| anyhow!("{e}"))?;
    let job = plan_job(
        Job::new(&options.scenario, text.clone(), &sim.overrides, &vary),
        &goal,
        &options.constraints,
        options.budget,
    );
    if let Some(spec) = &options.shard {
        if options.out.is_some() {
            bail!(
                "--out is where a plan is published; a shard writes its part into the parts folder (--parts DIR)"
            );
        }
        let shard = spec.resolve(|name| std::env::var(name).ok())?;
        let folder = folder_or_default(options.parts.as_deref(), &format!("plan-{name}-parts"));
        let parts = StageParts {
            folder: &folder,
            job: &job,
            scenarios: &scenarios,
        };
        return match parts.replay(&mut selector)? {
            Progressed::Decided => Ok(PlanOutcome::Decided { parts: folder }),
            Progressed::Pending {
                stage,
                missing: Some(ShardError::Incomplete { count, .. }),
                ..
            } if count != shard.count => bail!(
                "stage {stage} in {} is being run in {count} shards; run it with --shard I/{count} (every shard of a stage the same N; later stages may use another)",
                folder.display()
            ),
            Progressed::Pending { stage, work, .. } => pool
                .install(|| parts.run_shard(stage, &work, shard, options.force, progress))
                .map(PlanOutcome::Shard),
        };
    }
    let out_dir = folder_or_default(options.out.as_deref(), &format!("plan-{name}"));
    if let Some(folder) = &options.parts {
        let parts = StageParts {
            folder,
            job: &job,
            scenarios: &scenarios,
        };
        if let Progressed::Pending { stage, missing, .. } = parts.replay(&mut selector)? {
            return Ok(PlanOutcome::Pending {
                stage,
                message: pending(folder, stage, missing),
            });
        }
    }
    let mut out = OutputDir::prepare(&out_dir, options.force).context("cannot write the plan")?;
    if options.parts.is_none() {
        progress.start(
            options
                .budget
                .max_replications
                .saturating_mul(scenarios.len() as u64),
        );
        while let Some(work) = selector.next_stage() {
            let outputs = pool.install(|| run_work(&scenarios, &work, progress));
            selector.feed(&work, &outputs);
        }
    }
    let selection: Selection = selector.finish();
    let report = PlanReport::new(
        &name,
        &vary,
        &points,
        goal,
        options.constraints.clone(),
        options.budget,
        selection,
    );
    if report.best.is_none() {
        bail!("{}", report.infeasibility());
    }
    let best = report.best_index().expect("a best candidate");
    let summary = plan_summary(&report, &scenarios[best]);
    let best_text = best_scenario(&text, &sim.overrides.settings(), &points[best])?;
    let json: &dyn Exporter<PlanReport> = &export::plan::PlanJson;
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("plan.json".into(), json.to_bytes(&report)),
        ("plan.csv".into(), {
            let csv: &dyn Exporter<PlanReport> = &PLAN_CSV;
            csv.to_bytes(&report)
        }),
        ("summary.md".into(), summary.clone().into_bytes()),
        ("best-scenario.json".into(), best_text.into_bytes()),
    ];
    if options.presentation.charts {
        let drawn = draw_all(plan_charts(&report), options.presentation.png);
        files.extend(chart_files(&drawn));
        files.push((
            "plan.html".into(),
            plan_page(&report, &summary, &drawn).into_bytes(),
        ));
    }
    for (file, bytes) in files {
        out.write_file(&file, |w| w.write_all(&bytes))
            .context("cannot write the plan")?;
    }
    out.publish().context("cannot write the plan")?;
    Ok(PlanOutcome::Published(Box::new(Planned {
        report,
        summary,
        folder: out_dir,
    })))
}

/// Why a plan cannot be published from its parts yet, and what to run.
fn pending(folder: &std::path::Path, stage: u64, missing: Option<ShardError>) -> String {
    let what = match missing {
        Some(ShardError::Incomplete {
            absent,
            count,
            missing,
        }) => format!(
            "stage {stage} is incomplete: {absent} of its {count} shards have not run, among them {}",
            missing.join(", ")
        ),
        Some(e) => format!("stage {stage} is incomplete: {e}"),
        None => format!("stage {stage} has not run yet"),
    };
    format!(
        "{what}. Run this plan with --shard I/N (or slurm, or indexed:N) and --parts {} for every shard, then publish again",
        folder.display()
    )
}

/// A candidate's values as `path=value, ...`, a named value by its name.
fn named(point: &[crate::scenario::Setting], axes: &[Axis]) -> String {
    point
        .iter()
        .map(|s| {
            let name = axes.iter().find_map(|a| a.name_of(s));
            format!(
                "{}={}",
                s.path,
                name.map_or_else(|| crate::report::plan::value_text(&s.value), str::to_string)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The scenario file with the command line's settings and the best candidate's values
/// applied, pretty-printed: `rollout-sim run best-scenario.json` runs the chosen policy.
fn best_scenario(
    text: &str,
    overrides: &[crate::scenario::Setting],
    best: &[crate::scenario::Setting],
) -> Result<String> {
    let mut value = input::parse_json(text).map_err(|e| anyhow!("{e}"))?;
    for s in overrides.iter().chain(best) {
        s.apply(&mut value)
            .map_err(|e| anyhow!("{}: {}", e.field, e.message))?;
    }
    Ok(serde_json::to_string_pretty(&value)? + "\n")
}
