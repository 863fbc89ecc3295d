//! `rollout-sim fit`: the admin profile estimated from the observed adoption of a past
//! release, so that forecasts for the next release rest on evidence.
//!
//! The fitted model of an instance's update time is the platform part, known from the
//! scenario and the model (`platform`: publication, one draw for the whole field; the
//! maintenance slip; the wait for the next UPM poll), plus the admin part: with
//! probability `approve` the admin approves after a delay from the chosen [`Family`],
//! otherwise the instance never updates. `likelihood` integrates over the field-wide
//! draw; `estimate` maximises it and finds profile-likelihood intervals;
//! `goodness` measures the distance between the observed and the fitted curves with a
//! parametric-bootstrap p-value. Each segment (when the data name them) is fitted on its
//! own (`group`), its likelihood integrating over the publication draw.

mod clock;
mod ensemble;
mod estimate;
pub(crate) mod events;
pub(crate) mod fitted;
mod goodness;
mod group;
mod likelihood;
pub(crate) mod observed;
mod platform;

use std::path::Path;

use thiserror::Error;

pub use ensemble::ParameterDraw;
pub use observed::{
    InstanceRow, LeftOut, Observations, ObservedError, ReleaseContext, SharePoint, parse_version,
};

use goodness::GroupData;
use group::{Context, fit_group};
use platform::PlatformPart;

use crate::delay::{Family, Law};
use crate::model::VersionTable;
use crate::scenario::{Scenario, WorkingHours};

/// Updated instances a group needs before its three or so parameters can be fitted.
pub const MIN_UPDATES: u64 = 10;

/// What went wrong before a fit could start.
#[derive(Debug, Error)]
pub enum FitError {
    /// The data themselves are wrong.
    #[error(transparent)]
    Observed(#[from] ObservedError),
    /// `--release` names no release.
    #[error("--release {index}: the scenario has releases 0 to {last}")]
    NoSuchRelease {
        /// The index given.
        index: usize,
        /// The last index there is.
        last: usize,
    },
    /// The release reaches instances without approval.
    #[error(
        "--release {index} ({label}) needs no approval: it reaches every instance automatically, so it says nothing about admins; {hint}"
    )]
    NoApproval {
        /// The index given.
        index: usize,
        /// Its label.
        label: String,
        /// Which release to fit instead.
        hint: String,
    },
    /// No release of the scenario needs approval.
    #[error(
        "no release of the scenario needs approval, so there is no admin behaviour to fit; describe the past release that asked for new scopes or a paid licence"
    )]
    NothingToFit,
    /// A segment in the data is not in the scenario.
    #[error(
        "{file}: line {line}, column `segment`: `{name}` is not a segment of the scenario (it has {known})"
    )]
    UnknownSegment {
        /// The data file.
        file: String,
        /// The line.
        line: u64,
        /// The segment named.
        name: String,
        /// The scenario's segments.
        known: String,
    },
    /// Too few updates to fit.
    #[error(
        "{file}: {what} has {updated} updated instances; a fit needs at least {MIN_UPDATES} (observe longer, or fit the segments together by leaving out the segment column)"
    )]
    TooFewUpdates {
        /// The data file.
        file: String,
        /// The group.
        what: String,
        /// How many updated.
        updated: u64,
    },
}

/// Which families to fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FamilyChoice {
    /// Just this one.
    One(Family),
    /// Each, choosing by AIC.
    Auto,
}

/// Whether the admins count their delay in working hours.
#[derive(Clone, Debug, PartialEq)]
pub enum CalendarChoice {
    /// Wall-clock time.
    Plain,
    /// These working hours (in each segment's zones, skipping its holidays).
    Given(WorkingHours),
    /// The data choose: the working hours that explain them best, against wall-clock
    /// time, by AIC.
    Auto,
}

/// Wall-clock time against the best working hours, when the data chose.
#[derive(Clone, Debug, PartialEq)]
pub struct CalendarComparison {
    /// The best wall-clock fit's AIC.
    pub plain_aic: f64,
    /// The best working-hours fit's AIC, the hours counted as three parameters.
    pub calendar_aic: f64,
    /// The working hours that explain the data best.
    pub hours: WorkingHours,
}

