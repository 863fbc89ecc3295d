//! Uniform: every delay between two durations equally likely.

use super::DelayLaw;
use crate::input::{FieldError, range};
use crate::time::{DurationText, SimDuration};

/// Uniform between `low` and `high`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Uniform {
    /// The shortest delay.
    pub low: SimDuration,
    /// The longest delay.
    pub high: SimDuration,
}

impl DelayLaw for Uniform {
    /// `["1h", "3h"]`.
    type File = [DurationText; 2];

    fn from_file(file: &[DurationText; 2], field: &str) -> Result<Uniform, FieldError> {
        let (low, high) = range(file, field)?;
        Ok(Uniform { low, high })
    }

    fn quantile(&self, u: f64) -> SimDuration {
        self.low + (self.high - self.low).mul_f64(u)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_middle_draw_is_the_midpoint_and_draws_rise_with_u() {
        let h = SimDuration::from_hours;
        let law = Uniform {
            low: h(1),
            high: h(3),
        };
        assert_eq!(law.quantile(0.5), h(2));
        let draws: Vec<_> = (1..1000)
            .map(|i| law.quantile(f64::from(i) / 1000.0))
            .collect();
        assert!(draws.windows(2).all(|w| w[0] <= w[1]));
    }
}
