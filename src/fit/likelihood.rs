//! The likelihood of one group's observations under an admin profile.
//!
//! An instance is notified at `N = P + S + W`: the shared publication delay `P`
//! (integrated over the [`PlatformPart`]'s nodes), the slip `S` (0 or the slip, with the
//! group's probability) and the wait `W` for the next UPM poll (uniform over one poll
//! period). With probability `approve` its admin then acts after a delay `D`, counted
//! on the admin's clock (wall time, or working hours in the instance's zone: see
//! [`super::clock`]); otherwise never. Given a node, `P(T <= t) = approve *
//! E_clock E_S E_W[G(K(t) - K(N))]`, `G` being `D`'s CDF and `K` the clock's working
//! time; on wall time the wait's average is `(H(x) - H(x - poll)) / poll`, with
//! `x = t - P - S` and `H` the integral of `G`. `G` and `H` are computed once per
//! evaluation on a fixed grid (trapezoid rule) and interpolated, so the likelihood is a
//! smooth function of the parameters; the clocks' pieces are found once.
//!
//! The observations enter as cells: an update counted in a time bin, or known only to
//! lie between two sightings (interval censoring, as snapshot data give it), contributes
//! `F(hi) - F(lo)`, a right-censored instance `1 - F(at)`, and an instance first seen
//! (not yet updated) after the deploy has its terms divided by `1 - F(entered)` (left
//! truncation). Per-instance times are binned to at most [`MAX_BINS`] bins, far finer
//! than the day-scale poll wait; aggregate shares give one cell per interval between
//! observations, a multinomial.

use super::clock::{Clocks, Term};
use super::platform::{Node, PlatformPart};
use crate::delay::Law;

/// Bins per-instance update times are counted in, at most.
pub(super) const MAX_BINS: usize = 200;
/// The narrowest bin, in hours.
const MIN_BIN_HOURS: f64 = 0.25;
/// Grid points of the integrated delay CDF.
const GRID_POINTS: usize = 2048;

/// One instance's observation, in hours after the deploy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Seen {
    /// When it entered observation: 0, or later for an instance first seen after the
    /// deploy (left truncation: it is known not to have updated before).
    pub entered: f64,
    /// Last seen on an older version: the update, if any, came after.
    pub last_old: f64,
    /// First seen on the new version (equal to `last_old` for an exact time); `None`:
    /// never, right-censored at `last_old`.
    pub first_new: Option<f64>,
}

impl Seen {
    /// An exact observation: updated at `hours`, or still old then.
    pub(crate) fn exact(hours: f64, updated: bool) -> Seen {
        Seen {
            entered: 0.0,
            last_old: hours,
            first_new: updated.then_some(hours),
        }
    }

    /// The last time it was observed.
    pub(crate) fn until(&self) -> f64 {
        self.first_new.unwrap_or(self.last_old)
    }
}

/// Observations reduced to cells over a sorted set of time edges.
#[derive(Clone, Debug, Default)]
pub(super) struct Cells {
    /// The distinct times (hours after the deploy) the cells refer to, increasing.
    pub edges: Vec<f64>,
    /// Updates seen in `(edges[lo], edges[hi]]`: `(lo, hi, count)`.
    pub updates: Vec<(usize, usize, f64)>,
    /// Instances still not updated at `edges[at]`: `(at, count)`.
    pub censored: Vec<(usize, f64)>,
    /// Instances that entered observation at `edges[at]` (not updated by then), whose
    /// terms are conditioned on that: `(at, count)`.
    pub truncated: Vec<(usize, f64)>,
}

