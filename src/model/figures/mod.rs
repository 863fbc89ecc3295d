//! The figures MODEL.md section 4 defines, computed for one replication from its tally.

use rayon::prelude::*;

use crate::scenario::Tolerance;
use crate::stats::values_at_ranks;
use crate::time::{SimDuration, SimTime};

use super::tally::{change, key_kind, key_segment, key_time};

/// One release's figures in one replication; `None` means censored (it did not happen
/// before the horizon), or for `left_behind` also that no drop date is set.
#[derive(Clone, Debug, PartialEq)]
pub struct ReleaseFigures {
    /// When the Marketplace published the release, after its deploy.
    pub published_after: Option<SimDuration>,
    /// Per threshold: the first time after the deploy at which the share of active
    /// instances on this release's version or later reached it.
    pub time_to_share: Box<[Option<SimDuration>]>,
    /// The same by weight (seats, revenue); empty when the scenario is unweighted.
    pub time_to_weighted_share: Box<[Option<SimDuration>]>,
    /// The first time after the deploy at which at most `tolerance` of active instances
    /// are older than this release.
    pub coexistence: Option<SimDuration>,
    /// Instances older than this release when the vendor drops support.
    pub left_behind: Option<u64>,
    /// Active instances still older than this release at the horizon: what a vendor who
    /// stopped serving old versions then would break. Always observed, so a comparison
    /// of two policies whose windows never end still has a figure to compare.
    pub left_over: u64,
    /// Active instances at the horizon (the denominator of the left-over share).
    pub active_at_horizon: u64,
}

/// One of a release's per-replication figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Figure {
    /// [`ReleaseFigures::published_after`].
    PublishedAfter,
    /// Time to the threshold share with this index in `report.thresholds`.
    TimeToShare(usize),
    /// [`ReleaseFigures::coexistence`].
    Coexistence,
    /// [`ReleaseFigures::left_behind`].
    LeftBehind,
    /// [`ReleaseFigures::left_over`], a count.
    LeftOver,
    /// [`ReleaseFigures::left_over`] over [`ReleaseFigures::active_at_horizon`].
    LeftOverShare,
}

/// A figure name that does not name a figure of the scenario.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{text:?}: {kind}")]
pub struct FigureParseError {
    /// The name as given.
    pub text: String,
    /// What is wrong with it.
    pub kind: FigureProblem,
}

/// What is wrong with a figure name.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FigureProblem {
    /// `@K` with a K that is not a whole number.
    #[error("the release after @ must be an index")]
    ReleaseNotAnIndex,
    /// `@K` past the scenario's releases.
    #[error("release {release} does not exist (there are {releases})")]
    NoSuchRelease {
        /// The index given.
        release: usize,
        /// How many releases the scenario has.
        releases: usize,
    },
    #[error(
        "not a figure; allowed: coexistence, share:P, published, left_behind, left_over, left_over_share, each optionally @K"
    )]
    /// No figure of that name.
    Unknown,
    /// `share:P` with a P that is not one of the report's thresholds.
    #[error("{share} is not one of report.thresholds {thresholds:?}")]
    NotAThreshold {
        /// The share given.
        share: f64,
        /// The thresholds the report has.
        thresholds: Vec<f64>,
    },
}

/// A figure of one release, named on the command line as `coexistence`, `share:0.9`,
/// `published` or `left_behind`, optionally followed by `@K` for release K (default:
/// the last release).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FigureRef {
    /// The release index.
    pub release: usize,
    /// Which of its figures.
    pub figure: Figure,
}

impl FigureRef {
    /// The coexistence window of the last release: the default headline figure.
    pub fn last_coexistence(releases: usize) -> Self {
        FigureRef {
            release: releases - 1,
            figure: Figure::Coexistence,
        }
    }

