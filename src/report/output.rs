//! Output folders: written whole or not at all, and never at the cost of a user's files.
//!
//! The guarantees, which the README states to users:
//! - a folder is replaced only when it is empty or was written by rollout-sim (it holds
//!   the [`MANIFEST`] listing its files, and nothing else besides them); anything else is
//!   refused before any work, unless the user forces it;
//! - every file of a command goes into one staging folder beside the target, published
//!   by renames under a lock on the parent folder: readers and concurrent runs see the
//!   old complete output or a new complete output, never a mix (the last run wins);
//! - a failure, Ctrl-C or SIGTERM removes the staging folder; staging or retired folders
//!   left by a process that was killed outright are removed by the next run into the
//!   same parent (only when their owner is dead and they carry the manifest).

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::Exporter;

/// The file that marks a folder as rollout-sim's and lists what it wrote.
pub const MANIFEST: &str = ".rollout-sim-manifest.json";

/// The output could not be prepared or written.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("{path}")]
    /// A file system operation on `path` failed.
    Io {
        /// The path operated on.
        path: PathBuf,
        #[source]
        /// The operating system's error.
        source: io::Error,
    },
    #[error("{path} exists and is not a folder; choose another --out")]
    /// `--out` names something that is not a folder.
    NotAFolder {
        /// The path given.
        path: PathBuf,
    },
    #[error(
        "{path} holds files rollout-sim did not write ({}); refusing to replace it: choose another --out, empty it, or pass --force",
        .foreign.join(", ")
    )]
    /// The folder holds files rollout-sim did not write (listed in `foreign`).
    Foreign {
        /// The folder.
        path: PathBuf,
        /// The files rollout-sim did not write.
        foreign: Vec<String>,
    },
    #[error("{path}: the output folder must have a name")]
    /// `--out` has no final name (e.g. `/` or `..`).
    Unnamed {
        /// The path given.
        path: PathBuf,
    },
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// The folders that creating `dir` would create, innermost first: the order in which
/// they are removed again on failure.
fn missing_folders(dir: &Path) -> Vec<PathBuf> {
    dir.ancestors()
        .filter(|a| !a.as_os_str().is_empty() && !a.exists())
        .map(Path::to_path_buf)
        .collect()
}

/// Staging folders (and files) of this process, removed by the signal handler on Ctrl-C or SIGTERM.
static LIVE_STAGING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes every staging folder this process still has; called on SIGINT and SIGTERM.
pub fn remove_live_staging() {
    let dirs = match LIVE_STAGING.lock() {
        Ok(mut g) => std::mem::take(&mut *g),
        Err(p) => std::mem::take(&mut *p.into_inner()),
    };
    for dir in dirs {
        // A writer may still add a file between listing and removal: try again.
        for _ in 0..5 {
            let removed = if dir.is_dir() {
                fs::remove_dir_all(&dir)
            } else {
                fs::remove_file(&dir)
            };
            if removed.is_ok() || !dir.exists() {
                break;
            }
        }
    }
}

fn register(dir: &Path) {
    if let Ok(mut g) = LIVE_STAGING.lock() {
        g.push(dir.to_path_buf());
    }
}

fn unregister(dir: &Path) {
    if let Ok(mut g) = LIVE_STAGING.lock() {
        g.retain(|d| d != dir);
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Manifest {
    tool: String,
    files: Vec<String>,
}

impl Manifest {
    fn new(files: Vec<String>) -> Self {
        Manifest {
            tool: "rollout-sim".into(),
            files,
        }
    }
}

fn read_manifest(dir: &Path) -> Option<Manifest> {
    let text = fs::read_to_string(dir.join(MANIFEST)).ok()?;
    let m: Manifest = serde_json::from_str(&text).ok()?;
    (m.tool == "rollout-sim").then_some(m)
}

/// What stands at `target` that rollout-sim may not replace: `Ok(())` when nothing
/// stands there, the folder is empty, or every entry is listed in its manifest.
fn check_replaceable(target: &Path, force: bool) -> Result<(), OutputError> {
    let meta = match fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(at(target)(e)),
    };
    if !meta.is_dir() {
        return Err(OutputError::NotAFolder {
            path: target.to_path_buf(),
        });
    }
    if force {
        return Ok(());
    }
    let listed = read_manifest(target).map_or_else(Vec::new, |m| m.files);
    let mut foreign: Vec<String> = fs::read_dir(target)
        .map_err(at(target))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != MANIFEST && !listed.contains(n))
        .collect();
    if foreign.is_empty() {
        return Ok(());
    }
    foreign.sort();
    if foreign.len() > 5 {
        let more = foreign.len() - 4;
        foreign.truncate(4);
        foreign.push(format!("and {more} more"));
    }
    Err(OutputError::Foreign {
        path: target.to_path_buf(),
        foreign,
    })
}

/// Whether process `pid` is alive; `true` when that cannot be told (keeps the folder).
fn alive(pid: u32) -> bool {
    if !Path::new("/proc/self").exists() {
        return true;
    }
    Path::new("/proc").join(pid.to_string()).exists()
}

