//! The admins' clock: how much working time passes between two moments after a deploy.
//!
//! An admin with working hours counts the delay in working time from the notice, so an
//! update at wall time `t` after a notice at `s` needs a delay of at most `K(t) - K(s)`,
//! with `K(x)` the working hours from the deploy to `x` (in the admin's zone, holidays
//! skipped). `K` is piecewise linear: slope 1 inside working hours, flat outside. A
//! plain (wall-clock) delay is the clock whose one span never ends, `K(x) = x`. The
//! likelihood averages the delay's CDF over the uniform poll wait by splitting that
//! wait at the clock's breaks: on a working piece the average is a difference of the
//! CDF's integral `H`, on an idle piece the CDF at one point, so no quadrature is needed.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;

use crate::model::calendar::working_spans;
use crate::scenario::{Scenario, WorkingHours};

/// One piece of the poll-wait average of `G(K(t) - K(s))` over notice times `s`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) enum Term {
    /// Notices within working hours: `H(from) - H(to)` (working time left at the
    /// piece's start and end).
    Working {
        /// Working time from the piece's first notice to `t`.
        from: f64,
        /// Working time from its last notice to `t`.
        to: f64,
    },
    /// A whole poll wait within working time (always so on wall-clock time; also when
    /// `t` comes before the wait ends): `H(from) - H(from - poll)`, which one table
    /// precomputed per evaluation gives in one lookup instead of two.
    Wait {
        /// Working time from the wait's first notice to `t`.
        from: f64,
    },
    /// Notices outside working hours, all with the same working time to `t` ahead:
    /// `length * G(work)`.
    Idle {
        /// Hours of notices.
        length: f64,
        /// Working time from them to `t`.
        work: f64,
    },
}

/// Working periods in hours after the deploy, with the working time before each.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Clock {
    /// `(start, end)`, increasing and disjoint.
    spans: Vec<(f64, f64)>,
    /// Working hours before each span.
    before: Vec<f64>,
}

impl Clock {
    /// Wall-clock time: every hour counts.
    pub(super) fn wall() -> Clock {
        Clock::from_spans(vec![(0.0, f64::INFINITY)])
    }

    fn from_spans(spans: Vec<(f64, f64)>) -> Clock {
        let before = spans
            .iter()
            .scan(0.0, |sum, &(a, b)| {
                let here = *sum;
                *sum += b - a;
                Some(here)
            })
            .collect();
        Clock { spans, before }
    }

    /// Working hours in `zone` from `deploy` to `until` hours after it.
    pub(super) fn working(
        deploy: DateTime<Utc>,
        hours: &WorkingHours,
        holidays: &[NaiveDate],
        zone: Tz,
        until: f64,
    ) -> Clock {
        let since = |t: DateTime<Utc>| (t - deploy).num_milliseconds() as f64 / 3_600_000.0;
        Clock::from_spans(
            working_spans(deploy, hours, holidays, zone)
                .map(|(open, close)| (since(open), since(close)))
                .take_while(|&(a, _)| a <= until)
                .collect(),
        )
    }

    /// `K(x)`: working hours from the deploy to `x` hours after it.
    pub(super) fn work_at(&self, x: f64) -> f64 {
        let k = self.spans.partition_point(|&(a, _)| a <= x);
        match k.checked_sub(1) {
            None => 0.0,
            Some(k) => {
                let (a, b) = self.spans[k];
                self.before[k] + (x.min(b) - a)
            }
        }
    }

    /// The wall time (hours after the deploy) at which `work` hours of working time have
    /// passed after a notice at `notice`; infinite beyond the clock's last span.
    pub(super) fn after(&self, notice: f64, work: f64) -> f64 {
        let target = self.work_at(notice) + work;
        self.spans
            .iter()
            .zip(&self.before)
            .find(|&(&(a, b), before)| before + (b - a) >= target)
            .map_or(f64::INFINITY, |(&(a, _), before)| {
                (a + (target - before)).max(notice)
            })
    }

    /// Appends the pieces of the average over notices `s` in `[first, first + poll)` of
    /// the working time left to `t` (only notices before `t` can lead to an update by
    /// then).
    pub(super) fn terms(&self, first: f64, poll: f64, t: f64, out: &mut Vec<Term>) {
        let last = (first + poll).min(t);
        let at_t = self.work_at(t);
        let mut s = first;
        let mut k = self.spans.partition_point(|&(_, b)| b <= s);
        while s < last {
            match self.spans.get(k) {
                Some(&(a, b)) if a <= s => {
                    let end = b.min(last);
                    let from = at_t - self.work_at(s);
                    out.push(if s == first && (end == first + poll || end == t) {
                        Term::Wait { from }
                    } else {
                        Term::Working {
                            from,
                            to: at_t - self.work_at(end),
                        }
                    });
                    s = end;
                    k += 1;
                }
                next => {
                    let end = next.map_or(last, |&(a, _)| a.min(last));
                    out.push(Term::Idle {
                        length: end - s,
                        work: at_t - self.work_at(s),
                    });
                    s = end;
                }
            }
        }
    }
}

