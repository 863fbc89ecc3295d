//! A plan beyond one machine: each stage of the selection split across a batch array.
//!
//! The selection runs in stages, and which candidates a stage runs depends on every
//! stage before it, so the shards of a stage cannot be known in advance. Every shard
//! therefore replays the stages already complete in the parts folder (the same outputs
//! fed in the same order reach the same decisions: [`Selector`]), then runs its block of
//! the first stage still incomplete and writes `stage-S/part-I-of-N.jsonl`. A stage's
//! work items are its candidates x replications, candidates in order and replications in
//! order within each, split into contiguous blocks as a run's or sweep's are. `plan
//! --parts DIR` without `--shard` replays every stage and publishes exactly what the
//! unsharded plan writes; while a stage is incomplete it says which, and writes nothing.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use rayon::prelude::*;
use serde_json::json;

use crate::montecarlo::{self, Progress, RunOutput};
use crate::plan::{Budget, Constraint, Goal, Selector, Work};
use crate::scenario::Scenario;
use crate::shard::{
    self, Job, PartCommand, PartHeader, PartReader, PartWriter, PartWritten, PointPart, Shard,
    ShardError, write_part,
};

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

/// Runs each work item (a candidate's replications), in parallel on the current pool,
/// without a version mix (a plan reports none): the one place a plan simulates, on one
/// machine or in a shard.
pub(super) fn run_work(
    scenarios: &[Scenario],
    work: &[Work],
    progress: &dyn Progress,
) -> Vec<RunOutput> {
    work.par_iter()
        .map(|(i, range)| {
            let mut run = montecarlo::run_range(&scenarios[*i], range.clone(), progress);
            run.mix.skip();
            run
        })
        .collect()
}

/// The folder of stage `stage`'s parts.
fn stage_folder(parts: &Path, stage: u64) -> PathBuf {
    parts.join(format!("stage-{stage}"))
}

/// The job a plan's parts belong to: the scenario, overrides and variables, and the
/// goal, constraints and budget that decide every stage's work.
pub(super) fn plan_job(
    mut job: Job,
    goal: &Goal,
    constraints: &[Constraint],
    budget: Budget,
) -> Job {
    job.plan = Some(json!({
        "goal": goal,
        "constraints": constraints,
        "budget": budget,
    }));
    job
}

/// Where the parts folder stands.
pub(super) enum Replayed {
    /// Every stage the selection needs is complete: it can be published.
    Decided,
    /// Stage `stage` (from 0) still needs `work`; `missing` says which shards, when some
    /// have run.
    Pending {
        stage: u64,
        work: Vec<Work>,
        missing: Option<ShardError>,
    },
}

/// The parts of one plan: where they are and whose they are.
pub(super) struct StageParts<'a> {
    /// The parts folder.
    pub folder: &'a Path,
    /// The plan's job.
    pub job: &'a Job,
    /// The candidates' scenarios.
    pub scenarios: &'a [Scenario],
}

