//! The output transaction under failure, foreign files, dead writers and signals.

use super::*;

/// A file the tests write, by name: the shape of `export::Exporter`, which this layer
/// does not know.
trait Exporter<R> {
    fn file_name(&self) -> &'static str;
    fn write(&self, report: &R, out: &mut dyn Write) -> io::Result<()>;
}

/// Prepares `target`, writes every exporter's file and publishes: the whole output or
/// nothing.
fn write_atomically<R>(
    target: &Path,
    report: &R,
    exporters: &[Box<dyn Exporter<R>>],
    force: bool,
) -> Result<(), OutputError> {
    let mut dir = OutputDir::prepare(target, force)?;
    for exporter in exporters {
        dir.write_file(exporter.file_name(), |w| exporter.write(report, w))?;
    }
    dir.publish()
}

struct Fails;
impl Exporter<()> for Fails {
    fn file_name(&self) -> &'static str {
        "broken.csv"
    }
    fn write(&self, (): &(), out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"half a row")?;
        Err(io::Error::other("the disk is full"))
    }
}

struct Fine;
impl Exporter<()> for Fine {
    fn file_name(&self) -> &'static str {
        "fine.txt"
    }
    fn write(&self, (): &(), out: &mut dyn Write) -> io::Result<()> {
        out.write_all(b"ok\n")
    }
}

fn entries(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn a_failed_write_leaves_the_old_output_and_no_debris() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    write_atomically(&out, &(), &[Box::new(Fine) as Box<dyn Exporter<()>>], false).unwrap();
    let before = fs::read(out.join("fine.txt")).unwrap();
    let exporters: Vec<Box<dyn Exporter<()>>> = vec![Box::new(Fine), Box::new(Fails)];
    let err = write_atomically(&out, &(), &exporters, false).unwrap_err();
    assert!(format!("{err:#}").contains("broken.csv"), "{err}");
    assert_eq!(fs::read(out.join("fine.txt")).unwrap(), before);
    assert_eq!(
        entries(tmp.path()),
        vec!["out"],
        "no staging folder is left"
    );
    assert_eq!(entries(&out), vec![MANIFEST, "fine.txt"]);
}

#[test]
fn a_folder_with_foreign_files_is_refused_unless_forced() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("mydocs");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("thesis.tex"), "years of work").unwrap();
    let exporters: Vec<Box<dyn Exporter<()>>> = vec![Box::new(Fine)];
    let err = write_atomically(&out, &(), &exporters, false).unwrap_err();
    assert!(err.to_string().contains("thesis.tex"), "{err}");
    assert_eq!(
        fs::read_to_string(out.join("thesis.tex")).unwrap(),
        "years of work"
    );
    assert_eq!(entries(tmp.path()), vec!["mydocs"]);
    // A file the user added to an output folder of ours is also protected.
    let ours = tmp.path().join("ours");
    write_atomically(&ours, &(), &exporters, false).unwrap();
    fs::write(ours.join("notes.md"), "mine").unwrap();
    assert!(write_atomically(&ours, &(), &exporters, false).is_err());
    assert!(ours.join("notes.md").exists());
    // --force replaces it.
    write_atomically(&out, &(), &exporters, true).unwrap();
    assert_eq!(entries(&out), vec![MANIFEST, "fine.txt"]);
}

#[test]
fn a_foreign_folder_at_the_staging_name_is_kept_and_created_parents_removed() {
    let tmp = tempfile::tempdir().unwrap();
    let parent = tmp.path().join("a").join("b");
    fs::create_dir_all(&parent).unwrap();
    let squatter = parent.join(format!(".out.partial-{}", std::process::id()));
    fs::create_dir(&squatter).unwrap();
    fs::write(squatter.join("keep.txt"), "mine").unwrap();
    // Staging names are random, so a squatter never collides, and it is left alone.
    write_atomically(
        &parent.join("out"),
        &(),
        &[Box::new(Fine) as Box<dyn Exporter<()>>],
        false,
    )
    .unwrap();
    assert_eq!(
        fs::read_to_string(squatter.join("keep.txt")).unwrap(),
        "mine"
    );
    // Parents that `prepare` created are removed again when nothing is published.
    let nested = tmp.path().join("new1").join("new2");
    let dir = OutputDir::prepare(&nested.join("out"), false).unwrap();
    drop(dir);
    assert!(!tmp.path().join("new1").exists(), "created parents removed");
}

#[test]
fn a_file_in_the_way_is_refused_and_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("report.txt");
    fs::write(&out, "keep me").unwrap();
    let exporters: Vec<Box<dyn Exporter<()>>> = vec![Box::new(Fine)];
    for force in [false, true] {
        let err = write_atomically(&out, &(), &exporters, force).unwrap_err();
        assert!(matches!(err, OutputError::NotAFolder { .. }));
    }
    assert_eq!(fs::read_to_string(&out).unwrap(), "keep me");
    assert_eq!(entries(tmp.path()), vec!["report.txt"]);
}

