//! `rollout-sim sweep`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use rayon::prelude::*;

use super::run::write_part;
use super::{Bar, ChartOptions, Format, SweepArgs, overrides, pool, precision_target};
use crate::montecarlo;
use crate::report::charts::{chart_files, draw_all, sweep_charts};
use crate::report::html::sweep_page;
use crate::report::output::{self, OutputDir};
use crate::report::sweep_out::{SweepCsv, SweepJson, SweepPoint, SweepReport, render_sweep_table};
use crate::report::{Exporter, Report};
use crate::scenario::{self, Overrides, Scenario, ScenarioError, Setting};
use crate::shard::{Job, PartCommand, PartHeader, PartWriter, PointPart};
use crate::sweep::{Axis, grid, load_sweep_file};

pub fn sweep(args: &SweepArgs) -> Result<()> {
    let mut axes: Vec<Axis> = args
        .axes
        .iter()
        .map(|a| Axis::parse(a).map_err(|e| anyhow!("--set {e}")))
        .collect::<Result<_>>()?;
    if let Some(file) = &args.file {
        axes.extend(
            load_sweep_file(file)
                .map_err(|e| anyhow!("{}: {}: {}", file.display(), e.field, e.message))?,
        );
    }
    if axes.is_empty() {
        bail!("a sweep needs at least one axis: --set PATH=V1,V2,... or --file SWEEP.json");
    }
    let base = overrides(&args.sim, &[])?;
    let text = scenario::read(&args.scenario)?;
    crate::sweep::checked_grid_size(&axes).map_err(|e| anyhow!("{e}"))?;
    let points = grid(&axes);
    // Validate every grid point before running any.
    let scenarios = point_scenarios(&text, &args.scenario, &base, &points)?;
    let targets: Vec<_> = scenarios
        .iter()
        .map(|s| precision_target(&args.sim, s))
        .collect::<Result<_>>()?;
    let name = scenarios[0].name.clone();
    let files: Vec<_> = scenarios
        .iter()
        .map(|s| (args.scenario.as_path(), s))
        .collect();
    if let Some(spec) = &args.shard {
        if targets.iter().any(Option::is_some) {
            bail!(
                "--shard cannot be combined with --precision: precision mode decides how many replications to run from all those run before, so its replications cannot be split in advance; shard a fixed --replications instead"
            );
        }
        let shard = spec.resolve(|name| std::env::var(name).ok())?;
        let out_dir = args
            .out
            .clone()
            .unwrap_or_else(|| PathBuf::from("output").join(format!("sweep-{name}-parts")));
        let pool = pool(&args.sim, &files, &base)?;
        // Work items: every grid point's replications, points in order.
        let sizes: Vec<u64> = scenarios
            .iter()
            .map(|s| u64::from(s.replications))
            .collect();
        let total: u64 = sizes.iter().sum();
        let mine = shard.range(total);
        let mut first = 0;
        let blocks: Vec<(usize, std::ops::Range<u64>)> = sizes
            .iter()
            .enumerate()
            .filter_map(|(point, &size)| {
                let (start, end) = (first, first + size);
                first = end;
                let (lo, hi) = (mine.start.max(start), mine.end.min(end));
                (lo < hi).then(|| (point, lo - start..hi - start))
            })
            .collect();
        let job = Job::new(&args.scenario, text, &base, &axes);
        let header = PartHeader::new(
            PartCommand::Sweep,
            &name,
            scenarios[0].seed,
            shard,
            total,
            &job,
        );
        return write_part(&out_dir, shard, args.force, args.sim.quiet, |file| {
            let mut part = PartWriter::start(file, header, &job)?;
            let bar = Bar::new(&args.sim, mine.end - mine.start, "replications");
            // As many grid points at once as threads, written in order as they finish:
            // memory holds a few points, however many the shard has.
            for chunk in blocks.chunks(pool.current_num_threads()) {
                let shares: Vec<PointPart> = pool.install(|| {
                    chunk
                        .par_iter()
                        .map(|(point, range)| {
                            let mut run =
                                montecarlo::run_range(&scenarios[*point], range.clone(), &bar);
                            // A sweep reports no version mix: the part need not carry it.
                            run.mix.skip();
                            PointPart::of(*point, &run)
                        })
                        .collect()
                });
                for share in &shares {
                    part.point(share)?;
                }
            }
            drop(bar);
            part.finish()
        });
    }
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("output").join(format!("sweep-{name}")));
    let pool = pool(&args.sim, &files, &base)?;
    let out = OutputDir::prepare(&out_dir, args.force).context("cannot write the sweep")?;
    let total: u64 = scenarios
        .iter()
        .zip(&targets)
        .map(|(s, t)| t.map_or(s.replications as u64, |t| t.max_replications))
        .sum();
    let bar = Bar::new(&args.sim, total, "replications");
    let sweep_points: Vec<SweepPoint> = pool.install(|| {
        scenarios
            .par_iter()
            .zip(&targets)
            .zip(&points)
            .enumerate()
            .map(|(i, ((s, target), settings))| {
                let report = match target {
                    Some(t) => {
                        let (out, outcome) = montecarlo::run_to_precision(s, t, &bar);
                        Report::build(s, &out, Some(outcome))
                    }
                    None => Report::build(s, &montecarlo::run(s, &bar), None),
                };
                sweep_point(i, settings, report)
            })
            .collect()
    });
    drop(bar);
    publish_sweep(
        name,
        &axes,
        sweep_points,
        out,
        args.charts,
        Format::Table,
        args.sim.quiet,
    )
}

