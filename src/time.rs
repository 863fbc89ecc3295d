//! Simulated time: integer milliseconds since the scenario start.
//!
//! Two types keep instants and spans apart so that no bare number of unknown unit
//! travels through the model. Conversion to hours happens only at report time.

use std::borrow::Cow;
use std::fmt;
use std::num::NonZeroI64;
use std::ops::{Add, Sub};

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};

const MS_PER_SECOND: i64 = 1_000;
const MS_PER_MINUTE: i64 = 60 * MS_PER_SECOND;
const MS_PER_HOUR: i64 = 60 * MS_PER_MINUTE;
const MS_PER_DAY: i64 = 24 * MS_PER_HOUR;
const MS_PER_WEEK: i64 = 7 * MS_PER_DAY;

/// A span of simulated time, in whole milliseconds, never negative.
///
/// Kept as the bitwise complement of the milliseconds, which is never zero for a
/// non-negative span: so `Option<SimDuration>` (a figure that may be censored, kept per
/// replication and release) takes 8 bytes instead of 16.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SimDuration(NonZeroI64);

impl SimDuration {
    /// From non-negative milliseconds (the complement of which is never zero).
    const fn new(ms: i64) -> Self {
        let ms = if ms < 0 { 0 } else { ms };
        match NonZeroI64::new(!ms) {
            Some(n) => SimDuration(n),
            None => unreachable!(),
        }
    }
    /// The milliseconds back.
    const fn ms(self) -> i64 {
        !self.0.get()
    }
}

impl Default for SimDuration {
    fn default() -> Self {
        SimDuration::ZERO
    }
}

impl Ord for SimDuration {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.ms().cmp(&other.ms())
    }
}

impl PartialOrd for SimDuration {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Debug for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SimDuration({}ms)", self.ms())
    }
}

/// An instant of simulated time: milliseconds since the scenario `start`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(i64);

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration::new(0);

    /// `ms` milliseconds (a negative count is no time at all).
    pub const fn from_millis(ms: i64) -> Self {
        SimDuration::new(ms)
    }
    /// `s` seconds (saturating).
    pub const fn from_secs(s: i64) -> Self {
        SimDuration::new(s.saturating_mul(MS_PER_SECOND))
    }
    /// `m` minutes (saturating).
    pub const fn from_minutes(m: i64) -> Self {
        SimDuration::new(m.saturating_mul(MS_PER_MINUTE))
    }
    /// `h` hours (saturating).
    pub const fn from_hours(h: i64) -> Self {
        SimDuration::new(h.saturating_mul(MS_PER_HOUR))
    }
    /// `d` days (saturating).
    pub const fn from_days(d: i64) -> Self {
        SimDuration::new(d.saturating_mul(MS_PER_DAY))
    }
    /// Rounds a real number of milliseconds (from a continuous distribution) to the grid:
    /// half away from zero, negative and NaN to zero, at most 2^61 ms.
    ///
    /// Rounded by truncation rather than `f64::round`, which is a libm call on the
    /// x86-64 baseline target (2% of a run, where every draw becomes a duration): below
    /// 2^52 the fraction `ms - trunc(ms)` is exact, above it `ms` is already whole.
    pub fn from_millis_f64(ms: f64) -> Self {
        let ms = ms.clamp(0.0, i64::MAX as f64 / 4.0);
        let whole = ms as i64;
        SimDuration::new(if ms - whole as f64 >= 0.5 {
            whole + 1
        } else {
            whole
        })
    }
    /// A real number of hours, to the millisecond (as [`SimDuration::from_millis_f64`]).
    pub fn from_hours_f64(hours: f64) -> Self {
        SimDuration::from_millis_f64(hours * 3_600_000.0)
    }
    /// Whole milliseconds.
    pub const fn as_millis(self) -> i64 {
        self.ms()
    }
    /// Milliseconds as a float.
    pub fn as_millis_f64(self) -> f64 {
        self.ms() as f64
    }
    /// Hours as a float.
    pub fn as_hours(self) -> f64 {
        self.ms() as f64 / MS_PER_HOUR as f64
    }
    /// Whether the span is empty.
    pub fn is_zero(self) -> bool {
        self.ms() == 0
    }
    /// `self * factor`, rounded to the millisecond grid.
    pub fn mul_f64(self, factor: f64) -> Self {
        SimDuration::from_millis_f64(self.ms() as f64 * factor)
    }

    /// Parses `"90s"`, `"30m"`, `"5h"`, `"2d"`, `"1w"`, `"250ms"`, decimals such as `"1.5h"`
    /// and sums such as `"1d12h"`.
    pub fn parse(text: &str) -> Result<Self, DurationParseError> {
        let err = || DurationParseError::Malformed(text.to_string());
        let s = text.trim();
        if s.is_empty() {
            return Err(err());
        }
        let bytes = s.as_bytes();
        let mut i = 0;
        let mut total: f64 = 0.0;
        while i < bytes.len() {
            let num_start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            let number: f64 = s[num_start..i].parse().map_err(|_| err())?;
            let unit_start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            let unit_ms = match &s[unit_start..i] {
                "ms" => 1,
                "s" => MS_PER_SECOND,
                "m" | "min" => MS_PER_MINUTE,
                "h" => MS_PER_HOUR,
                "d" => MS_PER_DAY,
                "w" => MS_PER_WEEK,
                _ => return Err(err()),
            };
            total += number * unit_ms as f64;
        }
        if !total.is_finite() || total > MAX_DURATION_MS {
            return Err(DurationParseError::TooLong(text.to_string()));
        }
        Ok(SimDuration::new(total.round() as i64))
    }
}

