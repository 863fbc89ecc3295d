//! Output folders: written whole or not at all, and never at the cost of a user's files.
//!
//! The guarantees, which the guide (GUIDE.md) states to users:
//! - a folder is replaced only when it is empty or was written by rollout-sim: it holds
//!   the [`MANIFEST`] listing every file it wrote, at every depth, and nothing else (a
//!   file or folder the user added anywhere inside makes it theirs); anything else is
//!   refused before any work, unless the user forces it;
//! - every file of a command goes into one uniquely named staging folder beside the
//!   target, published by renames under a lock on the parent folder: readers and
//!   concurrent runs see the old complete output or a new complete output, never a mix
//!   (the last run wins);
//! - publication is a critical section: Ctrl-C or SIGTERM during it waits until it is
//!   complete, then the command stops and says what was published;
//! - a failure, Ctrl-C or SIGTERM removes the staging folder; a staging folder whose
//!   writer died outright is removed by the next run into the same parent once its lock
//!   is free (see the `guard` module), and a retired copy of the previous output is restored,
//!   never deleted, when it is the only complete output left.
//!
//! Single files written beside a user's files (check summaries, baselines, shard parts)
//! go through `FileSet`, with the same staging, locks and critical section.

mod files;
mod guard;
pub(crate) mod seal;

use std::fs::{self, File};
use std::io::{self, BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

pub(crate) use files::FileSet;
pub use guard::{Interruption, interrupt};
use guard::{Publication, lock_folder, lock_held, read_regular, register, unregister};

/// The file that marks a folder as rollout-sim's and lists what it wrote.
pub const MANIFEST: &str = ".rollout-sim-manifest.json";

/// The manifest format that lists every file at every depth (format 1, without the
/// field, listed top-level names only).
const MANIFEST_FORMAT: u32 = 2;

/// The largest manifest read: far above the longest list of files a command writes.
const MAX_MANIFEST_BYTES: u64 = 4 << 20;

/// The largest sealed file read to tell whether rollout-sim wrote it.
const MAX_SEALED_FILE_BYTES: u64 = crate::input::MAX_INPUT_BYTES;

/// Whether the regular file at `path` carries rollout-sim's unchanged seal (see
/// `seal`); a FIFO, device, link or a file over 16 MiB is not read and is not.
pub fn sealed(path: &Path) -> bool {
    read_regular(path, MAX_SEALED_FILE_BYTES).is_some_and(|b| seal::is_sealed(&b))
}

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
    #[error(
        "{path} exists and rollout-sim did not write it (or it was changed since); refusing to replace it: remove it, name another file, or pass --force"
    )]
    /// A single file to be written exists and is not provably ours.
    ForeignFile {
        /// The file.
        path: PathBuf,
    },
    #[error(
        "{path} exists and is not a regular file (a folder, link, FIFO or device); name another file"
    )]
    /// A single file to be written names a folder, link, FIFO or device.
    NotAFile {
        /// The path given.
        path: PathBuf,
    },
    #[error("{path}: the output must have a name")]
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

/// The final name of `target`, which staging names are made of.
fn final_name(target: &Path) -> Result<String, OutputError> {
    target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| n != "." && n != "..")
        .ok_or_else(|| OutputError::Unnamed {
            path: target.to_path_buf(),
        })
}

