//! The outputs of `fit`: `fit.json` (a contract), the table on stdout, the chart of the
//! observed against the fitted curve, and `fit.html`.

use std::io::{self, Write};

use serde::Serialize;

use super::Exporter;
use crate::fit::{Estimated, FitOutcome, SegmentFit};
use crate::scenario::WorkingHours;

/// `fit.json`.
pub struct FitJson;

#[derive(Serialize)]
struct Interval {
    estimate: f64,
    ci95: [Option<f64>; 2],
}

impl From<&Estimated> for Interval {
    fn from(e: &Estimated) -> Self {
        Interval {
            estimate: e.estimate,
            ci95: [e.ci95.0, e.ci95.1],
        }
    }
}

#[derive(Serialize)]
struct Candidate {
    family: &'static str,
    aic: f64,
    /// Akaike weight: the share of the forecast's draws this family gets.
    weight: f64,
}

#[derive(Serialize)]
struct Forecast {
    /// Parameter draws written into the fitted scenario (replication r uses r mod M).
    draws: usize,
    /// The smallest effective sample size of the families' importance samples.
    effective_sample: f64,
    /// The draws' 5% and 95% points of approve.
    approve_90: [Option<f64>; 2],
    /// Whether approve is not yet identifiable (its interval reaches 1).
    approve_identifiable: bool,
}

/// How the admins' delay is counted, and, when the data chose, the two AICs.
#[derive(Serialize)]
struct ClockOut {
    /// `working_hours` or `wall_clock`.
    counted_in: &'static str,
    /// The working hours, as a scenario writes them (null on wall-clock time).
    working_hours: Option<serde_json::Value>,
    /// When the data chose: the best wall-clock fit's AIC and the best working-hours
    /// fit's (its hours counted as three parameters), with those hours.
    #[serde(skip_serializing_if = "Option::is_none")]
    choice: Option<ClockChoiceOut>,
}

#[derive(Serialize)]
struct ClockChoiceOut {
    wall_clock_aic: f64,
    working_hours_aic: f64,
    best_working_hours: serde_json::Value,
}

#[derive(Serialize)]
struct Goodness {
    distance: f64,
    p_value: Option<f64>,
}

#[derive(Serialize)]
struct SegmentOut {
    name: String,
    n: u64,
    updated: u64,
    approve: Interval,
    delay: serde_json::Map<String, serde_json::Value>,
    clock: ClockOut,
    log_likelihood: f64,
    aic: f64,
    goodness_of_fit: Goodness,
    candidates: Vec<Candidate>,
    forecast: Forecast,
    warnings: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    contributions: Vec<ContributionOut>,
}

/// What one past release brought to a joint fit.
#[derive(Serialize)]
struct ContributionOut {
    release: usize,
    instances: u64,
    updated: u64,
    /// Shares of the joint fit's observed information on approve and on the delay's
    /// first parameter.
    approve_information_share: f64,
    delay_information_share: f64,
}

/// A further release of a joint fit.
#[derive(Serialize)]
struct JointReleaseOut {
    release: usize,
    label: String,
    instances: u64,
    updated: u64,
    until_hours: f64,
}

#[derive(Serialize)]
struct Observed {
    form: &'static str,
    instances: u64,
    updated: u64,
    until_hours: f64,
    left_out: crate::fit::LeftOut,
}

#[derive(Serialize)]
struct Method {
    intervals: &'static str,
    goodness_of_fit: String,
    publication: String,
    forecast: String,
}

#[derive(Serialize)]
struct FitFile {
    schema_version: u32,
    scenario: String,
    release: usize,
    observed: Observed,
    /// The other past releases of a joint fit.
    #[serde(rename = "also", skip_serializing_if = "Vec::is_empty")]
    joint_releases: Vec<JointReleaseOut>,
    method: Method,
    segments: Vec<SegmentOut>,
}