    /// Parses a figure name against the scenario's releases and thresholds.
    pub fn parse(
        text: &str,
        thresholds: &[f64],
        releases: usize,
    ) -> Result<FigureRef, FigureParseError> {
        let err = |kind| FigureParseError {
            text: text.to_string(),
            kind,
        };
        let (name, release) = match text.split_once('@') {
            Some((n, k)) => (
                n,
                k.parse::<usize>()
                    .map_err(|_| err(FigureProblem::ReleaseNotAnIndex))?,
            ),
            None => (text, releases - 1),
        };
        if release >= releases {
            return Err(err(FigureProblem::NoSuchRelease { release, releases }));
        }
        let figure = match name {
            "coexistence" => Figure::Coexistence,
            "published" => Figure::PublishedAfter,
            "left_behind" => Figure::LeftBehind,
            "left_over" => Figure::LeftOver,
            "left_over_share" => Figure::LeftOverShare,
            _ => {
                let p: f64 = name
                    .strip_prefix("share:")
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| err(FigureProblem::Unknown))?;
                let i = thresholds
                    .iter()
                    .position(|&t| (t - p).abs() < 1e-12)
                    .ok_or_else(|| {
                        err(FigureProblem::NotAThreshold {
                            share: p,
                            thresholds: thresholds.to_vec(),
                        })
                    })?;
                Figure::TimeToShare(i)
            }
        };
        Ok(FigureRef { release, figure })
    }

    /// The figure's canonical name, as the reports print it.
    pub fn name(&self, thresholds: &[f64]) -> String {
        let name = match self.figure {
            Figure::PublishedAfter => "published".to_string(),
            Figure::TimeToShare(i) => format!("share:{}", thresholds[i]),
            Figure::Coexistence => "coexistence".to_string(),
            Figure::LeftBehind => "left_behind".to_string(),
            Figure::LeftOver => "left_over".to_string(),
            Figure::LeftOverShare => "left_over_share".to_string(),
        };
        format!("{name}@{}", self.release)
    }
}

impl ReleaseFigures {
    /// The figure in hours (a count for `LeftBehind` and `LeftOver`, a share for
    /// `LeftOverShare`); `None` when censored.
    pub fn get(&self, figure: Figure) -> Option<f64> {
        match figure {
            Figure::PublishedAfter => self.published_after.map(SimDuration::as_hours),
            Figure::TimeToShare(i) => self.time_to_share[i].map(SimDuration::as_hours),
            Figure::Coexistence => self.coexistence.map(SimDuration::as_hours),
            Figure::LeftBehind => self.left_behind.map(|n| n as f64),
            Figure::LeftOver => Some(self.left_over as f64),
            Figure::LeftOverShare => Some(self.left_over_share()),
        }
    }

    /// The share of active instances at the horizon still older than the release (0
    /// when none is active).
    pub fn left_over_share(&self) -> f64 {
        if self.active_at_horizon == 0 {
            0.0
        } else {
            self.left_over as f64 / self.active_at_horizon as f64
        }
    }
}

/// What to measure for one release.
pub(super) struct Measure<'a> {
    pub deployed: SimTime,
    pub published: SimTime,
    pub drop_support_at: Option<SimTime>,
    pub horizon: SimTime,
    pub thresholds: &'a [f64],
    pub tolerance: Tolerance,
    /// Weight units per segment (empty: unweighted).
    pub weights: &'a [i64],
}

/// Whether `new` out of `total` reaches the share `p` (with a little room for rounding).
fn reaches(new: f64, total: f64, p: f64) -> bool {
    new >= p * total - 1e-9 * total.max(1.0)
}

/// A release's figures from its count changes (`parts`: the keys as a replication's
/// chunks left them, reordered or joined in place); `active_at_start` and
/// `old_at_start` are per segment.
///
/// When the only changes are instances reaching the release (no installs or uninstalls
/// after the start, no weights), the old count falls by one per key, so each figure is
/// the time of the key of a known rank: found by selection ([`measure_by_rank`]), in
/// linear time and without joining the parts. Otherwise the parts are joined, sorted and
/// swept ([`measure_by_sweep`]). Both give the same figures (a property test compares
/// them).
pub(super) fn measure(
    m: &Measure<'_>,
    parts: &mut [Vec<u64>],
    active_at_start: &[u64],
    old_at_start: &[u64],
) -> ReleaseFigures {
    let only_reaches = || {
        parts
            .par_iter()
            .all(|p| p.iter().all(|&k| key_kind(k) == change::REACH))
    };
    if m.weights.is_empty() && only_reaches() {
        measure_by_rank(
            m,
            parts,
            active_at_start.iter().sum::<u64>() as i64,
            old_at_start.iter().sum::<u64>() as i64,
        )
    } else {
        measure_by_sweep(m, &mut join(parts), active_at_start, old_at_start)
    }
}

