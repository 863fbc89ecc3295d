//! The release archives on a Unix runner: what `.ci/package` packs (an archive per
//! target, the live page's zip) and what `.ci/install.sh` does with them. The archives
//! hold the binary this test suite built (stripped when `strip` is there), standing in
//! for a release build: what is tested is the packing, the checksums and the install,
//! not the compiler.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use sha2::{Digest, Sha256};

use crate::release::repo;

/// The binary this suite built, stripped of its debug information when `strip` is
/// there (ten times smaller to pack).
pub(crate) fn stand_in_binary() -> &'static Path {
    static BINARY: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    let (_, path) = BINARY.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("rollout-sim");
        let built = Path::new(env!("CARGO_BIN_EXE_rollout-sim"));
        let stripped = Command::new("strip")
            .arg("-o")
            .arg(&path)
            .arg(built)
            .status()
            .is_ok_and(|s| s.success());
        if !stripped {
            fs::copy(built, &path).unwrap();
        }
        (dir, path)
    });
    path
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Runs `.ci/package TARGET OUT --binary stand-in`.
fn package(target: &str, out: &Path) -> Output {
    Command::new("bash")
        .arg(repo().join(".ci/package"))
        .args([target, out.to_str().unwrap(), "--binary"])
        .arg(stand_in_binary())
        .output()
        .unwrap()
}

/// A release folder as the workflow publishes it, for one target: its archive, the
/// installer and SHA256SUMS.
pub(crate) fn release_folder(target: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = package(target, dir.path());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = fs::read_to_string(
        dir.path()
            .join(format!("rollout-sim-{target}.tar.gz.sha256")),
    )
    .unwrap();
    fs::write(dir.path().join("SHA256SUMS"), line).unwrap();
    fs::copy(repo().join(".ci/install.sh"), dir.path().join("install.sh")).unwrap();
    dir
}