/// Removes staging and retired folders of `name` in `parent` whose process is dead.
fn clean_stale(parent: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    for entry in entries.filter_map(|e| e.ok()) {
        let file = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file.strip_prefix(&format!(".{name}.")) else {
            continue;
        };
        let pid = ["partial-", "old-"]
            .iter()
            .find_map(|p| rest.strip_prefix(p))
            .and_then(|pid| pid.parse::<u32>().ok());
        let path = entry.path();
        if let Some(pid) = pid
            && pid != std::process::id()
            && !alive(pid)
            && path.join(MANIFEST).is_file()
        {
            let _ = fs::remove_dir_all(&path);
        }
    }
}

/// An output folder being written: files go to a staging folder until [`publish`].
///
/// Dropping it unpublished removes the staging folder, so an error anywhere leaves the
/// target as it was.
///
/// [`publish`]: OutputDir::publish
pub struct OutputDir {
    target: PathBuf,
    parent: PathBuf,
    staging: PathBuf,
    force: bool,
    files: Vec<String>,
    /// Folders `prepare` created to hold the target, innermost first: removed again
    /// when nothing is published.
    created: Vec<PathBuf>,
    /// The staging folder is this process's (so it may be removed).
    staging_made: bool,
    published: bool,
}

impl OutputDir {
    /// Checks that `target` may be replaced and creates the staging folder: call it
    /// before any work, so a refusal costs nothing and touches nothing.
    pub fn prepare(target: &Path, force: bool) -> Result<OutputDir, OutputError> {
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| n != "." && n != "..")
            .ok_or_else(|| OutputError::Unnamed {
                path: target.to_path_buf(),
            })?;
        check_replaceable(target, force)?;
        let parent = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        let created = missing_folders(&parent);
        let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
        // Built before anything is created, so that dropping it on any failure below
        // removes what was created.
        let mut dir = OutputDir {
            target: target.to_path_buf(),
            parent,
            staging,
            force,
            files: Vec::new(),
            created,
            staging_made: false,
            published: false,
        };
        fs::create_dir_all(&dir.parent).map_err(at(&dir.parent))?;
        clean_stale(&dir.parent, &name);
        // A staging folder of an earlier process with our PID is ours only if it carries
        // the manifest; anything else there makes `create_dir` fail, untouched.
        if dir.staging.join(MANIFEST).is_file() {
            fs::remove_dir_all(&dir.staging).map_err(at(&dir.staging))?;
        }
        fs::create_dir(&dir.staging).map_err(at(&dir.staging))?;
        dir.staging_made = true;
        register(&dir.staging);
        // The manifest goes in first: a stale staging folder is recognisably ours.
        dir.write_manifest()?;
        Ok(dir)
    }

    /// The folder that will be published.
    pub fn target(&self) -> &Path {
        &self.target
    }

    fn write_manifest(&self) -> Result<(), OutputError> {
        let path = self.staging.join(MANIFEST);
        let mut files = self.files.clone();
        files.sort();
        let text = serde_json::to_string_pretty(&Manifest::new(files))
            .map_err(|e| at(&path)(io::Error::other(e)))?;
        fs::write(&path, text + "\n").map_err(at(&path))
    }

    /// Writes one file into the staging folder with `write`, synced to disk.
    pub fn write_file(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(), OutputError> {
        let path = self.staging.join(name);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(at(dir))?;
        }
        let file = fs::File::create(&path).map_err(at(&path))?;
        let mut w = BufWriter::new(file);
        write(&mut w).map_err(at(&path))?;
        w.into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .map_err(at(&path))?;
        let top = name.split('/').next().unwrap_or(name).to_string();
        if !self.files.contains(&top) {
            self.files.push(top);
        }
        Ok(())
    }

    /// Writes every exporter's file.
    pub fn write_reports<R>(
        &mut self,
        report: &R,
        exporters: &[Box<dyn Exporter<R>>],
    ) -> Result<(), OutputError> {
        for exporter in exporters {
            self.write_file(exporter.file_name(), |w| exporter.write(report, w))?;
        }
        Ok(())
    }

    /// Replaces the target with the staging folder. Under a lock on the parent folder,
    /// the target is checked again (another process may have created it meanwhile),
    /// moved aside, replaced, and the old folder removed.
    pub fn publish(mut self) -> Result<(), OutputError> {
        self.write_manifest()?;
        let lock = fs::File::open(&self.parent).map_err(at(&self.parent))?;
        lock.lock().map_err(at(&self.parent))?;
        let result = self.swap();
        let _ = lock.unlock();
        if result.is_ok() {
            self.published = true;
            unregister(&self.staging);
        }
        result
    }

    fn swap(&self) -> Result<(), OutputError> {
        check_replaceable(&self.target, self.force)?;
        if !self.target.exists() {
            return fs::rename(&self.staging, &self.target).map_err(at(&self.target));
        }
        let name = self
            .target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let old = self
            .parent
            .join(format!(".{name}.old-{}", std::process::id()));
        fs::rename(&self.target, &old).map_err(at(&self.target))?;
        if let Err(e) = fs::rename(&self.staging, &self.target) {
            let _ = fs::rename(&old, &self.target);
            return Err(at(&self.target)(e));
        }
        fs::remove_dir_all(&old).map_err(at(&old))
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.published {
            if self.staging_made {
                let _ = fs::remove_dir_all(&self.staging);
                unregister(&self.staging);
            }
            for dir in &self.created {
                let _ = fs::remove_dir(dir);
            }
        }
    }
}

