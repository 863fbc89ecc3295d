//! The figures MODEL.md section 4 defines, computed for one replication from its tally.

use crate::time::{SimDuration, SimTime};

use super::tally::change;

/// One release's figures in one replication; `None` means censored (it did not happen
/// before the horizon), or for `left_behind` also that no drop date is set.
#[derive(Clone, Debug, PartialEq)]
pub struct ReleaseFigures {
    pub published_after: Option<SimDuration>,
    /// Per threshold: the first time after the deploy at which the share of active
    /// instances on this release's version or later reached it.
    pub time_to_share: Vec<Option<SimDuration>>,
    /// The first time after the deploy at which at most `tolerance` of active instances
    /// are older than this release.
    pub coexistence: Option<SimDuration>,
    /// Instances older than this release when the vendor drops support.
    pub left_behind: Option<u64>,
}

/// One of a release's per-replication figures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Figure {
    PublishedAfter,
    /// Time to the threshold share with this index in `report.thresholds`.
    TimeToShare(usize),
    Coexistence,
    LeftBehind,
}

/// A figure of one release, named on the command line as `coexistence`, `share:0.9`,
/// `published` or `left_behind`, optionally followed by `@K` for release K (default:
/// the last release).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FigureRef {
    pub release: usize,
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

    pub fn parse(text: &str, thresholds: &[f64], releases: usize) -> Result<FigureRef, String> {
        let (name, release) = match text.split_once('@') {
            Some((n, k)) => (
                n,
                k.parse::<usize>()
                    .map_err(|_| format!("{text:?}: release after @ must be an index"))?,
            ),
            None => (text, releases - 1),
        };
        if release >= releases {
            return Err(format!(
                "{text:?}: release {release} does not exist (there are {releases})"
            ));
        }
        let figure = match name {
            "coexistence" => Figure::Coexistence,
            "published" => Figure::PublishedAfter,
            "left_behind" => Figure::LeftBehind,
            _ => {
                let p: f64 = name
                    .strip_prefix("share:")
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| format!("{text:?} is not a figure; allowed: coexistence, share:P, published, left_behind, each optionally @K"))?;
                let i = thresholds
                    .iter()
                    .position(|&t| (t - p).abs() < 1e-12)
                    .ok_or_else(|| {
                        format!("{text:?}: {p} is not one of report.thresholds {thresholds:?}")
                    })?;
                Figure::TimeToShare(i)
            }
        };
        Ok(FigureRef { release, figure })
    }

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
}

/// Sweeps a release's count changes in time order. `keys` are sorted in place.
pub fn measure(
    m: &Measure<'_>,
    keys: &mut [u64],
    active_at_start: u64,
    old_at_start: u64,
) -> ReleaseFigures {
    keys.sort_unstable();
    let time = |k: u64| SimTime::from_millis((k >> change::BITS) as i64);
    let (mut active, mut old) = (active_at_start as i64, old_at_start as i64);
    let mut time_to_share = vec![None; m.thresholds.len()];
    let mut coexistence = None;
    let drop_at = m.drop_support_at.filter(|&t| t <= m.horizon);
    let mut left_behind = None;

    let mut evaluate = |t: SimTime, active: i64, old: i64| {
        let since = t.since(m.deployed);
        let new = active - old;
        for (slot, &p) in time_to_share.iter_mut().zip(m.thresholds) {
            if slot.is_none() && new >= (p * active as f64 - 1e-9).ceil() as i64 {
                *slot = Some(since);
            }
        }
        if coexistence.is_none() && old <= (m.tolerance * active as f64 + 1e-9).floor() as i64 {
            coexistence = Some(since);
        }
        time_to_share.iter().all(Option::is_some) && coexistence.is_some()
    };

    let mut i = 0;
    let mut done = false;
    let mut at = m.deployed;
    while i <= keys.len() {
        // Apply every change up to `at`, then look at the state.
        while i < keys.len() && time(keys[i]) <= at {
            if left_behind.is_none() && drop_at.is_some_and(|d| time(keys[i]) > d) {
                left_behind = Some(old as u64);
            }
            let kind = keys[i] & ((1 << change::BITS) - 1);
            let (da, dold) = match kind {
                change::INSTALL_OLD => (1, 1),
                change::INSTALL_NEW => (1, 0),
                change::REACH => (0, -1),
                change::UNINSTALL_OLD => (-1, -1),
                _ => (-1, 0),
            };
            active += da;
            old += dold;
            i += 1;
        }
        if !done {
            done = evaluate(at, active, old);
        }
        if (done && (drop_at.is_none() || left_behind.is_some())) || i == keys.len() {
            break;
        }
        at = time(keys[i]);
    }
    if left_behind.is_none() && drop_at.is_some() {
        left_behind = Some(old as u64);
    }
    ReleaseFigures {
        published_after: (m.published <= m.horizon).then(|| m.published.since(m.deployed)),
        time_to_share,
        coexistence,
        left_behind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn k(hours: i64, kind: u64) -> u64 {
        ((hours * 3_600_000) as u64) << change::BITS | kind
    }

    fn measure_hours(keys: &mut [u64], active: u64, old: u64, drop: Option<i64>) -> ReleaseFigures {
        let m = Measure {
            deployed: SimTime::from_millis(10 * 3_600_000),
            published: SimTime::from_millis(12 * 3_600_000),
            drop_support_at: drop.map(|h| SimTime::from_millis(h * 3_600_000)),
            horizon: SimTime::from_millis(100 * 3_600_000),
            thresholds: &[0.5, 1.0],
            tolerance: 0.0,
        };
        measure(&m, keys, active, old)
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
