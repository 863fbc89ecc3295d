//! `merge`: the part files of a sharded run or sweep, joined into the files the unsharded
//! command writes, byte for byte.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow};
use rayon::prelude::*;

use super::publish::{
    PublishedRun, PublishedSweep, RunExtras, publish_run, publish_sweep, sweep_point,
};
use super::{Destination, expand_folders, point_scenarios};
use crate::report::Report;
use crate::scenario;
use crate::shard::{self, PartCommand, PartReader};
use crate::sweep::grid;

/// A complete set of part files, their headers read and checked: nothing written yet.
pub struct PartSet {
    parts: Vec<PartReader>,
}

/// What `merge` published.
pub enum Merged {
    /// A run's reports.
    Run(Box<PublishedRun>),
    /// A sweep's reports.
    Sweep(PublishedSweep),
}

/// Grid point lines parsed, and grid points built, at once: two per core keeps every
/// core busy while memory holds only a handful of grid points.
fn batch() -> usize {
    2 * rayon::current_num_threads()
}

impl PartSet {
    /// Opens the part files named (folders expanded to their `part-I-of-N.jsonl`) and
    /// checks that they are one complete set: a mismatched set costs nothing.
    pub fn open(paths: &[PathBuf]) -> Result<PartSet> {
        let parts = part_files(paths)?
            .iter()
            .map(|p| PartReader::open(p))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(part) = parts
            .iter()
            .find(|p| p.header().command == PartCommand::Plan)
        {
            return Err(plan_part(part));
        }
        shard::check_complete(&parts)?;
        Ok(PartSet { parts })
    }

    /// Whether the parts are of a run or of a sweep.
    pub fn command(&self) -> PartCommand {
        self.parts[0].header().command
    }

    /// Merges the parts and publishes the reports into `out` (or the unsharded
    /// command's default folder).
    pub fn publish(self, destination: &Destination) -> Result<Merged> {
        let command = self.command();
        let parts = self.parts;
        let job = parts[0].job().clone();
        let file = PathBuf::from(&job.scenario_file);
        let base = job.overrides();
        match command {
            PartCommand::Run => {
                let scenario = scenario::parse(&job.scenario_text, &file, &base)?;
                let (_, out) = destination.prepare(&scenario.name, "reports")?;
                let mut output = None;
                let count = u64::from(scenario.replications);
                let all = 0..count;
                shard::merge_points(parts, std::slice::from_ref(&all), batch(), |points| {
                    for (p, reps, hists, mixes) in points {
                        output = Some(shard::run_output(p, &scenario, count, reps, hists, mixes)?);
                    }
                    Ok(())
                })?;
                let output = output.expect("merge_points delivers every grid point");
                let extras = RunExtras {
                    presentation: destination.presentation,
                    events: false,
                    stats: false,
                };
                publish_run(&scenario, &output, None, out, &extras)
                    .map(|run| Merged::Run(Box::new(run)))
            }
            PartCommand::Sweep => {
                let axes = job.axes();
                // A part's job is checked like a sweep's: a grid too large is refused first.
                crate::sweep::checked_grid_size(&axes).map_err(|e| anyhow!("{e}"))?;
                let points = grid(&axes);
                let scenarios =
                    point_scenarios(&job.scenario_text, &file, &base, &points, "grid point ")?;
                let name = scenarios[0].name.clone();
                let (_, out) = destination.prepare(&format!("sweep-{name}"), "sweep")?;
                let sizes: Vec<_> = scenarios
                    .iter()
                    .map(|s| 0..u64::from(s.replications))
                    .collect();
                let mut sweep_points = Vec::with_capacity(points.len());
                shard::merge_points(parts, &sizes, batch(), |batch| {
                    let built = batch
                        .into_par_iter()
                        .map(|(p, reps, hists, mixes)| {
                            let count = sizes[p].end;
                            let run =
                                shard::run_output(p, &scenarios[p], count, reps, hists, mixes)?;
                            let report = Report::build(&scenarios[p], &run, None);
                            Ok(sweep_point(p, &points[p], report))
                        })
                        .collect::<Result<Vec<_>, _>>()?;
                    sweep_points.extend(built);
                    Ok(())
                })?;
                publish_sweep(name, &axes, sweep_points, out, destination.presentation)
                    .map(Merged::Sweep)
            }
            PartCommand::Plan => Err(plan_part(&parts[0])),
        }
    }
}

/// Why a plan's part is not merged here: a plan's stages decide one another, so `plan`
/// itself reads them.
fn plan_part(part: &PartReader) -> anyhow::Error {
    anyhow!(
        "{} is a part of stage {} of a plan: publish a plan with `rollout-sim plan`, given the plan's arguments and --parts with the parts folder",
        part.path().display(),
        part.header().stage.unwrap_or_default()
    )
}

/// The part files named, folders expanded to their `part-I-of-N.jsonl` files.
fn part_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let is_part = |p: &Path| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(shard::is_part_name)
    };
    expand_folders(paths, is_part, "part files (part-I-of-N.jsonl)")
}
