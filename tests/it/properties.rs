//! Properties that hold for every valid scenario, checked on generated ones (proptest):
//! instances are conserved, nobody moves to an older version or before publication,
//! nothing that needs approval happens without one, every figure is finite or censored,
//! and outputs do not depend on threads or shard splits.

use std::path::Path;

use proptest::prelude::*;
use rollout_sim::export::{self as output, JsonReport};
use rollout_sim::model::{Happening, InstanceModel, UpdateCause, VersionTable, record};
use rollout_sim::montecarlo;
use rollout_sim::report::RunReport;
use rollout_sim::scenario::{self, Overrides, Scenario};
use rollout_sim::time::SimTime;
use serde_json::{Value, json};

const ZONES: [&str; 5] = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    "Asia/Kolkata",
    "Australia/Sydney",
];

fn admin() -> impl Strategy<Value = Value> {
    (
        0.0..=1.0f64,
        0.0..=1.0f64,
        prop_oneof![
            (1u32..72).prop_map(|h| json!({"fixed": format!("{h}h")})),
            (1u32..96).prop_map(|h| json!({"exponential": {"mean": format!("{h}h")}})),
            (1u32..96, 0.0..2.5f64)
                .prop_map(|(h, s)| json!({"lognormal": {"median": format!("{h}h"), "sigma": s}})),
        ],
        any::<bool>(),
        any::<bool>(),
        0.0..=1.0f64,
    )
        .prop_map(
            |(approve, reject_share, delay, hours, reminders, response)| {
                let reject = (1.0 - approve) * reject_share;
                let mut a = json!({"approve": approve, "reject": reject, "delay": delay,
                               "on_reject": if reject_share > 0.5 { "uninstall" } else { "stay" }});
                if hours {
                    a["working_hours"] = json!({"days": "mon-fri", "from": "09:00", "to": "17:00"});
                }
                if reminders {
                    a["reminders"] = json!(["2d", "5d"]);
                    a["reminder_response"] = json!(response);
                }
                a
            },
        )
}

fn segments() -> impl Strategy<Value = Vec<Value>> {
    prop::collection::vec(
        (
            prop::sample::subsequence(ZONES.to_vec(), 1..=3),
            0usize..3,
            any::<bool>(),
            1u32..4,
        ),
        1..=3,
    )
    .prop_map(|segs| {
        let n = segs.len();
        segs.into_iter()
            .enumerate()
            .map(|(i, (zones, admin, windows, weight))| {
                let tz: serde_json::Map<String, Value> =
                    zones.iter().map(|z| (z.to_string(), json!(1.0))).collect();
                // Shares that sum to exactly 1 in binary: 1/n rounded, the rest last.
                let share = if i + 1 < n {
                    0.25
                } else {
                    1.0 - 0.25 * (n - 1) as f64
                };
                let admin = ["a0", "a1", "a2"][admin];
                json!({"name": format!("s{i}"), "share": share, "timezones": tz,
                       "admin": admin,
                       "maintenance": if windows { "default" } else { "none" },
                       "weight": weight})
            })
            .collect()
    })
}

/// A release: its change kinds and its offset in hours after the previous one.
fn release() -> impl Strategy<Value = (Vec<&'static str>, u32)> {
    (
        prop::sample::subsequence(vec!["scopes", "licensing", "other", "api_version"], 1..=2),
        0u32..72,
    )
}

prop_compose! {
    fn scenario_doc()(
        forge in any::<bool>(),
        preset in 0usize..3,
        instances in 20u64..150,
        replications in 2u64..4,
        seed in any::<u64>(),
        horizon_days in 4u32..20,
        admins in prop::collection::vec(admin(), 3),
        segments in segments(),
        releases in prop::collection::vec(release(), 1..4),
        churn in prop::option::of((0.0..5.0f64, 0.0..0.05f64)),
        drop_after in prop::option::of(1u32..10),
        deadline in prop::option::of(1u32..10),
        cutoff in prop::option::of((1u32..15, any::<bool>())),
        slip_probability in 0.0..=1.0f64,
    ) -> Value {
        let platform = if forge { "forge" } else { ["connect", "connect-2018", "connect"][preset] };
        let mut at = 0u32;
        let releases: Vec<Value> = releases
            .into_iter()
            .map(|(kinds, gap)| {
                at = (at + gap).min(horizon_days * 24);
                let kinds: Vec<&str> = kinds
                    .into_iter()
                    .filter(|k| !(forge && *k == "api_version"))
                    .collect();
                let kinds = if kinds.is_empty() { vec!["other"] } else { kinds };
                json!({"at": format!("{at}h"), "changes": kinds})
            })
            .collect();
        let mut doc = json!({
            "name": "generated", "platform": platform, "start": "2026-03-27T22:00:00Z",
            "horizon": format!("{horizon_days}d"), "seed": seed, "replications": replications,
            "initial_version": if forge { "2.3.0" } else { "1.4.2" },
            "timing": {"slip_probability": slip_probability},
            "population": {"instances": instances, "segments": segments},
            "admins": {"a0": admins[0], "a1": admins[1], "a2": admins[2]},
            "releases": releases,
            "report": {"sample_every": "3h"}
        });
        if let Some((installs, uninstall)) = churn {
            doc["population"]["churn"] = json!({"installs_per_day": installs, "uninstall_rate_per_day": uninstall});
        }
        if let Some(d) = drop_after {
            doc["policy"]["drop_old_support_after"] = json!(format!("{d}d"));
        }
        if let Some(d) = deadline {
            doc["policy"]["uninstall_unapproved_after"] = json!(format!("{d}d"));
        }
        if let Some((d, broken)) = cutoff {
            doc["policy"]["cutoff_at"] = json!(format!("{d}d"));
            doc["policy"]["cutoff_action"] = json!(if broken { "broken" } else { "uninstall" });
        }
        doc
    }
}

