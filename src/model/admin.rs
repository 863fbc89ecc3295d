//! What an admin does with an update that needs approval.

use crate::draws::Slot;
use crate::scenario::{AdminProfile, Delay};
use crate::stats::{gamma_quantile, standard_normal_quantile};
use crate::time::SimDuration;

/// What an admin will do about one approval request, decided when it is first shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AdminPlan {
    /// Whether the admin approves (otherwise rejects).
    pub approve: bool,
    /// When the admin was prompted to act: at the notice (zero) or at a reminder.
    pub prompted_after: SimDuration,
    /// The reminder that prompted the response, if one did.
    pub reminder: Option<usize>,
    /// Response delay after the prompt (working time, when the admin has working hours).
    pub delay: SimDuration,
}

use crate::draws::{admin_slot, reminder_slot};

impl AdminProfile {
    /// What the admin does about the notice itself in replication `replication` (whose
    /// parameter draw it uses), from the request's admin slot, or `None` when they ignore it.
    ///
    /// The outcome comes from one uniform and the delay by inverse transform from another
    /// (so a changed parameter moves each admin's delay monotonically: common random
    /// numbers across compared scenarios).
    pub(crate) fn respond(&self, draws: Slot<'_>, replication: u64) -> Option<AdminPlan> {
        let (approve, delay) = self.parameters(replication);
        let u = draws.uniform(admin_slot::OUTCOME);
        (u < approve + self.reject).then(|| AdminPlan {
            approve: u < approve,
            prompted_after: SimDuration::ZERO,
            reminder: None,
            delay: delay.quantile(draws.uniform(admin_slot::DELAY)),
        })
    }

    /// What an admin who ignored the notice does, from the request's reminder slot, or
    /// `None` when no reminder moves them.
    ///
    /// They respond to reminder `j` with probability `reminder_response`, approving or
    /// rejecting in the profile's proportion, after a fresh delay. Callers read the
    /// reminder slot only for profiles with reminders, so that most instances never
    /// generate its words.
    pub(crate) fn respond_to_reminders(
        &self,
        draws: Slot<'_>,
        replication: u64,
    ) -> Option<AdminPlan> {
        let (approve, delay) = self.parameters(replication);
        let acting = approve + self.reject;
        self.reminders.iter().enumerate().find_map(|(j, &offset)| {
            let coin = draws.uniform(reminder_slot::respond(j));
            (coin < self.reminder_response).then(|| AdminPlan {
                // Rescaled, the coin is a fresh uniform for the approve/reject choice.
                approve: acting == 0.0 || coin / self.reminder_response < approve / acting,
                prompted_after: offset,
                reminder: Some(j),
                delay: delay.quantile(draws.uniform(reminder_slot::delay(j))),
            })
        })
    }
}

impl Delay {
    /// The inverse CDF at `u` in (0, 1).
    pub fn quantile(&self, u: f64) -> SimDuration {
        match self {
            Delay::Fixed(d) => *d,
            Delay::Uniform(lo, hi) => *lo + (*hi - *lo).mul_f64(u),
            Delay::Exponential { mean } => mean.mul_f64(-libm::log(1.0 - u)),
            Delay::Lognormal { median, sigma } => {
                median.mul_f64(libm::exp(sigma * standard_normal_quantile(u)))
            }
            Delay::Weibull { shape, scale } => {
                scale.mul_f64(libm::pow(-libm::log(1.0 - u), 1.0 / shape))
            }
            Delay::Gamma { shape, scale } => scale.mul_f64(gamma_quantile(*shape, u)),
            Delay::Empirical(table) => {
                let (mut d0, mut p0) = (SimDuration::ZERO, 0.0);
                for &(d1, p1) in table {
                    if u <= p1 {
                        let frac = if p1 > p0 { (u - p0) / (p1 - p0) } else { 1.0 };
                        return d0 + (d1 - d0).mul_f64(frac);
                    }
                    (d0, p0) = (d1, p1);
                }
                d0
            }
            // Composition: `u` picks the component by the shares, and its position within
            // that component's slice of (0, 1) is the component's own uniform.
            Delay::Mixture(components) => {
                let mut below = 0.0;
                for (i, (share, law)) in components.iter().enumerate() {
                    if u < below + share || i + 1 == components.len() {
                        let within = ((u - below) / share).clamp(1e-12, 1.0 - 1e-12);
                        return law.quantile(within);
                    }
                    below += share;
                }
                SimDuration::ZERO
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inverse_transforms_hit_known_quantiles() {
        let h = SimDuration::from_hours;
        assert_eq!(Delay::Fixed(h(6)).quantile(0.3), h(6));
        assert_eq!(Delay::Uniform(h(1), h(3)).quantile(0.5), h(2));
        // Exponential median = mean * ln 2.
        let median = Delay::Exponential { mean: h(10) }.quantile(0.5).as_hours();
        assert!((median - 10.0 * libm::log(2f64)).abs() < 1e-6);
        // Lognormal median is the median parameter; the 84.13% point is median * e^sigma.
        let ln = Delay::Lognormal {
            median: h(48),
            sigma: 1.0,
        };
        assert!((ln.quantile(0.5).as_hours() - 48.0).abs() < 1e-6);
        assert!((ln.quantile(0.841_344_746).as_hours() - 48.0 * libm::exp(1f64)).abs() < 1e-3);
        // Weibull: scale * ln(2)^(1/shape); gamma with shape 1 is the exponential.
        let wb = Delay::Weibull {
            shape: 2.0,
            scale: h(10),
        };
        assert!((wb.quantile(0.5).as_hours() - 10.0 * libm::log(2f64).sqrt()).abs() < 1e-6);
        let g = Delay::Gamma {
            shape: 1.0,
            scale: h(10),
        };
        assert!((g.quantile(0.5).as_hours() - 10.0 * libm::log(2f64)).abs() < 1e-6);
        // Empirical: piecewise linear from (0, 0).
        let emp = Delay::Empirical(vec![(h(1), 0.2), (h(24), 0.6), (h(168), 1.0)]);
        assert_eq!(emp.quantile(0.1), SimDuration::from_minutes(30));
        assert_eq!(emp.quantile(0.4), SimDuration::from_minutes(60 + 23 * 30));
        assert_eq!(emp.quantile(1.0 - 1e-12).as_hours().round(), 168.0);
    }

    #[test]
    fn quantiles_are_monotone_in_u() {
        let delays = [
            Delay::Uniform(SimDuration::ZERO, SimDuration::from_days(3)),
            Delay::Exponential {
                mean: SimDuration::from_days(2),
            },
            Delay::Lognormal {
                median: SimDuration::from_days(2),
                sigma: 1.5,
            },
        ];
        for d in &delays {
            let mut last = SimDuration::ZERO;
            for i in 1..1000 {
                let q = d.quantile(f64::from(i) / 1000.0);
                assert!(q >= last, "{d:?}");
                last = q;
            }
        }
    }
}
