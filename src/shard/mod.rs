//! Beyond one machine: a run or sweep split into shards that batch systems (Slurm job
//! arrays, Kubernetes Indexed Jobs) run as independent tasks, and the merge of their part
//! files into exactly what the unsplit command writes.
//!
//! **The split.** A command's work is a list of items: the replications of a run, or of
//! a sweep every (grid point, replication) pair, grid points in order and replications
//! in order within each. Shard `I` of `N` takes the contiguous block of items
//! `[floor(I*T/N), floor((I+1)*T/N))` of the `T` items. Replication `r` draws from
//! streams keyed by (seed, `r`) alone, so where and with how many threads it runs
//! changes nothing.
//!
//! **The part file** `part-I-of-N.jsonl` is JSON Lines: a header (format, tool version,
//! scenario fingerprint, seed, shard, and the size and SHA-256 of everything after it),
//! the job (the scenario file's text and every override, so the merge can rebuild it
//! without the file), then one line per grid point the shard ran: each replication's
//! figures, the latency histograms, and the version mix (whole, pooled, or skipped for a
//! sweep, which reports none). Nothing per instance. A part that is
//! truncated, extended or altered fails its size or checksum.
//!
//! **The merge** refuses parts of different jobs, seeds, tool versions or shard counts,
//! a missing or repeated shard, and any part that fails its checks; otherwise it streams
//! the grid points in order, rebuilding each one's run output in replication order (one
//! grid point in memory at a time), which the reports turn into the same bytes the
//! unsplit command writes.

mod folder;
mod merge;
mod part;

use std::ops::Range;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::scenario::Scenario;

pub use folder::{PartWritten, is_part_name, write_part};
pub use merge::merge_shard_lines;
pub(crate) use merge::{check_complete, merge_points, run_output};
pub use part::{FiguresPart, HistogramPart, PartCommand, ReplicationPart};
pub(crate) use part::{Job, PartHeader, PartReader, PartWriter, PointPart, is_part_file};

/// Shard `shard` of a run of `scenario`, as the one part line that carries it (the line
/// a part file holds for grid point 0), for a caller that moves shards between
/// processes itself: the live page runs one per Web Worker, one worker per core, and
/// merges them with [`merge_shard_lines`] into exactly what the unsplit run gives.
pub fn shard_line(scenario: &Scenario, shard: Shard) -> String {
    let range = shard.range(u64::from(scenario.replications));
    let output = crate::montecarlo::run_range(scenario, range, &());
    serde_json::to_string(&PointPart::of(0, &output)).expect("a part line serializes")
}

/// The most shards a command may be split into.
pub const MAX_SHARDS: u64 = 1_000_000;

/// Why a shard could not be chosen, or parts could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    /// `--shard` was written wrongly.
    #[error(
        "--shard \"{}\": expected I/N (shard I from 0 of N, e.g. 0/10), slurm, or indexed:N; N from 1 to {MAX_SHARDS}",
        crate::input::echo(.0)
    )]
    Syntax(String),
    /// An environment variable the shard is taken from is unset.
    #[error("--shard {spec}: the environment variable {name} is not set{hint}")]
    MissingVariable {
        /// `slurm` or `indexed:N`.
        spec: String,
        /// The variable.
        name: &'static str,
        /// Where it normally comes from.
        hint: &'static str,
    },
    /// An environment variable holds something else than the shard needs.
    #[error("--shard {spec}: {message}")]
    Inconsistent {
        /// `slurm` or `indexed:N`.
        spec: String,
        /// What was wrong, naming the variables.
        message: String,
    },
    /// A part file could not be read or is not a whole, unaltered part.
    #[error("{}: {message}", path.display())]
    BadPart {
        /// The part file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
    /// The parts do not make up one job.
    #[error("{0}")]
    Mismatch(String),
    /// The parts are of one job, but some shards have not run yet.
    #[error(
        "{absent} of {count} shards are missing, among them {}; run them, then merge every part",
        missing.join(", ")
    )]
    Incomplete {
        /// How many shards are missing.
        absent: u64,
        /// The shard count.
        count: u64,
        /// The first few missing parts' file names.
        missing: Vec<String>,
    },
}

