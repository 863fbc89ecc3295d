//! Single files written beside a user's files: all of a command's files or none.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

use super::guard::{self, Publication, lock_folder, lock_held, register, unregister};
use super::{OutputError, at, final_name, missing_folders, parent_of, remove_created};

/// Tells a regular file rollout-sim wrote, unchanged, from its path: it reads what it
/// needs (a bounded read for a seal, a streamed checksum for a part).
pub(crate) type IsOurs = fn(&Path) -> bool;

struct Staged {
    target: PathBuf,
    staging: PathBuf,
    is_ours: IsOurs,
    /// The staged file, locked while this writer lives (see [`guard`]).
    _file: File,
}

/// Files a command writes at paths of the user's choosing (`check --markdown`,
/// `--junit`, baselines, shard parts), published together at [`commit`].
///
/// An existing file is replaced only when `is_ours` proves it was written by rollout-sim
/// and not changed since ([`super::sealed`] for files carrying a seal), or
/// with `force` when it is a regular file; a folder, link, FIFO or device is never
/// replaced and never opened. Each file is staged under a unique hidden name beside its
/// target, synced, and renamed into place in [`commit`], which a signal waits for.
/// Dropping the set uncommitted removes every staged file and every folder created for
/// them. A staged file whose writer died is removed by the next write of that name.
///
/// [`commit`]: FileSet::commit
pub(crate) struct FileSet {
    force: bool,
    staged: Vec<Staged>,
    created: Vec<PathBuf>,
}

impl FileSet {
    /// An empty set; `force` replaces regular files that are not ours.
    pub(crate) fn new(force: bool) -> FileSet {
        FileSet {
            force,
            staged: Vec::new(),
            created: Vec::new(),
        }
    }

    /// Refuses `target` if what stands there may not be replaced: call it before any
    /// work, so that a refusal costs nothing.
    pub(crate) fn check(target: &Path, force: bool, is_ours: IsOurs) -> Result<(), OutputError> {
        final_name(target)?;
        let Ok(meta) = fs::symlink_metadata(target) else {
            return Ok(());
        };
        if !meta.is_file() {
            return Err(OutputError::NotAFile {
                path: target.to_path_buf(),
            });
        }
        if force || is_ours(target) {
            return Ok(());
        }
        Err(OutputError::ForeignFile {
            path: target.to_path_buf(),
        })
    }

    /// Checks `target`, then stages it with `write` (which may do the work whose
    /// result it writes).
    pub(crate) fn stage(
        &mut self,
        target: &Path,
        is_ours: IsOurs,
        write: impl FnOnce(&mut File) -> io::Result<()>,
    ) -> Result<(), OutputError> {
        Self::check(target, self.force, is_ours)?;
        let name = final_name(target)?;
        let dir = parent_of(target);
        let created = missing_folders(&dir);
        guard::register_created(&created);
        self.created.extend(created);
        fs::create_dir_all(&dir).map_err(at(&dir))?;
        let (mut file, staging) = {
            let _lock = lock_folder(&dir)?;
            clean_stale_files(&dir, &name);
            let made = guard::new_staging_file(&dir, &name).map_err(at(&dir))?;
            register(&made.1);
            made
        };
        let written = write(&mut file).and_then(|()| file.sync_all());
        self.staged.push(Staged {
            target: target.to_path_buf(),
            staging: staging.clone(),
            is_ours,
            _file: file,
        });
        written.map_err(at(&staging))
    }

    /// Publishes every staged file, each checked again just before its rename.
    pub(crate) fn commit(mut self) -> Result<(), OutputError> {
        let publication = Publication::begin();
        while !self.staged.is_empty() {
            // Taken one at a time: on failure the rest stay staged, and drop removes them.
            let staged = self.staged.remove(0);
            let renamed = lock_folder(&parent_of(&staged.target)).and_then(|_lock| {
                Self::check(&staged.target, self.force, staged.is_ours)?;
                fs::rename(&staged.staging, &staged.target).map_err(at(&staged.target))
            });
            if let Err(e) = renamed {
                let _ = fs::remove_file(&staged.staging);
                unregister(&staged.staging);
                return Err(e);
            }
            unregister(&staged.staging);
            publication.published(&staged.target);
        }
        guard::unregister_created(&std::mem::take(&mut self.created));
        Ok(())
    }
}

impl Drop for FileSet {
    fn drop(&mut self) {
        for staged in &self.staged {
            let _ = fs::remove_file(&staged.staging);
            unregister(&staged.staging);
        }
        remove_created(&self.created);
    }
}

/// Removes staged files of `name` in `dir` whose writer died (their lock is free).
/// Called with the lock on `dir` held.
fn clean_stale_files(dir: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let prefix = guard::staging_prefix(name);
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let staged = entry.file_name().to_string_lossy().starts_with(&prefix)
            && entry.file_type().is_ok_and(|t| t.is_file());
        if staged && !lock_held(&path) {
            let _ = fs::remove_file(&path);
        }
    }
}