impl Cells {
    /// Per-instance observations, binned: an exact time to its bin, an interval from
    /// its last old sighting's bin to its first new sighting's.
    pub(super) fn from_instances(rows: &[Seen]) -> Cells {
        use std::collections::BTreeMap;
        let until = rows.iter().map(Seen::until).fold(0.0, f64::max);
        let width = (until / MAX_BINS as f64).max(MIN_BIN_HOURS);
        let bin = |h: f64| (h / width).floor() as u64;
        let mut updates = BTreeMap::<(u64, u64), f64>::new();
        let mut censored = BTreeMap::<u64, f64>::new();
        let mut truncated = BTreeMap::<u64, f64>::new();
        for r in rows {
            match r.first_new {
                // An exact time falls in its own bin: `(lo, lo + 1)`.
                Some(new) => {
                    let lo = bin(r.last_old);
                    let hi = ((new / width).ceil() as u64).max(lo + 1);
                    *updates.entry((lo, hi)).or_default() += 1.0;
                }
                None => *censored.entry(bin(r.last_old)).or_default() += 1.0,
            }
            if r.entered > 0.0 {
                *truncated.entry(bin(r.entered)).or_default() += 1.0;
            }
        }
        let mut edge_bins: Vec<u64> = updates
            .keys()
            .flat_map(|&(lo, hi)| [lo, hi])
            .chain(censored.keys().copied())
            .chain(truncated.keys().copied())
            .collect();
        edge_bins.sort_unstable();
        edge_bins.dedup();
        let index = |b: u64| edge_bins.binary_search(&b).expect("every edge is listed");
        Cells {
            edges: edge_bins.iter().map(|&b| b as f64 * width).collect(),
            updates: updates
                .iter()
                .map(|(&(lo, hi), &c)| (index(lo), index(hi), c))
                .collect(),
            censored: censored.iter().map(|(&b, &c)| (index(b), c)).collect(),
            truncated: truncated.iter().map(|(&b, &c)| (index(b), c)).collect(),
        }
    }

    /// A cumulative share curve over `instances`: the updates between consecutive
    /// observations, and the rest still waiting at the last.
    pub(super) fn from_shares(points: &[(f64, f64)], instances: f64) -> Cells {
        let mut edges = vec![0.0];
        let mut updates = Vec::new();
        let mut last = 0.0;
        for &(hours, share) in points {
            if hours > 0.0 {
                edges.push(hours);
            }
            let count = (share - last) * instances;
            if count > 0.0 {
                let hi = edges.len() - 1;
                updates.push((hi.saturating_sub(1), hi, count));
            }
            last = share;
        }
        let censored = vec![(edges.len() - 1, (1.0 - last) * instances)];
        Cells {
            edges,
            updates,
            censored,
            truncated: Vec::new(),
        }
    }
}

/// A log-likelihood of an admin profile: one group's observations of one release, or
/// several releases' together.
pub(super) trait LogLikelihood: Sync {
    /// The log-likelihood of `approve` and `law`.
    fn log_likelihood(&self, approve: f64, law: &Law) -> f64;
}

impl LogLikelihood for GroupLikelihood {
    fn log_likelihood(&self, approve: f64, law: &Law) -> f64 {
        GroupLikelihood::log_likelihood(self, approve, law)
    }
}

/// Several past releases observed for one group, fitted with one profile: admin
/// behaviour persists from release to release, and each release brings its own
/// publication draw, so the log-likelihoods add.
pub(super) struct Joint<'a>(pub Vec<&'a GroupLikelihood>);

impl LogLikelihood for Joint<'_> {
    fn log_likelihood(&self, approve: f64, law: &Law) -> f64 {
        self.0.iter().map(|g| g.log_likelihood(approve, law)).sum()
    }
}

/// One group's likelihood: its cells, its view of the platform part, and its admins'
/// clocks.
#[derive(Clone, Debug)]
pub(super) struct GroupLikelihood {
    cells: Cells,
    /// Per node: (log weight, publication delay, slip probability).
    nodes: Vec<(f64, f64, f64)>,
    poll_hours: f64,
    slip_hours: f64,
    grid_step: f64,
    /// The grid's points (multiples of `grid_step`) and their logarithms, found once: a
    /// lognormal's CDF starts from the logarithm, at every point of every evaluation.
    grid: (Vec<f64>, Vec<f64>),
    clocks: Clocks,
    /// The poll-wait average's pieces at every edge, for each clock, node and slip (not
    /// slipped, slipped): `ranges[((c * nodes + j) * 2 + slipped) * edges + e]` indexes
    /// `terms`. They do not depend on the parameters, so they are found once.
    terms: Vec<Term>,
    ranges: Vec<std::ops::Range<u32>>,
}