/// Shard `index` (from 0) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// From 0.
    pub index: u64,
    /// How many shards the work is split into.
    pub count: u64,
}

impl Shard {
    /// The block of `total` work items this shard runs.
    pub fn range(&self, total: u64) -> Range<u64> {
        let at = |i: u64| (u128::from(i) * u128::from(total) / u128::from(self.count)) as u64;
        at(self.index)..at(self.index + 1)
    }

    /// `part-I-of-N.jsonl`.
    pub fn file_name(&self) -> String {
        format!("part-{}-of-{}.jsonl", self.index, self.count)
    }
}

/// How `--shard` names the shard: directly, or by a batch system's environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShardSpec {
    /// `I/N`.
    Fixed(Shard),
    /// `slurm`: from `SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_MIN`, `SLURM_ARRAY_TASK_COUNT`
    /// (and `SLURM_ARRAY_TASK_STEP` when the array has a step).
    Slurm,
    /// `indexed:N`: shard `JOB_COMPLETION_INDEX` of `N` (Kubernetes Indexed Jobs).
    Indexed(u64),
}

fn shard_count(text: &str) -> Option<u64> {
    text.parse::<u64>()
        .ok()
        .filter(|n| (1..=MAX_SHARDS).contains(n))
}

impl ShardSpec {
    /// Parses `I/N`, `slurm` or `indexed:N`.
    pub fn parse(text: &str) -> Result<ShardSpec, ShardError> {
        let bad = || ShardError::Syntax(text.to_string());
        if text == "slurm" {
            return Ok(ShardSpec::Slurm);
        }
        if let Some(n) = text.strip_prefix("indexed:") {
            return shard_count(n).map(ShardSpec::Indexed).ok_or_else(bad);
        }
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let count = shard_count(n).ok_or_else(bad)?;
        let index = i
            .parse::<u64>()
            .ok()
            .filter(|i| *i < count)
            .ok_or_else(bad)?;
        Ok(ShardSpec::Fixed(Shard { index, count }))
    }

