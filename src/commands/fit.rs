//! `fit`: admin profiles estimated from a past release's observed adoption, published
//! with the scenario that uses them.

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

use super::Destination;
use crate::charts::{chart_files, draw_all, fit_chart};
use crate::export::Exporter;
use crate::export::fit::FitJson;
use crate::export::html::fit_page;
use crate::fit::events::{as_snapshots, rows_from_events, to_csv, to_snapshot_csv};
use crate::fit::fitted::fitted_scenario;
use crate::fit::{
    self, CalendarChoice, FamilyChoice, FitOutcome, FitSettings, Observations, observed_release,
};
use crate::fit::{ReleaseContext, parse_version};
use crate::model::VersionTable;
use crate::output::NamedFile;
use crate::scenario::{self, Overrides, Scenario};

/// Where the observed adoption comes from.
#[derive(Clone, Debug)]
pub enum ObservedSource {
    /// CSVs of per-instance update times, daily shares, snapshots or upgrade events,
    /// one per past release.
    Csv {
        /// The files.
        files: Vec<PathBuf>,
        /// The instances observed, for daily shares.
        instances: Option<u64>,
    },
    /// A `run --events` log of the past release.
    Events {
        /// The event log.
        log: PathBuf,
        /// The replication read from it.
        replication: u64,
        /// Hours after the deploy observed; all when `None`.
        until: Option<f64>,
        /// Observe by snapshots this many hours apart instead of exact times.
        snapshots_every: Option<f64>,
    },
}

/// What `fit` is asked to do.
#[derive(Clone, Debug)]
pub struct FitOptions {
    /// The scenario of the past release.
    pub scenario: PathBuf,
    /// The observed adoption.
    pub observed: ObservedSource,
    /// The releases observed, one per file (several: a joint fit); the first that need
    /// approval when empty.
    pub release: Vec<usize>,
    /// The delay family, or a choice by AIC.
    pub family: FamilyChoice,
    /// Whether the admins keep working hours, or a choice by AIC.
    pub calendar: CalendarChoice,
    /// The known publication time (hours after the deploy), if any.
    pub published_at: Option<f64>,
    /// The bootstrap's seed; the scenario's when `None`.
    pub seed: Option<u64>,
    /// Bootstrap replicates of the goodness of fit.
    pub bootstrap: u32,
    /// Parameter draws for the fitted scenario (0: point estimates only).
    pub draws: usize,
    /// The release's version in snapshot or upgrade-event data; the scenario's when `None`.
    pub new_version: Option<String>,
    /// Where to write (`output/<scenario name>-fit` by default), and the chart and page.
    pub destination: Destination,
    /// Worker threads; all cores when `None`.
    pub threads: Option<NonZeroUsize>,
}

/// What `fit` published.
#[derive(Debug)]
pub struct Fitted {
    /// The estimates.
    pub outcome: FitOutcome,
    /// `fit.json`, as written.
    pub json: Vec<u8>,
    /// The folder written.
    pub folder: PathBuf,
}

/// Fits the admin profiles of `options`.
pub fn fit(options: &FitOptions) -> Result<Fitted> {
    let text = scenario::read(&options.scenario)?;
    let s = scenario::parse(&text, &options.scenario, &Overrides::default())?;
    let plan = VersionTable::new(&s);
    let files: Vec<&std::path::PathBuf> = match &options.observed {
        ObservedSource::Csv { files, .. } => files.iter().collect(),
        ObservedSource::Events { .. } => Vec::new(),
    };
    let releases = observed_releases(options, &s, &plan, files.len())?;
    if !files.is_empty() && files.len() != releases.len() {
        bail!(
            "{} observed files and {} --release: give one --release per --observed, in the same order",
            files.len(),
            releases.len()
        );
    }
    if releases.len() > 1 && (options.new_version.is_some() || options.published_at.is_some()) {
        bail!(
            "--new-version and --published-at describe one release; a joint fit of several reads each release's version from the scenario and integrates over each publication"
        );
    }
    // Everything is read and checked before the output folder is touched.
    let (past, observed_csvs) = read_past(options, &s, &plan, &releases)?;
    let settings = FitSettings {
        family: options.family,
        calendar: options.calendar.clone(),
        published_at: options.published_at,
        seed: options.seed.unwrap_or(s.seed),
        bootstrap: options.bootstrap,
        draws: options.draws,
    };
    let destination = &options.destination;
    let (folder, out) = destination.prepare(&format!("{}-fit", s.name), "fit")?;
    let threads = options.threads.map_or(0, NonZeroUsize::get);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start worker threads")?;
    let outcome = pool.install(|| fit::fit(&s, &past, &settings))?;
    let scenario_text =
        fitted_scenario(&text, &outcome).context("cannot write the fitted scenario")?;
    let json = FitJson.to_bytes(&outcome);
    let mut files: Vec<NamedFile> = vec![
        ("fit.json".into(), json.clone()),
        ("fitted-scenario.json".into(), scenario_text.into_bytes()),
    ];
    files.extend(observed_csvs);
    if destination.presentation.charts {
        let drawn = draw_all(vec![fit_chart(&outcome)], destination.presentation.png);
        files.extend(chart_files(&drawn));
        files.push(("fit.html".into(), fit_page(&outcome, &drawn).into_bytes()));
    }
    out.publish_files(files).context("cannot write the fit")?;
    Ok(Fitted {
        outcome,
        json,
        folder,
    })
}