/// Grid point `index`'s headline figures: all a sweep keeps of a point's run.
pub(super) fn sweep_point(index: usize, settings: &[Setting], report: Report) -> SweepPoint {
    SweepPoint::new(
        index,
        settings
            .iter()
            .map(|s| (s.path.clone(), s.value.clone()))
            .collect(),
        report,
    )
}

/// The scenario of every grid point, each validated, before anything runs.
pub(super) fn point_scenarios(
    text: &str,
    file: &Path,
    base: &Overrides,
    points: &[Vec<Setting>],
) -> Result<Vec<Scenario>> {
    points
        .iter()
        .enumerate()
        .map(|(i, settings)| {
            let mut ov = base.clone();
            ov.settings.extend(settings.iter().cloned());
            let described: Vec<String> = settings
                .iter()
                .map(|s| format!("{}={}", s.path, s.value))
                .collect();
            scenario::parse(text, file, &ov).map_err(|e: ScenarioError| {
                anyhow!("grid point {i} ({}): {e}", described.join(", "))
            })
        })
        .collect()
}

/// Writes and publishes the sweep's reports and prints its table (or `sweep.json`).
pub(super) fn publish_sweep(
    name: String,
    axes: &[Axis],
    sweep_points: Vec<SweepPoint>,
    mut out: OutputDir,
    charts: ChartOptions,
    format: Format,
    quiet: bool,
) -> Result<()> {
    let axes: Vec<(String, usize)> = axes
        .iter()
        .map(|a| (a.path.clone(), a.values.len()))
        .collect();
    let report = SweepReport::new(name, &axes, sweep_points);
    let exporters: Vec<Box<dyn Exporter<SweepReport>>> =
        vec![Box::new(SweepJson), Box::new(SweepCsv)];
    out.write_reports(&report, &exporters)
        .context("cannot write the sweep")?;
    if !charts.no_charts {
        let drawn = draw_all(sweep_charts(&report), charts.png);
        let mut files = chart_files(&drawn);
        files.push((
            "sweep.html".into(),
            sweep_page(&report, &drawn).into_bytes(),
        ));
        for (name, bytes) in files {
            out.write_file(&name, |w| w.write_all(&bytes))
                .context("cannot write the sweep")?;
        }
    }
    let out_dir = out.target().to_path_buf();
    out.publish().context("cannot write the sweep")?;
    if !quiet {
        match format {
            Format::Table => {
                out!("{}", render_sweep_table(&report));
                outln!("\nfull results: {}", out_dir.display());
            }
            Format::Json => out!("{}", output::render(&SweepJson, &report)?),
            Format::Markdown => out!("{}", render_sweep_table(&report)),
        }
    }
    Ok(())
}
