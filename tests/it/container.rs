//! The container image (`.ci/container/Dockerfile`) holds the static musl binary on
//! busybox. No container engine runs here, so the test builds the image's file tree as
//! the Dockerfile says (busybox as `FROM busybox`, then each `COPY` and `WORKDIR`) from
//! the archive `.ci/package` builds for `x86_64-unknown-linux-musl`, and runs the binary
//! in it with `chroot`: nothing but busybox and what the Dockerfile copies is there, so
//! a binary that needed a shared library or a file of the host would fail.
//!
//! A system test: it builds the release binary (minutes), needs the musl target, root
//! (for chroot) and a static busybox (Debian's busybox-static). `.ci/run` installs
//! them and runs it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::release::repo;

const TARGET: &str = "x86_64-unknown-linux-musl";

/// The Dockerfile's instructions, continuation lines joined, comments dropped.
fn instructions() -> Vec<(String, Vec<String>)> {
    let text = fs::read_to_string(repo().join(".ci/container/Dockerfile")).unwrap();
    text.replace("\\\n", " ")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let mut words = l.split_whitespace().map(str::to_string);
            (words.next().unwrap(), words.collect())
        })
        .collect()
}

/// The image's file tree from the build context (the unpacked archive's folder).
fn build_tree(context: &Path, busybox: &Path, root: &Path) -> (PathBuf, Vec<String>) {
    let mut workdir = PathBuf::from("/");
    let mut cmd = Vec::new();
    for (op, args) in instructions() {
        match op.as_str() {
            "FROM" => {
                assert!(
                    args[0].starts_with("busybox:"),
                    "the test knows busybox only: {args:?}"
                );
                fs::create_dir_all(root.join("bin")).unwrap();
                fs::copy(busybox, root.join("bin/busybox")).unwrap();
                std::os::unix::fs::symlink("busybox", root.join("bin/sh")).unwrap();
            }
            "COPY" => {
                let (dest, sources) = args.split_last().unwrap();
                let dest = root.join(dest.trim_start_matches('/'));
                for source in sources {
                    let target = if dest.to_string_lossy().ends_with('/') || sources.len() > 1 {
                        fs::create_dir_all(&dest).unwrap();
                        dest.join(Path::new(source).file_name().unwrap())
                    } else {
                        fs::create_dir_all(dest.parent().unwrap()).unwrap();
                        dest.clone()
                    };
                    fs::copy(context.join(source), &target)
                        .unwrap_or_else(|e| panic!("COPY {source}: {e}"));
                }
            }
            "WORKDIR" => {
                workdir = PathBuf::from(&args[0]);
                fs::create_dir_all(root.join(args[0].trim_start_matches('/'))).unwrap();
            }
            "CMD" => {
                let json: Vec<String> = serde_json::from_str(&args.join(" ")).unwrap();
                cmd = json;
            }
            other => panic!("the test does not know the instruction {other}"),
        }
    }
    (workdir, cmd)
}

#[test]
#[ignore = "system test: builds the static musl release binary (minutes) and runs it in a chroot (needs the x86_64-unknown-linux-musl target, root and a static busybox); .ci/run runs it"]
fn the_container_runs_the_static_binary_with_nothing_else_beside_it() {
    let busybox = PathBuf::from(
        std::env::var("ROLLOUT_SIM_BUSYBOX").unwrap_or_else(|_| "/bin/busybox".into()),
    );
    assert!(
        busybox.exists(),
        "a static busybox at {} (Debian: busybox-static)",
        busybox.display()
    );
    let scratch = tempfile::tempdir().unwrap();
    let dist = scratch.path().join("dist");
    let out = Command::new("bash")
        .arg(repo().join(".ci/package"))
        .args([TARGET, dist.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let unpacked = scratch.path().join("context");
    fs::create_dir(&unpacked).unwrap();
    let tar = Command::new("tar")
        .arg("-xzf")
        .arg(dist.join(format!("rollout-sim-{TARGET}.tar.gz")))
        .arg("-C")
        .arg(&unpacked)
        .status()
        .unwrap();
    assert!(tar.success());

    let root = scratch.path().join("root");
    let (workdir, cmd) = build_tree(
        &unpacked.join(format!("rollout-sim-{TARGET}")),
        &busybox,
        &root,
    );
    assert_eq!(cmd.first().map(String::as_str), Some("rollout-sim"));
    fs::copy(
        repo().join("scenarios/connect-micro.json"),
        root.join(workdir.strip_prefix("/").unwrap())
            .join("scenario.json"),
    )
    .unwrap();
    // The image's default command, then a run as a CI step would run it, in the shell
    // busybox brings, from the working folder the image sets. (A container engine also
    // mounts /dev, /proc and /sys; the chroot has none of them, so nothing here uses
    // them, and neither may the binary.)
    let script = format!(
        "export PATH=/usr/local/bin:/bin && cd {} && {} > default-command.txt && test -s default-command.txt && rollout-sim --version && rollout-sim run scenario.json --out out --quiet && test -s out/report.json",
        workdir.display(),
        cmd.join(" ")
    );
    let run = Command::new("chroot")
        .arg(&root)
        .args(["/bin/sh", "-c", &script])
        .output()
        .expect("chroot runs");
    assert!(
        run.status.success(),
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stdout).starts_with("rollout-sim "));
}