/// The parts as one vector: the only one as it is, or all of them in order, each freed
/// once copied.
fn join(parts: &mut [Vec<u64>]) -> Vec<u64> {
    if let [only] = parts {
        std::mem::take(only)
    } else {
        let mut joined = Vec::with_capacity(parts.iter().map(Vec::len).sum());
        for part in parts {
            joined.extend_from_slice(&std::mem::take(part));
        }
        joined
    }
}

/// Whether `active - old` out of `active` reaches each threshold share `p`.
fn share_reached(active: i64, old: i64, p: f64) -> bool {
    reaches((active - old) as f64, active as f64, p)
}

/// [`measure`] when every key is an instance reaching the release and nothing is
/// weighted: `active` is constant and the old count after the `c` earliest keys is
/// `old_at_start - c`. A figure first holds after the `c*`-th earliest key, for the
/// least `c*` at which its condition holds (conditions only get easier as `c` grows), so
/// it is that key's time; no key needs sorting, only selecting.
fn measure_by_rank(
    m: &Measure<'_>,
    parts: &mut [Vec<u64>],
    active: i64,
    old_at_start: i64,
) -> ReleaseFigures {
    let total: usize = parts.iter().map(Vec::len).sum();
    let by_deploy = keys_until(parts, m.deployed);
    // The least count of reached instances at which `holds(old)` is true, if any.
    let least = |holds: &dyn Fn(i64) -> bool| -> Option<usize> {
        let (mut lo, mut hi) = (by_deploy, total + 1);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if holds(old_at_start - mid as i64) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        (lo <= total).then_some(lo)
    };
    let needed: Vec<Option<usize>> = m
        .thresholds
        .iter()
        .map(|&p| least(&|old| share_reached(active, old, p)))
        .chain([least(&|old| m.tolerance.allows(active, old))])
        .collect();
    // The time of the `c`-th earliest key (`c` >= 1).
    let mut ranks: Vec<usize> = needed
        .iter()
        .flatten()
        .copied()
        .filter(|&c| c > by_deploy)
        .collect();
    ranks.sort_unstable();
    ranks.dedup();
    let time_of_rank: Vec<(usize, SimTime)> = match parts {
        // One part: select ranks in increasing order in place, each selection
        // partitioning only what lies above the last.
        [keys] => {
            let mut below = 0;
            ranks
                .iter()
                .map(|&c| {
                    let (_, nth, _) = keys[below..].select_nth_unstable(c - 1 - below);
                    below = c;
                    (c, key_time(*nth))
                })
                .collect()
        }
        // Several: select across them, without joining them.
        _ => {
            let slices: Vec<&[u64]> = parts.iter().map(Vec::as_slice).collect();
            let zero_based: Vec<usize> = ranks.iter().map(|c| c - 1).collect();
            ranks
                .iter()
                .zip(values_at_ranks(&slices, &zero_based))
                .map(|(&c, k)| (c, key_time(k)))
                .collect()
        }
    };
    // Ranks reached by the deploy hold at the deploy; every later one was selected.
    let since = |c: Option<usize>| {
        c.map(|c| {
            time_of_rank
                .iter()
                .find(|(r, _)| *r == c)
                .map_or(SimDuration::ZERO, |&(_, t)| t.since(m.deployed))
        })
    };
    let drop_at = m.drop_support_at.filter(|&t| t <= m.horizon);
    let (share, coexistence) = needed.split_at(m.thresholds.len());
    ReleaseFigures {
        published_after: published_after(m),
        time_to_share: share.iter().map(|&c| since(c)).collect(),
        time_to_weighted_share: Box::default(),
        coexistence: since(coexistence[0]),
        left_behind: drop_at.map(|d| (old_at_start - keys_until(parts, d) as i64) as u64),
        // Only reach keys here, and the tally records none after the horizon: every
        // key counts, no pass over them is needed.
        left_over: (old_at_start - total as i64) as u64,
        active_at_horizon: active as u64,
    }
}

/// How many keys of `parts` are at or before `t`.
fn keys_until(parts: &[Vec<u64>], t: SimTime) -> usize {
    parts
        .par_iter()
        .map(|p| p.iter().filter(|&&k| key_time(k) <= t).count())
        .sum()
}

/// When the Marketplace published the release after its deploy (censored past the horizon).
fn published_after(m: &Measure<'_>) -> Option<SimDuration> {
    (m.published <= m.horizon).then(|| m.published.since(m.deployed))
}