fn segment_out(s: &SegmentFit) -> SegmentOut {
    let mut delay = serde_json::Map::new();
    delay.insert("family".into(), s.law.family.name().into());
    for p in &s.parameters {
        delay.insert(
            p.name.into(),
            serde_json::to_value(Interval::from(p)).expect("plain numbers"),
        );
    }
    SegmentOut {
        name: s.name.clone(),
        n: s.n,
        updated: s.updated,
        approve: (&s.approve).into(),
        delay,
        clock: ClockOut {
            counted_in: match s.working_hours {
                Some(_) => "working_hours",
                None => "wall_clock",
            },
            working_hours: s.working_hours.as_ref().map(WorkingHours::to_scenario_json),
            choice: s.calendar.as_ref().map(|c| ClockChoiceOut {
                wall_clock_aic: c.plain_aic,
                working_hours_aic: c.calendar_aic,
                best_working_hours: c.hours.to_scenario_json(),
            }),
        },
        log_likelihood: s.log_likelihood,
        aic: s.aic,
        goodness_of_fit: Goodness {
            distance: s.distance,
            p_value: s.p_value,
        },
        candidates: s
            .candidates
            .iter()
            .zip(&s.family_weights)
            .map(|((f, aic), (_, weight))| Candidate {
                family: f.name(),
                aic: *aic,
                weight: *weight,
            })
            .collect(),
        forecast: Forecast {
            draws: s.draws.len(),
            effective_sample: s.effective_draws,
            approve_90: draw_band(s),
            approve_identifiable: s.approve_identifiable(),
        },
        warnings: s.warnings(),
        contributions: s
            .contributions
            .iter()
            .map(|c| ContributionOut {
                release: c.release,
                instances: c.instances,
                updated: c.updated,
                approve_information_share: c.information[0],
                delay_information_share: c.information[1],
            })
            .collect(),
    }
}

/// The 5% and 95% points of the draws' approve.
fn draw_band(s: &SegmentFit) -> [Option<f64>; 2] {
    let mut a: Vec<f64> = s.draws.iter().map(|d| d.approve).collect();
    a.sort_by(f64::total_cmp);
    let at = |q: f64| (!a.is_empty()).then(|| a[((q * a.len() as f64) as usize).min(a.len() - 1)]);
    [at(0.05), at(0.95)]
}

/// How the publication time entered the fit, in words.
fn publication_method(o: &FitOutcome) -> String {
    match o.published_at {
        Some(h) => format!("given: published {h} h after the deploy (--published-at)"),
        None => "integrated over the model's one field-wide publication draw".into(),
    }
}

impl Exporter<FitOutcome> for FitJson {
    fn file_name(&self) -> &'static str {
        "fit.json"
    }
    fn write(&self, o: &FitOutcome, out: &mut dyn Write) -> io::Result<()> {
        let file = FitFile {
            schema_version: 1,
            scenario: o.scenario.clone(),
            release: o.release,
            observed: Observed {
                form: o.form,
                instances: o.instances,
                updated: o.updated,
                until_hours: o.until_hours,
                left_out: o.left_out,
            },
            joint_releases: o
                .joint_releases
                .iter()
                .map(|a| JointReleaseOut {
                    release: a.release,
                    label: a.release_label.clone(),
                    instances: a.instances,
                    updated: a.updated,
                    until_hours: a.until_hours,
                })
                .collect(),
            method: Method {
                intervals: "profile likelihood (95%, chi-square with 1 degree of freedom)",
                goodness_of_fit: format!(
                    "largest distance between the observed (Kaplan-Meier) and fitted curves; p-value from a parametric bootstrap of {} refitted data sets",
                    o.bootstrap
                ),
                publication: publication_method(o),
                forecast: "parameter draws from the posterior (flat priors on approve and on the log delay parameters), sampled by importance resampling (SIR) per family and shared out across families by Akaike weights".into(),
            },
            segments: o.segments.iter().map(segment_out).collect(),
        };
        serde_json::to_writer_pretty(&mut *out, &file)?;
        writeln!(out)
    }
}

