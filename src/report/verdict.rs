//! Verdicts: the sentences a planner acts on, shared by the table, `summary.md` and
//! `report.html`. Each says what the run found and, where the coexistence does not end,
//! why and what the vendor's levers would cost, in numbers from the run itself.

use crate::scenario::{Scenario, presets};

use super::{Band, ReleaseReport, Stat};

/// Hours after a deploy at which the levers' cost is read off the run.
const LEVER_DAYS: [i64; 3] = [7, 14, 30];

/// The recommended window's confidence interval, in words.
fn window_ci(w: &super::CompatWindow) -> String {
    match w.ci95 {
        [Some(lo), Some(hi)] => format!("CI {lo:.1} to {hi:.1} h"),
        [None, Some(hi)] => format!("CI up to {hi:.1} h; more replications for a lower bound"),
        [Some(lo), None] => format!("CI from {lo:.1} h to beyond the horizon"),
        [None, None] => "too few replications for a CI".to_string(),
    }
}

/// An instant as a planner reads it: "Tue 2026-09-29 14:00 UTC", and the same in the
/// time zone most of the instances are in, when the scenario names zones.
pub(super) fn calendar(scenario: &Scenario, at: chrono::DateTime<chrono::Utc>) -> String {
    let utc = at.format("%a %Y-%m-%d %H:%M UTC").to_string();
    match planner_zone(scenario) {
        Some(zone) => format!(
            "{utc}, {} in {}",
            at.with_timezone(&zone).format("%a %H:%M"),
            zone.name()
        ),
        None => utc,
    }
}

/// The time zone most of the scenario's instances are in (the first of equals), if any
/// other than UTC: where the planner's dates are read.
pub(super) fn planner_zone(scenario: &Scenario) -> Option<chrono_tz::Tz> {
    let mut weights: Vec<(chrono_tz::Tz, f64)> = Vec::new();
    for segment in &scenario.population.segments {
        for &(zone, w) in &segment.zones {
            match weights.iter_mut().find(|(z, _)| *z == zone) {
                Some((_, total)) => *total += w * segment.share,
                None => weights.push((zone, w * segment.share)),
            }
        }
    }
    weights
        .into_iter()
        .filter(|(z, _)| *z != chrono_tz::UTC)
        .fold(
            None,
            |best: Option<(chrono_tz::Tz, f64)>, (z, w)| match best {
                Some((_, bw)) if bw >= w => best,
                _ => Some((z, w)),
            },
        )
        .map(|(z, _)| z)
}

/// An instant of the calendar report as a planner reads it, in its local zone:
/// "Wed 2026-03-04 13:48".
fn dated(at: &super::Instant) -> Option<String> {
    chrono::DateTime::parse_from_rfc3339(&at.local)
        .ok()
        .map(|t| t.format("%a %Y-%m-%d %H:%M").to_string())
}

/// The instant `hours` after release `r`'s deploy.
pub(super) fn after_deploy(
    scenario: &Scenario,
    r: &ReleaseReport,
    hours: f64,
) -> chrono::DateTime<chrono::Utc> {
    let deployed = scenario.instant(scenario.releases[r.index].at);
    let offset = chrono::Duration::milliseconds((hours * 3_600_000.0).round() as i64);
    deployed.checked_add_signed(offset).unwrap_or(deployed)
}