/// The releases observed: as given (`--release`), or the first releases that need
/// approval, one per observed file.
fn observed_releases(
    options: &FitOptions,
    s: &Scenario,
    plan: &VersionTable,
    file_count: usize,
) -> Result<Vec<usize>> {
    if options.release.is_empty() {
        let wanted = file_count.max(1);
        let approval: Vec<usize> = (0..s.releases.len())
            .filter(|&k| plan.needs_approval[k])
            .take(wanted)
            .collect();
        if approval.is_empty() {
            observed_release(s, None)?;
        }
        if approval.len() < wanted {
            bail!(
                "{wanted} observed files but the scenario has {} releases that need approval; name each file's release with --release K, in the files' order",
                approval.len()
            );
        }
        Ok(approval)
    } else {
        options
            .release
            .iter()
            .map(|&k| observed_release(s, Some(k)))
            .collect::<Result<_, _>>()
            .map_err(Into::into)
    }
}

/// Each observed release's data, read and checked, and the observed CSVs to write
/// beside the fit (for data taken from an event log).
fn read_past(
    options: &FitOptions,
    s: &Scenario,
    plan: &VersionTable,
    releases: &[usize],
) -> Result<(Vec<fit::PastRelease>, Vec<NamedFile>)> {
    let mut past = Vec::with_capacity(releases.len());
    let mut observed_csvs = Vec::new();
    for (k, &release) in releases.iter().enumerate() {
        let new_version = options
            .new_version
            .clone()
            .unwrap_or_else(|| plan.versions[plan.version_of(release)].to_string());
        let context = ReleaseContext {
            deploy: s.instant(s.releases[release].at),
            version: parse_version(&new_version).ok_or_else(|| {
                anyhow!(
                    "--new-version \"{}\": not a version such as 2.3.0 (or 2.3, or 2)",
                    crate::input::echo(&new_version)
                )
            })?,
        };
        let (observed, file, csv) = match &options.observed {
            ObservedSource::Csv { files, instances } => (
                fit::observed::read(&files[k], *instances, &context)?,
                files[k].clone(),
                None,
            ),
            ObservedSource::Events {
                log,
                replication,
                until,
                snapshots_every,
            } => {
                let (observed, csv) = observations_from_events(
                    s,
                    plan,
                    release,
                    &context,
                    (log, *replication, *until, *snapshots_every),
                )?;
                (observed, log.clone(), Some(csv))
            }
        };
        if let Some(csv) = csv {
            // One release: observed.csv; several: one file per release.
            let name = if releases.len() == 1 {
                "observed.csv".to_string()
            } else {
                format!("observed-release-{release}.csv")
            };
            observed_csvs.push((name, csv.into_bytes()));
        }
        past.push(fit::PastRelease {
            release,
            observed,
            file,
        });
    }
    Ok((past, observed_csvs))
}

/// One release's observations from a `run --events` log: per instance, or as the
/// snapshots a vendor would have taken every `snapshots_every` hours; and their CSV.
fn observations_from_events(
    s: &Scenario,
    plan: &VersionTable,
    release: usize,
    context: &ReleaseContext,
    (log, replication, until, snapshots_every): (&Path, u64, Option<f64>, Option<f64>),
) -> Result<(Observations, String)> {
    let text = crate::input::read_bounded_to(log, crate::input::MAX_DATA_BYTES)
        .with_context(|| format!("{}: cannot read the event log", log.display()))?;
    let rows = rows_from_events(s, &text, log, release, replication, until)?;
    Ok(match snapshots_every {
        None => {
            let csv = to_csv(&rows);
            (Observations::PerInstance(rows), csv)
        }
        Some(every) => {
            let rows = as_snapshots(&rows, every);
            let versions = (
                plan.versions[plan.from_version[release]].to_string(),
                plan.versions[plan.version_of(release)].to_string(),
            );
            let csv = to_snapshot_csv(&rows, context, &versions);
            let observed = Observations::Sightings {
                form: "snapshots",
                rows,
                left_out: Default::default(),
            };
            (observed, csv)
        }
    })
}