/// The delay law's CDF `G`, its integral `H`, and a whole poll wait's
/// `H(x) - H(x - poll)`, on a grid, for one evaluation.
struct DelayTables {
    g: Vec<f64>,
    h: Vec<f64>,
    wait: Vec<f64>,
    step: f64,
}

impl DelayTables {
    /// The tables of `law` on the grid `hours` (multiples of `step`), whose logarithms
    /// are `logs`.
    fn new(law: &Law, (hours, logs): &(Vec<f64>, Vec<f64>), step: f64, poll: f64) -> DelayTables {
        let g = law.cdf().on_grid(hours, logs);
        // H(x) = integral of the CDF from 0 to x, by the trapezoid rule.
        let h: Vec<f64> = std::iter::once(0.0)
            .chain(g.windows(2).scan(0.0, |total, w| {
                *total += 0.5 * step * (w[0] + w[1]);
                Some(*total)
            }))
            .collect();
        let wait = (0..GRID_POINTS)
            .map(|k| (h[k] - lerp(&h, step, k as f64 * step - poll)).max(0.0))
            .collect();
        DelayTables { g, h, wait, step }
    }

    /// The poll-wait average of `G(K(t) - K(s))` from its pieces, times the poll period.
    fn sum(&self, terms: &[Term]) -> f64 {
        terms
            .iter()
            .map(|term| match *term {
                Term::Wait { from } => lerp(&self.wait, self.step, from),
                Term::Working { from, to } => {
                    lerp(&self.h, self.step, from) - lerp(&self.h, self.step, to)
                }
                Term::Idle { length, work } => length * lerp(&self.g, self.step, work).min(1.0),
            })
            .sum()
    }
}

/// `table` (values at multiples of `step` from 0) at `x`: 0 before it, linear between
/// points, extended along its last slope beyond it.
fn lerp(table: &[f64], step: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    let pos = x / step;
    let n = table.len() - 1;
    let k = (pos as usize).min(n - 1);
    table[k] + (pos - k as f64) * (table[k + 1] - table[k])
}

impl GroupLikelihood {
    /// The likelihood of `cells` for a group whose slip probability at each node is
    /// `slip(node)` and whose admins count their delay on `clocks`.
    pub(super) fn new(
        cells: Cells,
        platform: &PlatformPart,
        slip: impl Fn(&Node) -> f64,
        clocks: Clocks,
    ) -> Self {
        let last_edge = cells.edges.last().copied().unwrap_or(0.0);
        let mut g = GroupLikelihood {
            nodes: platform
                .nodes
                .iter()
                .map(|n| (libm::log(n.weight), n.published_hours, slip(n)))
                .collect(),
            poll_hours: platform.poll_hours,
            slip_hours: platform.slip_hours,
            grid_step: (last_edge.max(1.0) / (GRID_POINTS - 2) as f64).max(1e-3),
            grid: (Vec::new(), Vec::new()),
            cells,
            clocks,
            terms: Vec::new(),
            ranges: Vec::new(),
        };
        let mut terms = Vec::new();
        let mut ranges = Vec::new();
        for c in 0..g.clocks.0.len() {
            for j in 0..g.nodes.len() {
                for slipped in [false, true] {
                    for &t in &g.cells.edges {
                        let start = terms.len() as u32;
                        g.terms_at(c, j, slipped, t, &mut terms);
                        ranges.push(start..terms.len() as u32);
                    }
                }
            }
        }
        g.terms = terms;
        g.ranges = ranges;
        let hours: Vec<f64> = (0..GRID_POINTS).map(|k| k as f64 * g.grid_step).collect();
        let logs = hours.iter().map(|&h| libm::log(h)).collect();
        g.grid = (hours, logs);
        g
    }

