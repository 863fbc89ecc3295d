//! A planner's constraint, as written on the command line: `left_behind@1 <= 50`,
//! `coexistence@1 p95 <= 30d`, `left_over_share@0 <= 5%`.

use serde::Serialize;

use crate::input::echo;
use crate::scenario::ExpectStat;
use crate::time::SimDuration;

/// Which side of the limit is allowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// `<=`.
    AtMost,
    /// `>=`.
    AtLeast,
}

/// A bound on a figure's statistic over replications, met at the plan's confidence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Constraint {
    /// The constraint as written.
    pub text: String,
    /// The figure, in `check`'s vocabulary (`coexistence@1`).
    pub figure: String,
    /// The statistic bounded: the mean (default) or a quantile.
    #[serde(serialize_with = "stat_name")]
    pub stat: ExpectStat,
    /// `<=` or `>=`.
    pub relation: Relation,
    /// The limit, in hours for times, instances for counts, a fraction for shares.
    pub limit: f64,
    /// Whether the limit was written as a duration (then the figure must be a time).
    #[serde(skip)]
    pub duration: bool,
}

fn stat_name<S: serde::Serializer>(stat: &ExpectStat, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(stat.name())
}

/// A constraint written wrongly.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("--subject-to \"{text}\": {message}")]
pub struct ConstraintError {
    /// The constraint as written (echoed safely).
    pub text: String,
    /// What is wrong and what is allowed.
    pub message: String,
}

const FORM: &str = "expected FIGURE [mean|p5|p50|p95|max] <= VALUE (or >=), such as 'left_behind@1 <= 50' or 'coexistence@1 p95 <= 30d'";

impl Constraint {
    /// Parses `FIGURE [STAT] (<=|>=) VALUE`; VALUE is a number, a duration (`30d`,
    /// `12h`) for a time, or a percentage (`5%`) for a share.
    pub fn parse(text: &str) -> Result<Constraint, ConstraintError> {
        let error = |message: &str| ConstraintError {
            text: echo(text),
            message: message.to_string(),
        };
        let (left, right, relation) = if let Some((l, r)) = text.split_once("<=") {
            (l, r, Relation::AtMost)
        } else if let Some((l, r)) = text.split_once(">=") {
            (l, r, Relation::AtLeast)
        } else {
            return Err(error(FORM));
        };
        let words: Vec<&str> = left.split_whitespace().collect();
        let (figure, stat) = match words.as_slice() {
            [figure] => (*figure, ExpectStat::Mean),
            [figure, stat] => {
                let stat = match *stat {
                    "mean" => ExpectStat::Mean,
                    "p5" => ExpectStat::P5,
                    "p50" => ExpectStat::P50,
                    "p95" => ExpectStat::P95,
                    "max" => ExpectStat::Max,
                    _ => return Err(error("the statistic must be mean, p5, p50, p95 or max")),
                };
                (*figure, stat)
            }
            _ => return Err(error(FORM)),
        };
        let value = right.trim();
        let (limit, duration) = if let Some(p) = value.strip_suffix('%') {
            (p.trim().parse::<f64>().map(|p| p / 100.0).ok(), false)
        } else if let Ok(n) = value.parse::<f64>() {
            (Some(n), false)
        } else {
            (
                SimDuration::parse(value).ok().map(SimDuration::as_hours),
                true,
            )
        };
        let limit = limit.filter(|l| l.is_finite()).ok_or_else(|| {
            error("the value must be a number, a duration such as 30d, or a percentage such as 5%")
        })?;
        Ok(Constraint {
            text: text.trim().to_string(),
            figure: figure.to_string(),
            stat,
            relation,
            limit,
            duration,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constraints_read_as_planners_write_them() {
        let c = Constraint::parse("coexistence@1 p95 <= 30d").unwrap();
        assert_eq!(
            (c.figure.as_str(), c.stat, c.relation, c.limit, c.duration),
            (
                "coexistence@1",
                ExpectStat::P95,
                Relation::AtMost,
                720.0,
                true
            )
        );
        let c = Constraint::parse("left_behind@1<=50").unwrap();
        assert_eq!(
            (c.stat, c.limit, c.duration),
            (ExpectStat::Mean, 50.0, false)
        );
        let c = Constraint::parse("left_over_share@0 >= 5%").unwrap();
        assert_eq!((c.relation, c.limit), (Relation::AtLeast, 0.05));
        for bad in [
            "coexistence@1 < 3",
            "a b c <= 1",
            "x p99 <= 1",
            "x <= soon",
            "x <= NaN",
        ] {
            assert!(Constraint::parse(bad).is_err(), "{bad}");
        }
    }
}
