//! What `plan` found: every candidate's values, figures and fate, the chosen policy and
//! its runners-up (its files and texts are in `export::plan`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::{SCHEMA_VERSION, Tool};
use crate::plan::{Budget, CandidateResult, Constraint, Goal, Selection, Status};
use crate::scenario::Setting;
use crate::sweep::Axis;

/// A decision variable and its candidate values.
#[derive(Clone, Debug, Serialize)]
pub struct Variable {
    /// The scenario path.
    pub path: String,
    /// Its candidate values, in order.
    pub values: Vec<Value>,
    /// Their names, when the plan file gives them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
}

/// One candidate: its values and what the selection found.
#[derive(Clone, Debug, Serialize)]
pub struct PlannedCandidate {
    /// The value of each decision variable, by path.
    pub values: BTreeMap<String, Value>,
    /// The name of each named value, by path.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub names: BTreeMap<String, String>,
    /// Its fate, replications and figures.
    #[serde(flatten)]
    pub result: CandidateResult,
}

/// What `plan` writes to `plan.json`.
#[derive(Clone, Debug, Serialize)]
pub struct PlanReport {
    /// The version of the report contract.
    pub schema_version: u32,
    /// The tool that wrote it.
    pub tool: Tool,
    /// The scenario the candidates vary.
    pub scenario: String,
    /// The goal figure, its direction and the indifference zone.
    pub goal: Goal,
    /// The constraints.
    pub constraints: Vec<Constraint>,
    /// Confidence and replications.
    pub budget: Budget,
    /// The decision variables.
    pub variables: Vec<Variable>,
    /// Every candidate, in grid order (the first variable varies slowest).
    pub candidates: Vec<PlannedCandidate>,
    /// The chosen values by path; `null` when no candidate meets the constraints.
    pub best: Option<BTreeMap<String, Value>>,
    /// The feasible candidates that could not be separated from the best, best first
    /// (by goal mean), then the others shown feasible.
    pub ranking: Vec<usize>,
    /// Replications run over all candidates.
    pub replications_spent: u64,
    /// What a full sweep at the same precision would have run.
    pub full_sweep_replications: u64,
}

impl PlanReport {
    /// The report of `selection` over the grid `points` of `axes`.
    pub fn new(
        scenario: &str,
        axes: &[Axis],
        points: &[Vec<Setting>],
        goal: Goal,
        constraints: Vec<Constraint>,
        budget: Budget,
        selection: Selection,
    ) -> PlanReport {
        let values_of = |i: usize| -> BTreeMap<String, Value> {
            points[i]
                .iter()
                .map(|s| (s.path.clone(), s.value.clone()))
                .collect()
        };
        // A named value's name, by path: the axis's name at the value's position.
        let names_of = |i: usize| -> BTreeMap<String, String> {
            points[i]
                .iter()
                .filter_map(|s| {
                    let name = axes.iter().find_map(|a| a.name_of(s))?;
                    Some((s.path.clone(), name.to_string()))
                })
                .collect()
        };
        let best = selection.best.map(values_of);
        let mut ranked: Vec<&CandidateResult> = selection
            .candidates
            .iter()
            .filter(|c| matches!(c.status, Status::Best | Status::Contender))
            .collect();
        let sign = match goal.direction {
            crate::plan::Direction::Minimize => 1.0,
            crate::plan::Direction::Maximize => -1.0,
        };
        ranked.sort_by(|a, b| {
            let key = |c: &CandidateResult| sign * c.goal.mean.unwrap_or(f64::INFINITY);
            (c_rank(a), key(a))
                .partial_cmp(&(c_rank(b), key(b)))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        let ranking: Vec<usize> = ranked.iter().map(|c| c.index).collect();
        PlanReport {
            schema_version: SCHEMA_VERSION,
            tool: Tool::this(),
            scenario: scenario.to_string(),
            goal,
            constraints,
            budget,
            variables: axes
                .iter()
                .map(|a| Variable {
                    path: a.path.clone(),
                    values: a.values.clone(),
                    names: a.names.clone(),
                })
                .collect(),
            candidates: selection
                .candidates
                .into_iter()
                .map(|result| PlannedCandidate {
                    values: values_of(result.index),
                    names: names_of(result.index),
                    result,
                })
                .collect(),
            best,
            ranking,
            replications_spent: selection.replications_spent,
            full_sweep_replications: selection.full_sweep_replications,
        }
    }

    /// The chosen candidate's index.
    pub fn best_index(&self) -> Option<usize> {
        self.candidates
            .iter()
            .position(|c| c.result.status == Status::Best)
    }

    /// A candidate's values as `path=value, ...` (a named value by its name).
    pub fn describe(&self, index: usize) -> String {
        let c = &self.candidates[index];
        c.values
            .iter()
            .map(|(p, v)| match c.names.get(p) {
                Some(name) => format!("{p}={name}"),
                None => format!("{p}={}", value_text(v)),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Why no candidate can be chosen: the constraint most candidates fail, and the
    /// candidate closest to meeting it.
    pub fn infeasibility(&self) -> String {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for c in &self.candidates {
            if let Status::Infeasible { constraint } | Status::Undecided { constraint } =
                &c.result.status
            {
                *counts.entry(constraint.as_str()).or_default() += 1;
            }
        }
        let Some((constraint, _)) = counts.iter().max_by_key(|(_, n)| **n) else {
            return "no candidate meets the constraints".into();
        };
        let j = self
            .constraints
            .iter()
            .position(|c| c.text == *constraint)
            .unwrap_or(0);
        let closest = self
            .candidates
            .iter()
            .filter_map(|c| c.result.constraints.get(j).map(|r| (c, r)))
            .max_by(|(_, a), (_, b)| {
                closeness(a, &self.constraints[j]).total_cmp(&closeness(b, &self.constraints[j]))
            });
        let near = closest.map_or(String::new(), |(c, r)| {
            format!(
                "; the closest candidate is #{} ({}): estimate {} against the limit {}",
                c.result.index,
                self.describe(c.result.index),
                r.estimate
                    .map_or("beyond the horizon".into(), |v| format!("{v:.1}")),
                self.constraints[j].limit
            )
        });
        format!(
            "no candidate is shown to meet the constraint '{constraint}' at {}% confidence ({} of {} candidates fail it or cannot be shown to meet it){near}; relax the constraint, widen the variables or allow more replications (--max-per-candidate)",
            self.budget.confidence * 100.0,
            counts.get(constraint).copied().unwrap_or(0),
            self.candidates.len()
        )
    }
}

/// How close a candidate comes to meeting a constraint: its margin (negative when
/// missed), else how far its estimate lies from the limit; beyond the horizon, least.
fn closeness(r: &crate::plan::ConstraintResult, c: &Constraint) -> f64 {
    match (r.margin, r.estimate) {
        (Some(m), _) => m,
        (None, Some(e)) => match c.relation {
            crate::plan::Relation::AtMost => c.limit - e,
            crate::plan::Relation::AtLeast => e - c.limit,
        },
        (None, None) => f64::NEG_INFINITY,
    }
}

/// The best first, then the contenders.
fn c_rank(c: &CandidateResult) -> u8 {
    u8::from(c.status != Status::Best)
}

/// A value as the planner wrote it: strings without quotes.
pub fn value_text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}
