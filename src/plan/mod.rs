//! Which policy meets the planner's constraints best: ranking and selection over
//! candidate scenarios on common random numbers.
//!
//! The goal is a per-replication figure to minimise (or maximise); a time that did not
//! happen before the horizon counts as the horizon, so a window that never ends is
//! worse than any that does (the restricted mean, as `compare` uses). Each constraint
//! bounds a figure's mean or quantile and must be met at the stated confidence.
//!
//! The selection is Kim and Nelson's fully sequential procedure (KN, *A fully
//! sequential procedure for indifference-zone selection in simulation*, ACM TOMACS 11,
//! 2001) with common random numbers: every candidate runs the same first `n0`
//! replications (the same seeds, so the paired differences are narrow), then survivors
//! get more replications stage by stage, and a candidate is screened out as soon as its
//! mean is worse than another's by more than the procedure's shrinking band. With
//! probability at least `confidence` the chosen candidate is within the indifference
//! zone `delta` of the true best. Constraints are decided with one-sided bounds
//! (Bonferroni over the constraints): a candidate whose bound shows it cannot meet one
//! is dropped; one that cannot be shown to meet every constraint is never chosen.

mod constraint;

use std::ops::Range;

use serde::Serialize;

pub use constraint::{Constraint, ConstraintError, Relation};

use crate::compare::Unit;
use crate::model::FigureRef;
use crate::montecarlo::RunOutput;
use crate::scenario::{ExpectStat, Scenario};
use crate::stats::{Summary, quantile_ci, quantile_with_censoring, t_quantile};

/// Minimise or maximise the goal figure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Lower is better.
    Minimize,
    /// Higher is better.
    Maximize,
}

/// The figure to optimise, in `check`'s vocabulary (`coexistence@1`, `share:0.9@0`,
/// `left_behind@1`, `left_over@0`, ...).
#[derive(Clone, Debug, Serialize)]
pub struct Goal {
    /// The figure's name.
    pub figure: String,
    /// Which way is better.
    pub direction: Direction,
    /// The indifference zone: differences smaller than this do not matter, in the
    /// figure's unit (hours for times, instances for counts).
    pub delta: f64,
}

/// How the selection spends replications.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Budget {
    /// The probability of choosing a candidate within `delta` of the best, and of each
    /// constraint verdict (0.5 to 0.999).
    pub confidence: f64,
    /// Replications every candidate runs first (at least 5).
    pub first_stage: u64,
    /// Replications added to every surviving candidate per stage.
    pub stage: u64,
    /// The most replications one candidate may run.
    pub max_replications: u64,
}

/// What became of a candidate.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Status {
    /// The chosen candidate.
    Best,
    /// Feasible and not separated from the best within the replication budget: within
    /// the indifference zone as far as the procedure can tell.
    Contender,
    /// Screened out: worse than another feasible candidate beyond the procedure's band.
    Screened {
        /// Replications it had run when screened out.
        after: u64,
    },
    /// Shown not to meet a constraint at the stated confidence.
    Infeasible {
        /// The constraint, as written.
        constraint: String,
    },
    /// Not shown to meet every constraint at the stated confidence within the budget.
    Undecided {
        /// The constraint not shown met.
        constraint: String,
    },
}

/// One constraint on one candidate.
#[derive(Clone, Debug, Serialize)]
pub struct ConstraintResult {
    /// The constraint, as written.
    pub constraint: String,
    /// The statistic's estimate (`None`: censored, beyond the horizon).
    pub estimate: Option<f64>,
    /// The one-sided confidence bound on the limit's side (`None`: beyond the horizon).
    pub bound: Option<f64>,
    /// The limit minus the bound (at most) or the bound minus the limit (at least):
    /// positive when met with room to spare.
    pub margin: Option<f64>,
    /// Whether it is met at the stated confidence.
    pub met: bool,
}