/// The clocks an admin profile's notices meet in one group, each with its share of the
/// group's instances: one per time zone of each segment (holidays are the segment's).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Clocks(pub Vec<(f64, Clock)>);

impl Clocks {
    /// Wall-clock time for everyone.
    pub(super) fn wall() -> Clocks {
        Clocks(vec![(1.0, Clock::wall())])
    }

    /// The clocks of `segment`'s instances (every segment's, by share, when `None`) for
    /// admins keeping `hours`, after release `release`'s deploy, up to `until` hours.
    pub(super) fn of(
        scenario: &Scenario,
        release: usize,
        segment: Option<usize>,
        hours: Option<&WorkingHours>,
        until: f64,
    ) -> Clocks {
        let Some(hours) = hours else {
            return Clocks::wall();
        };
        let deploy = scenario.instant(scenario.releases[release].at);
        let segments = &scenario.population.segments;
        let chosen: Vec<(f64, usize)> = match segment {
            Some(g) => vec![(1.0, g)],
            None => segments.iter().map(|s| s.share).zip(0..).collect(),
        };
        Clocks(
            chosen
                .into_iter()
                .flat_map(|(share, g)| {
                    let s = &segments[g];
                    s.zones.iter().map(move |&(zone, zone_share)| {
                        (
                            share * zone_share,
                            Clock::working(deploy, hours, &s.holidays, zone, until),
                        )
                    })
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    fn office() -> WorkingHours {
        WorkingHours {
            days: [true, true, true, true, true, false, false],
            from: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
            to: NaiveTime::from_hms_opt(17, 0, 0).unwrap(),
        }
    }

    /// Friday 2026-03-06 12:00 UTC.
    fn friday_noon() -> DateTime<Utc> {
        "2026-03-06T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn working_time_counts_office_hours_only() {
        let c = Clock::working(friday_noon(), &office(), &[], Tz::UTC, 24.0 * 10.0);
        // Friday 12:00 to 17:00 is 5 h; the weekend adds nothing; Monday 09:00 is 69 h
        // after the deploy.
        assert_eq!(c.work_at(5.0), 5.0);
        assert_eq!(c.work_at(60.0), 5.0);
        assert_eq!(c.work_at(69.0 + 2.0), 7.0);
        // 7 h of work after the deploy ends on Monday 11:00; a notice on Saturday
        // needing 1 h is acted on Monday 10:00.
        assert_eq!(c.after(0.0, 7.0), 71.0);
        assert_eq!(c.after(30.0, 1.0), 70.0);
        assert_eq!(c.after(0.0, 1e6), f64::INFINITY);
        let wall = Clock::wall();
        assert_eq!(wall.work_at(33.5), 33.5);
        assert_eq!(wall.after(2.0, 3.0), 5.0);
    }

    #[test]
    fn the_wait_average_splits_at_the_clock_breaks() {
        let c = Clock::working(friday_noon(), &office(), &[], Tz::UTC, 24.0 * 10.0);
        // Notices over Friday 14:00 to Saturday 14:00, seen at Monday 12:00 (72 h).
        let mut terms = Vec::new();
        c.terms(2.0, 24.0, 72.0, &mut terms);
        assert_eq!(
            terms,
            vec![
                Term::Working { from: 6.0, to: 3.0 },
                Term::Idle {
                    length: 21.0,
                    work: 3.0
                }
            ]
        );
        // The average, against a fine midpoint rule over the wait, for a CDF G and its
        // integral H.
        let g = |x: f64| {
            if x <= 0.0 {
                0.0
            } else {
                1.0 - libm::exp(-x / 4.0)
            }
        };
        let h = |x: f64| {
            if x <= 0.0 {
                0.0
            } else {
                x - 4.0 * (1.0 - libm::exp(-x / 4.0))
            }
        };
        for t in [3.0, 10.0, 50.0, 70.0, 72.0, 100.0] {
            let mut terms = Vec::new();
            c.terms(2.0, 24.0, t, &mut terms);
            let exact: f64 = terms
                .iter()
                .map(|term| match *term {
                    Term::Working { from, to } => h(from) - h(to),
                    Term::Wait { from } => h(from) - h(from - 24.0),
                    Term::Idle { length, work } => length * g(work),
                })
                .sum::<f64>()
                / 24.0;
            let n = 240_000;
            let numeric: f64 = (0..n)
                .map(|i| {
                    let s = 2.0 + 24.0 * (f64::from(i) + 0.5) / f64::from(n);
                    if s >= t {
                        0.0
                    } else {
                        g(c.work_at(t) - c.work_at(s))
                    }
                })
                .sum::<f64>()
                / f64::from(n);
            assert!(
                (exact - numeric).abs() < 1e-5,
                "t = {t}: {exact} vs {numeric}"
            );
        }
    }
}
