//! The merge: a complete set of parts checked, then streamed grid point by grid point
//! into run outputs that match the unsplit command's.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use rayon::prelude::*;

use super::{PartReader, PointPart, Shard, ShardError};
use crate::model::mix::MixState;
use crate::model::replication::empty_mix;
use crate::model::{ReplicationResult, VersionTable};
use crate::montecarlo::{PhaseTimings, RunOutput};
use crate::scenario::Scenario;
use crate::stats::LatencyHistogram;

/// Checks that `parts` are exactly shards `0..N` of one job: the same tool version,
/// command, scenario, seed, settings and shard count, each shard once.
pub(crate) fn check_complete(parts: &[PartReader]) -> Result<(), ShardError> {
    let Some(first) = parts.first() else {
        return Err(ShardError::Mismatch("no part files to merge".into()));
    };
    let h0 = first.header();
    let differ = |what: &str, path: &Path, a: &dyn std::fmt::Display, b: &dyn std::fmt::Display| {
        ShardError::Mismatch(format!(
            "{} and {} are parts of different {what} ({a} and {b}); merge only the parts of one command",
            first.path().display(),
            path.display()
        ))
    };
    let mut by_index: BTreeMap<u64, &Path> = BTreeMap::new();
    for part in parts {
        let (h, path) = (part.header(), part.path());
        if h.tool_version != h0.tool_version {
            return Err(differ(
                "tool versions",
                path,
                &h0.tool_version,
                &h.tool_version,
            ));
        }
        if h.command != h0.command {
            return Err(differ(
                "commands",
                path,
                &format!("{:?}", h0.command).to_lowercase(),
                &format!("{:?}", h.command).to_lowercase(),
            ));
        }
        if h.scenario_sha256 != h0.scenario_sha256 || h.scenario != h0.scenario {
            return Err(differ("scenarios", path, &h0.scenario, &h.scenario));
        }
        if h.seed != h0.seed {
            return Err(differ("seeds", path, &h0.seed, &h.seed));
        }
        if h.stage != h0.stage {
            let stage = |s: Option<u64>| s.map_or("none".to_string(), |s| s.to_string());
            return Err(differ(
                "plan stages",
                path,
                &stage(h0.stage),
                &stage(h.stage),
            ));
        }
        if h.job_sha256 != h0.job_sha256 {
            return Err(ShardError::Mismatch(format!(
                "{} and {} ran the same scenario with different settings (--replications, --instances, --set or sweep axes)",
                first.path().display(),
                path.display()
            )));
        }
        if h.shard.count != h0.shard.count {
            return Err(differ(
                "shard counts",
                path,
                &h0.shard.count,
                &h.shard.count,
            ));
        }
        let expected = h.shard.range(h.total_items);
        if h.total_items != h0.total_items || h.items != [expected.start, expected.end] {
            return Err(ShardError::BadPart {
                path: path.to_path_buf(),
                message: format!(
                    "holds items {:?} of {}, not shard {}'s block",
                    h.items, h.total_items, h.shard.index
                ),
            });
        }
        if let Some(other) = by_index.insert(h.shard.index, path) {
            return Err(ShardError::Mismatch(format!(
                "shard {} of {} is given twice: {} and {}",
                h.shard.index,
                h.shard.count,
                other.display(),
                path.display()
            )));
        }
    }
    let count = h0.shard.count;
    let missing: Vec<String> = (0..count)
        .filter(|i| !by_index.contains_key(i))
        .take(10)
        .map(|index| Shard { index, count }.file_name())
        .collect();
    if !missing.is_empty() {
        return Err(ShardError::Incomplete {
            absent: count - by_index.len() as u64,
            count,
            missing,
        });
    }
    Ok(())
}

/// A grid point whose replications are all in: its index, its replications in index
/// order, their pooled latency histograms, and their version mix part by part.
pub(super) type CompletePoint = (
    usize,
    Vec<ReplicationResult>,
    Vec<LatencyHistogram>,
    Vec<MixState>,
);