/// How to fit.
#[derive(Clone, Debug)]
pub struct FitSettings {
    /// The delay family.
    pub family: FamilyChoice,
    /// Whether the admins keep working hours.
    pub calendar: CalendarChoice,
    /// Hours after the deploy at which the Marketplace published it, when known.
    pub published_at: Option<f64>,
    /// Seed of the bootstrap's draws.
    pub seed: u64,
    /// Bootstrap data sets for the goodness-of-fit p-value (0: no p-value).
    pub bootstrap: u32,
    /// Parameter draws for the forecast (0: point estimates only).
    pub draws: usize,
}

/// A fitted quantity with its 95% interval (`None`: not bounded by the data).
#[derive(Clone, Debug, PartialEq)]
pub struct Estimated {
    /// The `fit.json` name.
    pub name: &'static str,
    /// The maximum-likelihood estimate.
    pub estimate: f64,
    /// The 95% profile-likelihood interval.
    pub ci95: (Option<f64>, Option<f64>),
}

/// One segment's fitted profile (or the whole field's, when the data have no segments).
#[derive(Clone, Debug)]
pub struct SegmentFit {
    /// The segment's name (`all` for the whole field).
    pub name: String,
    /// The scenario segment it is, when the data name segments.
    pub segment: Option<usize>,
    /// Instances observed.
    pub n: u64,
    /// Instances seen updated.
    pub updated: u64,
    /// The share that approves.
    pub approve: Estimated,
    /// The fitted delay law (in working time when `working_hours` is set).
    pub law: Law,
    /// The working hours the delay counts, when the admins keep them.
    pub working_hours: Option<WorkingHours>,
    /// When the data chose between wall-clock time and working hours: the two AICs.
    pub calendar: Option<CalendarComparison>,
    /// The law's parameters, in [`Family::parameter_names`] order.
    pub parameters: Vec<Estimated>,
    /// The maximised log-likelihood.
    pub log_likelihood: f64,
    /// Its AIC.
    pub aic: f64,
    /// The largest gap between the observed and the fitted curve.
    pub distance: f64,
    /// The parametric-bootstrap p-value of `distance` (`None` without a bootstrap).
    pub p_value: Option<f64>,
    /// Every family tried, with its AIC.
    pub candidates: Vec<(Family, f64)>,
    /// Every family tried, with its Akaike weight (the share of draws it gets).
    pub family_weights: Vec<(Family, f64)>,
    /// Draws of the parameters from the fit's uncertainty (families by Akaike weight):
    /// what the fitted scenario runs, one per replication.
    pub draws: Vec<ParameterDraw>,
    /// The smallest effective sample size of the families' importance samples.
    pub effective_draws: f64,
    /// In a joint fit, what each past release contributed (empty for one release).
    pub contributions: Vec<Contribution>,
    /// The observed cumulative share updated, `(hours, share)`.
    pub observed_curve: Vec<(f64, f64)>,
    /// The fitted one on a regular grid, `(hours, share)`.
    pub fitted_curve: Vec<(f64, f64)>,
}

/// The p-value below which the fitted curve is a poor description of the data.
pub const POOR_FIT_P: f64 = 0.05;

impl SegmentFit {
    /// Whether the data bound `approve` below 1: with short data the curve has not
    /// flattened yet, the estimate sits at the boundary and its interval reaches 1.
    pub fn approve_identifiable(&self) -> bool {
        self.approve.ci95.1.is_none_or(|hi| hi < 0.999) && self.approve.estimate < 0.999
    }

    /// What a reader of the fit must know before trusting a forecast from it.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if let Some(p) = self.p_value.filter(|p| *p < POOR_FIT_P) {
            out.push(format!(
                "poor fit: p = {p:.3} is below {POOR_FIT_P}; the model does not describe these data well (another family, a mixture of fast and slow admins, or working hours may)"
            ));
        }
        if !self.approve_identifiable() {
            out.push(format!(
                "approve is not identifiable yet: its 95% interval ({:.3} to 1) reaches 1, as the adoption curve has not flattened (estimate {:.3}); the forecast draws approve across that interval, not from the point estimate",
                self.approve.ci95.0.unwrap_or(0.0),
                self.approve.estimate
            ));
        }
        let close: Vec<String> = self
            .family_weights
            .iter()
            .filter(|(f, w)| *f != self.law.family && *w >= libm::exp(-1.0f64) * self.best_weight())
            .map(|(f, w)| format!("{} (weight {w:.2})", f.name()))
            .collect();
        if !close.is_empty() {
            out.push(format!(
                "the families disagree: {} within 2 AIC of {}; the forecast averages over them by Akaike weight",
                close.join(", "),
                self.law.family.name()
            ));
        }
        out
    }

    fn best_weight(&self) -> f64 {
        self.family_weights
            .iter()
            .find(|(f, _)| *f == self.law.family)
            .map_or(1.0, |(_, w)| *w)
    }
}

