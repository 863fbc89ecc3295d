//! `fit`: admin profiles estimated from a past release's observed adoption, published
//! with the scenario that uses them.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};

use super::{Presentation, folder_or_default};
use crate::charts::{chart_files, draw_all, fit_chart};
use crate::export::Exporter;
use crate::export::fit::FitJson;
use crate::export::html::fit_page;
use crate::fit::events::{as_snapshots, rows_from_events, to_csv, to_snapshot_csv};
use crate::fit::fitted::fitted_scenario;
use crate::fit::snapshots::{ReleaseContext, parse_version};
use crate::fit::{
    self, CalendarChoice, FamilyChoice, FitOutcome, FitSettings, Observations, observed_release,
};
use crate::model::ReleasePlan;
use crate::output::OutputDir;
use crate::scenario::{self, Overrides};

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
    /// The output folder; `output/<scenario name>-fit` when `None`.
    pub out: Option<PathBuf>,
    /// Replace an output folder rollout-sim did not write.
    pub force: bool,
    /// Worker threads; all cores when `None`.
    pub threads: Option<NonZeroUsize>,
    /// Chart and page.
    pub presentation: Presentation,
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
    let plan = ReleasePlan::new(&s);
    let version_text = |v: usize| plan.versions[v].to_string();
    let files: Vec<&std::path::PathBuf> = match &options.observed {
        ObservedSource::Csv { files, .. } => files.iter().collect(),
        ObservedSource::Events { .. } => Vec::new(),
    };
    // The releases observed: as given, or the first approval releases, one per file.
    let releases: Vec<usize> = if options.release.is_empty() {
        let wanted = files.len().max(1);
        let approval: Vec<usize> = (0..s.releases.len())
            .filter(|&k| plan.needs_approval[k])
            .take(wanted)
            .collect();
        if approval.is_empty() {
            observed_release(&s, None)?;
        }
        if approval.len() < wanted {
            bail!(
                "{wanted} observed files but the scenario has {} releases that need approval; name each file's release with --release K, in the files' order",
                approval.len()
            );
        }
        approval
    } else {
        options
            .release
            .iter()
            .map(|&k| observed_release(&s, Some(k)))
            .collect::<Result<_, _>>()?
    };
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
    let mut past = Vec::with_capacity(releases.len());
    let mut observed_csvs = Vec::new();
    for (k, &release) in releases.iter().enumerate() {
        let new_version = options
            .new_version
            .clone()
            .unwrap_or_else(|| version_text(plan.version_of(release)));
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
                let text = crate::input::read_bounded_to(log, crate::input::MAX_DATA_BYTES)
                    .with_context(|| format!("{}: cannot read the event log", log.display()))?;
                let rows = rows_from_events(&s, &text, log, release, *replication, *until)?;
                match snapshots_every {
                    None => {
                        let csv = to_csv(&rows);
                        (Observations::PerInstance(rows), log.clone(), Some(csv))
                    }
                    Some(every) => {
                        let rows = as_snapshots(&rows, *every);
                        let versions = (
                            version_text(plan.from_version[release]),
                            version_text(plan.version_of(release)),
                        );
                        let csv = to_snapshot_csv(&rows, &context, &versions);
                        let observed = Observations::Sightings {
                            form: "snapshots",
                            rows,
                            left_out: Default::default(),
                        };
                        (observed, log.clone(), Some(csv))
                    }
                }
            }
        };
        if let Some(csv) = csv {
            // One release: observed.csv; several: one file per release.
            let name = if releases.len() == 1 {
                "observed.csv".to_string()
            } else {
                format!("observed-release-{release}.csv")
            };
            observed_csvs.push((name, csv));
        }
        past.push(fit::PastRelease {
            release,
            observed,
            file,
        });
    }
    let settings = FitSettings {
        family: options.family,
        calendar: options.calendar.clone(),
        published_at: options.published_at,
        seed: options.seed.unwrap_or(s.seed),
        bootstrap: options.bootstrap,
        draws: options.draws,
    };
    let folder = folder_or_default(options.out.as_deref(), &format!("{}-fit", s.name));
    let mut out = OutputDir::prepare(&folder, options.force).context("cannot write the fit")?;
    let threads = options.threads.map_or(0, NonZeroUsize::get);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .context("cannot start worker threads")?;
    let outcome = pool.install(|| fit::fit(&s, &past, &settings))?;
    let scenario_text =
        fitted_scenario(&text, &outcome).context("cannot write the fitted scenario")?;
    let json = <dyn Exporter<_>>::to_bytes(&FitJson, &outcome);
    let mut files: Vec<(String, Vec<u8>)> = vec![
        ("fit.json".into(), json.clone()),
        ("fitted-scenario.json".into(), scenario_text.into_bytes()),
    ];
    for (name, csv) in observed_csvs {
        files.push((name, csv.into_bytes()));
    }
    if options.presentation.charts {
        let drawn = draw_all(vec![fit_chart(&outcome)], options.presentation.png);
        files.extend(chart_files(&drawn));
        files.push(("fit.html".into(), fit_page(&outcome, &drawn).into_bytes()));
    }
    for (name, bytes) in files {
        out.write_file(&name, |w| w.write_all(&bytes))
            .context("cannot write the fit")?;
    }
    out.publish().context("cannot write the fit")?;
    Ok(Fitted {
        outcome,
        json,
        folder,
    })
}