/// The answer a planner asked for, one sentence per release: when the older versions
/// can be switched off (with the scenario's tolerance), as a date; or, when the run
/// cannot say, how many instances are still on them at the horizon and what a cut-off
/// would break.
pub(super) fn headline(
    scenario: &Scenario,
    r: &ReleaseReport,
    adoption: &[Band],
    quantile: f64,
) -> String {
    let tolerance = scenario.report.coexistence_tolerance;
    let w = &r.recommended_compat_window;
    let pct = quantile * 100.0;
    if let Some(h) = w.hours {
        let when = calendar(scenario, after_deploy(scenario, r, h));
        let detail = format!(
            "{} after the deploy ({pct:.0}% of replications; {})",
            hours_with_days(h),
            window_ci(w)
        );
        return if tolerance.is_zero() {
            format!("Keep serving {} until {when}: {detail}.", r.from_version)
        } else {
            format!(
                "Switch off {} on {when}, when {} are left on it: {detail}.",
                r.from_version,
                tolerance.describe()
            )
        };
    }
    let reps = r.coexistence_hours.n + r.coexistence_hours.censored;
    let goal = if tolerance.is_zero() {
        "reaches everyone".to_string()
    } else {
        format!("gets down to {} on older versions", tolerance.describe())
    };
    let never = if r.coexistence_hours.n == 0 {
        format!("{} never {goal} before the horizon", r.version)
    } else {
        format!(
            "{} {goal} before the horizon in only {} of {reps} replications, fewer than the {pct:.0}% a window needs",
            r.version, r.coexistence_hours.n
        )
    };
    let left = match (
        r.left_over_share_at_horizon.mean,
        r.left_over_at_horizon.mean,
    ) {
        (Some(share), Some(n)) => format!(
            ": {:.1}% ({} instances) remain on older versions at the horizon",
            share * 100.0,
            super::comparison::count(n)
        ),
        _ => String::new(),
    };
    // What switching off would break: at the scenario's drop date when it has one,
    // else two weeks after the deploy (one week when the horizon is shorter).
    let cut = match (scenario.policy.drop_old_support_after, &r.left_behind) {
        (Some(d), Some(Stat { mean: Some(n), .. })) => Some(format!(
            "; dropping support {} after the deploy ({}) breaks {} instances",
            hours_or_days(d.as_hours()),
            calendar(scenario, after_deploy(scenario, r, d.as_hours())),
            super::comparison::count(*n)
        )),
        _ => [14, 7].iter().find_map(|&d| {
            behind_after_days(scenario, r, adoption, d).map(|behind| {
                format!(
                    "; cutting off at day {d} ({}) breaks {} instances",
                    calendar(scenario, after_deploy(scenario, r, (d * 24) as f64)),
                    super::comparison::count(behind)
                )
            })
        }),
    };
    format!("{never}{left}{}.", cut.unwrap_or_default())
}

/// The recommended compatibility window of a release, as a sentence.
pub(super) fn recommendation(r: &ReleaseReport, quantile: f64) -> String {
    let pct = quantile * 100.0;
    let w = &r.recommended_compat_window;
    match w.hours {
        Some(h) => format!(
            "keep serving {} for {} after the deploy ({pct:.0}% of replications; {})",
            r.from_version,
            hours_with_days(h),
            window_ci(w)
        ),
        None => format!(
            "no window can be recommended for {}: {}",
            r.version,
            w.reason.as_deref().unwrap_or("censored")
        ),
    }
}

/// "28.7 h", or "532.8 h (22.2 days)" from three days on.
fn hours_with_days(h: f64) -> String {
    if h >= 72.0 {
        format!("{h:.1} h ({:.1} days)", h / 24.0)
    } else {
        format!("{h:.1} h")
    }
}

/// The mean count of instances not yet on release `r` `days` after its deploy (what a
/// cut-off then would break), if the run covers that day.
fn behind_after_days(
    scenario: &Scenario,
    r: &ReleaseReport,
    adoption: &[Band],
    days: i64,
) -> Option<f64> {
    let at = scenario.releases[r.index].at.as_hours() + (days * 24) as f64;
    adoption
        .iter()
        .find(|b| b.hours >= at)
        .map(|b| b.mean_behind)
}

fn hours_or_days(h: f64) -> String {
    if h >= 72.0 {
        format!("{:.1} days", h / 24.0)
    } else {
        format!("{h:.1} h")
    }
}

