//! The fit of one group (a segment, or the whole field): each family under each way of
//! counting the admins' delay (wall-clock time, given working hours, or the hours the
//! data choose), the best by AIC, its intervals, goodness of fit and parameter draws.

use rayon::prelude::*;

use super::clock::Clocks;
use super::ensemble::averaged_draws;
use super::estimate::{
    CoordinateInterval, Estimate, approve_interval, hessian, intervals, maximise, refit,
};
use super::goodness::GroupData;
use super::likelihood::{GroupLikelihood, Joint, LogLikelihood};
use super::platform::PlatformPart;
use super::{
    CalendarChoice, CalendarComparison, Contribution, Estimated, FamilyChoice, FitSettings,
    POOR_FIT_P, PastRelease, SegmentFit,
};
use crate::delay::Family;
use crate::scenario::{Scenario, WorkingHours};

/// The office hours that explain the data best (largest `log_likelihood`): Monday to
/// Friday, starting on the hour from 06:00 to 11:00 and ending on the hour from 15:00 to
/// 20:00, found by coordinate ascent from 09:00 to 17:00 (each line's hours in
/// parallel) until neither end moves. Weekdays only: the weekend's pause is what
/// daily data can see; hours kept every day would only rescale a wall-clock delay at
/// that resolution (they can be given with `--working-hours`).
fn best_hours(log_likelihood: impl Fn(WorkingHours) -> f64 + Sync) -> WorkingHours {
    let hours = |from: u32, to: u32| WorkingHours {
        days: [true, true, true, true, true, false, false],
        from: chrono::NaiveTime::from_hms_opt(from, 0, 0).expect("an hour of the day"),
        to: chrono::NaiveTime::from_hms_opt(to, 0, 0).expect("an hour of the day"),
    };
    let (mut from, mut to) = (9, 17);
    let mut best = f64::NEG_INFINITY;
    loop {
        let before = (from, to);
        for side in [0, 1] {
            let candidates: Vec<(u32, u32)> = match side {
                0 => (6..=11).map(|f| (f, to)).collect(),
                _ => (15..=20).map(|t| (from, t)).collect(),
            };
            let (ll, at) = candidates
                .into_par_iter()
                .map(|(f, t)| (log_likelihood(hours(f, t)), (f, t)))
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .expect("a line has hours");
            if ll > best {
                best = ll;
                (from, to) = at;
            }
        }
        if (from, to) == before {
            return hours(from, to);
        }
    }
}

/// Parameters the working hours add when the data choose them (days, start, end).
const CALENDAR_PARAMETERS: f64 = 3.0;

/// Hours beyond the last observation the clocks reach (a simulated data set's updates
/// past it are censored anyway).
const CLOCK_MARGIN_HOURS: f64 = 48.0;

/// Where the optimiser starts: the share that approves a little above the last
/// observed share, the median delay from when half of those had updated, less the
/// platform part's typical wait.
fn starting_point(curve: &[(f64, f64)], platform: &PlatformPart) -> (f64, f64) {
    let last = curve.last().map_or(0.5, |p| p.1);
    let half = curve
        .iter()
        .find(|p| p.1 >= last / 2.0)
        .map_or(24.0, |p| p.0);
    let publication: f64 = platform
        .nodes
        .iter()
        .map(|n| n.weight * n.published_hours)
        .sum();
    let approve = (last * 1.05 + 0.02).clamp(0.05, 0.98);
    (
        approve,
        (half - publication - platform.poll_hours / 2.0).max(1.0),
    )
}

fn likelihood_of(
    platform: &PlatformPart,
    segment: Option<usize>,
    data: &GroupData,
    clocks: Clocks,
) -> GroupLikelihood {
    GroupLikelihood::new(
        data.cells(),
        platform,
        |n| platform.slip_probability(segment, n),
        clocks,
    )
}

fn best_of(group: &dyn LogLikelihood, family: Family, (approve, median): (f64, f64)) -> Estimate {
    // Two starts: the observed share and half way to everyone, at the median and twice it.
    let a = maximise(group, family, approve, median);
    let b = maximise(group, family, f64::midpoint(approve, 1.0), 2.0 * median);
    if b.log_likelihood > a.log_likelihood {
        b
    } else {
        a
    }
}

/// What every group's fit shares.
pub(super) struct Context<'a> {
    pub(super) scenario: &'a Scenario,
    pub(super) platforms: &'a [PlatformPart],
    pub(super) past: &'a [PastRelease],
    pub(super) settings: &'a FitSettings,
}

/// One way of counting the admins' delay (wall-clock time or working hours), with each
/// past release's likelihood under it and every family's fit.
struct ClockFit {
    hours: Option<WorkingHours>,
    clocks: Vec<Clocks>,
    parts: Vec<GroupLikelihood>,
    fits: Vec<Estimate>,
}

impl ClockFit {
    fn best(&self) -> &Estimate {
        self.fits
            .iter()
            .min_by(|a, b| a.aic().total_cmp(&b.aic()))
            .expect("at least one family")
    }

