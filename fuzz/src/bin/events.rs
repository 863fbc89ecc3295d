//! Fuzz target: any bytes as a `fit --from-events` log (`events.jsonl`) of a shipped
//! scenario with approvals, reminders and segments. Every input must end in `Ok` or a
//! clean error naming the line: a panic is a crash AFL++ records.

use std::path::Path;

use rollout_sim::fit::events::rows_from_events;
use rollout_sim::scenario::{self, Overrides};

const SCENARIO: &str = include_str!("../../../scenarios/policy-reminders.json");

fn main() {
    let s = scenario::parse(SCENARIO, Path::new("policy-reminders.json"), &Overrides::default())
        .expect("a shipped scenario is valid");
    afl::fuzz!(|data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        for (replication, until) in [(0, None), (1, Some(48.0))] {
            let _ = rows_from_events(&s, text, Path::new("fuzz.jsonl"), 0, replication, until);
        }
    });
}
