//! `plan`: the release policy that best meets the planner's goal under their
//! constraints, chosen by ranking and selection on common random numbers, published as
//! `plan.json`, `plan.csv`, `summary.md`, `best-scenario.json` and a page.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};

pub use super::plan_parts::ShardRun;
use super::plan_parts::{Replayed, StageParts, plan_job, run_work};
use super::resources::pool;
use super::{Destination, Simulation, folder_or_default, point_scenarios};
use crate::charts::{chart_files, draw_all, plan_charts};
use crate::compare::Unit;
use crate::export::Exporter;
use crate::export::html::plan_page;
use crate::export::plan::PlanJson;
use crate::export::plan::{PLAN_CSV, plan_summary};
use crate::input;
use crate::model::FigureRef;
use crate::montecarlo::Progress;
use crate::output::NamedFile;
use crate::plan::{Budget, Constraint, Direction, Goal, Selector};
use crate::report::plan::PlanReport;
use crate::scenario::{self, Scenario, Setting};
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
    /// Where to write (`output/plan-<scenario name>` by default), and the charts and page.
    pub destination: Destination,
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

/// A plan's question, read and checked before anything runs: the decision variables,
/// every candidate's scenario, the goal, and the job a part file records.
struct Question {
    /// The scenario file's text.
    text: String,
    /// The decision variables.
    vary: Vec<Axis>,
    /// Each candidate's values of them.
    points: Vec<Vec<Setting>>,
    /// Each candidate's scenario.
    scenarios: Vec<Scenario>,
    /// The goal.
    goal: Goal,
    /// What a part file records of the plan.
    job: Job,
}

impl Question {
    /// The question `options` ask, every candidate validated: a path that does not exist
    /// or a value it cannot take is refused here.
    fn read(options: &PlanOptions) -> Result<Question> {
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
        let scenarios = point_scenarios(
            &text,
            &options.scenario,
            &sim.overrides,
            &points,
            "candidate #",
        )?;
        let goal = goal(options, &scenarios, &points, &vary)?;
        let job = plan_job(
            Job::new(&options.scenario, text.clone(), &sim.overrides, &vary),
            &goal,
            &options.constraints,
            options.budget,
        );
        Ok(Question {
            text,
            vary,
            points,
            scenarios,
            goal,
            job,
        })
    }

    /// The plan's name: its scenario's.
    fn name(&self) -> &str {
        &self.scenarios[0].name
    }
}