    /// The releases' likelihoods together.
    fn joint(&self) -> Joint<'_> {
        Joint(self.parts.iter().collect())
    }
}

/// The fit of one group, step by step: what every step reads.
struct GroupFit<'a> {
    context: &'a Context<'a>,
    segment: Option<usize>,
    /// Each past release's data for the group, with the release's index in `past`; the
    /// first release's data draw the curves and the goodness of fit.
    releases: &'a [(usize, GroupData)],
    /// Where the optimiser starts: (approve, median delay in hours).
    start: (f64, f64),
}

impl GroupFit<'_> {
    /// Every family in `families` fitted with the delay counted in `hours` (wall-clock
    /// time when `None`).
    fn count(&self, hours: Option<WorkingHours>, families: &[Family]) -> ClockFit {
        let Context {
            scenario,
            platforms,
            past,
            ..
        } = self.context;
        let clocks: Vec<Clocks> = self
            .releases
            .iter()
            .map(|(k, d)| {
                let until = d.until() + CLOCK_MARGIN_HOURS;
                Clocks::of(
                    scenario,
                    past[*k].release,
                    self.segment,
                    hours.as_ref(),
                    until,
                )
            })
            .collect();
        let parts: Vec<GroupLikelihood> = self
            .releases
            .iter()
            .zip(&clocks)
            .map(|((k, d), c)| likelihood_of(&platforms[*k], self.segment, d, c.clone()))
            .collect();
        let joint = Joint(parts.iter().collect());
        let fits = families
            .par_iter()
            .map(|&f| best_of(&joint, f, self.start))
            .collect();
        ClockFit {
            hours,
            clocks,
            parts,
            fits,
        }
    }

    /// The way of counting the delay the settings ask for or, with `auto`, the one the
    /// data choose by AIC, with the comparison.
    fn choose_clock(&self, families: &[Family]) -> (ClockFit, Option<CalendarComparison>) {
        match &self.context.settings.calendar {
            CalendarChoice::Plain => (self.count(None, families), None),
            CalendarChoice::Given(hours) => (self.count(Some(hours.clone()), families), None),
            CalendarChoice::Auto => {
                let plain = self.count(None, families);
                let family = plain.best().family;
                let (approve, median) = self.start;
                // The hours that explain the data best, with the plain fit's best family...
                let hours = best_hours(|h| {
                    let parts = self.count(Some(h), &[]).parts;
                    maximise(&Joint(parts.iter().collect()), family, approve, median).log_likelihood
                });
                // ...then every family with them, and the data choose by AIC, the hours
                // counting as parameters.
                let working = self.count(Some(hours.clone()), families);
                let comparison = CalendarComparison {
                    plain_aic: plain.best().aic(),
                    calendar_aic: working.best().aic() + 2.0 * CALENDAR_PARAMETERS,
                    hours,
                };
                if comparison.calendar_aic < comparison.plain_aic {
                    (working, Some(comparison))
                } else {
                    (plain, Some(comparison))
                }
            }
        }
    }

    /// The distance from `best`'s curve to the observed one, and its bootstrap p-value.
    /// Interval-censored or truncated data cannot be simulated with their own sighting
    /// schedule: no p-value.
    fn judge(&self, chosen: &ClockFit, best: &Estimate) -> (f64, Option<f64>) {
        let settings = self.context.settings;
        let data = &self.releases[0].1;
        let distance = data.distance(&chosen.parts[0], best.approve(), &best.law());
        let exact = self.releases.iter().all(|(_, d)| d.is_exact());
        let p_value = (settings.bootstrap > 0 && exact).then(|| {
            let exceed = (0..u64::from(settings.bootstrap))
                .into_par_iter()
                .filter(|&b| self.replicate_distance(chosen, best, b) >= distance)
                .count();
            (1 + exceed) as f64 / (f64::from(settings.bootstrap) + 1.0)
        });
        (distance, p_value)
    }

    /// Bootstrap replicate `b`: every release's data simulated from `best` (each its own
    /// stream), refitted jointly, and the first one's distance.
    fn replicate_distance(&self, chosen: &ClockFit, best: &Estimate, b: u64) -> f64 {
        let (approve, law) = (best.approve(), best.law());
        let seed = self.context.settings.seed;
        let count = self.releases.len() as u64;
        let samples: Vec<GroupData> = self
            .releases
            .iter()
            .zip(&chosen.parts)
            .enumerate()
            .map(|(k, ((_, d), g))| d.simulate(g, approve, &law, seed, b * count + k as u64))
            .collect();
        let refit_parts: Vec<GroupLikelihood> = samples
            .iter()
            .zip(self.releases)
            .zip(&chosen.clocks)
            .map(|((s, (k, _)), c)| {
                likelihood_of(&self.context.platforms[*k], self.segment, s, c.clone())
            })
            .collect();
        let refit = refit(
            &Joint(refit_parts.iter().collect()),
            best.family,
            best.coordinates.clone(),
        );
        samples[0].distance(&refit_parts[0], refit.approve(), &refit.law())
    }

    /// What each past release contributes to the estimate of approve and of the first
    /// delay parameter: its share of the Fisher information (none for one release).
    fn contributions(&self, chosen: &ClockFit, best: &Estimate) -> Vec<Contribution> {
        if self.releases.len() < 2 {
            return Vec::new();
        }
        let information: Vec<[f64; 2]> = chosen
            .parts
            .iter()
            .map(|g| {
                let h = hessian(g, best);
                [h[(0, 0)].max(0.0), h[(1, 1)].max(0.0)]
            })
            .collect();
        let total = |i: usize| {
            information
                .iter()
                .map(|v| v[i])
                .sum::<f64>()
                .max(f64::MIN_POSITIVE)
        };
        self.releases
            .iter()
            .zip(&information)
            .map(|((k, d), info)| {
                let (instances, updated) = d.counts();
                Contribution {
                    release: self.context.past[*k].release,
                    instances,
                    updated,
                    information: [info[0] / total(0), info[1] / total(1)],
                }
            })
            .collect()
    }
}

