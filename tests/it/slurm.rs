//! Sharding on a real Slurm cluster: `examples/slurm/test-slurm.sh` starts a single-node
//! cluster on this host, runs the example array and merge jobs, and compares the merged
//! outputs with one machine's byte for byte. A system test: it needs root, slurm-wlm and
//! munge, and starts daemons, so `cargo test` skips it (and says so); `.ci/run` installs
//! what it needs and runs it with `cargo test -- --include-ignored`.

use std::process::Command;

use assert_cmd::cargo::cargo_bin;

#[test]
#[ignore = "system test: needs root, slurm-wlm and munge; run with `cargo test -- --include-ignored` (.ci/run does)"]
fn array_jobs_on_a_real_slurm_merge_to_exactly_the_single_machine_outputs() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/slurm/test-slurm.sh");
    let out = Command::new("bash")
        .arg(script)
        .env("ROLLOUT_SIM", cargo_bin("rollout-sim"))
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "the Slurm test failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("byte-identical"));
}