/// The folder `target` is in (`.` for a bare name).
fn parent_of(target: &Path) -> PathBuf {
    target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// The folders that creating `dir` would create, innermost first: the order in which
/// they are removed again on failure.
fn missing_folders(dir: &Path) -> Vec<PathBuf> {
    dir.ancestors()
        .filter(|a| !a.as_os_str().is_empty() && fs::symlink_metadata(a).is_err())
        .map(Path::to_path_buf)
        .collect()
}

/// Removes the folders that were created for an output that was not published.
fn remove_created(created: &[PathBuf]) {
    guard::unregister_created(created);
    guard::remove_empty(created);
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Manifest {
    tool: String,
    #[serde(default = "first_format")]
    format: u32,
    /// Every file written, as a path relative to the folder with `/` between names.
    files: Vec<String>,
}

fn first_format() -> u32 {
    1
}

fn read_manifest(dir: &Path) -> Option<Manifest> {
    let bytes = read_regular(&dir.join(MANIFEST), MAX_MANIFEST_BYTES)?;
    let m: Manifest = serde_json::from_slice(&bytes).ok()?;
    (m.tool == "rollout-sim").then_some(m)
}

/// What the manifest of a folder vouches for: the files listed, and the folders on
/// their paths.
struct Vouched {
    files: std::collections::BTreeSet<String>,
    folders: std::collections::BTreeSet<String>,
    format: u32,
    /// The folder has a manifest of ours (which then vouches for itself).
    manifest: bool,
}

impl Vouched {
    fn of(manifest: Option<Manifest>) -> Vouched {
        let manifest_found = manifest.is_some();
        let (files, format) =
            manifest.map_or((Vec::new(), MANIFEST_FORMAT), |m| (m.files, m.format));
        let folders = files
            .iter()
            .flat_map(|f| f.match_indices('/').map(|(i, _)| f[..i].to_string()))
            .collect();
        Vouched {
            files: files.into_iter().collect(),
            folders,
            format,
            manifest: manifest_found,
        }
    }
}

/// Adds to `foreign` every entry under `dir` (at `rel`, every depth) that the manifest
/// does not vouch for. Links are never followed; only vouched folders are entered.
fn find_foreign(
    dir: &Path,
    rel: &str,
    vouched: &Vouched,
    foreign: &mut Vec<String>,
) -> Result<(), OutputError> {
    for entry in fs::read_dir(dir).map_err(at(dir))? {
        let entry = entry.map_err(at(dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = if rel.is_empty() {
            name.clone()
        } else {
            format!("{rel}/{name}")
        };
        let kind = entry.file_type().map_err(at(&entry.path()))?;
        let is_manifest = rel.is_empty() && name == MANIFEST && vouched.manifest;
        if kind.is_file() && (is_manifest || vouched.files.contains(&path)) {
            continue;
        }
        if kind.is_dir() && vouched.folders.contains(&path) {
            find_foreign(&entry.path(), &path, vouched, foreign)?;
            continue;
        }
        if kind.is_dir() && vouched.format < MANIFEST_FORMAT && vouched.files.contains(&path) {
            foreign.push(format!(
                "{path}/ (an older rollout-sim did not record the files inside)"
            ));
            continue;
        }
        foreign.push(if kind.is_dir() {
            format!("{path}/")
        } else {
            path
        });
    }
    Ok(())
}

/// What stands at `target` that rollout-sim may not replace: `Ok(())` when nothing
/// stands there, the folder is empty, or every entry at every depth is vouched for by
/// its manifest.
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
    let vouched = Vouched::of(read_manifest(target));
    let mut foreign = Vec::new();
    find_foreign(target, "", &vouched, &mut foreign)?;
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
        foreign: foreign.iter().map(|f| crate::input::echo(f)).collect(),
    })
}

/// Removes, or restores, what writers of `name` in `parent` left when they died: called
/// with the lock on `parent` held, so no publication there is half done.
///
/// A staging folder (`.NAME.partial-*`) whose manifest lock is free is removed. A
/// retired previous output (`.NAME.old-*`) whose lock is free is removed only when a
/// complete output of ours stands at `NAME`; when nothing stands there, it is the only
/// complete output left and is put back.
fn clean_stale(parent: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let (staging, retired) = (guard::staging_prefix(name), guard::retired_prefix(name));
    let target = parent.join(name);
    for entry in entries.filter_map(Result::ok) {
        let file = entry.file_name().to_string_lossy().into_owned();
        let is_staging = file.starts_with(&staging);
        if !is_staging && !file.starts_with(&retired) {
            continue;
        }
        let path = entry.path();
        let manifest = path.join(MANIFEST);
        let ours_and_dead = entry.file_type().is_ok_and(|t| t.is_dir())
            && read_manifest(&path).is_some()
            && !lock_held(&manifest);
        if !ours_and_dead {
            continue;
        }
        if is_staging || read_manifest(&target).is_some() {
            let _ = fs::remove_dir_all(&path);
        } else if fs::symlink_metadata(&target).is_err() {
            let _ = fs::rename(&path, &target);
        }
    }
}

/// A file of an output folder: its path under the folder (`charts/adoption.svg`) and its
/// bytes.
pub type NamedFile = (String, Vec<u8>);

/// An output folder being written: files go to a staging folder until [`publish`].
///
/// Dropping it unpublished removes the staging folder, so an error anywhere leaves the
/// target as it was.
///
/// [`publish`]: OutputDir::publish
pub struct OutputDir {
    target: PathBuf,
    /// Where the previous output stands aside during the swap (`.NAME.old-TOKEN`).
    retired: PathBuf,
    parent: PathBuf,
    staging: PathBuf,
    /// The staging folder's manifest, locked for as long as this writer lives: the
    /// sign to every other process, in any container or host, that it is not stale.
    manifest: File,
    force: bool,
    files: Vec<String>,
    /// Folders `prepare` created to hold the target, innermost first: removed again
    /// when nothing is published.
    created: Vec<PathBuf>,
    published: bool,
}

impl OutputDir {
    /// Checks that `target` may be replaced and creates the staging folder: call it
    /// before any work, so a refusal costs nothing and touches nothing.
    pub fn prepare(target: &Path, force: bool) -> Result<OutputDir, OutputError> {
        let name = final_name(target)?;
        let parent = parent_of(target);
        // What writers that died left is repaired first, so the check sees the truth.
        if fs::symlink_metadata(&parent).is_ok_and(|m| m.is_dir()) {
            let _lock = lock_folder(&parent)?;
            clean_stale(&parent, &name);
        }
        check_replaceable(target, force)?;
        let created = missing_folders(&parent);
        guard::register_created(&created);
        let made = (|| {
            fs::create_dir_all(&parent).map_err(at(&parent))?;
            // Under the folder lock: no other process judges it stale half made.
            let _lock = lock_folder(&parent)?;
            let staging = guard::new_staging_dir(&parent, &name).map_err(at(&parent))?;
            register(&staging);
            let path = staging.join(MANIFEST);
            match File::create_new(&path).and_then(|f| f.lock().map(|()| f)) {
                Ok(manifest) => Ok((staging, manifest)),
                Err(e) => {
                    let _ = fs::remove_dir_all(&staging);
                    unregister(&staging);
                    Err(at(&path)(e))
                }
            }
        })();
        let (staging, manifest) = made.inspect_err(|_| remove_created(&created))?;
        // The retired copy of the previous output shares the staging folder's token.
        let token = staging
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix(&guard::staging_prefix(&name)))
            .unwrap_or_default()
            .to_string();
        let dir = OutputDir {
            target: target.to_path_buf(),
            retired: parent.join(format!("{}{token}", guard::retired_prefix(&name))),
            parent,
            staging,
            manifest,
            force,
            files: Vec::new(),
            created,
            published: false,
        };
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
        let manifest = Manifest {
            tool: "rollout-sim".into(),
            format: MANIFEST_FORMAT,
            files,
        };
        let text =
            serde_json::to_string_pretty(&manifest).map_err(|e| at(&path)(io::Error::other(e)))?;
        // Through the locked handle: the lock stays on the file that others look at.
        let mut file = &self.manifest;
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all((text + "\n").as_bytes()))
            .and_then(|()| file.sync_all())
            .map_err(at(&path))
    }

    /// Writes one file into the staging folder with `write`, synced to disk. `name`
    /// may hold folders (`charts/adoption.svg`).
    pub fn write_file(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<(), OutputError> {
        let path = self.staging.join(name);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(at(dir))?;
        }
        let file = File::create(&path).map_err(at(&path))?;
        let mut w = BufWriter::new(file);
        write(&mut w).map_err(at(&path))?;
        w.into_inner()
            .map_err(std::io::IntoInnerError::into_error)
            .and_then(|f| f.sync_all())
            .map_err(at(&path))?;
        if !self.files.iter().any(|f| f == name) {
            self.files.push(name.to_string());
        }
        Ok(())
    }

    /// Writes each (name, bytes) file, then publishes them with whatever was written
    /// before: the one way a command's folder reaches the disk.
    pub fn publish_files(
        mut self,
        files: impl IntoIterator<Item = NamedFile>,
    ) -> Result<(), OutputError> {
        for (name, bytes) in files {
            self.write_file(&name, |w| w.write_all(&bytes))?;
        }
        self.publish()
    }

    /// Replaces the target with the staging folder, as a critical section that a
    /// signal waits for. Under a lock on the parent folder, the target is checked again
    /// (another process may have created it meanwhile), moved aside, replaced, and the
    /// old folder removed.
    pub fn publish(mut self) -> Result<(), OutputError> {
        self.write_manifest()?;
        let publication = Publication::begin();
        let result = {
            let _lock = lock_folder(&self.parent)?;
            self.swap()
        };
        if result.is_ok() {
            self.published = true;
            unregister(&self.staging);
            guard::unregister_created(&self.created);
            publication.published(&self.target);
        }
        result
    }

    fn swap(&self) -> Result<(), OutputError> {
        check_replaceable(&self.target, self.force)?;
        if fs::symlink_metadata(&self.target).is_err() {
            return fs::rename(&self.staging, &self.target).map_err(at(&self.target));
        }
        let old = &self.retired;
        fs::rename(&self.target, old).map_err(at(&self.target))?;
        guard::pause_inside_publication();
        if let Err(e) = fs::rename(&self.staging, &self.target) {
            let _ = fs::rename(old, &self.target);
            return Err(at(&self.target)(e));
        }
        fs::remove_dir_all(old).map_err(at(old))
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.published {
            let _ = fs::remove_dir_all(&self.staging);
            unregister(&self.staging);
            remove_created(&self.created);
        }
    }
}

/// Writes one file as `dir/name` with `write`, next to whatever else `dir` holds
/// (several processes may write their own files into one folder at once): see
/// `FileSet`. `is_ours` proves a file rollout-sim wrote.
pub fn write_single_file(
    dir: &Path,
    name: &str,
    force: bool,
    is_ours: files::IsOurs,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<(), OutputError> {
    if fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir()) {
        return Err(OutputError::NotAFolder {
            path: dir.to_path_buf(),
        });
    }
    let mut set = FileSet::new(force);
    set.stage(&dir.join(name), is_ours, write)?;
    set.commit()
}

#[cfg(test)]
mod tests;