/// The delay law's parameters with their 95% intervals, from the intervals `ci` of the
/// coordinates (approve's first), in the parameters' own units.
fn delay_parameters(best: &Estimate, ci: &[CoordinateInterval]) -> Vec<Estimated> {
    let law = best.law();
    let in_units = |i: usize, c: Option<f64>| {
        c.map(|v| {
            best.family
                .law(&replaced(&best.coordinates[1..], i, v))
                .params[i]
        })
    };
    best.family
        .parameter_names()
        .enumerate()
        .map(|(i, name)| Estimated {
            name,
            estimate: law.params[i],
            ci95: (in_units(i, ci[i + 1].0), in_units(i, ci[i + 1].1)),
        })
        .collect()
}

/// Fits one group: `releases` holds each past release's data for it.
pub(super) fn fit_group(
    context: &Context<'_>,
    group_index: u64,
    name: String,
    segment: Option<usize>,
    releases: &[(usize, GroupData)],
) -> SegmentFit {
    let settings = context.settings;
    let (first, data) = (releases[0].0, &releases[0].1);
    let observed_curve = data.observed_curve();
    let fit = GroupFit {
        context,
        segment,
        releases,
        start: starting_point(&observed_curve, &context.platforms[first]),
    };
    let families: Vec<Family> = match settings.family {
        FamilyChoice::One(f) => vec![f],
        FamilyChoice::Auto => Family::first_round().collect(),
    };
    let (mut chosen, calendar) = fit.choose_clock(&families);
    let mut best = chosen.best().clone();
    let (mut distance, mut p_value) = fit.judge(&chosen, &best);
    // No single family describes the data: try the others (two speeds of admins, a
    // mixture), which the data then choose or not by AIC.
    if settings.family == FamilyChoice::Auto && p_value.is_some_and(|p| p < POOR_FIT_P) {
        for family in Family::all().filter(|f| !f.fitting().first_round) {
            let estimate = best_of(&chosen.joint(), family, fit.start);
            chosen.fits.push(estimate);
        }
        let lowest = chosen.best().clone();
        if !lowest.family.fitting().first_round {
            best = lowest;
            (distance, p_value) = fit.judge(&chosen, &best);
        }
    }
    let joint = chosen.joint();
    let ci = intervals(&joint, &best);
    let (draws, family_weights, effective_draws) = averaged_draws(
        &joint,
        &chosen.fits,
        settings.draws,
        settings.seed,
        group_index,
    );
    let (approve, law) = (best.approve(), best.law());
    let (lo, hi) = approve_interval(ci[0]);
    let until = data.until();
    let times: Vec<f64> = (0..=200).map(|i| until * f64::from(i) / 200.0).collect();
    let fitted = chosen.parts[0].fitted_curve(approve, &law, &times);
    let (n, updated) = data.counts();
    SegmentFit {
        name,
        segment,
        n,
        updated,
        approve: Estimated {
            name: "approve",
            estimate: approve,
            ci95: (Some(lo), Some(hi)),
        },
        law,
        working_hours: chosen.hours.clone(),
        calendar,
        parameters: delay_parameters(&best, &ci),
        log_likelihood: best.log_likelihood,
        aic: best.aic(),
        distance,
        p_value,
        candidates: chosen.fits.iter().map(|e| (e.family, e.aic())).collect(),
        family_weights,
        draws,
        effective_draws,
        contributions: fit.contributions(&chosen, &best),
        observed_curve,
        fitted_curve: times.into_iter().zip(fitted).collect(),
    }
}

/// `coordinates` with coordinate `i` replaced by `v`.
fn replaced(coordinates: &[f64], i: usize, v: f64) -> Vec<f64> {
    let mut c = coordinates.to_vec();
    c[i] = v;
    c
}
