//! Fuzz target: any bytes as a `fit --observed` CSV (per instance or aggregate shares),
//! through the header, the rows and their checks. Every input must end in `Ok` or a
//! clean error naming the line: a panic is a crash AFL++ records.

use std::path::Path;

use rollout_sim::fit::observed::parse;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        let _ = parse(text, Path::new("fuzz.csv"), None);
        let _ = parse(text, Path::new("fuzz.csv"), Some(1000));
    });
}