    fn tables(&self, law: &Law) -> DelayTables {
        DelayTables::new(law, &self.grid, self.grid_step, self.poll_hours)
    }

    /// The number of field-wide nodes.
    pub(super) fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The pieces of clock `c`'s poll-wait average at `t`, at node `j`, slipped or not.
    fn terms_at(&self, c: usize, j: usize, slipped: bool, t: f64, out: &mut Vec<Term>) {
        let (_, published, q) = self.nodes[j];
        if slipped && q <= 0.0 {
            return;
        }
        let first = published + if slipped { self.slip_hours } else { 0.0 };
        self.clocks.0[c].1.terms(first, self.poll_hours, t, out);
    }

    /// At node `j`: each (clock, slipped) pair with its probability.
    fn pairs(&self, j: usize) -> impl Iterator<Item = (usize, bool, f64)> + '_ {
        let q = self.nodes[j].2;
        self.clocks
            .0
            .iter()
            .enumerate()
            .flat_map(move |(c, (weight, _))| {
                [(c, false, weight * (1.0 - q)), (c, true, weight * q)]
                    .into_iter()
                    .filter(|p| p.2 > 0.0)
            })
    }

    /// The share updated by the time `sum` of a pair's poll-wait average, times the poll.
    fn share(&self, approve: f64, sum: f64) -> f64 {
        (approve * sum / self.poll_hours).clamp(0.0, 1.0)
    }

    /// Per node: its log weight plus the log-likelihood of the cells given that node.
    pub(super) fn node_terms(&self, approve: f64, law: &Law) -> Vec<f64> {
        let tables = self.tables(law);
        let edges = self.cells.edges.len();
        let mut f = vec![0.0; edges];
        (0..self.nodes.len())
            .map(|j| {
                f.fill(0.0);
                for (c, slipped, p) in self.pairs(j) {
                    let first = ((c * self.nodes.len() + j) * 2 + usize::from(slipped)) * edges;
                    for (slot, r) in f.iter_mut().zip(&self.ranges[first..first + edges]) {
                        *slot += p * tables.sum(&self.terms[r.start as usize..r.end as usize]);
                    }
                }
                f.iter_mut().for_each(|v| *v = self.share(approve, *v));
                let mut ll = self.nodes[j].0;
                for &(lo, hi, count) in &self.cells.updates {
                    ll += count * libm::log((f[hi] - f[lo]).max(f64::MIN_POSITIVE));
                }
                for &(at, count) in &self.cells.censored {
                    ll += count * libm::log((1.0 - f[at]).max(f64::MIN_POSITIVE));
                }
                for &(at, count) in &self.cells.truncated {
                    ll -= count * libm::log((1.0 - f[at]).max(f64::MIN_POSITIVE));
                }
                ll
            })
            .collect()
    }

    /// The log-likelihood, integrated over the field-wide draws.
    pub(super) fn log_likelihood(&self, approve: f64, law: &Law) -> f64 {
        log_sum_exp(&self.node_terms(approve, law))
    }

    /// The fitted cumulative share updated by each of `times`: the model's curve, its
    /// field-wide draws weighted by how well each explains the data (their posterior).
    pub(super) fn fitted_curve(&self, approve: f64, law: &Law, times: &[f64]) -> Vec<f64> {
        let terms = self.node_terms(approve, law);
        let top = log_sum_exp(&terms);
        // The nodes' posterior weights; those below 1e-14 cannot move a share.
        let posterior: Vec<(usize, f64)> = terms
            .iter()
            .map(|l| libm::exp(l - top))
            .enumerate()
            .filter(|(_, w)| *w > 1e-14)
            .collect();
        let tables = self.tables(law);
        let mut scratch = Vec::new();
        times
            .iter()
            .map(|&t| {
                posterior
                    .iter()
                    .map(|&(j, weight)| {
                        let sum: f64 = self
                            .pairs(j)
                            .map(|(c, slipped, p)| {
                                scratch.clear();
                                self.terms_at(c, j, slipped, t, &mut scratch);
                                p * tables.sum(&scratch)
                            })
                            .sum();
                        weight * self.share(approve, sum)
                    })
                    .sum()
            })
            .collect()
    }

    /// An update time (hours after the deploy) at node `j`: the notice `wait` (a
    /// uniform) of a poll after publication (and the slip, when `slipped`), then `delay`
    /// hours on the clock `pick` (a uniform, used only when there are several) chooses.
    pub(super) fn update_time(
        &self,
        j: usize,
        slipped: bool,
        wait: f64,
        delay: f64,
        pick: &mut dyn FnMut() -> f64,
    ) -> f64 {
        let clocks = &self.clocks.0;
        let clock = match clocks.len() {
            1 => &clocks[0].1,
            _ => {
                let u = pick();
                let mut cumulative = 0.0;
                &clocks
                    .iter()
                    .find(|(w, _)| {
                        cumulative += w;
                        u < cumulative
                    })
                    .unwrap_or(&clocks[clocks.len() - 1])
                    .1
            }
        };
        let (published, _) = self.node(j);
        let notice =
            published + if slipped { self.slip_hours } else { 0.0 } + wait * self.poll_hours;
        clock.after(notice, delay)
    }

    /// Node `j`'s publication delay and slip probability.
    pub(super) fn node(&self, j: usize) -> (f64, f64) {
        (self.nodes[j].1, self.nodes[j].2)
    }

    /// The prior probability of node `j`.
    pub(super) fn node_weight(&self, j: usize) -> f64 {
        libm::exp(self.nodes[j].0)
    }
}