/// "50% of instances have it after 3.1 h, 90% after ..." from the thresholds the report
/// has.
fn time_to_shares(r: &ReleaseReport) -> String {
    let parts: Vec<String> = r
        .time_to_share_hours
        .iter()
        .filter(|(k, _)| [0.5, 0.9, 0.99].iter().any(|p| (k.0 - p).abs() < 1e-12))
        .enumerate()
        .map(|(i, (k, s))| {
            let pct = k.0 * 100.0;
            let subject = if i == 0 {
                format!("{pct}% of instances have it")
            } else {
                format!("{pct}%")
            };
            match (s.mean, s.censored) {
                (None, _) => format!("{subject} not before the horizon"),
                (Some(m), 0) => format!("{subject} after {}", hours_or_days(m)),
                (Some(m), c) => format!(
                    "{subject} after {} in {} of {} replications (the others not before the horizon)",
                    hours_or_days(m),
                    s.n,
                    s.n + c
                ),
            }
        })
        .collect();
    parts.join(", ")
}

/// Admins who ignore and who reject an approval request, as shares of all instances,
/// from the scenario's admin profiles.
fn admin_shares(scenario: &Scenario) -> (f64, f64) {
    scenario
        .population
        .segments
        .iter()
        .fold((0.0, 0.0), |(ignore, reject), s| {
            (
                ignore + s.share * (1.0 - s.admin.approve - s.admin.reject).max(0.0),
                reject + s.share * s.admin.reject,
            )
        })
}

/// A group of verdicts under a title: one release's, or the cut-off's.
#[derive(Clone, Debug, PartialEq)]
pub struct VerdictGroup {
    /// What the sentences are about, such as "Release 0 (fix, 1.4.2 -> 1.4.3)".
    pub title: String,
    /// The sentences, in reading order.
    pub sentences: Vec<String>,
}

/// Every verdict of one release, in reading order, under the release's title.
pub(super) fn release_verdicts(
    scenario: &Scenario,
    r: &ReleaseReport,
    adoption: &[Band],
    quantile: f64,
) -> VerdictGroup {
    let mut out = Vec::new();
    let title = format!(
        "Release {} ({}, {} -> {})",
        r.index, r.label, r.from_version, r.version
    );
    let shares = time_to_shares(r);
    if !shares.is_empty() {
        let mut shares = shares;
        // A sentence of its own: "50% of instances have it after ...".
        shares.push('.');
        out.push(shares);
    }
    let dates: Vec<String> = r
        .calendar
        .time_to_share
        .iter()
        .filter(|(k, _)| [0.5, 0.9, 0.99].iter().any(|p| (k.0 - p).abs() < 1e-12))
        .filter_map(|(k, at)| Some(format!("{}% on {}", k.0 * 100.0, dated(at.as_ref()?)?)))
        .collect();
    if !dates.is_empty() {
        out.push(format!(
            "In dates ({}): {}.",
            r.calendar.zone,
            dates.join(", ")
        ));
    }
    out.push(format!("Compatibility: {}.", recommendation(r, quantile)));
    let guidance = presets::by_name(scenario.preset).and_then(|p| p.guidance);
    // Instances that never granted an earlier release's approval cannot take this one
    // automatically: the window then exceeds anything the page promises.
    let held_back = scenario.releases[..r.index]
        .iter()
        .any(|earlier| earlier.changes.needs_approval());
    match (r.needs_approval, guidance, r.recommended_compat_window.hours) {
        (false, Some(g), Some(h)) => out.push(format!(
            "Guidance: {g}; this scenario needs {h:.1} h at the {:.0}th percentile{}.",
            quantile * 100.0,
            if held_back {
                " (instances whose admins have not approved an earlier release's change cannot take this one until they do)"
            } else {
                ""
            }
        )),
        (true, _, _) => out.push(
            "Guidance: the update needs an admin's approval, for which the Marketplace page sets no time bound."
                .to_string(),
        ),
        _ => {}
    }
    let last = adoption.last();
    let behind_share = last.map_or(0.0, |b| 1.0 - b.mean);
    let ends = r.recommended_compat_window.hours.is_some();
    if let Some(last) = last.filter(|_| !ends || behind_share > 0.005) {
        let mut sentence = format!(
            "At the horizon {:.1}% of installed instances ({:.0} on average) are still on older versions",
            behind_share * 100.0,
            last.mean_behind
        );
        if r.needs_approval {
            let (ignore, reject) = admin_shares(scenario);
            sentence += &format!(
                ": in this scenario's admin profiles {:.0}% of admins ignore the approval request and {:.0}% reject it",
                ignore * 100.0,
                reject * 100.0
            );
        }
        out.push(sentence + ".");
        out.extend(levers(scenario, r, adoption));
    }
    if let Some(left) = &r.left_behind {
        out.push(format!(
            "When support for older versions is dropped, {} instances are still on them.",
            stat_mean(left)
        ));
    }
    VerdictGroup {
        title,
        sentences: out,
    }
}