fn tar_list(archive: &Path) -> Vec<String> {
    let out = Command::new("tar")
        .arg("-tzf")
        .arg(archive)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn an_archive_holds_the_binary_its_docs_and_licences_and_packs_to_the_same_bytes() {
    let target = "x86_64-unknown-linux-musl";
    let asset = format!("rollout-sim-{target}.tar.gz");
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for dir in [&a, &b] {
        let out = package(target, dir.path());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let bytes = fs::read(a.path().join(&asset)).unwrap();
    assert_eq!(
        bytes,
        fs::read(b.path().join(&asset)).unwrap(),
        "reproducible"
    );
    // The checksum line is SHA256SUMS' format and true.
    let line = fs::read_to_string(a.path().join(format!("{asset}.sha256"))).unwrap();
    assert_eq!(line, format!("{}  {asset}\n", sha256_hex(&bytes)));
    let listed = tar_list(&a.path().join(&asset));
    let top = format!("rollout-sim-{target}/");
    for f in [
        "rollout-sim",
        "README.md",
        "LICENSE-MIT",
        "LICENSE-APACHE",
        "doc/rollout-sim.1",
        "complete/rollout-sim.bash",
        "complete/_rollout-sim",
        "complete/rollout-sim.fish",
        "complete/_rollout-sim.ps1",
        "complete/rollout-sim.elv",
    ] {
        assert!(
            listed.contains(&format!("{top}{f}")),
            "{f} not in {listed:?}"
        );
    }
    assert!(listed.iter().all(|f| f.starts_with(&top)), "{listed:?}");
    // Nothing else was written beside the archive and its checksum.
    assert_eq!(fs::read_dir(a.path()).unwrap().count(), 2);
    // A bad target writes nothing, not even the output folder.
    let none = a.path().join("none");
    let out = package("not a target", &none);
    assert_eq!(out.status.code(), Some(2));
    assert!(!none.exists());
}

/// Runs the installer from a release folder into `to`, with its scratch files in
/// `tmp` (to see that it leaves none).
fn install(release: &Path, to: &Path, tmp: &Path, extra: &[&str]) -> Output {
    Command::new("sh")
        .arg(release.join("install.sh"))
        .arg("--from")
        .arg(release)
        .arg("--to")
        .arg(to)
        .args(["--target", "x86_64-unknown-linux-musl"])
        .args(extra)
        .env("TMPDIR", tmp)
        .output()
        .unwrap()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn the_installer_installs_only_a_verified_binary_and_replaces_only_its_own() {
    let release = release_folder("x86_64-unknown-linux-musl");
    let scratch = tempfile::tempdir().unwrap();
    let tmp = scratch.path().join("tmp");
    fs::create_dir(&tmp).unwrap();
    let to = scratch.path().join("bin");

    // Verified and installed; the binary runs.
    let out = install(release.path(), &to, &tmp, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(names_in(&to), ["rollout-sim"]);
    let version = Command::new(to.join("rollout-sim"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("rollout-sim "));
    // Again: an upgrade of its own binary, over the old one.
    assert!(install(release.path(), &to, &tmp, &[]).status.success());
    assert_eq!(names_in(&to), ["rollout-sim"]);
    assert!(
        names_in(&tmp).is_empty(),
        "scratch left: {:?}",
        names_in(&tmp)
    );

    // A file of the user's in its place is kept, unless --force.
    let theirs = scratch.path().join("theirs");
    fs::create_dir(&theirs).unwrap();
    fs::write(theirs.join("rollout-sim"), "#!/bin/sh\necho mine\n").unwrap();
    let out = install(release.path(), &theirs, &tmp, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a rollout-sim binary"));
    assert_eq!(
        fs::read_to_string(theirs.join("rollout-sim")).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    assert!(
        install(release.path(), &theirs, &tmp, &["--force"])
            .status
            .success()
    );
    assert_ne!(
        fs::read_to_string(theirs.join("rollout-sim"))
            .ok()
            .as_deref(),
        Some("#!/bin/sh\necho mine\n")
    );
    assert!(names_in(&tmp).is_empty());
}

#[test]
fn the_installer_refuses_a_download_that_does_not_match_its_checksum() {
    let release = release_folder("x86_64-unknown-linux-musl");
    let scratch = tempfile::tempdir().unwrap();
    let tmp = scratch.path().join("tmp");
    fs::create_dir(&tmp).unwrap();
    let to = scratch.path().join("bin");
    let asset = release
        .path()
        .join("rollout-sim-x86_64-unknown-linux-musl.tar.gz");

    // One byte changed in the archive after its checksum was written: exit 1, nothing
    // installed, not even the folder.
    let mut bytes = fs::read(&asset).unwrap();
    let good = bytes.clone();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(&asset, &bytes).unwrap();
    let out = install(release.path(), &to, &tmp, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("checksum mismatch"));
    assert!(!to.exists());
    fs::write(&asset, &good).unwrap();

    // A pinned hash wins over SHA256SUMS: a wrong pin refuses a good archive.
    let out = install(release.path(), &to, &tmp, &["--sha256", &"0".repeat(64)]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!to.exists());
    let out = install(release.path(), &to, &tmp, &["--sha256", &sha256_hex(&good)]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // SHA256SUMS without a line for the archive, a target without an archive, a bad
    // argument: exit 2, nothing installed.
    let other = scratch.path().join("other");
    fs::write(
        release.path().join("SHA256SUMS"),
        "00  something-else.tar.gz\n",
    )
    .unwrap();
    let out = install(release.path(), &other, &tmp, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no line for"));
    let out = install(
        release.path(),
        &other,
        &tmp,
        &["--target", "aarch64-apple-darwin"],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = install(release.path(), &other, &tmp, &["--colour"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!other.exists());
    assert!(
        names_in(&tmp).is_empty(),
        "scratch left: {:?}",
        names_in(&tmp)
    );
}

#[test]
fn the_live_page_packs_into_a_zip_that_opens_from_disk() {
    // A built page as web/build.sh leaves it, its marker included.
    let built = tempfile::tempdir().unwrap();
    fs::write(
        built.path().join("index.html"),
        "<!doctype html><title>page</title>",
    )
    .unwrap();
    fs::write(built.path().join("engine.js"), "// engine").unwrap();
    fs::write(built.path().join(".built-by-web-build"), "").unwrap();
    let zipped = |out: &Path| {
        let run = Command::new("bash")
            .arg(repo().join(".ci/package"))
            .args(["live-page", out.to_str().unwrap(), "--binary"])
            .arg(built.path())
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        fs::read(out.join("rollout-sim-live-page.zip")).unwrap()
    };
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let bytes = zipped(a.path());
    assert_eq!(bytes, zipped(b.path()), "reproducible");
    let line = fs::read_to_string(a.path().join("rollout-sim-live-page.zip.sha256")).unwrap();
    assert_eq!(
        line,
        format!("{}  rollout-sim-live-page.zip\n", sha256_hex(&bytes))
    );
    let listed = Command::new("unzip")
        .arg("-Z1")
        .arg(a.path().join("rollout-sim-live-page.zip"))
        .output()
        .unwrap();
    let listed = String::from_utf8(listed.stdout).unwrap();
    let names: Vec<&str> = listed.lines().collect();
    assert_eq!(
        names,
        [
            "rollout-sim-live-page/",
            "rollout-sim-live-page/engine.js",
            "rollout-sim-live-page/index.html"
        ],
        "the build's marker is left out"
    );
    // The built folder is read, not changed.
    assert!(built.path().join(".built-by-web-build").exists());
}

#[test]
fn the_release_notes_print_the_pins_the_recipes_read() {
    let dir = tempfile::tempdir().unwrap();
    let sums = dir.path().join("SHA256SUMS");
    let hash = sha256_hex(b"an archive");
    fs::write(
        &sums,
        format!("{hash}  rollout-sim-x86_64-unknown-linux-musl.tar.gz\n00  install.sh\n"),
    )
    .unwrap();
    let notes = |sums: &Path| {
        Command::new("bash")
            .arg(repo().join(".ci/release-notes"))
            .arg("v0.1.0")
            .arg(sums)
            .output()
            .unwrap()
    };
    let out = notes(&sums);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    for line in [
        "ROLLOUT_SIM_VERSION: 0.1.0".to_string(),
        format!("ROLLOUT_SIM_SHA256: {hash}"),
    ] {
        assert!(text.contains(&line), "{line} not in:\n{text}");
    }
    // Every recipe reads the two values the notes print.
    for recipe in [
        "github-actions.yml",
        "gitlab-ci.yml",
        "bitbucket-pipelines.yml",
    ] {
        let yaml = fs::read_to_string(repo().join("examples/ci").join(recipe)).unwrap();
        assert!(
            yaml.contains("ROLLOUT_SIM_VERSION") && yaml.contains("ROLLOUT_SIM_SHA256"),
            "{recipe}"
        );
    }
    // Without the archive's line there is nothing to pin: exit 2.
    fs::write(&sums, "00  install.sh\n").unwrap();
    assert_eq!(notes(&sums).status.code(), Some(2));
}