/// [`measure`] in general: sorts the keys (on every thread: plain integers, so the order
/// is a sequential sort's) and sweeps them in time order, looking at the counts after
/// every change at each instant from the deploy on.
fn measure_by_sweep(
    m: &Measure<'_>,
    keys: &mut [u64],
    active_at_start: &[u64],
    old_at_start: &[u64],
) -> ReleaseFigures {
    keys.par_sort_unstable();
    let (mut active, mut old) = (
        active_at_start.iter().sum::<u64>() as i64,
        old_at_start.iter().sum::<u64>() as i64,
    );
    let weighted = !m.weights.is_empty();
    let weigh = |counts: &[u64]| -> i128 {
        counts
            .iter()
            .zip(m.weights)
            .map(|(&c, &w)| i128::from(c) * i128::from(w))
            .sum()
    };
    let (mut active_w, mut old_w) = (weigh(active_at_start), weigh(old_at_start));
    let mut time_to_share = vec![None; m.thresholds.len()];
    let mut time_to_weighted_share = vec![None; if weighted { m.thresholds.len() } else { 0 }];
    let mut coexistence = None;
    let drop_at = m.drop_support_at.filter(|&t| t <= m.horizon);
    let mut left_behind = None;

    let mut evaluate = |t: SimTime, active: i64, old: i64, active_w: i128, old_w: i128| {
        let since = t.since(m.deployed);
        for (slot, &p) in time_to_share.iter_mut().zip(m.thresholds) {
            if slot.is_none() && share_reached(active, old, p) {
                *slot = Some(since);
            }
        }
        for (slot, &p) in time_to_weighted_share.iter_mut().zip(m.thresholds) {
            if slot.is_none() && reaches((active_w - old_w) as f64, active_w as f64, p) {
                *slot = Some(since);
            }
        }
        if coexistence.is_none() && m.tolerance.allows(active, old) {
            coexistence = Some(since);
        }
        time_to_share
            .iter()
            .chain(&time_to_weighted_share)
            .all(Option::is_some)
            && coexistence.is_some()
    };

    let mut i = 0;
    let mut done = false;
    let mut at = m.deployed;
    while i <= keys.len() {
        // Apply every change up to `at`, then look at the state.
        while i < keys.len() && key_time(keys[i]) <= at {
            if left_behind.is_none() && drop_at.is_some_and(|d| key_time(keys[i]) > d) {
                left_behind = Some(old as u64);
            }
            let (da, dold) = change_counts(key_kind(keys[i]));
            active += da;
            old += dold;
            if weighted {
                let w = i128::from(m.weights[key_segment(keys[i])]);
                active_w += i128::from(da) * w;
                old_w += i128::from(dold) * w;
            }
            i += 1;
        }
        if !done {
            done = evaluate(at, active, old, active_w, old_w);
        }
        if (done && (drop_at.is_none() || left_behind.is_some())) || i == keys.len() {
            break;
        }
        at = key_time(keys[i]);
    }
    if left_behind.is_none() && drop_at.is_some() {
        left_behind = Some(old as u64);
    }
    let (active_at_horizon, left_over) = counts_at(keys, m.horizon, active_at_start, old_at_start);
    ReleaseFigures {
        published_after: published_after(m),
        time_to_share: time_to_share.into(),
        time_to_weighted_share: time_to_weighted_share.into(),
        coexistence,
        left_behind,
        left_over,
        active_at_horizon,
    }
}

/// The active and old counts after every change up to `t`. The sweep above may stop
/// early, once every figure is known; the counts at the horizon need every change, and
/// their order does not matter for a sum.
fn counts_at(
    keys: &[u64],
    t: SimTime,
    active_at_start: &[u64],
    old_at_start: &[u64],
) -> (u64, u64) {
    let (mut active, mut old) = (
        active_at_start.iter().sum::<u64>() as i64,
        old_at_start.iter().sum::<u64>() as i64,
    );
    for &k in keys.iter().filter(|&&k| key_time(k) <= t) {
        let (da, dold) = change_counts(key_kind(k));
        active += da;
        old += dold;
    }
    (active.max(0) as u64, old.max(0) as u64)
}

/// How a change moves the (active, old) counts.
fn change_counts(kind: u64) -> (i64, i64) {
    match kind {
        change::INSTALL_OLD => (1, 1),
        change::INSTALL_NEW => (1, 0),
        change::REACH => (0, -1),
        change::UNINSTALL_OLD => (-1, -1),
        _ => (-1, 0),
    }
}

#[cfg(test)]
mod tests;
