//! The parsers that turn one raw argument into a typed value, each with a message that
//! says what the option accepts (clap's own would say "invalid digit found in string").

use std::num::NonZeroUsize;

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use rollout_sim::delay::Family;
use rollout_sim::fit::{CalendarChoice, FamilyChoice};
use rollout_sim::input::echo;
use rollout_sim::scenario::WorkingHours;
use rollout_sim::shard::ShardSpec;

pub(super) fn parse_positive_duration_hours(text: &str) -> Result<f64, String> {
    rollout_sim::time::SimDuration::parse(text)
        .ok()
        .map(rollout_sim::time::SimDuration::as_hours)
        .filter(|h| *h > 0.0 && *h <= 1e6)
        .ok_or_else(|| {
            format!(
                "\"{}\" is not a positive duration such as 1d or 12h",
                echo(text)
            )
        })
}

pub(super) fn parse_shard(text: &str) -> Result<ShardSpec, String> {
    ShardSpec::parse(text).map_err(|e| e.to_string())
}

pub(super) fn parse_constraint(text: &str) -> Result<rollout_sim::plan::Constraint, String> {
    rollout_sim::plan::Constraint::parse(text).map_err(|e| e.message)
}

pub(super) fn parse_confidence(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|c| (0.5..=0.999).contains(c))
        .ok_or_else(|| {
            format!(
                "\"{}\" is not a confidence; allowed: 0.5 to 0.999",
                echo(text)
            )
        })
}

/// The parser of a whole-number option from `min` to `max` (`None`: the type's
/// largest), whose message says what the option accepts (clap's own says "invalid digit
/// found in string" for `-1`).
pub(super) fn whole_number<T>(
    min: T,
    max: Option<T>,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy + Send + Sync + 'static,
{
    move |text: &str| {
        text.trim()
            .parse::<T>()
            .ok()
            .filter(|n| *n >= min && max.is_none_or(|max| *n <= max))
            .ok_or_else(|| {
                let range = match max {
                    None => format!("a whole number, {min} or more"),
                    Some(max) => format!("a whole number from {min} to {max}"),
                };
                format!("\"{}\" is not allowed; expected {range}", echo(text))
            })
    }
}

/// `--family`: `auto` or one of the families the delay laws register, each listed in
/// `--help` with its own description.
pub(super) fn family_choice() -> impl TypedValueParser<Value = FamilyChoice> {
    let auto = PossibleValue::new("auto").help("Fit each family and choose by AIC");
    let families = Family::all().map(|f| PossibleValue::new(f.name()).help(f.fitting().about));
    PossibleValuesParser::new(std::iter::once(auto).chain(families))
        .map(|name| Family::named(&name).map_or(FamilyChoice::Auto, FamilyChoice::One))
}

pub(super) fn parse_calendar(text: &str) -> Result<CalendarChoice, String> {
    match text.trim() {
        "auto" => Ok(CalendarChoice::Auto),
        "none" => Ok(CalendarChoice::Plain),
        hours => WorkingHours::parse(hours)
            .map(CalendarChoice::Given)
            .map_err(|e| format!("{e}; or \"auto\", or \"none\"")),
    }
}

pub(super) fn parse_hours(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|h| h.is_finite() && *h >= 0.0 && *h <= 1e6)
        .ok_or_else(|| {
            format!(
                "\"{}\" is not a number of hours; allowed: 0 to 1000000",
                echo(text)
            )
        })
}

pub(super) fn parse_alpha(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|a| *a > 0.0 && *a < 1.0)
        .ok_or_else(|| {
            format!(
                "\"{}\" is not an error rate; allowed: a number between 0 and 1",
                echo(text)
            )
        })
}

/// The most worker threads a run may ask for: past the cores, threads only add overhead,
/// and each costs a stack; a typo such as 100000 must not spawn them before any check.
const MAX_THREADS: usize = 256;

pub(super) fn parse_threads(text: &str) -> Result<NonZeroUsize, String> {
    text.parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_THREADS).contains(n))
        .and_then(NonZeroUsize::new)
        .ok_or_else(|| {
            format!(
                "\"{}\" is not a thread count; allowed: 1 to {MAX_THREADS}",
                echo(text)
            )
        })
}

/// Seeds are unsigned 64-bit integers; say so rather than print clap's generic tip.
pub(super) fn parse_seed(text: &str) -> Result<u64, String> {
    text.parse::<u64>().map_err(|_| {
        format!(
            "\"{}\" is not a seed; seeds are whole numbers from 0 to 2^64-1 (18446744073709551615)",
            echo(text)
        )
    })
}