fn interval_text(e: &Estimated, digits: usize) -> String {
    let end = |v: Option<f64>| v.map_or("unbounded".to_string(), |v| format!("{v:.digits$}"));
    format!(
        "{:.digits$} ({} to {})",
        e.estimate,
        end(e.ci95.0),
        end(e.ci95.1)
    )
}

/// How the delay is counted, in words, with the AICs when the data chose.
fn clock_text(s: &SegmentFit) -> String {
    let counted = match &s.working_hours {
        Some(h) => {
            format!("working hours, {h}, in the segment's zones (the delay counts working time)")
        }
        None => "wall-clock time".into(),
    };
    match &s.calendar {
        Some(c) => format!(
            "{counted}; chosen by AIC: wall-clock {:.2}, working hours {} {:.2}",
            c.plain_aic, c.hours, c.calendar_aic
        ),
        None => counted,
    }
}

/// The table `fit` prints.
pub fn render_fit_table(o: &FitOutcome) -> String {
    let mut out = format!(
        "{} release {} ({}): {} instances observed ({}), {} updated, until {:.1} h after the deploy\n\n",
        o.scenario,
        o.release,
        o.release_label,
        o.instances,
        o.form.replace('_', " "),
        o.updated,
        o.until_hours
    );
    for a in &o.joint_releases {
        out += &format!(
            "fitted jointly with release {} ({}): {} instances observed, {} updated, until {:.1} h after its deploy\n",
            a.release, a.release_label, a.instances, a.updated, a.until_hours
        );
    }
    if !o.joint_releases.is_empty() {
        out += "\n";
    }
    let gone = o.left_out;
    if gone.installed_after + gone.unobserved > 0 {
        out += &format!(
            "left out: {} installations first seen after the deploy already on the new version (maybe installed with it), {} not observed after the deploy\n\n",
            gone.installed_after, gone.unobserved
        );
    }
    for s in &o.segments {
        out += &format!(
            "segment {}: {} instances, {} updated\n  approve  {}\n  delay    {}",
            s.name,
            s.n,
            s.updated,
            interval_text(&s.approve, 3),
            s.law.family.name()
        );
        for p in &s.parameters {
            out += &format!(", {} {}", p.name, interval_text(p, 2));
        }
        let p_value = s.p_value.map_or_else(
            || {
                if o.bootstrap > 0 && o.form == "snapshots" {
                    "not computed (sightings have no simulated schedule)".to_string()
                } else {
                    "not computed".to_string()
                }
            },
            |p| format!("{p:.3}"),
        );
        out += &format!("\n  clock    {}", clock_text(s));
        out += &format!(
            "\n  fit      log-likelihood {:.2}, AIC {:.2}; distance to the observed curve {:.4}, p = {}\n",
            s.log_likelihood, s.aic, s.distance, p_value
        );
        if s.candidates.len() > 1 {
            let list: Vec<String> = s
                .candidates
                .iter()
                .zip(&s.family_weights)
                .map(|((f, aic), (_, w))| format!("{} {:.2} (weight {:.2})", f.name(), aic, w))
                .collect();
            out += &format!("  AIC      {}\n", list.join(", "));
        }
        if !s.draws.is_empty() {
            let [lo, hi] = draw_band(s);
            out += &format!(
                "  forecast {} parameter draws (effective sample {:.0}); approve 90% of draws {:.3} to {:.3}\n",
                s.draws.len(),
                s.effective_draws,
                lo.unwrap_or_default(),
                hi.unwrap_or_default()
            );
        }
        if !s.contributions.is_empty() {
            let list: Vec<String> = s
                .contributions
                .iter()
                .map(|c| {
                    format!(
                        "release {} {:.0}% ({:.0}%)",
                        c.release,
                        100.0 * c.information[0],
                        100.0 * c.information[1]
                    )
                })
                .collect();
            out += &format!(
                "  releases {} of the information on approve (on the delay)\n",
                list.join(", ")
            );
        }
        for w in s.warnings() {
            out += &format!("  warning  {w}\n");
        }
    }
    out += &format!(
        "\nIntervals: 95% profile likelihood. Publication: {}.\n",
        publication_method(o)
    );
    out
}