/// The outcome of `fit`.
#[derive(Clone, Debug)]
pub struct FitOutcome {
    /// The scenario's name.
    pub scenario: String,
    /// The release fitted.
    pub release: usize,
    /// Its label.
    pub release_label: String,
    /// `per_instance` or `aggregate`.
    pub form: &'static str,
    /// Instances observed.
    pub instances: u64,
    /// Instances seen updated.
    pub updated: u64,
    /// The last observation, hours after the deploy.
    pub until_hours: f64,
    /// Installations left out of snapshot or upgrade-event data, and why.
    pub left_out: LeftOut,
    /// Bootstrap data sets behind each p-value.
    pub bootstrap: u32,
    /// Whether the publication time was given (`--published-at`) rather than integrated over.
    pub published_at: Option<f64>,
    /// The other past releases fitted jointly with this one.
    pub joint_releases: Vec<JointRelease>,
    /// One fit per segment.
    pub segments: Vec<SegmentFit>,
}

/// A further past release of a joint fit.
#[derive(Clone, Debug)]
pub struct JointRelease {
    /// Its index in the scenario.
    pub release: usize,
    /// Its label.
    pub release_label: String,
    /// Instances observed.
    pub instances: u64,
    /// Instances seen updated.
    pub updated: u64,
    /// The last observation, hours after its deploy.
    pub until_hours: f64,
}

/// The release to fit: the one asked for, which must need approval, or the first that does.
pub fn observed_release(scenario: &Scenario, asked: Option<usize>) -> Result<usize, FitError> {
    let plan = VersionTable::new(scenario);
    let first = (0..scenario.releases.len()).find(|&k| plan.needs_approval[k]);
    match asked {
        None => first.ok_or(FitError::NothingToFit),
        Some(k) if k >= scenario.releases.len() => Err(FitError::NoSuchRelease {
            index: k,
            last: scenario.releases.len() - 1,
        }),
        Some(k) if !plan.needs_approval[k] => Err(FitError::NoApproval {
            index: k,
            label: scenario.releases[k].label.clone(),
            hint: match first {
                Some(f) => format!(
                    "release {f} ({}) asks for approval: --release {f}",
                    scenario.releases[f].label
                ),
                None => "no release of this scenario asks for approval".into(),
            },
        }),
        Some(k) => Ok(k),
    }
}