/// A staging folder as a writer in another container or host would leave it.
fn foreign_writer_staging(parent: &Path, entry: &str) -> PathBuf {
    let dir = parent.join(entry);
    fs::create_dir(&dir).unwrap();
    fs::write(
        dir.join(MANIFEST),
        r#"{"tool":"rollout-sim","format":2,"files":[]}"#,
    )
    .unwrap();
    fs::write(dir.join("report.json"), "{}").unwrap();
    dir
}

#[test]
fn a_staging_folder_is_stale_only_when_its_lock_is_free_whatever_its_pid() {
    let tmp = tempfile::tempdir().unwrap();
    // PID 1 is alive here; a PID far beyond pid_max is dead here: neither matters.
    let live = foreign_writer_staging(tmp.path(), ".out.partial-1-abc");
    let dead = foreign_writer_staging(tmp.path(), &format!(".out.partial-{}", u32::MAX - 1));
    let live_lock = File::open(live.join(MANIFEST)).unwrap();
    live_lock.lock().unwrap();
    let not_ours = tmp.path().join(".out.partial-77");
    fs::create_dir(&not_ours).unwrap();
    fs::write(not_ours.join("keep.txt"), "mine").unwrap();
    let exporters: Vec<Box<dyn Exporter<()>>> = vec![Box::new(Fine)];
    write_atomically(&tmp.path().join("out"), &(), &exporters, false).unwrap();
    assert!(
        live.join("report.json").exists(),
        "a writer holding its lock is alive"
    );
    assert!(!dead.exists(), "a staging folder nobody locks is stale");
    assert!(
        not_ours.join("keep.txt").exists(),
        "without our manifest, never removed"
    );
    drop(live_lock);
    write_atomically(&tmp.path().join("out"), &(), &exporters, false).unwrap();
    assert!(!live.exists(), "removed once its writer is gone");
}

#[test]
fn a_retired_copy_that_is_the_only_complete_output_is_restored_not_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let exporters: Vec<Box<dyn Exporter<()>>> = vec![Box::new(Fine)];
    let out = tmp.path().join("out");
    write_atomically(&out, &(), &exporters, false).unwrap();
    // A writer killed between its two renames: the old output stands aside alone.
    let retired = tmp.path().join(".out.old-killed");
    fs::rename(&out, &retired).unwrap();
    // Preparing (even for another folder beside it) puts it back before anything.
    let dir = OutputDir::prepare(&out, false).unwrap();
    assert_eq!(fs::read_to_string(out.join("fine.txt")).unwrap(), "ok\n");
    assert!(!retired.exists());
    drop(dir);
    // Beside a complete output of ours, a dead retired copy is removed.
    fs::create_dir(&retired).unwrap();
    fs::copy(out.join(MANIFEST), retired.join(MANIFEST)).unwrap();
    write_atomically(&out, &(), &exporters, false).unwrap();
    assert!(!retired.exists());
    assert_eq!(entries(tmp.path()), vec!["out"]);
}

/// An output folder of ours with `extra` added by the user.
#[cfg(unix)]
fn ours_with(extra: impl FnOnce(&Path)) -> (tempfile::TempDir, PathBuf) {
    struct Nested;
    impl Exporter<()> for Nested {
        fn file_name(&self) -> &'static str {
            "charts/adoption.svg"
        }
        fn write(&self, (): &(), out: &mut dyn Write) -> io::Result<()> {
            out.write_all(b"<svg/>")
        }
    }
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let exporters: Vec<Box<dyn Exporter<()>>> = vec![Box::new(Fine), Box::new(Nested)];
    write_atomically(&out, &(), &exporters, false).unwrap();
    // Unchanged, it is replaced.
    write_atomically(&out, &(), &exporters, false).unwrap();
    extra(&out);
    let err = write_atomically(&out, &(), &exporters, false).unwrap_err();
    assert!(matches!(err, OutputError::Foreign { .. }), "{err}");
    (tmp, out)
}

#[cfg(unix)] // symlinks to /dev and /etc: Unix file systems
#[test]
fn files_the_user_adds_at_any_depth_make_the_folder_theirs() {
    let (_t, out) = ours_with(|o| fs::write(o.join("charts/notes.txt"), "mine").unwrap());
    assert!(out.join("charts/notes.txt").exists());
    let (_t, out) = ours_with(|o| fs::create_dir_all(o.join("charts/deep/er")).unwrap());
    assert!(out.join("charts/deep/er").is_dir());
    // A folder named like the manifest, at the top or below.
    let (_t, out) = ours_with(|o| fs::create_dir(o.join(format!("charts/{MANIFEST}"))).unwrap());
    assert!(out.join(format!("charts/{MANIFEST}")).is_dir());
    let (_t, out) = ours_with(|o| {
        fs::remove_file(o.join(MANIFEST)).unwrap();
        fs::create_dir(o.join(MANIFEST)).unwrap();
        fs::write(o.join(MANIFEST).join("x"), "mine").unwrap();
    });
    assert!(out.join(MANIFEST).join("x").exists());
    // A listed file replaced by a folder or a link is the user's too.
    let (_t, out) = ours_with(|o| {
        fs::remove_file(o.join("fine.txt")).unwrap();
        std::os::unix::fs::symlink("/etc/hostname", o.join("fine.txt")).unwrap();
    });
    assert!(
        fs::symlink_metadata(out.join("fine.txt"))
            .unwrap()
            .is_symlink()
    );
}

