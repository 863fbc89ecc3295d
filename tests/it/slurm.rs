//! Sharding on a real Slurm cluster: `examples/slurm/test-slurm.sh` starts a single-node
//! cluster on this host, runs the example array and merge jobs, and compares the merged
//! outputs with one machine's byte for byte. It needs root (as CI runs) and installs
//! Slurm and munge from apt when they are missing.

use std::process::Command;

use assert_cmd::cargo::cargo_bin;

#[test]
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