/// One candidate's figures when the selection stopped.
#[derive(Clone, Debug, Serialize)]
pub struct CandidateResult {
    /// The candidate's index (grid order).
    pub index: usize,
    /// What became of it.
    #[serde(flatten)]
    pub status: Status,
    /// Replications it ran.
    pub replications: u64,
    /// The goal figure over those replications (restricted: censored times count as
    /// the horizon).
    pub goal: Summary,
    /// Each constraint.
    pub constraints: Vec<ConstraintResult>,
}

/// The outcome of a selection.
#[derive(Clone, Debug, Serialize)]
pub struct Selection {
    /// Every candidate, in index order.
    pub candidates: Vec<CandidateResult>,
    /// The chosen candidate's index; `None` when no candidate meets the constraints.
    pub best: Option<usize>,
    /// Replications run over all candidates.
    pub replications_spent: u64,
    /// What a sweep that runs every candidate to the precision the procedure may need
    /// (its largest stage, from the first-stage variances) would have spent.
    pub full_sweep_replications: u64,
    /// The procedure's constant `h^2` (for the record).
    pub h2: f64,
}

/// Why a selection cannot be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SelectionError {
    /// The goal or a constraint names a figure the scenario does not have.
    #[error("{what}: {message}")]
    UnknownFigure {
        /// `--minimize` or the constraint, as written.
        what: String,
        /// Why.
        message: String,
    },
}

/// A figure's per-replication values as the selection compares them: hours or counts,
/// a censored time counted as the horizon after the release's deploy.
fn restricted_values(run: &RunOutput, scenario: &Scenario, figure: FigureRef) -> Vec<f64> {
    let horizon = scenario.horizon.as_hours() - scenario.releases[figure.release].at.as_hours();
    run.figure_values(figure)
        .into_iter()
        .map(|v| v.unwrap_or(horizon))
        .collect()
}

/// The figure `name` of `scenario`.
fn figure(scenario: &Scenario, name: &str, what: &str) -> Result<FigureRef, SelectionError> {
    FigureRef::parse(name, &scenario.report.thresholds, scenario.releases.len()).map_err(|e| {
        SelectionError::UnknownFigure {
            what: what.to_string(),
            message: e.to_string(),
        }
    })
}

/// KN's constant for `k` candidates, `n0` first-stage replications and error `alpha`
/// (with `c = 1`): `h^2 = (n0 - 1) ((2 alpha / (k - 1))^(-2 / (n0 - 1)) - 1)`.
pub fn kn_h2(k: usize, n0: u64, alpha: f64) -> f64 {
    if k < 2 {
        return 0.0;
    }
    let n = n0.saturating_sub(1).max(1) as f64;
    n * (libm::pow(2.0 * alpha / (k - 1) as f64, -2.0 / n) - 1.0)
}

/// The sample variance of the paired differences of two candidates' goal values.
fn difference_variance(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let mean = a.iter().zip(b).map(|(x, y)| x - y).sum::<f64>() / n;
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y - mean).powi(2))
        .sum::<f64>()
        / (n - 1.0)
}