/// `ln(sum(exp(x)))` without overflow.
pub(super) fn log_sum_exp(x: &[f64]) -> f64 {
    let top = x.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !top.is_finite() {
        return top;
    }
    top + libm::log(x.iter().map(|v| libm::exp(v - top)).sum::<f64>())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::delay::Family;

    fn platform(published: f64) -> PlatformPart {
        PlatformPart::for_tests(
            vec![Node {
                weight: 1.0,
                published_hours: published,
                field_slip: true,
            }],
            24.0,
            4.0,
        )
    }

    #[test]
    fn the_update_cdf_matches_a_monte_carlo_of_its_parts() {
        // T = 3 + S + U(0, 24) + D, S = 4 h with probability 0.3, D exponential mean 10 h,
        // approve 0.8: the closed form against the grid's interpolation.
        let law = Law {
            family: Family::named("exponential").unwrap(),
            params: [10.0, 0.0, 0.0, 0.0, 0.0],
        };
        let cells = Cells {
            edges: vec![0.0, 5.0, 20.0, 40.0, 100.0],
            ..Cells::default()
        };
        let g = GroupLikelihood::new(cells, &platform(3.0), |_| 0.3, Clocks::wall());
        let exact = |t: f64| {
            // E over the uniform wait of the exponential CDF, in closed form.
            let a = |x: f64| {
                let h = |y: f64| {
                    if y <= 0.0 {
                        0.0
                    } else {
                        y - 10.0 * (1.0 - libm::exp(-y / 10.0))
                    }
                };
                (h(x) - h(x - 24.0)) / 24.0
            };
            0.8 * (0.7 * a(t - 3.0) + 0.3 * a(t - 7.0))
        };
        let curve = g.fitted_curve(0.8, &law, &[5.0, 20.0, 40.0, 100.0]);
        for (t, f) in [5.0, 20.0, 40.0, 100.0].iter().zip(curve) {
            assert!(
                (f - exact(*t)).abs() < 1e-4,
                "t = {t}: {f} vs {}",
                exact(*t)
            );
        }
    }

    #[test]
    fn office_hours_curve_matches_a_monte_carlo_of_the_notices_and_the_calendar() {
        // Deploy on Friday 2026-03-06 14:00 UTC, notices 3 h later plus a 24 h poll wait
        // (a 4 h slip with probability 0.3), admins in Berlin and New York working
        // Monday to Friday 09:00 to 17:00, approving 0.8 after a lognormal delay of
        // working time (median 6 h, sigma 1). The curve the likelihood integrates against
        // the share of simulated update times (the same draws the bootstrap makes).
        use crate::fit::clock::Clock;
        use crate::scenario::WorkingHours;
        let office = WorkingHours::parse("mon-fri 09:00-17:00").unwrap();
        let deploy = "2026-03-06T14:00:00Z".parse().unwrap();
        let clock = |zone: &str| Clock::working(deploy, &office, &[], zone.parse().unwrap(), 400.0);
        let clocks = Clocks(vec![
            (0.4, clock("Europe/Berlin")),
            (0.6, clock("America/New_York")),
        ]);
        let times = [10.0, 30.0, 70.0, 75.0, 80.0, 100.0, 150.0, 300.0];
        let cells = Cells {
            edges: times.to_vec(),
            ..Cells::default()
        };
        let g = GroupLikelihood::new(cells, &platform(3.0), |_| 0.3, clocks);
        let law = Law {
            family: Family::named("lognormal").unwrap(),
            params: [6.0, 1.0, 0.0, 0.0, 0.0],
        };
        let curve = g.fitted_curve(0.8, &law, &times);
        let delay = law.to_delay();
        let n = 200_000;
        let mut state = 12345u64;
        let mut uniform = move || {
            // SplitMix64: a fixed, independent stream for the check.
            state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut updated = vec![0u32; times.len()];
        for _ in 0..n {
            let (acts, slips, wait, d) = (uniform(), uniform(), uniform(), uniform());
            if acts >= 0.8 {
                continue;
            }
            let hours = delay.quantile(d).as_hours();
            let t = g.update_time(0, slips < 0.3, wait, hours, &mut uniform);
            for (count, &at) in updated.iter_mut().zip(&times) {
                *count += u32::from(t <= at);
            }
        }
        for ((t, f), count) in times.iter().zip(&curve).zip(&updated) {
            let share = f64::from(*count) / f64::from(n);
            // Four binomial standard errors, plus the grid's interpolation error.
            let tolerance = 4.0 * (share * (1.0 - share) / f64::from(n)).sqrt() + 2e-3;
            assert!(
                (f - share).abs() < tolerance,
                "t = {t} h: likelihood {f:.4}, simulated {share:.4}"
            );
        }
        // Nothing happens over the weekend in either zone: the curve is flat from
        // Saturday 00:00 UTC (34 h after the deploy) to Monday 08:00 UTC (Berlin opens).
        let weekend = g.fitted_curve(0.8, &law, &[40.0, 60.0]);
        assert!((weekend[0] - weekend[1]).abs() < 1e-9);
    }

    #[test]
    fn cells_count_every_instance_once() {
        let rows = [
            (1.0, true),
            (1.1, true),
            (30.0, true),
            (50.0, false),
            (50.0, false),
        ];
        let rows: Vec<Seen> = rows.iter().map(|&(h, u)| Seen::exact(h, u)).collect();
        let cells = Cells::from_instances(&rows);
        let total: f64 = cells.updates.iter().map(|c| c.2).sum::<f64>()
            + cells.censored.iter().map(|c| c.1).sum::<f64>();
        assert_eq!(total, 5.0);
        let shares = Cells::from_shares(&[(10.0, 0.2), (20.0, 0.2), (30.0, 0.5)], 100.0);
        let counts: Vec<(usize, usize, i64)> = shares
            .updates
            .iter()
            .map(|c| (c.0, c.1, c.2.round() as i64))
            .collect();
        assert_eq!(counts, vec![(0, 1, 20), (2, 3, 30)]);
        assert_eq!(shares.censored, vec![(3, 50.0)]);
    }
}