#[test]
fn a_folder_of_an_older_manifest_format_is_not_taken_on_trust() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    fs::create_dir_all(out.join("charts")).unwrap();
    fs::write(out.join("charts/notes.txt"), "mine").unwrap();
    fs::write(
        out.join(MANIFEST),
        r#"{"tool":"rollout-sim","files":["charts"]}"#,
    )
    .unwrap();
    let err = OutputDir::prepare(&out, false).err().expect("refused");
    assert!(err.to_string().contains("older rollout-sim"), "{err}");
}

#[cfg(unix)] // symlinks to /dev and /etc: Unix file systems
#[test]
fn a_manifest_that_is_a_fifo_or_huge_is_never_read() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    fs::create_dir(&out).unwrap();
    let fifo = out.join(MANIFEST);
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // Would block for ever if opened.
    assert!(matches!(
        OutputDir::prepare(&out, false),
        Err(OutputError::Foreign { .. })
    ));
    fs::remove_file(&fifo).unwrap();
    std::os::unix::fs::symlink("/dev/zero", &fifo).unwrap();
    assert!(matches!(
        OutputDir::prepare(&out, false),
        Err(OutputError::Foreign { .. })
    ));
}

fn sealed_text(text: &str) -> String {
    crate::output::seal::seal(&format!(
        "{text}\n<!-- {} -->\n",
        crate::output::seal::PLACEHOLDER
    ))
}

fn write_one(target: &Path, force: bool, text: &str) -> Result<(), OutputError> {
    let mut set = FileSet::new(force);
    set.stage(target, sealed, |f| {
        f.write_all(sealed_text(text).as_bytes())
    })?;
    set.commit()
}

#[test]
fn a_single_file_is_replaced_only_when_sealed_by_us_and_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("summary.md");
    write_one(&path, false, "first").unwrap();
    write_one(&path, false, "second").unwrap();
    assert!(fs::read_to_string(&path).unwrap().starts_with("second"));
    // Edited by the user: now theirs.
    let mut text = fs::read_to_string(&path).unwrap();
    text.insert_str(0, "my note\n");
    fs::write(&path, &text).unwrap();
    assert!(matches!(
        write_one(&path, false, "third"),
        Err(OutputError::ForeignFile { .. })
    ));
    assert_eq!(fs::read_to_string(&path).unwrap(), text);
    // A user's file that quotes us.
    fs::write(
        &path,
        "see `rollout-sim check` and <testsuite name=\"rollout-sim check\">",
    )
    .unwrap();
    assert!(write_one(&path, false, "x").is_err());
    write_one(&path, true, "forced").unwrap();
    assert!(fs::read_to_string(&path).unwrap().starts_with("forced"));
    assert_eq!(entries(tmp.path()), vec!["summary.md"]);
}

#[cfg(unix)] // symlinks to /dev and /etc: Unix file systems
#[test]
fn a_single_file_target_that_is_not_a_regular_file_is_never_opened_or_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo.md");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let link = tmp.path().join("link.md");
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let folder = tmp.path().join("folder.md");
    fs::create_dir(&folder).unwrap();
    for path in [&fifo, &link, &folder] {
        for force in [false, true] {
            let err = write_one(path, force, "x").unwrap_err();
            assert!(matches!(err, OutputError::NotAFile { .. }), "{err}");
        }
    }
    assert_eq!(entries(tmp.path()), vec!["fifo.md", "folder.md", "link.md"]);
}

#[test]
fn staged_files_of_dead_writers_are_cleaned_and_live_ones_kept() {
    let tmp = tempfile::tempdir().unwrap();
    let dead = tmp.path().join(".part-0-of-2.jsonl.partial-4242");
    fs::write(&dead, "half").unwrap();
    let live = tmp.path().join(".part-0-of-2.jsonl.partial-1-zzz");
    fs::write(&live, "writing").unwrap();
    let live_lock = File::open(&live).unwrap();
    live_lock.lock().unwrap();
    write_one(&tmp.path().join("part-0-of-2.jsonl"), false, "part").unwrap();
    assert!(!dead.exists());
    assert!(live.exists());
}

#[test]
fn a_failed_set_leaves_no_file_and_no_folder_it_created() {
    let tmp = tempfile::tempdir().unwrap();
    let mut set = FileSet::new(false);
    set.stage(&tmp.path().join("new/a.json"), sealed, |f| {
        f.write_all(b"ok")
    })
    .unwrap();
    let err = set
        .stage(&tmp.path().join("new/deeper/b.json"), sealed, |_| {
            Err(io::Error::other("the disk is full"))
        })
        .unwrap_err();
    assert!(err.to_string().contains("b.json"), "{err}");
    drop(set);
    assert!(entries(tmp.path()).is_empty(), "{:?}", entries(tmp.path()));
}