/// The mean of a candidate's goal values.
fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// A constraint's verdict on a candidate's replications so far: its figures, and
/// `Some(met)` once the one-sided bound at `confidence` decides it. `horizon` is the
/// horizon after the release's deploy for a time figure (a censored time is known only
/// to exceed it), `None` for counts.
fn judge(
    c: &Constraint,
    values: &[Option<f64>],
    horizon: Option<f64>,
    confidence: f64,
) -> (ConstraintResult, Option<bool>) {
    let (estimate, lower, upper) = match c.stat {
        ExpectStat::Mean => {
            let censored = values.iter().any(Option::is_none);
            let restricted: Vec<f64> = values
                .iter()
                .map(|v| v.or(horizon).unwrap_or(0.0))
                .collect();
            let n = restricted.len();
            let mean = restricted.iter().sum::<f64>() / n.max(1) as f64;
            let half = t_quantile(n, confidence).map(|t| {
                let var =
                    restricted.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n as f64 - 1.0);
                t * (var / n as f64).sqrt()
            });
            // The restricted mean is a lower bound of the true one; with a censored
            // replication the mean itself, and any upper bound, lie beyond the horizon.
            (
                (!censored && n > 0).then_some(mean),
                half.map(|h| mean - h),
                half.filter(|_| !censored).map(|h| mean + h),
            )
        }
        stat => {
            let q = match stat {
                ExpectStat::P5 => 0.05,
                ExpectStat::P50 => 0.5,
                ExpectStat::P95 => 0.95,
                _ => 1.0,
            };
            // A two-sided interval at 2c - 1 has each one-sided bound at c.
            let (lo, hi) = quantile_ci(values, q, 2.0 * confidence - 1.0);
            (quantile_with_censoring(values, q), lo, hi)
        }
    };
    let (bound, decided) = match c.relation {
        Relation::AtMost => {
            let decided = if upper.is_some_and(|u| u <= c.limit) {
                Some(true)
            } else if lower.is_some_and(|l| l > c.limit) {
                Some(false)
            } else {
                None
            };
            (upper, decided)
        }
        Relation::AtLeast => {
            let decided = if lower.is_some_and(|l| l >= c.limit) {
                Some(true)
            } else if upper.is_some_and(|u| u < c.limit) {
                Some(false)
            } else {
                None
            };
            (lower, decided)
        }
    };
    let margin = bound.map(|b| match c.relation {
        Relation::AtMost => c.limit - b,
        Relation::AtLeast => b - c.limit,
    });
    (
        ConstraintResult {
            constraint: c.text.clone(),
            estimate,
            bound,
            margin,
            met: decided == Some(true),
        },
        decided,
    )
}

/// Work for the simulator: candidate `i`'s replications `range`.
pub type Work = (usize, Range<u64>);

/// Runs the selection. `run(work)` simulates each candidate's replications `range`
/// (every candidate with the same seed: common random numbers).
pub fn select(
    scenarios: &[Scenario],
    goal: &Goal,
    constraints: &[Constraint],
    budget: Budget,
    mut run: impl FnMut(&[Work]) -> Vec<RunOutput>,
) -> Result<Selection, SelectionError> {
    let mut selector = Selector::new(scenarios, goal, constraints, budget)?;
    while let Some(work) = selector.next_stage() {
        let outputs = run(&work);
        selector.feed(&work, &outputs);
    }
    Ok(selector.finish())
}

/// The selection as a sequence of stages, for drivers that run a stage's work
/// elsewhere (a batch array) and feed it back: [`Selector::next_stage`] says what to
/// simulate, [`Selector::feed`] takes the outputs, [`Selector::finish`] decides.
/// Every decision depends only on the outputs fed, so a replay of the same outputs
/// reaches the same selection.
pub struct Selector<'a> {
    scenarios: &'a [Scenario],
    goal: &'a Goal,
    constraints: &'a [Constraint],
    budget: Budget,
    goal_refs: Vec<FigureRef>,
    constraint_refs: Vec<Vec<FigureRef>>,
    sign: f64,
    constraint_confidence: f64,
    h2: f64,
    goal_values: Vec<Vec<f64>>,
    constraint_values: Vec<Vec<Vec<Option<f64>>>>,
    status: Vec<Option<Status>>,
    decided: Vec<Vec<Option<bool>>>,
    n: u64,
    spent: u64,
    variances: Vec<Vec<f64>>,
    max_stage: u64,
    done: bool,
}

