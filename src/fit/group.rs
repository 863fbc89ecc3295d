//! The fit of one group (a segment, or the whole field): each family under each way of
//! counting the admins' delay (wall-clock time, given working hours, or the hours the
//! data choose), the best by AIC, its intervals, goodness of fit and parameter draws.

use rayon::prelude::*;

use super::clock::Clocks;
use super::ensemble::averaged_draws;
use super::estimate::{Estimate, approve_interval, hessian, intervals, maximise, refit};
use super::family::Family;
use super::goodness::GroupData;
use super::likelihood::{GroupLikelihood, Joint, LogLikelihood};
use super::platform::PlatformPart;
use super::{
    CalendarChoice, CalendarComparison, Contribution, Estimated, FamilyChoice, FitSettings,
    POOR_FIT_P, PastRelease, SegmentFit,
};
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

/// One way of counting the admins' delay, with each past release's likelihood under it
/// and every family's fit.
struct Counting {
    hours: Option<WorkingHours>,
    clocks: Vec<Clocks>,
    parts: Vec<GroupLikelihood>,
    fits: Vec<Estimate>,
}

impl Counting {
    fn best(&self) -> &Estimate {
        self.fits
            .iter()
            .min_by(|a, b| a.aic().total_cmp(&b.aic()))
            .expect("at least one family")
    }
}