/// Streams the grid points of a complete set of parts (see [`check_complete`]) in
/// order. Lines are parsed `batch` at a time in parallel; each batch of grid points
/// whose replications `replications[p]` are all in goes to `points`, in order, and is
/// dropped, so memory holds a few grid points at a time however large the job.
pub(crate) fn merge_points(
    mut parts: Vec<PartReader>,
    replications: &[Range<u64>],
    batch: usize,
    mut points: impl FnMut(Vec<CompletePoint>) -> Result<(), ShardError>,
) -> Result<(), ShardError> {
    parts.sort_by_key(|p| p.header().shard.index);
    let wrong =
        |what: String| ShardError::Mismatch(format!("the parts do not make up the job: {what}"));
    let mut next = 0;
    let mut open: Option<CompletePoint> = None;
    let mut ready: Vec<CompletePoint> = Vec::new();
    let mut lines: Vec<(usize, Vec<u8>)> = Vec::new();
    let mut reading = 0;
    loop {
        // Up to `batch` lines, across the ends of parts.
        while lines.len() < batch.max(1) && reading < parts.len() {
            match parts[reading].next_point_line()? {
                Some(line) => lines.push((reading, line)),
                None => reading += 1,
            }
        }
        if lines.is_empty() {
            break;
        }
        let shares = std::mem::take(&mut lines)
            .into_par_iter()
            .map(|(from, line)| {
                serde_json::from_slice::<PointPart>(&line).map_err(|e| {
                    parts[from].corrupt(&format!("a grid point's line is not valid ({e})"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        for share in shares {
            let (p, mut reps, mut hists, mut mixes) = match open.take() {
                Some(o) if o.0 == share.point => o,
                Some((p, ..)) => return Err(wrong(format!("grid point {p} is incomplete"))),
                None if share.point == next => (next, Vec::new(), Vec::new(), Vec::new()),
                None => {
                    return Err(wrong(format!(
                        "grid point {} comes where {next} was due",
                        share.point
                    )));
                }
            };
            absorb(&mut reps, &mut hists, &mut mixes, share);
            let due = replications
                .get(p)
                .ok_or_else(|| wrong(format!("grid point {p} does not exist")))?;
            let count = due.end.saturating_sub(due.start);
            if reps.len() as u64 > count
                || reps
                    .iter()
                    .enumerate()
                    .any(|(i, r)| r.index != due.start.saturating_add(i as u64))
            {
                return Err(wrong(format!(
                    "grid point {p} does not get replications {} to {} once each, in order",
                    due.start,
                    due.end.saturating_sub(1)
                )));
            }
            if reps.len() as u64 == count {
                ready.push((p, reps, hists, mixes));
                next = p + 1;
            } else {
                open = Some((p, reps, hists, mixes));
            }
        }
        if ready.len() >= batch.max(1) {
            points(std::mem::take(&mut ready))?;
        }
    }
    if open.is_some() || next != replications.len() {
        return Err(wrong(format!(
            "grid point {next} of {} is incomplete",
            replications.len()
        )));
    }
    if !ready.is_empty() {
        points(ready)?;
    }
    Ok(())
}

/// Adds a part's share of a grid point to the shares before it (parts in shard order).
fn absorb(
    reps: &mut Vec<ReplicationResult>,
    hists: &mut Vec<LatencyHistogram>,
    mixes: &mut Vec<MixState>,
    share: PointPart,
) {
    reps.extend(share.replications.into_iter().map(ReplicationResult::from));
    mixes.push(share.mix);
    let incoming = share.latency.into_iter().map(LatencyHistogram::from);
    if hists.is_empty() {
        *hists = incoming.collect();
    } else {
        hists
            .iter_mut()
            .zip(incoming)
            .for_each(|(a, b)| a.merge(&b));
    }
}

/// The run output of `scenario` from the part lines of its shards, held in memory (see
/// [`super::shard_line`]), in shard order: what the unsplit run gives, or why the lines
/// are not the whole run.
pub fn merge_shard_lines(scenario: &Scenario, lines: &[String]) -> Result<RunOutput, ShardError> {
    let (mut reps, mut hists, mut mixes) = (Vec::new(), Vec::new(), Vec::new());
    for (i, line) in lines.iter().enumerate() {
        let share: PointPart = serde_json::from_str(line).map_err(|e| {
            ShardError::Mismatch(format!(
                "shard {i} of {}: not a shard's part line ({e})",
                lines.len()
            ))
        })?;
        absorb(&mut reps, &mut hists, &mut mixes, share);
    }
    if reps.iter().enumerate().any(|(i, r)| r.index != i as u64) {
        return Err(ShardError::Mismatch(format!(
            "the {} shards do not hold replications 0 to {} once each, in order",
            lines.len(),
            u64::from(scenario.replications).saturating_sub(1)
        )));
    }
    run_output(
        0,
        scenario,
        u64::from(scenario.replications),
        reps,
        hists,
        mixes,
    )
}

/// Grid point `point`'s run output for its scenario, after checking that it has the
/// `expected` replications and every one the shape that scenario gives (a part is
/// input: a crafted one must be refused, not crash the reports).
pub(crate) fn run_output(
    point: usize,
    scenario: &Scenario,
    expected: u64,
    replications: Vec<ReplicationResult>,
    latency: Vec<LatencyHistogram>,
    mixes: Vec<MixState>,
) -> Result<RunOutput, ShardError> {
    check_shape(point, scenario, expected, &replications, &latency)?;
    let plan = VersionTable::new(scenario);
    let mut mix = empty_mix(scenario, &plan);
    for state in mixes {
        mix.add_state(state).map_err(|e| {
            ShardError::Mismatch(format!(
                "the parts do not fit the scenario at grid point {point}: {e}"
            ))
        })?;
    }
    if mix.replications() != replications.len() as u64 {
        return Err(ShardError::Mismatch(format!(
            "the parts do not fit the scenario at grid point {point}: the version mix covers {} replications, not {}",
            mix.replications(),
            replications.len()
        )));
    }
    Ok(RunOutput {
        plan,
        replications,
        mix,
        latency,
        timings: PhaseTimings::default(),
    })
}

fn check_shape(
    point: usize,
    scenario: &Scenario,
    expected: u64,
    replications: &[ReplicationResult],
    latency: &[LatencyHistogram],
) -> Result<(), ShardError> {
    let bad = |what: String| {
        Err(ShardError::Mismatch(format!(
            "the parts do not fit the scenario at grid point {point}: {what}"
        )))
    };
    if replications.len() as u64 != expected {
        return bad(format!(
            "{} replications, the job runs {expected}",
            replications.len(),
        ));
    }
    let releases = scenario.releases.len();
    let thresholds = scenario.report.thresholds.len();
    let weighted = !scenario.population.weight_units().is_empty();
    if latency.len() != releases || !latency.iter().all(LatencyHistogram::is_well_formed) {
        return bad("malformed latency histograms".into());
    }
    for r in replications {
        let figures_fit = r.releases.iter().all(|f| {
            f.time_to_share.len() == thresholds
                && f.time_to_weighted_share.len() == if weighted { thresholds } else { 0 }
        });
        if r.published.len() != releases
            || r.releases.len() != releases
            || r.latency_quantiles.len() != releases
            || !figures_fit
        {
            return bad(format!("replication {} has the wrong shape", r.index));
        }
    }
    Ok(())
}