/// The groups to fit: per segment when the data name segments, otherwise one.
fn groups(
    scenario: &Scenario,
    observed: &Observations,
    file: &Path,
) -> Result<Vec<(String, Option<usize>, GroupData)>, FitError> {
    match observed {
        Observations::Aggregate { points, instances } => Ok(vec![(
            "all".into(),
            None,
            GroupData::Shares {
                points: points.iter().map(|p| (p.hours, p.share)).collect(),
                instances: *instances,
            },
        )]),
        Observations::PerInstance(rows) | Observations::Sightings { rows, .. }
            if rows.iter().all(|r| r.segment.is_none()) =>
        {
            Ok(vec![(
                "all".into(),
                None,
                GroupData::Instances(rows.iter().map(InstanceRow::seen).collect()),
            )])
        }
        Observations::PerInstance(rows) | Observations::Sightings { rows, .. } => {
            let segments = &scenario.population.segments;
            let mut per: Vec<Vec<likelihood::Seen>> = vec![Vec::new(); segments.len()];
            for r in rows {
                let name = r.segment.as_deref().unwrap_or_default();
                let Some(g) = segments.iter().position(|s| s.name == name) else {
                    return Err(FitError::UnknownSegment {
                        file: file.display().to_string(),
                        line: r.line,
                        name: crate::input::echo(name),
                        known: segments
                            .iter()
                            .map(|s| s.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    });
                };
                per[g].push(r.seen());
            }
            Ok(per
                .into_iter()
                .enumerate()
                .filter(|(_, rows)| !rows.is_empty())
                .map(|(g, rows)| {
                    (
                        segments[g].name.clone(),
                        Some(g),
                        GroupData::Instances(rows),
                    )
                })
                .collect())
        }
    }
}

/// One past release's observations, for [`fit`].
#[derive(Clone, Debug)]
pub struct PastRelease {
    /// The release, by index in the scenario (it must need approval).
    pub release: usize,
    /// What was observed of it.
    pub observed: Observations,
    /// The file it was read from, named in errors.
    pub file: std::path::PathBuf,
}

/// What one past release brought to a joint fit.
#[derive(Clone, Debug, PartialEq)]
pub struct Contribution {
    /// The release.
    pub release: usize,
    /// Instances of this group observed in it, and how many updated.
    pub instances: u64,
    /// Of them, updated.
    pub updated: u64,
    /// Its share of the joint fit's information (the observed information at the
    /// estimate) on `approve`, and on the delay's first parameter.
    pub information: [f64; 2],
}

/// One segment's name, scenario segment, and each past release's data (by index in
/// the past releases).
type SegmentData = (String, Option<usize>, Vec<(usize, GroupData)>);

/// Fits one admin profile per segment to the past releases of `scenario` observed in
/// `past` (one, or several at once: admin behaviour persists from release to release,
/// so each segment's approve and delay are shared, each release keeping its own platform
/// part: publication draw, slip, polls). The first release's data draw the curves and
/// the goodness of fit.
pub fn fit(
    scenario: &Scenario,
    past: &[PastRelease],
    settings: &FitSettings,
) -> Result<FitOutcome, FitError> {
    let first = past.first().expect("at least one past release");
    let mut platforms = Vec::with_capacity(past.len());
    // Per segment (in order of first appearance): each release's data.
    let mut by_segment: Vec<SegmentData> = Vec::new();
    // A known publication time is one release's: a joint fit integrates over each.
    let published_at = settings.published_at.filter(|_| past.len() == 1);
    for (k, p) in past.iter().enumerate() {
        observed_release(scenario, Some(p.release))?;
        platforms.push(PlatformPart::new(scenario, p.release, published_at));
        for (name, segment, data) in groups(scenario, &p.observed, &p.file)? {
            match by_segment.iter_mut().find(|(n, ..)| *n == name) {
                Some(entry) => entry.2.push((k, data)),
                None => by_segment.push((name, segment, vec![(k, data)])),
            }
        }
    }
    for (name, _, releases) in &by_segment {
        let updated: u64 = releases.iter().map(|(_, d)| d.counts().1).sum();
        if updated < MIN_UPDATES {
            let what = if name == "all" {
                "the data".to_string()
            } else {
                format!("segment {name}")
            };
            return Err(FitError::TooFewUpdates {
                file: first.file.display().to_string(),
                what,
                updated,
            });
        }
    }
    let segments = by_segment
        .into_iter()
        .enumerate()
        .map(|(g, (name, segment, releases))| {
            let context = Context {
                scenario,
                platforms: &platforms,
                past,
                settings,
            };
            fit_group(&context, g as u64, name, segment, &releases)
        })
        .collect();
    let observed = &first.observed;
    Ok(FitOutcome {
        scenario: scenario.name.clone(),
        release: first.release,
        release_label: scenario.releases[first.release].label.clone(),
        form: observed.form(),
        instances: observed.instances(),
        updated: observed.updated(),
        until_hours: observed.until_hours(),
        left_out: match observed {
            Observations::Sightings { left_out, .. } => *left_out,
            _ => LeftOut::default(),
        },
        bootstrap: settings.bootstrap,
        published_at,
        joint_releases: past[1..]
            .iter()
            .map(|p| JointRelease {
                release: p.release,
                release_label: scenario.releases[p.release].label.clone(),
                instances: p.observed.instances(),
                updated: p.observed.updated(),
                until_hours: p.observed.until_hours(),
            })
            .collect(),
        segments,
    })
}
