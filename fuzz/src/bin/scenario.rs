//! Fuzz target: any bytes as a scenario file, through parsing, overrides and validation,
//! and for a valid scenario the release plan and the memory estimate. Every input must
//! end in `Ok` or a clean error: a panic is a crash AFL++ records.

use std::path::Path;

use rollout_sim::model::ReleasePlan;
use rollout_sim::scenario::{self, Overrides};

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        if let Ok(s) = scenario::parse(text, Path::new("fuzz.json"), &Overrides::default()) {
            let plan = ReleasePlan::new(&s);
            assert_eq!(plan.release_count(), s.releases.len());
            let _ = rollout_sim::montecarlo::memory_estimate(&s, 2).total();
            let _ = s.instant(s.horizon_time());
        }
    });
}
