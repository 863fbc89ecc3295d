//! `plan`: the release policy that best meets the planner's goal under their
//! constraints, chosen by ranking and selection on common random numbers, published as
//! `plan.json`, `plan.csv`, `summary.md`, `best-scenario.json` and a page.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use rayon::prelude::*;

use super::resources::pool;
use super::sweep::point_scenarios;
use super::{Presentation, Simulation, folder_or_default};
use crate::charts::{chart_files, draw_all, plan_charts};
use crate::compare::Unit;
use crate::export::html::plan_page;
use crate::export::plan::{PLAN_CSV, plan_summary};
use crate::export::{self, Exporter};
use crate::input;
use crate::model::FigureRef;
use crate::montecarlo::{self, Progress};
use crate::output::OutputDir;
use crate::plan::{self, Budget, Constraint, Direction, Goal, Selection};
use crate::report::plan::PlanReport;
use crate::scenario;
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

/// Plans the policy of `options`.
pub fn plan(options: &PlanOptions, progress: &dyn Progress) -> Result<Planned> {
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
    let out_dir = folder_or_default(options.out.as_deref(), &format!("plan-{name}"));
    let files: Vec<_> = scenarios
        .iter()
        .map(|s| (options.scenario.as_path(), s))
        .collect();
    let pool = pool(sim, &files)?;
    let mut out = OutputDir::prepare(&out_dir, options.force).context("cannot write the plan")?;
    progress.start(
        options
            .budget
            .max_replications
            .saturating_mul(scenarios.len() as u64),
    );
    let selection: Selection = plan::select(
        &scenarios,
        &goal,
        &options.constraints,
        options.budget,
        |work| {
            pool.install(|| {
                work.par_iter()
                    .map(|(i, range)| {
                        let mut run =
                            montecarlo::run_range(&scenarios[*i], range.clone(), progress);
                        run.mix.skip();
                        run
                    })
                    .collect()
            })
        },
    )
    .map_err(|e| anyhow!("{e}"))?;
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
    Ok(Planned {
        report,
        summary,
        folder: out_dir,
    })
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
