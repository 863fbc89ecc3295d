//! What every writer of output shares: staging names that cannot collide, locks that say
//! a writer is alive, bounded reads of what stands in the way, and publication as a
//! critical section that Ctrl-C and SIGTERM wait for.
//!
//! Liveness is the lock, never a PID: a PID says nothing about a process in another PID
//! namespace (a container) or on another host sharing the volume. Each writer holds an
//! exclusive `flock` on a file of its staging (the manifest of a staging folder, the
//! staged file itself) for as long as it lives; the kernel drops it when the process
//! dies, however it dies. A staging entry whose lock can be taken is stale; one whose
//! lock is held, or whose lock cannot be tried (a file system without locks), is kept.

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::OutputError;

/// Random characters in a staging name: unique across processes, containers and hosts.
const TOKEN_LEN: usize = 12;

/// The prefix of `name`'s staging entries in its parent folder.
pub(super) fn staging_prefix(name: &str) -> String {
    format!(".{name}.partial-")
}

/// The prefix of `name`'s retired copies (the previous output, during a swap).
pub(super) fn retired_prefix(name: &str) -> String {
    format!(".{name}.old-")
}

/// A new, uniquely named staging folder for `name` in `parent`.
pub(super) fn new_staging_dir(parent: &Path, name: &str) -> io::Result<PathBuf> {
    Ok(tempfile::Builder::new()
        .prefix(&staging_prefix(name))
        .rand_bytes(TOKEN_LEN)
        .tempdir_in(parent)?
        .keep())
}

/// A new, uniquely named staging file for `name` in `dir`, created and locked.
pub(super) fn new_staging_file(dir: &Path, name: &str) -> io::Result<(File, PathBuf)> {
    let (file, path) = tempfile::Builder::new()
        .prefix(&staging_prefix(name))
        .rand_bytes(TOKEN_LEN)
        .tempfile_in(dir)?
        .keep()
        .map_err(|e| e.error)?;
    file.lock()?;
    Ok((file, path))
}

/// Whether a writer holds the lock of `path`: `true` when it cannot be told.
pub(super) fn lock_held(path: &Path) -> bool {
    // Only a regular file is opened (a FIFO would block the open).
    if !fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
        return true;
    }
    let Ok(file) = crate::input::open_regular(path) else {
        return true;
    };
    // Taken: nobody held it. Would block, or cannot be tried: held, as far as we know.
    let free = file.try_lock().is_ok();
    if free {
        let _ = file.unlock();
    }
    !free
}

/// Reads `path` when it is a regular file (not followed if a link) of at most `cap`
/// bytes: `None` for anything else, which is then not ours. Never opens a FIFO or a
/// device, never reads past `cap`.
pub(super) fn read_regular(path: &Path, cap: u64) -> Option<Vec<u8>> {
    if !fs::symlink_metadata(path).ok()?.is_file() {
        return None;
    }
    crate::input::read_bytes_bounded(path, cap).ok()
}

/// Staging entries of this process, removed by [`interrupt`].
static LIVE_STAGING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Folders created to hold outputs not yet published, removed (when empty) by
/// [`interrupt`].
static LIVE_CREATED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Outputs this process published, for the message on interruption.
static PUBLISHED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Held while renames publish an output: the signal handler waits for it.
static PUBLICATION: Mutex<()> = Mutex::new(());

/// Set by the signal handler: no publication starts after it.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

fn locked<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub(super) fn register(path: &Path) {
    locked(&LIVE_STAGING).push(path.to_path_buf());
}

pub(super) fn unregister(path: &Path) {
    locked(&LIVE_STAGING).retain(|d| d != path);
}

pub(super) fn register_created(dirs: &[PathBuf]) {
    locked(&LIVE_CREATED).extend_from_slice(dirs);
}

pub(super) fn unregister_created(dirs: &[PathBuf]) {
    locked(&LIVE_CREATED).retain(|d| !dirs.contains(d));
}

/// Removes `dirs` where they are empty, innermost first.
pub(super) fn remove_empty(dirs: &[PathBuf]) {
    let mut innermost_first = dirs.to_vec();
    innermost_first.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    for dir in innermost_first {
        // Only while empty: something else may have been put there meanwhile.
        let _ = fs::remove_dir(&dir);
    }
}

/// The right to publish: taken before the first rename, released after the last.
pub(super) struct Publication {
    held: Option<MutexGuard<'static, ()>>,
}

impl Publication {
    /// Waits for any other publication of this process. Once a signal has come, no
    /// publication starts: this thread yields to the handler, which is about to report
    /// and exit.
    pub(super) fn begin() -> Publication {
        let guard = locked(&PUBLICATION);
        if INTERRUPTED.load(Ordering::SeqCst) {
            drop(guard);
            park_for_ever();
        }
        Publication { held: Some(guard) }
    }

    /// Records that `path` now holds a complete new output.
    pub(super) fn published(&self, path: &Path) {
        locked(&PUBLISHED).push(path.to_path_buf());
    }
}

impl Drop for Publication {
    /// Releases the right to publish. If a signal came meanwhile, the handler is waiting
    /// for exactly this: this thread then does nothing more (it would otherwise go on,
    /// or end the process with a success the user did not get), and the handler reports
    /// what was published and exits.
    fn drop(&mut self) {
        drop(self.held.take());
        if INTERRUPTED.load(Ordering::SeqCst) {
            park_for_ever();
        }
    }
}

/// Stops this thread for good: the signal handler ends the process.
fn park_for_ever() -> ! {
    loop {
        std::thread::park();
    }
}

/// What an interruption left: the outputs published in full before it.
#[derive(Debug)]
pub struct Interruption {
    /// Outputs this process had published completely (they stay).
    pub published: Vec<PathBuf>,
}

/// Called on Ctrl-C or SIGTERM: waits until a publication in progress completes (so no
/// output is ever left half-swapped), stops any later one, removes every staging entry
/// of this process, and says what was published.
pub fn interrupt() -> Interruption {
    INTERRUPTED.store(true, Ordering::SeqCst);
    let _publication = locked(&PUBLICATION);
    let staging = std::mem::take(&mut *locked(&LIVE_STAGING));
    for path in staging {
        // A writer may still add a file between listing and removal: try again.
        for _ in 0..5 {
            let removed = if path.is_dir() {
                fs::remove_dir_all(&path)
            } else {
                fs::remove_file(&path)
            };
            if removed.is_ok() || fs::symlink_metadata(&path).is_err() {
                break;
            }
        }
    }
    remove_empty(&std::mem::take(&mut *locked(&LIVE_CREATED)));
    Interruption {
        published: locked(&PUBLISHED).clone(),
    }
}

/// Waits for the lock on a parent folder, which serialises publications into it
/// between processes.
pub(super) fn lock_folder(dir: &Path) -> Result<File, OutputError> {
    let at = |source| OutputError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let lock = File::open(dir).map_err(at)?;
    lock.lock().map_err(at)?;
    Ok(lock)
}

/// A test hook: sleeps for `ROLLOUT_SIM_TEST_PUBLICATION_PAUSE_MS` inside a publication,
/// between its renames, the window a test sends its signal into. Compiled in every
/// profile (one variable read per publication), so the tests hold under `--release`.
pub(super) fn pause_inside_publication() {
    if let Some(ms) = std::env::var("ROLLOUT_SIM_TEST_PUBLICATION_PAUSE_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        std::thread::sleep(std::time::Duration::from_millis(ms));
    }
}
