//! Fuzz target: any bytes as a shard part file, through its header, job line, grid
//! points and checksum, as `merge` reads it. Every input must end in `Ok` or a clean
//! error: a panic is a crash AFL++ records.

use rollout_sim::shard::{PartReader, check_complete, merge_points};

fn main() {
    // One file, rewritten for each input (parts are read from a path).
    let dir = std::env::temp_dir().join(format!("rollout-sim-fuzz-part-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temp folder");
    let path = dir.join("part-0-of-1.jsonl");
    afl::fuzz!(|data: &[u8]| {
        std::fs::write(&path, data).expect("the temp file is written");
        let Ok(reader) = PartReader::open(&path) else {
            return;
        };
        let parts = vec![reader];
        if check_complete(&parts).is_err() {
            return;
        }
        let Ok(points) = rollout_sim::sweep::checked_grid_size(&parts[0].job().axes()) else {
            return;
        };
        let sizes = vec![parts[0].header().total_items / points.max(1) as u64; points];
        let _ = merge_points(parts, &sizes, 2, |_| Ok(()));
    });
}
