//! Empirical: a CDF table read off past data, linear between its rows and from (0, 0).

use super::DelayLaw;
use crate::input::FieldError;
use crate::time::{DurationText, SimDuration};

/// A CDF table: (duration, cumulative probability), increasing, ending at 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Empirical(pub Vec<(SimDuration, f64)>);

impl DelayLaw for Empirical {
    /// `[["1h", 0.2], ["1d", 0.6], ["1w", 1]]`.
    type File = Vec<(DurationText, f64)>;

    fn from_file(rows: &Vec<(DurationText, f64)>, field: &str) -> Result<Empirical, FieldError> {
        if rows.is_empty() {
            return Err(FieldError::new(
                field,
                "needs at least one [duration, cumulative probability] row",
            ));
        }
        let mut table = Vec::with_capacity(rows.len());
        let (mut last_d, mut last_p) = (SimDuration::ZERO, 0.0);
        for (i, (d, p)) in rows.iter().enumerate() {
            if d.0 < last_d || *p < last_p || !(*p > 0.0 && *p <= 1.0) {
                return Err(FieldError::new(
                    format!("{field}[{i}]"),
                    "rows must have increasing durations and cumulative probabilities in (0, 1]",
                ));
            }
            (last_d, last_p) = (d.0, *p);
            table.push((d.0, *p));
        }
        if (last_p - 1.0).abs() > 1e-9 {
            return Err(FieldError::new(
                format!("{field}[{}]", rows.len() - 1),
                format!("the last cumulative probability is {last_p}; it must be 1"),
            ));
        }
        Ok(Empirical(table))
    }

    fn quantile(&self, u: f64) -> SimDuration {
        let (mut d0, mut p0) = (SimDuration::ZERO, 0.0);
        for &(d1, p1) in &self.0 {
            if u <= p1 {
                let frac = if p1 > p0 { (u - p0) / (p1 - p0) } else { 1.0 };
                return d0 + (d1 - d0).mul_f64(frac);
            }
            (d0, p0) = (d1, p1);
        }
        d0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_linear_between_rows_and_from_zero() {
        let h = SimDuration::from_hours;
        let law = Empirical(vec![(h(1), 0.2), (h(24), 0.6), (h(168), 1.0)]);
        assert_eq!(law.quantile(0.1), SimDuration::from_minutes(30));
        assert_eq!(law.quantile(0.4), SimDuration::from_minutes(60 + 23 * 30));
        assert_eq!(law.quantile(1.0 - 1e-12).as_hours().round(), 168.0);
    }
}
