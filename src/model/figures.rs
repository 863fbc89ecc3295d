//! The figures MODEL.md section 4 defines, computed for one replication from its tally.

use rayon::slice::ParallelSliceMut;

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
}

/// A figure name that does not name a figure of the scenario.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{text:?}: {kind}")]
pub struct FigureParseError {
    pub text: String,
    pub kind: FigureProblem,
}

/// What is wrong with a figure name.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum FigureProblem {
    #[error("the release after @ must be an index")]
    ReleaseNotAnIndex,
    #[error("release {release} does not exist (there are {releases})")]
    NoSuchRelease { release: usize, releases: usize },
    #[error(
        "not a figure; allowed: coexistence, share:P, published, left_behind, each optionally @K"
    )]
    Unknown,
    #[error("{share} is not one of report.thresholds {thresholds:?}")]
    NotAThreshold { share: f64, thresholds: Vec<f64> },
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
        };
        format!("{name}@{}", self.release)
    }
}

impl ReleaseFigures {
    /// The figure in hours (a count for `LeftBehind`); `None` when censored.
    pub fn get(&self, figure: Figure) -> Option<f64> {
        match figure {
            Figure::PublishedAfter => self.published_after.map(SimDuration::as_hours),
            Figure::TimeToShare(i) => self.time_to_share[i].map(SimDuration::as_hours),
            Figure::Coexistence => self.coexistence.map(SimDuration::as_hours),
            Figure::LeftBehind => self.left_behind.map(|n| n as f64),
        }
    }
}

/// What to measure for one release.
pub struct Measure<'a> {
    pub deployed: SimTime,
    pub published: SimTime,
    pub drop_support_at: Option<SimTime>,
    pub horizon: SimTime,
    pub thresholds: &'a [f64],
    pub tolerance: f64,
    /// Weight units per segment (empty: unweighted).
    pub weights: &'a [i64],
}

/// Whether `new` out of `total` reaches the share `p` (with a little room for rounding).
fn reaches(new: f64, total: f64, p: f64) -> bool {
    new >= p * total - 1e-9 * total.max(1.0)
}

/// Sweeps a release's count changes in time order. `keys` are sorted in place, on every
/// thread (plain integers, so the order is the same as a sequential sort's: one large
/// replication's sort was its longest serial step); `active_at_start` and
/// `old_at_start` are per segment.
pub fn measure(
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
            .map(|(&c, &w)| c as i128 * w as i128)
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
            if slot.is_none() && reaches((active - old) as f64, active as f64, p) {
                *slot = Some(since);
            }
        }
        for (slot, &p) in time_to_weighted_share.iter_mut().zip(m.thresholds) {
            if slot.is_none() && reaches((active_w - old_w) as f64, active_w as f64, p) {
                *slot = Some(since);
            }
        }
        if coexistence.is_none() && old <= (m.tolerance * active as f64 + 1e-9).floor() as i64 {
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
            let (da, dold) = match key_kind(keys[i]) {
                change::INSTALL_OLD => (1, 1),
                change::INSTALL_NEW => (1, 0),
                change::REACH => (0, -1),
                change::UNINSTALL_OLD => (-1, -1),
                _ => (-1, 0),
            };
            active += da;
            old += dold;
            if weighted {
                let w = m.weights[key_segment(keys[i])] as i128;
                active_w += da as i128 * w;
                old_w += dold as i128 * w;
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
    ReleaseFigures {
        published_after: (m.published <= m.horizon).then(|| m.published.since(m.deployed)),
        time_to_share: time_to_share.into(),
        time_to_weighted_share: time_to_weighted_share.into(),
        coexistence,
        left_behind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(hours: i64, kind: u64) -> u64 {
        crate::model::tally::key(SimTime::from_millis(hours * 3_600_000), 0, kind)
    }

    fn measure_hours(keys: &mut [u64], active: u64, old: u64, drop: Option<i64>) -> ReleaseFigures {
        let m = Measure {
            deployed: SimTime::from_millis(10 * 3_600_000),
            published: SimTime::from_millis(12 * 3_600_000),
            drop_support_at: drop.map(|h| SimTime::from_millis(h * 3_600_000)),
            horizon: SimTime::from_millis(100 * 3_600_000),
            thresholds: &[0.5, 1.0],
            tolerance: 0.0,
            weights: &[],
        };
        measure(&m, keys, &[active], &[old])
    }

    #[test]
    fn first_crossings_after_the_deploy() {
        // 4 instances, all old; they reach at 20h, 30h, 40h; the fourth never does.
        let mut keys = vec![
            k(40, change::REACH),
            k(20, change::REACH),
            k(30, change::REACH),
        ];
        let f = measure_hours(&mut keys, 4, 4, Some(35));
        assert_eq!(f.published_after, Some(SimDuration::from_hours(2)));
        assert_eq!(f.time_to_share[0], Some(SimDuration::from_hours(20))); // 2/4 at 30h
        assert_eq!(f.time_to_share[1], None);
        assert_eq!(f.coexistence, None);
        assert_eq!(f.left_behind, Some(2)); // at 35h: two still old
    }

    #[test]
    fn uninstalling_the_last_old_instance_ends_coexistence() {
        let mut keys = vec![k(20, change::REACH), k(25, change::UNINSTALL_OLD)];
        let f = measure_hours(&mut keys, 2, 2, None);
        assert_eq!(f.coexistence, Some(SimDuration::from_hours(15)));
        assert_eq!(f.time_to_share[1], Some(SimDuration::from_hours(15)));
        assert_eq!(f.left_behind, None);
    }

    #[test]
    fn new_old_installs_can_reopen_the_gap() {
        // One instance reaches at 20h; an old-version install arrives at 22h and reaches at 50h.
        let mut keys = vec![
            k(20, change::REACH),
            k(22, change::INSTALL_OLD),
            k(50, change::REACH),
        ];
        let f = measure_hours(&mut keys, 1, 1, Some(30));
        assert_eq!(f.coexistence, Some(SimDuration::from_hours(10)));
        assert_eq!(f.left_behind, Some(1));
    }

    #[test]
    fn state_at_the_deploy_counts() {
        // Nothing old at the deploy: every figure is zero.
        let mut keys = vec![];
        let f = measure_hours(&mut keys, 3, 0, None);
        assert_eq!(f.coexistence, Some(SimDuration::ZERO));
        assert!(
            f.time_to_share
                .iter()
                .all(|t| *t == Some(SimDuration::ZERO))
        );
    }
}