/// Writes one file as `dir/name` with `write`, next to whatever else `dir` holds
/// (several processes may write their own files into one folder at once): staged under
/// a hidden name, synced and renamed into place. Every check comes before `write` runs,
/// so `write` may do the work whose result it writes. An existing `dir/name` is replaced only when
/// `is_ours` recognises its first bytes as a file rollout-sim writes, or with `force`; on
/// any failure nothing is left behind, not even the folders created for it.
pub fn write_single_file(
    dir: &Path,
    name: &str,
    force: bool,
    is_ours: impl Fn(&[u8]) -> bool,
    write: impl FnOnce(&mut fs::File) -> io::Result<()>,
) -> Result<(), OutputError> {
    if dir.exists() && !dir.is_dir() {
        return Err(OutputError::NotAFolder {
            path: dir.to_path_buf(),
        });
    }
    let target = dir.join(name);
    if let Ok(meta) = fs::symlink_metadata(&target) {
        let ours = meta.is_file() && {
            let mut head = Vec::new();
            fs::File::open(&target)
                .and_then(|f| io::Read::read_to_end(&mut io::Read::take(f, 1 << 16), &mut head))
                .is_ok()
                && is_ours(&head)
        };
        if !(ours || force && meta.is_file()) {
            return Err(OutputError::Foreign {
                path: dir.to_path_buf(),
                foreign: vec![name.to_string()],
            });
        }
    }
    let created = missing_folders(dir);
    let staging = dir.join(format!(".{name}.partial-{}", std::process::id()));
    let result = (|| {
        fs::create_dir_all(dir).map_err(at(dir))?;
        register(&staging);
        let mut file = fs::File::create_new(&staging).map_err(at(&staging))?;
        write(&mut file)
            .and_then(|()| file.sync_all())
            .map_err(at(&staging))?;
        fs::rename(&staging, &target).map_err(at(&target))
    })();
    unregister(&staging);
    if result.is_err() {
        let _ = fs::remove_file(&staging);
        for d in &created {
            let _ = fs::remove_dir(d);
        }
    }
    result
}

/// Renders one exporter's output to a string (for stdout).
pub fn render<R>(exporter: &dyn Exporter<R>, report: &R) -> io::Result<String> {
    String::from_utf8(exporter.to_bytes(report)).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Prepares `target`, writes every exporter's file and publishes: the whole output or
    /// nothing.
    fn write_atomically<R>(
        target: &Path,
        report: &R,
        exporters: &[Box<dyn Exporter<R>>],
        force: bool,
    ) -> Result<(), OutputError> {
        let mut dir = OutputDir::prepare(target, force)?;
        dir.write_reports(report, exporters)?;
        dir.publish()
    }

    struct Fails;
    impl Exporter<()> for Fails {
        fn file_name(&self) -> &'static str {
            "broken.csv"
        }
        fn write(&self, _: &(), out: &mut dyn Write) -> io::Result<()> {
            out.write_all(b"half a row")?;
            Err(io::Error::other("the disk is full"))
        }
    }

    struct Fine;
    impl Exporter<()> for Fine {
        fn file_name(&self) -> &'static str {
            "fine.txt"
        }
        fn write(&self, _: &(), out: &mut dyn Write) -> io::Result<()> {
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
        assert!(OutputDir::prepare(&parent.join("out"), false).is_err());
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

    #[test]
    fn stale_staging_of_dead_processes_is_removed_and_live_ones_kept() {
        let tmp = tempfile::tempdir().unwrap();
        // PID 0 never names a user process; u32::MAX - 1 is beyond pid_max.
        let dead = tmp.path().join(format!(".out.partial-{}", u32::MAX - 1));
        let dead_old = tmp.path().join(format!(".out.old-{}", u32::MAX - 1));
        let not_ours = tmp.path().join(format!(".out.partial-{}", u32::MAX - 2));
        for d in [&dead, &dead_old, &not_ours] {
            fs::create_dir(d).unwrap();
        }
        fs::write(dead.join(MANIFEST), "{}").unwrap();
        fs::write(dead_old.join(MANIFEST), "{}").unwrap();
        let exporters: Vec<Box<dyn Exporter<()>>> = vec![Box::new(Fine)];
        write_atomically(&tmp.path().join("out"), &(), &exporters, false).unwrap();
        assert!(!dead.exists() && !dead_old.exists());
        assert!(
            not_ours.exists(),
            "a folder without our manifest is never removed"
        );
    }
}