pub(super) fn fit_group(
    context: &Context<'_>,
    group_index: u64,
    name: String,
    segment: Option<usize>,
    datas: &[(usize, GroupData)],
) -> SegmentFit {
    let Context {
        platforms,
        past,
        settings,
        ..
    } = context;
    // The first release's data draw the curves and the goodness of fit.
    let (first, data) = (&datas[0], &datas[0].1);
    let platform = &platforms[first.0];
    let observed_curve = data.observed_curve();
    let start = starting_point(&observed_curve, platform);
    let families: Vec<Family> = match settings.family {
        FamilyChoice::One(f) => vec![f],
        FamilyChoice::Auto => Family::SINGLE.to_vec(),
    };
    let count = |hours: Option<WorkingHours>, families: &[Family]| {
        let clocks: Vec<Clocks> = datas
            .iter()
            .map(|(k, d)| {
                let release = past[*k].release;
                let until = d.until() + CLOCK_MARGIN_HOURS;
                Clocks::of(context.scenario, release, segment, hours.as_ref(), until)
            })
            .collect();
        let parts: Vec<GroupLikelihood> = datas
            .iter()
            .zip(&clocks)
            .map(|((k, d), c)| likelihood_of(&platforms[*k], segment, d, c.clone()))
            .collect();
        let joint = Joint(parts.iter().collect());
        let fits = families
            .par_iter()
            .map(|&f| best_of(&joint, f, start))
            .collect();
        Counting {
            hours,
            clocks,
            parts,
            fits,
        }
    };
    let (mut chosen, calendar) = match &settings.calendar {
        CalendarChoice::Plain => (count(None, &families), None),
        CalendarChoice::Given(hours) => (count(Some(hours.clone()), &families), None),
        CalendarChoice::Auto => {
            let plain = count(None, &families);
            let family = plain.best().family;
            // The hours that explain the data best, with the plain fit's best family...
            let hours = best_hours(|h| {
                let parts = count(Some(h), &[]).parts;
                maximise(&Joint(parts.iter().collect()), family, start.0, start.1).log_likelihood
            });
            // ...then every family with them, and the data choose by AIC, the hours
            // counting as parameters.
            let working = count(Some(hours), &families);
            let comparison = CalendarComparison {
                plain_aic: plain.best().aic(),
                calendar_aic: working.best().aic() + 2.0 * CALENDAR_PARAMETERS,
                hours: working.hours.clone().expect("hours were tried"),
            };
            if comparison.calendar_aic < comparison.plain_aic {
                (working, Some(comparison))
            } else {
                (plain, Some(comparison))
            }
        }
    };
    let parts = &chosen.parts;
    let joint = Joint(parts.iter().collect());
    let group = &parts[0];
    // The distance to the observed curve and its bootstrap p-value. Interval-censored or
    // truncated data cannot be simulated with their own sighting schedule: no p-value.
    let judge = |best: &Estimate| {
        let (approve, law) = (best.approve(), best.law());
        let distance = data.distance(group, approve, &law);
        let exact = datas.iter().all(|(_, d)| d.is_exact());
        let p_value = (settings.bootstrap > 0 && exact).then(|| {
            let exceed = (0..u64::from(settings.bootstrap))
                .into_par_iter()
                .filter(|&b| {
                    // Every release's data simulated (each its own stream), refitted
                    // jointly, and the first one's distance compared.
                    let samples: Vec<GroupData> = datas
                        .iter()
                        .zip(parts)
                        .enumerate()
                        .map(|(k, ((_, d), g))| {
                            let replicate = b * datas.len() as u64 + k as u64;
                            d.simulate(g, approve, &law, settings.seed, replicate)
                        })
                        .collect();
                    let refit_parts: Vec<GroupLikelihood> = samples
                        .iter()
                        .zip(datas)
                        .zip(&chosen.clocks)
                        .map(|((s, (k, _)), c)| {
                            likelihood_of(&platforms[*k], segment, s, c.clone())
                        })
                        .collect();
                    let refit_joint = Joint(refit_parts.iter().collect());
                    let refit = refit(&refit_joint, best.family, best.coordinates.clone());
                    samples[0].distance(&refit_parts[0], refit.approve(), &refit.law()) >= distance
                })
                .count();
            (1 + exceed) as f64 / (f64::from(settings.bootstrap) + 1.0)
        });
        (distance, p_value)
    };
    let mut best = chosen.best().clone();
    let (mut distance, mut p_value) = judge(&best);
    // No single family describes the data: try two speeds of admins (a mixture), which
    // the data then choose or not by AIC.
    if settings.family == FamilyChoice::Auto && p_value.is_some_and(|p| p < POOR_FIT_P) {
        chosen.fits.push(best_of(&joint, Family::Mixture, start));
        let lowest = chosen.best().clone();
        if lowest.family == Family::Mixture {
            best = lowest;
            (distance, p_value) = judge(&best);
        }
    }
    let fits = &chosen.fits;
    let candidates: Vec<(Family, f64)> = fits.iter().map(|e| (e.family, e.aic())).collect();
    let ci = intervals(&joint, &best);
    let (draws, family_weights, effective_draws) =
        averaged_draws(&joint, fits, settings.draws, settings.seed, group_index);
    let contributions = if datas.len() > 1 {
        let information: Vec<[f64; 2]> = parts
            .iter()
            .map(|g| {
                let h = hessian(g, &best);
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
        datas
            .iter()
            .zip(&information)
            .map(|((k, d), info)| {
                let (instances, updated) = d.counts();
                Contribution {
                    release: past[*k].release,
                    instances,
                    updated,
                    information: [info[0] / total(0), info[1] / total(1)],
                }
            })
            .collect()
    } else {
        Vec::new()
    };

    let (approve, law) = (best.approve(), best.law());
    let natural = |i: usize, c: Option<f64>| {
        c.map(|v| best.family.law(&with(&best.coordinates[1..], i, v)).params[i])
    };
    let parameters = best
        .family
        .parameter_names()
        .iter()
        .enumerate()
        .map(|(i, &name)| Estimated {
            name,
            estimate: law.params[i],
            ci95: (natural(i, ci[i + 1].0), natural(i, ci[i + 1].1)),
        })
        .collect();
    let (lo, hi) = approve_interval(ci[0]);
    let until = data.until();
    let times: Vec<f64> = (0..=200).map(|i| until * f64::from(i) / 200.0).collect();
    let fitted = group.fitted_curve(approve, &law, &times);
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
        parameters,
        log_likelihood: best.log_likelihood,
        aic: best.aic(),
        distance,
        p_value,
        candidates,
        family_weights,
        draws,
        effective_draws,
        contributions,
        observed_curve,
        fitted_curve: times.into_iter().zip(fitted).collect(),
    }
}

/// `coordinates` with coordinate `i` replaced by `v`.
fn with(coordinates: &[f64], i: usize, v: f64) -> Vec<f64> {
    let mut c = coordinates.to_vec();
    c[i] = v;
    c
}