/// The levers this scenario does not already pull, each with its effect where this run
/// measures it (a cut-off's cost at 7, 14 and 30 days), else how to measure it.
fn levers(scenario: &Scenario, r: &ReleaseReport, adoption: &[Band]) -> Vec<String> {
    let mut out = Vec::new();
    let release = &scenario.releases[r.index];
    if scenario.policy.cutoff.is_none() {
        let costs: Vec<String> = LEVER_DAYS
            .iter()
            .filter_map(|&d| {
                behind_after_days(scenario, r, adoption, d)
                    .map(|behind| format!("{d} days would break {behind:.0} instances"))
            })
            .collect();
        if !costs.is_empty() {
            out.push(format!(
                "Lever, a cut-off of the old version (policy.cutoff_at): at {} (means over replications).",
                costs.join(", at ")
            ));
        }
    }
    if r.needs_approval {
        let without: Vec<String> = scenario
            .population
            .segments
            .iter()
            .filter(|s| s.admin.approve + s.admin.reject < 1.0)
            .filter(|s| s.admin.reminders.is_empty() || s.admin.reminder_response == 0.0)
            .map(|s| format!("admins.{}.reminders", s.admin.name))
            .collect();
        if !without.is_empty() {
            out.push(format!(
                "Lever, reminders ({}, with a reminder_response): they win back some admins who ignore; compare this scenario with a copy that sets them to measure how many.",
                without.join(", ")
            ));
        }
        if release.changes.scopes && release.changes.other {
            out.push(
                "Lever, isolating the change: this release bundles new scopes with other changes, so only approving instances get the rest; shipping the other changes alone first reaches every instance automatically (compare the two release lists with --pair to measure it)."
                    .to_string(),
            );
        }
        if release.changes.licensing && scenario.policy.uninstall_unapproved_after.is_none() {
            out.push(
                "Lever, an approval deadline (policy.uninstall_unapproved_after): instances that have not approved the paid version by then are uninstalled, which ends the free version's window; compare with a copy that sets it to measure when."
                    .to_string(),
            );
        }
    }
    out
}

fn stat_mean(s: &Stat) -> String {
    s.mean.map_or("no".into(), |m| format!("{m:.0}"))
}

/// The verdict on a cut-off, if the scenario has one.
pub(super) fn cutoff_verdict(cutoff: &super::CutoffReport) -> String {
    let what = if cutoff.action == "uninstall" {
        "uninstalled"
    } else {
        "broke"
    };
    match cutoff.affected.mean {
        Some(m) => format!(
            "The cut-off at {} (versions below {}) {what} {m:.0} instances (mean over replications).",
            hours_or_days(cutoff.at_hours),
            cutoff.below
        ),
        None => format!(
            "The cut-off at {} falls after the horizon: it broke nothing within the simulated time.",
            hours_or_days(cutoff.at_hours)
        ),
    }
}