/// The goal, its figure found in every candidate (variants may differ in releases).
fn goal(
    options: &PlanOptions,
    scenarios: &[Scenario],
    points: &[Vec<Setting>],
    vary: &[Axis],
) -> Result<Goal> {
    let goal_refs = scenarios
        .iter()
        .zip(points)
        .enumerate()
        .map(|(i, (s, point))| {
            FigureRef::parse(&options.goal.0, &s.report.thresholds, s.releases.len()).map_err(|e| {
                anyhow!(
                    "--minimize/--maximize {e} in candidate #{i} ({})",
                    named(point, vary)
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let is_time = Unit::of(goal_refs[0].figure) == Unit::Hours;
    Ok(Goal {
        figure: options.goal.0.clone(),
        direction: options.goal.1,
        delta: delta(&options.delta, is_time)?,
    })
}

/// Plans the policy of `options`: the whole selection, one shard of a stage, or the
/// publication of a sharded plan from its parts.
pub fn plan(options: &PlanOptions, progress: &dyn Progress) -> Result<PlanOutcome> {
    let question = Question::read(options)?;
    let scenarios = &question.scenarios;
    let files: Vec<_> = scenarios
        .iter()
        .map(|s| (options.scenario.as_path(), s))
        .collect();
    let pool = pool(&options.simulation, &files)?;
    let mut selector = Selector::new(
        scenarios,
        &question.goal,
        &options.constraints,
        options.budget,
    )
    .map_err(|e| anyhow!("{e}"))?;
    if let Some(spec) = &options.shard {
        return shard_stage(options, spec, &question, &mut selector, &pool, progress);
    }
    if let Some(folder) = &options.parts {
        let parts = StageParts {
            folder,
            job: &question.job,
            scenarios,
        };
        if let Replayed::Pending { stage, missing, .. } = parts.replay(&mut selector)? {
            return Ok(PlanOutcome::Pending {
                stage,
                message: pending(folder, stage, missing),
            });
        }
    }
    let (folder, out) = options
        .destination
        .prepare(&format!("plan-{}", question.name()), "plan")?;
    if options.parts.is_none() {
        progress.start(
            options
                .budget
                .max_replications
                .saturating_mul(scenarios.len() as u64),
        );
        while let Some(work) = selector.next_stage() {
            let outputs = pool.install(|| run_work(scenarios, &work, progress));
            selector.feed(&work, &outputs);
        }
    }
    let report = PlanReport::new(
        question.name(),
        &question.vary,
        &question.points,
        question.goal.clone(),
        options.constraints.clone(),
        options.budget,
        selector.finish(),
    );
    let (files, summary) = plan_files(&question, &report, options)?;
    out.publish_files(files).context("cannot write the plan")?;
    Ok(PlanOutcome::Published(Box::new(Planned {
        report,
        summary,
        folder,
    })))
}

/// Runs this shard's block of the first stage not yet complete in the parts folder.
fn shard_stage(
    options: &PlanOptions,
    spec: &ShardSpec,
    question: &Question,
    selector: &mut Selector,
    pool: &rayon::ThreadPool,
    progress: &dyn Progress,
) -> Result<PlanOutcome> {
    if options.destination.out.is_some() {
        bail!(
            "--out is where a plan is published; a shard writes its part into the parts folder (--parts DIR)"
        );
    }
    let shard = spec.resolve(|name| std::env::var(name).ok())?;
    let folder = folder_or_default(
        options.parts.as_deref(),
        &format!("plan-{}-parts", question.name()),
    );
    let parts = StageParts {
        folder: &folder,
        job: &question.job,
        scenarios: &question.scenarios,
    };
    match parts.replay(selector)? {
        Replayed::Decided => Ok(PlanOutcome::Decided { parts: folder }),
        Replayed::Pending {
            stage,
            missing: Some(ShardError::Incomplete { count, .. }),
            ..
        } if count != shard.count => bail!(
            "stage {stage} in {} is being run in {count} shards; run it with --shard I/{count} (every shard of a stage the same N; later stages may use another)",
            folder.display()
        ),
        Replayed::Pending { stage, work, .. } => pool
            .install(|| parts.run_shard(stage, &work, shard, options.destination.force, progress))
            .map(PlanOutcome::Shard),
    }
}

/// The plan's files, and its summary: `plan.json`, `plan.csv`, `summary.md`,
/// `best-scenario.json`, and the charts and page when asked for. A plan no candidate
/// meets is an error that says why.
fn plan_files(
    question: &Question,
    report: &PlanReport,
    options: &PlanOptions,
) -> Result<(Vec<NamedFile>, String)> {
    let Some(best) = report.best_index() else {
        bail!("{}", report.infeasibility());
    };
    let summary = plan_summary(report, &question.scenarios[best]);
    let settings = options.simulation.overrides.settings();
    let best_text = best_scenario(&question.text, &settings, &question.points[best])?;
    let mut files: Vec<NamedFile> = vec![
        PlanJson.to_file(report),
        PLAN_CSV.to_file(report),
        ("summary.md".into(), summary.clone().into_bytes()),
        ("best-scenario.json".into(), best_text.into_bytes()),
    ];
    let presentation = options.destination.presentation;
    if presentation.charts {
        let drawn = draw_all(plan_charts(report), presentation.png);
        files.extend(chart_files(&drawn));
        files.push((
            "plan.html".into(),
            plan_page(report, &summary, &drawn).into_bytes(),
        ));
    }
    Ok((files, summary))
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