impl StageParts<'_> {
    /// Feeds `selector` every stage complete in the parts folder, in order, and says
    /// where the plan stands.
    pub(super) fn replay(&self, selector: &mut Selector) -> Result<Replayed> {
        let mut stage = 0;
        while let Some(work) = selector.next_stage() {
            match self.read_stage(stage, &work)? {
                Ok(outputs) => selector.feed(&work, &outputs),
                Err(missing) => {
                    return Ok(Replayed::Pending {
                        stage,
                        work,
                        missing,
                    });
                }
            }
            stage += 1;
        }
        Ok(Replayed::Decided)
    }

    /// The outputs of stage `stage` from its parts, if every shard has run; otherwise
    /// which are missing (`None`: none has run).
    fn read_stage(
        &self,
        stage: u64,
        work: &[Work],
    ) -> Result<std::result::Result<Vec<RunOutput>, Option<ShardError>>> {
        let folder = stage_folder(self.folder, stage);
        let files = part_files(&folder)?;
        if files.is_empty() {
            return Ok(Err(None));
        }
        let parts = files
            .iter()
            .map(|p| PartReader::open(p))
            .collect::<Result<Vec<_>, _>>()?;
        let job_sha = self.job.sha256();
        for part in &parts {
            let h = part.header();
            if h.command != PartCommand::Plan || h.job_sha256 != job_sha || h.stage != Some(stage) {
                return Err(anyhow!(
                    "{} is not a part of this plan's stage {stage}: it was written for another command, scenario, seed, variables, goal, constraints or budget; give this plan a parts folder of its own",
                    part.path().display()
                ));
            }
        }
        match shard::check_complete(&parts) {
            Ok(()) => {}
            Err(e @ ShardError::Incomplete { .. }) => return Ok(Err(Some(e))),
            Err(e) => return Err(e.into()),
        }
        let total = stage_items(work);
        if let Some(part) = parts.iter().find(|p| p.header().total_items != total) {
            return Err(anyhow!(
                "{} holds {} work items for stage {stage}, which has {total}",
                part.path().display(),
                part.header().total_items
            ));
        }
        let ranges: Vec<_> = work.iter().map(|(_, r)| r.clone()).collect();
        let mut outputs = Vec::with_capacity(work.len());
        shard::merge_points(parts, &ranges, 2 * rayon::current_num_threads(), |points| {
            for (p, reps, hists, mixes) in points {
                let count = ranges[p].end - ranges[p].start;
                outputs.push(shard::run_output(
                    p,
                    &self.scenarios[work[p].0],
                    count,
                    reps,
                    hists,
                    mixes,
                )?);
            }
            Ok(())
        })?;
        Ok(Ok(outputs))
    }

    /// Runs `shard`'s block of stage `stage`'s `work` and writes its part, unless this
    /// shard's part of the stage is already there, whole.
    pub(super) fn run_shard(
        &self,
        stage: u64,
        work: &[Work],
        shard: Shard,
        force: bool,
        progress: &dyn Progress,
    ) -> Result<ShardRun> {
        let folder = stage_folder(self.folder, stage);
        let total = stage_items(work);
        let mut header = PartHeader::new(
            PartCommand::Plan,
            &self.scenarios[0].name,
            self.scenarios[0].seed,
            shard,
            total,
            self.job,
        );
        header.stage = Some(stage);
        let written = PartWritten {
            file: folder.join(shard.file_name()),
            folder: self.folder.to_path_buf(),
        };
        let block = shard.range(total);
        if self.holds(&written.file, &header) {
            return Ok(ShardRun {
                stage,
                block,
                total,
                part: written,
                fresh: false,
            });
        }
        // Each candidate's replications that fall in the block.
        let per = work.first().map_or(0, |(_, r)| r.end - r.start);
        let (points, pieces): (Vec<usize>, Vec<Work>) = work
            .iter()
            .enumerate()
            .filter_map(|(j, (i, r))| {
                let first = (j as u64).saturating_mul(per);
                let lo = block.start.max(first);
                let hi = block.end.min(first.saturating_add(per));
                (lo < hi).then(|| (j, (*i, r.start + (lo - first)..r.start + (hi - first))))
            })
            .unzip();
        progress.start(block.end - block.start);
        let runs = run_work(self.scenarios, &pieces, progress);
        let job = self.job;
        write_part(&folder, shard, force, |file| {
            let mut part = PartWriter::start(file, header, job)?;
            for (j, run) in points.iter().zip(&runs) {
                part.point(&PointPart::of(*j, run))?;
            }
            part.finish()
        })?;
        Ok(ShardRun {
            stage,
            block,
            total,
            part: written,
            fresh: true,
        })
    }

    /// Whether `file` is already this shard's whole part of the stage `header` names.
    fn holds(&self, file: &Path, header: &PartHeader) -> bool {
        let Ok(part) = PartReader::open(file) else {
            return false;
        };
        let h = part.header();
        h.command == header.command
            && h.job_sha256 == header.job_sha256
            && h.stage == header.stage
            && h.shard == header.shard
            && h.total_items == header.total_items
            && h.tool_version == header.tool_version
            && shard::is_part_file(file)
    }
}

/// A stage's work items: its candidates x replications.
fn stage_items(work: &[Work]) -> u64 {
    work.iter()
        .map(|(_, r)| r.end - r.start)
        .fold(0u64, u64::saturating_add)
}

/// The part files in a stage's folder (none when it does not exist).
fn part_files(folder: &Path) -> Result<Vec<PathBuf>> {
    let entries = match fs::read_dir(folder) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(anyhow!("cannot read {}: {e}", folder.display())),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| anyhow!("cannot read {}: {e}", folder.display()))?;
        let name = entry.file_name();
        if name.to_str().is_some_and(shard::is_part_name) {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}
