//! Fuzz target: any bytes as a `check` baseline, through bounded JSON (duplicate keys
//! refused), the schema check and deserialisation. Every input must end in `Ok` or a
//! clean error: a panic is a crash AFL++ records.

use rollout_sim::check::parse_baseline;

fn main() {
    afl::fuzz!(|data: &[u8]| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        if let Ok(b) = parse_baseline(text) {
            // A baseline that parses serialises again and parses to the same figures.
            let again = parse_baseline(&serde_json::to_string(&b).unwrap()).unwrap();
            assert_eq!(again.figures.len(), b.figures.len());
        }
    });
}