impl<'a> Selector<'a> {
    /// A selection among `scenarios` (every figure checked to exist in every one).
    pub fn new(
        scenarios: &'a [Scenario],
        goal: &'a Goal,
        constraints: &'a [Constraint],
        budget: Budget,
    ) -> Result<Selector<'a>, SelectionError> {
        let k = scenarios.len();
        // Variances need two replications; the command line asks for at least five.
        let budget = Budget {
            first_stage: budget.first_stage.max(2),
            stage: budget.stage.max(1),
            ..budget
        };
        // Every figure must exist in every candidate (variants may differ in releases).
        let goal_refs: Vec<FigureRef> = scenarios
            .iter()
            .enumerate()
            .map(|(i, s)| {
                figure(
                    s,
                    &goal.figure,
                    &format!("--minimize/--maximize (candidate #{i})"),
                )
            })
            .collect::<Result<_, _>>()?;
        let constraint_refs: Vec<Vec<FigureRef>> = scenarios
            .iter()
            .enumerate()
            .map(|(i, s)| {
                constraints
                    .iter()
                    .map(|c| {
                        let f = figure(s, &c.figure, &format!("{} (candidate #{i})", c.text))?;
                        if c.duration && !(Unit::of(f.figure) == Unit::Hours) {
                            return Err(SelectionError::UnknownFigure {
                                what: c.text.clone(),
                                message: format!(
                                    "{} is a count, not a time: give a number",
                                    c.figure
                                ),
                            });
                        }
                        Ok(f)
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .collect::<Result<_, _>>()?;
        let alpha = 1.0 - budget.confidence;
        Ok(Selector {
            scenarios,
            goal,
            constraints,
            budget,
            goal_refs,
            constraint_refs,
            sign: match goal.direction {
                Direction::Minimize => 1.0,
                Direction::Maximize => -1.0,
            },
            // Bonferroni over the constraints, per candidate.
            constraint_confidence: 1.0 - alpha / constraints.len().max(1) as f64,
            h2: kn_h2(k, budget.first_stage, alpha),
            goal_values: vec![Vec::new(); k],
            constraint_values: vec![vec![Vec::new(); constraints.len()]; k],
            status: vec![None; k],
            decided: vec![vec![None; constraints.len()]; k],
            n: 0,
            spent: 0,
            variances: Vec::new(),
            max_stage: budget.first_stage,
            done: false,
        })
    }

    /// A time figure's horizon after its release's deploy, for candidate `i`.
    fn horizon(&self, i: usize, f: FigureRef) -> Option<f64> {
        (Unit::of(f.figure) == Unit::Hours).then(|| {
            self.scenarios[i].horizon.as_hours()
                - self.scenarios[i].releases[f.release].at.as_hours()
        })
    }

    /// The work of the next stage: every candidate still in, the same replications
    /// each; `None` once the selection is decided or the budget is spent.
    pub fn next_stage(&self) -> Option<Vec<Work>> {
        let step = if self.n == 0 {
            self.budget.first_stage
        } else {
            self.budget.stage
        };
        let end = self
            .n
            .saturating_add(step)
            .min(self.budget.max_replications);
        let work: Vec<Work> = (0..self.scenarios.len())
            .filter(|&i| self.status[i].is_none())
            .map(|i| (i, self.n..end))
            .collect();
        (!self.done && end > self.n && !work.is_empty()).then_some(work)
    }

    /// Takes the outputs of the stage [`Selector::next_stage`] gave (in its order),
    /// then judges the constraints and screens.
    pub fn feed(&mut self, work: &[Work], outputs: &[RunOutput]) {
        let k = self.scenarios.len();
        for ((i, _), out) in work.iter().zip(outputs) {
            let s = &self.scenarios[*i];
            let sign = self.sign;
            self.goal_values[*i].extend(
                restricted_values(out, s, self.goal_refs[*i])
                    .into_iter()
                    .map(|v| sign * v),
            );
            for (j, f) in self.constraint_refs[*i].iter().enumerate() {
                self.constraint_values[*i][j].extend(out.figure_values(*f));
            }
        }
        if let Some((_, range)) = work.first() {
            self.spent += (range.end - range.start) * work.len() as u64;
            self.n = range.end;
        }
        let n = self.n;
        if self.variances.is_empty() {
            self.variances = (0..k)
                .map(|i| {
                    (0..k)
                        .map(|l| {
                            if i == l {
                                0.0
                            } else {
                                difference_variance(&self.goal_values[i], &self.goal_values[l])
                            }
                        })
                        .collect()
                })
                .collect();
            let worst = self
                .variances
                .iter()
                .flatten()
                .fold(0.0f64, |a, &b| a.max(b));
            let delta = self.goal.delta;
            self.max_stage =
                ((self.h2 * worst / (delta * delta)).floor() as u64).max(self.budget.first_stage);
        }
        // Constraints first: a candidate shown infeasible leaves the contest.
        for &(i, _) in work {
            for (j, c) in self.constraints.iter().enumerate() {
                if self.decided[i][j] != Some(true) {
                    self.decided[i][j] = judge(
                        c,
                        &self.constraint_values[i][j],
                        self.horizon(i, self.constraint_refs[i][j]),
                        self.constraint_confidence,
                    )
                    .1;
                }
                if self.decided[i][j] == Some(false) {
                    self.status[i] = Some(Status::Infeasible {
                        constraint: c.text.clone(),
                    });
                    break;
                }
            }
        }
        // KN screening among the candidates still in (only feasible-or-undecided ones
        // screen each other out; an undecided one may yet turn out infeasible, so only
        // candidates already shown feasible screen others out).
        let contenders: Vec<usize> = (0..k).filter(|&i| self.status[i].is_none()).collect();
        let means: Vec<f64> = self.goal_values.iter().map(|v| mean(v)).collect();
        let feasible: Vec<usize> = contenders
            .iter()
            .copied()
            .filter(|&l| self.decided[l].iter().all(|d| *d == Some(true)))
            .collect();
        let r = n as f64;
        let delta = self.goal.delta;
        let mut screened = Vec::new();
        for &i in &contenders {
            for &l in feasible.iter().filter(|&&l| l != i) {
                let w = (delta / (2.0 * r)
                    * (self.h2 * self.variances[i][l] / (delta * delta) - r))
                    .max(0.0);
                if means[i] > means[l] + w {
                    screened.push(i);
                    break;
                }
            }
        }
        for i in screened {
            self.status[i] = Some(Status::Screened { after: n });
        }
        let contenders: Vec<usize> = (0..k).filter(|&i| self.status[i].is_none()).collect();
        // KN is done when one contender is left or every pair has had the replications
        // its variance calls for; the constraints, when every contender's are decided.
        let ranked = contenders.len() <= 1 || n > self.max_stage;
        let judged = contenders
            .iter()
            .all(|&i| self.decided[i].iter().all(Option::is_some));
        self.done = (ranked && judged) || n >= self.budget.max_replications;
    }

    /// The selection from what was fed.
    pub fn finish(mut self) -> Selection {
        let k = self.scenarios.len();
        // The best: the feasible contender with the best mean; the other feasible
        // contenders could not be separated from it.
        let mut best: Option<usize> = None;
        for i in 0..k {
            if self.status[i].is_none() {
                if let Some(j) = self.decided[i].iter().position(|d| *d != Some(true)) {
                    self.status[i] = Some(Status::Undecided {
                        constraint: self.constraints[j].text.clone(),
                    });
                } else if best
                    .is_none_or(|b| mean(&self.goal_values[i]) < mean(&self.goal_values[b]))
                {
                    best = Some(i);
                }
            }
        }
        let candidates = (0..k)
            .map(|i| {
                let status = match (&self.status[i], best) {
                    (_, Some(b)) if b == i => Status::Best,
                    (None, _) => Status::Contender,
                    (Some(s), _) => s.clone(),
                };
                CandidateResult {
                    index: i,
                    status,
                    replications: self.goal_values[i].len() as u64,
                    goal: Summary::of(self.goal_values[i].iter().map(|v| Some(self.sign * v))),
                    constraints: self
                        .constraints
                        .iter()
                        .enumerate()
                        .map(|(j, c)| {
                            judge(
                                c,
                                &self.constraint_values[i][j],
                                self.horizon(i, self.constraint_refs[i][j]),
                                self.constraint_confidence,
                            )
                            .0
                        })
                        .collect(),
                }
            })
            .collect();
        Selection {
            candidates,
            best,
            replications_spent: self.spent,
            // A sweep that decides as much runs every candidate as far as the procedure
            // ran any, or as far as KN's variances call for, whichever is more.
            full_sweep_replications: self.max_stage.max(self.n).saturating_mul(k as u64),
            h2: self.h2,
        }
    }
}