/// The longest duration a scenario may write: 10^15 ms, about 31,700 years, far beyond
/// any horizon and far inside the clock's range, so sums of durations cannot overflow.
const MAX_DURATION_MS: f64 = 1.0e15;

/// The text was not a duration such as `"30m"`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DurationParseError {
    #[error(
        "malformed duration {0:?}: expected a number followed by a unit (ms, s, m, h, d, w), e.g. \"90s\", \"30m\", \"5h\", \"2d\", \"1w\" or \"1d12h\""
    )]
    /// Not a number followed by a unit.
    Malformed(String),
    #[error("duration {0:?} is too long: at most 1000000000000000ms (about 31,700 years)")]
    /// Longer than 10^15 ms.
    TooLong(String),
}

impl fmt::Display for SimDuration {
    /// The largest whole unit that represents the span exactly, e.g. `5h`, `90s`, `1d12h`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.ms();
        if rest == 0 {
            return write!(f, "0h");
        }
        for (unit, ms) in [
            ("d", MS_PER_DAY),
            ("h", MS_PER_HOUR),
            ("m", MS_PER_MINUTE),
            ("s", MS_PER_SECOND),
            ("ms", 1),
        ] {
            if rest >= ms {
                write!(f, "{}{}", rest / ms, unit)?;
                rest %= ms;
            }
        }
        Ok(())
    }
}

impl SimTime {
    /// The scenario's start.
    pub const ZERO: SimTime = SimTime(0);
    /// "Did not happen": later than any horizon.
    pub const NEVER: SimTime = SimTime(i64::MAX);

    /// `ms` milliseconds after the start.
    pub const fn from_millis(ms: i64) -> Self {
        SimTime(ms)
    }
    /// Milliseconds after the start.
    pub const fn as_millis(self) -> i64 {
        self.0
    }
    /// Whether this is [`SimTime::NEVER`].
    pub fn is_never(self) -> bool {
        self == SimTime::NEVER
    }
    /// Time elapsed since `earlier` (saturating at zero).
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration::new(self.0.saturating_sub(earlier.0))
    }
    /// Hours since the scenario start.
    pub fn as_hours(self) -> f64 {
        self.0 as f64 / MS_PER_HOUR as f64
    }
    /// The first tick of the grid `phase + j * period` (j >= 0) at or after `self`.
    /// Used for every periodic process: descriptor polls, UPM polls, samples.
    pub fn next_tick(self, phase: SimTime, period: SimDuration) -> SimTime {
        if self.0 <= phase.0 {
            return phase;
        }
        let p = period.ms().max(1);
        // Checked: a tick beyond the clock's range never comes.
        (self.0 - phase.0)
            .checked_add(p - 1)
            .map(|gap| gap / p)
            .and_then(|steps| steps.checked_mul(p))
            .and_then(|offset| phase.0.checked_add(offset))
            .map_or(SimTime::NEVER, SimTime)
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        if self.is_never() {
            return self;
        }
        SimTime(self.0.saturating_add(d.ms()))
    }
}

impl Sub<SimDuration> for SimTime {
    type Output = SimTime;
    fn sub(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_sub(d.ms()))
    }
}

/// Saturating: a span too long for the clock is as good as "never within the horizon".
impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration::new(self.ms().saturating_add(d.ms()))
    }
}

/// Saturating at zero: spans are never negative.
impl Sub for SimDuration {
    type Output = SimDuration;
    fn sub(self, d: SimDuration) -> SimDuration {
        SimDuration::new(self.ms().saturating_sub(d.ms()))
    }
}

/// A duration written as text, e.g. `"30m"`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct DurationText(pub SimDuration);

impl JsonSchema for DurationText {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^\\s*([0-9.]+(ms|s|m|min|h|d|w))+\\s*$",
            "description": "A duration: a number and a unit (ms, s, m, h, d, w), e.g. \"90s\", \"30m\", \"5h\", \"1.5h\", \"2d\", \"1w\", or a sum such as \"1d12h\"",
            "examples": ["30m", "5h", "2d", "1d12h"]
        })
    }
}