    /// The shard, reading the batch system's variables through `var` (the process
    /// environment, or a map in tests).
    pub fn resolve(&self, var: impl Fn(&str) -> Option<String>) -> Result<Shard, ShardError> {
        let spec = match self {
            ShardSpec::Fixed(shard) => return Ok(*shard),
            ShardSpec::Slurm => "slurm".to_string(),
            ShardSpec::Indexed(n) => format!("indexed:{n}"),
        };
        let read = |name: &'static str, hint: &'static str| -> Result<u64, ShardError> {
            let text = var(name).ok_or_else(|| ShardError::MissingVariable {
                spec: spec.clone(),
                name,
                hint,
            })?;
            text.trim()
                .parse::<u64>()
                .map_err(|_| ShardError::Inconsistent {
                    spec: spec.clone(),
                    message: format!("{name}={text:?} is not a whole number"),
                })
        };
        let inconsistent = |message: String| ShardError::Inconsistent {
            spec: spec.clone(),
            message,
        };
        match self {
            ShardSpec::Fixed(_) => unreachable!("returned above"),
            ShardSpec::Indexed(count) => {
                let index = read(
                    "JOB_COMPLETION_INDEX",
                    " (Kubernetes sets it in the pods of an Indexed Job)",
                )?;
                if index >= *count {
                    return Err(inconsistent(format!(
                        "JOB_COMPLETION_INDEX={index} is not below the {count} shards; the Job's completions must equal N"
                    )));
                }
                Ok(Shard {
                    index,
                    count: *count,
                })
            }
            ShardSpec::Slurm => {
                const HINT: &str = " (Slurm sets it in the tasks of a job array: sbatch --array)";
                let id = read("SLURM_ARRAY_TASK_ID", HINT)?;
                let min = read("SLURM_ARRAY_TASK_MIN", HINT)?;
                let count = read("SLURM_ARRAY_TASK_COUNT", HINT)?;
                let step = match var("SLURM_ARRAY_TASK_STEP") {
                    Some(_) => read("SLURM_ARRAY_TASK_STEP", HINT)?,
                    None => 1,
                };
                if count == 0 || count > MAX_SHARDS {
                    return Err(inconsistent(format!(
                        "SLURM_ARRAY_TASK_COUNT={count} is not a shard count (1 to {MAX_SHARDS})"
                    )));
                }
                let offset = id.checked_sub(min).ok_or_else(|| {
                    inconsistent(format!(
                        "SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}"
                    ))
                })?;
                if step == 0 || offset % step != 0 || offset / step >= count {
                    return Err(inconsistent(format!(
                        "SLURM_ARRAY_TASK_ID={id} is not one of {count} evenly spaced tasks from \
                         SLURM_ARRAY_TASK_MIN={min} (step {step}); use a range such as --array=0-{}",
                        count - 1
                    )));
                }
                Ok(Shard {
                    index: offset / step,
                    count,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn the_blocks_of_every_shard_cover_the_items_once_in_order() {
        for total in [0u64, 1, 5, 7, 100, 1001] {
            for count in [1u64, 2, 3, 7, 13] {
                let mut next = 0;
                for index in 0..count {
                    let r = Shard { index, count }.range(total);
                    assert_eq!(r.start, next);
                    // Balanced: sizes differ by at most one.
                    assert!(r.end - r.start <= total / count + 1);
                    next = r.end;
                }
                assert_eq!(next, total);
            }
        }
    }

    #[test]
    fn shard_specs_parse_and_refuse() {
        assert_eq!(
            ShardSpec::parse("2/7").unwrap(),
            ShardSpec::Fixed(Shard { index: 2, count: 7 })
        );
        assert_eq!(ShardSpec::parse("slurm").unwrap(), ShardSpec::Slurm);
        assert_eq!(
            ShardSpec::parse("indexed:4").unwrap(),
            ShardSpec::Indexed(4)
        );
        for bad in [
            "7/7",
            "0/0",
            "1",
            "a/3",
            "-1/3",
            "indexed:0",
            "indexed:",
            "0/2000000",
        ] {
            assert!(ShardSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn slurm_and_kubernetes_variables_give_the_shard_or_name_what_is_wrong() {
        let slurm = |vars: &[(&str, &str)]| ShardSpec::Slurm.resolve(env(vars));
        let ok = slurm(&[
            ("SLURM_ARRAY_TASK_ID", "12"),
            ("SLURM_ARRAY_TASK_MIN", "10"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ])
        .unwrap();
        assert_eq!(ok, Shard { index: 2, count: 4 });
        let stepped = slurm(&[
            ("SLURM_ARRAY_TASK_ID", "6"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
        ])
        .unwrap();
        assert_eq!(stepped, Shard { index: 3, count: 4 });
        let err = slurm(&[
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("SLURM_ARRAY_TASK_MIN"), "{err}");
        let err = slurm(&[
            ("SLURM_ARRAY_TASK_ID", "9"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ])
        .unwrap_err()
        .to_string();
        assert!(err.contains("SLURM_ARRAY_TASK_ID=9"), "{err}");
        let k8s = ShardSpec::Indexed(3);
        assert_eq!(
            k8s.resolve(env(&[("JOB_COMPLETION_INDEX", "2")])).unwrap(),
            Shard { index: 2, count: 3 }
        );
        assert!(
            k8s.resolve(env(&[]))
                .unwrap_err()
                .to_string()
                .contains("JOB_COMPLETION_INDEX")
        );
        assert!(
            k8s.resolve(env(&[("JOB_COMPLETION_INDEX", "3")]))
                .unwrap_err()
                .to_string()
                .contains("not below the 3 shards")
        );
    }
}
