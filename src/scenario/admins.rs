//! A segment's admins as a scenario describes them: whether they approve or reject,
//! after what delay (the delay laws), in which working hours, and how reminders reach
//! them.

use chrono::NaiveTime;

use super::validate;
use crate::delay::Delay;
use crate::time::SimDuration;

#[derive(Clone, Debug, PartialEq)]
/// How a segment's admins respond to an update that needs approval.
pub struct AdminProfile {
    /// The profile's name (a built-in or one of the file's `admins`).
    pub name: String,
    /// Probability that the admin approves.
    pub approve: f64,
    /// Probability that the admin rejects (the rest ignore).
    pub reject: f64,
    /// How long after the notice the admin acts.
    pub delay: Delay,
    /// What a rejection does to the instance.
    pub on_reject: OnReject,
    /// When set, delays count working time only and actions fall inside working hours.
    pub working_hours: Option<WorkingHours>,
    /// Offsets after the first notice at which a reminder is sent.
    pub reminders: Vec<SimDuration>,
    /// Probability that an admin who was ignoring the update responds to a reminder.
    pub reminder_response: f64,
    /// Draws of `(approve, delay)` from the uncertainty of a fit: replication `r` uses
    /// draw `r mod M`, so a run's bands carry the parameters' uncertainty (predictive
    /// bands). Empty: every replication uses `approve` and `delay`.
    pub parameter_draws: Vec<(f64, Delay)>,
}

impl AdminProfile {
    /// The `approve` and `delay` replication `replication` runs with.
    pub fn parameters(&self, replication: u64) -> (f64, &Delay) {
        match self.parameter_draws.len() {
            0 => (self.approve, &self.delay),
            m => {
                let (approve, delay) = &self.parameter_draws[(replication % m as u64) as usize];
                (*approve, delay)
            }
        }
    }
}

/// The days of the week as scenarios name them, Monday first.
pub(crate) const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// Local working hours of a site's admin, e.g. Monday to Friday 09:00 to 17:00.
#[derive(Clone, Debug, PartialEq)]
pub struct WorkingHours {
    /// Monday first.
    pub days: [bool; 7],
    /// Start of the working day, local time.
    pub from: NaiveTime,
    /// End of the working day, local time.
    pub to: NaiveTime,
}

impl WorkingHours {
    /// Reads working hours written `DAYS HH:MM-HH:MM`, e.g. `mon-fri 09:00-17:00`.
    pub fn parse(text: &str) -> Result<WorkingHours, String> {
        validate::working_hours_text(text)
    }

    /// The days as a scenario writes them: `daily`, `mon-fri`, or the days' names.
    fn day_names(&self) -> Vec<&'static str> {
        match self.days {
            [true, true, true, true, true, true, true] => vec!["daily"],
            [true, true, true, true, true, false, false] => vec!["mon-fri"],
            days => DAY_NAMES
                .iter()
                .zip(days)
                .filter(|(_, on)| *on)
                .map(|(n, _)| *n)
                .collect(),
        }
    }

    /// The hours as a scenario file writes them (`working_hours` of an admin profile).
    pub fn to_scenario_json(&self) -> serde_json::Value {
        let days = match self.day_names()[..] {
            [one] => serde_json::json!(one),
            ref names => serde_json::json!(names),
        };
        serde_json::json!({
            "days": days,
            "from": self.from.format("%H:%M").to_string(),
            "to": self.to.format("%H:%M").to_string(),
        })
    }
}

impl std::fmt::Display for WorkingHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}-{}",
            self.day_names().join(","),
            self.from.format("%H:%M"),
            self.to.format("%H:%M")
        )
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
/// What happens to an instance whose admin rejects.
pub enum OnReject {
    /// Keep the old version for good.
    Stay,
    /// Uninstall the app.
    Uninstall,
}