impl<'de> Deserialize<'de> for DurationText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        SimDuration::parse(&text)
            .map(DurationText)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn milliseconds_round_as_f64_round_then_clamp_would() {
        let reference = |ms: f64| ms.round().clamp(0.0, i64::MAX as f64 / 4.0) as i64;
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            1.5,
            2.5,
            -0.5,
            -0.6,
            0.499_999_999_999_999_94,
            4_503_599_627_370_495.5,
            4_503_599_627_370_497.0,
            9.0e15 + 0.5,
            2f64.powi(61) - 1024.0,
            2f64.powi(61),
            1e300,
            -1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
            f64::MIN_POSITIVE,
        ];
        // Every tie and near-tie on a sweep of magnitudes.
        for e in 0..62 {
            let base = 2f64.powi(e);
            for d in [-0.5, -0.25, 0.0, 0.25, 0.5, 0.75] {
                values.push(base + d);
                values.push(base * 1.37 + d);
            }
        }
        for ms in values {
            assert_eq!(
                SimDuration::from_millis_f64(ms).as_millis(),
                reference(ms),
                "{ms:?}"
            );
        }
    }

    #[test]
    fn a_maybe_censored_duration_takes_8_bytes_and_orders_by_length() {
        assert_eq!(std::mem::size_of::<Option<SimDuration>>(), 8);
        let spans = [0, 1, 999, 3_600_000, i64::MAX].map(SimDuration::from_millis);
        for w in spans.windows(2) {
            assert!(w[0] < w[1], "{:?} < {:?}", w[0], w[1]);
        }
        assert_eq!(spans[4].as_millis(), i64::MAX);
        assert_eq!(SimDuration::default(), SimDuration::ZERO);
        assert_eq!(SimDuration::from_millis(-5), SimDuration::ZERO);
        assert_eq!(spans[4] + spans[4], spans[4], "saturates");
        assert_eq!(spans[1] - spans[2], SimDuration::ZERO, "never negative");
    }

    #[test]
    fn parses_every_unit_and_sums() {
        assert_eq!(
            SimDuration::parse("90s").unwrap(),
            SimDuration::from_secs(90)
        );
        assert_eq!(
            SimDuration::parse("30m").unwrap(),
            SimDuration::from_minutes(30)
        );
        assert_eq!(
            SimDuration::parse("5h").unwrap(),
            SimDuration::from_hours(5)
        );
        assert_eq!(SimDuration::parse("2d").unwrap(), SimDuration::from_days(2));
        assert_eq!(SimDuration::parse("1w").unwrap(), SimDuration::from_days(7));
        assert_eq!(
            SimDuration::parse("250ms").unwrap(),
            SimDuration::from_millis(250)
        );
        assert_eq!(
            SimDuration::parse("1.5h").unwrap(),
            SimDuration::from_minutes(90)
        );
        assert_eq!(
            SimDuration::parse("1d12h").unwrap(),
            SimDuration::from_hours(36)
        );
        assert_eq!(SimDuration::parse("0h").unwrap(), SimDuration::ZERO);
    }

    #[test]
    fn rejects_malformed_durations() {
        for bad in ["", "5", "h", "5x", "-5h", "5 h", "1.2.3h", "5hh"] {
            assert!(
                SimDuration::parse(bad).is_err(),
                "{bad:?} should be rejected"
            );
        }
    }

    #[test]
    fn arithmetic_saturates_instead_of_overflowing() {
        let huge = SimDuration::from_millis(i64::MAX);
        assert_eq!((huge + huge).as_millis(), i64::MAX);
        assert_eq!(SimDuration::ZERO - huge, SimDuration::ZERO);
        assert_eq!(
            SimTime::from_millis(5) + huge,
            SimTime::from_millis(i64::MAX)
        );
        assert_eq!(SimTime::ZERO - huge, SimTime::from_millis(i64::MIN + 1));
        assert_eq!(SimDuration::from_days(i64::MAX).as_millis(), i64::MAX);
        assert!(SimDuration::from_millis_f64(f64::INFINITY).as_millis() >= i64::MAX / 4);
        assert_eq!(SimDuration::from_millis_f64(f64::NAN), SimDuration::ZERO);
        // A tick past the end of the clock never comes.
        let late = SimTime::from_millis(i64::MAX - 3);
        assert!(
            late.next_tick(SimTime::ZERO, SimDuration::from_hours(24))
                .is_never()
        );
        assert!(
            SimTime::from_millis(i64::MAX - 10)
                .next_tick(SimTime::ZERO, huge)
                .is_never()
        );
    }

    #[test]
    fn displays_in_largest_exact_units() {
        assert_eq!(SimDuration::from_hours(36).to_string(), "1d12h");
        assert_eq!(SimDuration::from_secs(90).to_string(), "1m30s");
        assert_eq!(SimDuration::ZERO.to_string(), "0h");
    }

    #[test]
    fn next_tick_is_first_grid_point_at_or_after() {
        let phase = SimTime::from_millis(3);
        let period = SimDuration::from_millis(10);
        assert_eq!(
            SimTime::from_millis(0).next_tick(phase, period).as_millis(),
            3
        );
        assert_eq!(
            SimTime::from_millis(3).next_tick(phase, period).as_millis(),
            3
        );
        assert_eq!(
            SimTime::from_millis(4).next_tick(phase, period).as_millis(),
            13
        );
        assert_eq!(
            SimTime::from_millis(13)
                .next_tick(phase, period)
                .as_millis(),
            13
        );
        assert_eq!(
            SimTime::from_millis(14)
                .next_tick(phase, period)
                .as_millis(),
            23
        );
    }
}