fn parse(doc: &Value) -> Scenario {
    scenario::parse(
        &doc.to_string(),
        Path::new("generated.json"),
        &Overrides::default(),
    )
    .unwrap_or_else(|e| panic!("generated scenarios are valid: {e}\n{doc:#}"))
}

fn report_bytes(s: &Scenario, run: &montecarlo::RunOutput) -> String {
    output::render(&JsonReport, &RunReport::build(s, run, None)).unwrap()
}

/// Checks every per-instance property on replication `r`, and conservation against the
/// version mix the replication reports.
fn check_lives(
    s: &Scenario,
    plan: &VersionTable,
    r: u64,
    mix: &[u32],
) -> Result<(), TestCaseError> {
    let model = InstanceModel::new(s, plan);
    let (ctx, lives) = record(&model, r, 0..u64::MAX);
    let versions = plan.version_count();
    let every = s.report.sample_every.as_millis();
    let samples = mix.len() / versions;
    let mut counted = vec![0u32; mix.len()];
    for life in &lives {
        let mut current = Some(life.first_version);
        let mut changes: Vec<(SimTime, Option<usize>)> = vec![(life.installed_at, current)];
        let mut noticed = false;
        for &(t, h) in &life.happenings {
            prop_assert!(t <= s.horizon_time(), "nothing happens after the horizon");
            match h {
                Happening::Noticed { .. } => noticed = true,
                Happening::Updated { from, to, cause } => {
                    prop_assert_eq!(
                        Some(from),
                        current,
                        "updates start from the installed version"
                    );
                    prop_assert!(
                        plan.versions[to] > plan.versions[from],
                        "no move to an older version: {} -> {}",
                        plan.versions[from],
                        plan.versions[to]
                    );
                    prop_assert!(
                        t >= ctx.publication.at[to - 1],
                        "no update before publication"
                    );
                    if !plan.covers(from, to) && cause != UpdateCause::BulkUpgrade {
                        prop_assert_eq!(
                            cause,
                            UpdateCause::Approval,
                            "a permission needs approval"
                        );
                        prop_assert!(noticed, "approval follows a notice");
                    }
                    current = Some(to);
                    changes.push((t, current));
                }
                Happening::Uninstalled { version, .. } => {
                    prop_assert_eq!(Some(version), current);
                    current = None;
                    changes.push((t, None));
                }
                _ => {}
            }
        }
        // The version this life is on at each sample: the last change at or before it.
        for j in 0..samples {
            let t = SimTime::from_millis(j as i64 * every);
            if let Some(&(_, Some(v))) = changes.iter().rev().find(|(at, _)| *at <= t) {
                counted[j * versions + v] += 1;
            }
        }
    }
    prop_assert_eq!(
        counted,
        mix.to_vec(),
        "the version mix counts every installed instance once"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_generated_scenario_keeps_the_model_invariants(doc in scenario_doc()) {
        let s = parse(&doc);
        let run = montecarlo::run(&s, &());
        let mixes = run.mix.exact().expect("a few replications keep their mixes whole");
        for (rep, mix) in run.replications.iter().zip(mixes) {
            check_lives(&s, &run.plan, rep.index, &mix.counts)?;
        }
        // Every figure is finite or explicitly censored.
        let report = RunReport::build(&s, &run, None);
        let json: Value = serde_json::to_value(&report.report).unwrap();
        for release in json["releases"].as_array().unwrap() {
            let stats = std::iter::once(&release["coexistence_hours"])
                .chain(std::iter::once(&release["published_after_hours"]))
                .chain(release["time_to_share_hours"].as_object().unwrap().values());
            for stat in stats {
                let (n, censored) = (stat["n"].as_u64().unwrap(), stat["censored"].as_u64().unwrap());
                prop_assert_eq!(n + censored, u64::from(s.replications), "{}", stat);
                if n > 0 {
                    prop_assert!(stat["mean"].as_f64().is_some_and(f64::is_finite), "{}", stat);
                } else {
                    prop_assert!(stat["mean"].is_null());
                }
            }
        }
    }

    #[test]
    fn outputs_do_not_depend_on_threads_or_shards(doc in scenario_doc(), split in 1u64..3) {
        let s = parse(&doc);
        let whole = report_bytes(&s, &montecarlo::run(&s, &()));
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        let threaded = pool.install(|| report_bytes(&s, &montecarlo::run(&s, &())));
        prop_assert_eq!(&whole, &threaded);
        let n = u64::from(s.replications);
        let cut = split.min(n);
        let merged = montecarlo::run_range(&s, 0..cut, &()).merge(montecarlo::run_range(&s, cut..n, &()));
        prop_assert_eq!(&whole, &report_bytes(&s, &merged));
    }
}
