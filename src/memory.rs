//! How much memory this process may still use, and how much it used: so that a run too
//! large for the machine, or for its container, is refused before it starts instead of
//! being killed half-way.
//!
//! The memory available is the smaller of the host's (`MemAvailable` in
//! `/proc/meminfo`) and the headroom of every memory cgroup the process is in: a
//! container's limit is what it may use, not the host's RAM. Both cgroup versions are
//! read: v2 (`memory.max` less `memory.current`, at every level from the process's
//! cgroup up to the root) and v1 (`memory.limit_in_bytes` less `memory.usage_in_bytes`).
//! A resource limit set on the process itself (`ulimit -v`, `ulimit -d`, `prlimit`:
//! `RLIMIT_AS` less the address space in use, `RLIMIT_DATA` less the data segment) caps
//! it too, on every Unix; elsewhere nothing is known and nothing is refused.

use std::path::{Path, PathBuf};

/// Where the cgroup file systems are mounted.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";

/// A limit at or above this is "no limit" (v1 writes 2^63 rounded to a page).
const UNLIMITED: u128 = 1 << 60;

/// A value of a `Key: N kB` file such as `/proc/meminfo`, in bytes.
fn proc_kb(file: &str, key: &str) -> Option<u128> {
    let text = std::fs::read_to_string(file).ok()?;
    let line = text.lines().find(|l| l.starts_with(key))?;
    let kb: u128 = line[key.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

fn number_in(path: &Path) -> Option<u128> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The folders of the cgroups named by `/proc/self/cgroup` text under `root`, for the
/// v2 hierarchy (`0::/path`) and the v1 memory controller (`N:memory:/path`), from the
/// process's own up to the root, each with the names of its limit and usage files. Where
/// a container shows its own cgroup as the root, the path may not exist below `root`:
/// the root itself is then still read.
fn cgroup_folders(
    root: &Path,
    proc_self_cgroup: &str,
) -> Vec<(PathBuf, &'static str, &'static str)> {
    let mut out = Vec::new();
    for line in proc_self_cgroup.lines() {
        let mut parts = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let (base, limit, usage) = if controllers.is_empty() {
            (root.to_path_buf(), "memory.max", "memory.current")
        } else if controllers.split(',').any(|c| c == "memory") {
            (
                root.join("memory"),
                "memory.limit_in_bytes",
                "memory.usage_in_bytes",
            )
        } else {
            continue;
        };
        let relative = Path::new(path.trim_start_matches('/'));
        for level in relative.ancestors() {
            out.push((base.join(level), limit, usage));
        }
    }
    out
}

/// The least headroom (limit less usage) over the cgroups named, if any sets a limit.
fn cgroup_headroom(root: &Path, proc_self_cgroup: &str) -> Option<u128> {
    cgroup_folders(root, proc_self_cgroup)
        .into_iter()
        .filter_map(|(dir, limit, usage)| {
            let limit = number_in(&dir.join(limit)).filter(|l| *l < UNLIMITED)?;
            let used = number_in(&dir.join(usage)).unwrap_or(0);
            Some(limit.saturating_sub(used))
        })
        .min()
}

/// The bytes this process may still allocate, when that can be told.
pub(crate) fn available_bytes() -> Option<u128> {
    let host = proc_kb("/proc/meminfo", "MemAvailable:");
    let cgroup = std::fs::read_to_string("/proc/self/cgroup")
        .ok()
        .and_then(|text| cgroup_headroom(Path::new(CGROUP_ROOT), &text));
    [host, cgroup, rlimit_headroom()]
        .into_iter()
        .flatten()
        .min()
}

/// The headroom under the process's own limits on its address space and data segment,
/// if either is set: the limit less what is in use (`VmSize`, `VmData`; where they
/// cannot be read, the limit alone).
#[cfg(unix)]
fn rlimit_headroom() -> Option<u128> {
    let limit = |resource| {
        let mut rlim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one rlimit into the struct it is given, and only that.
        let ok = unsafe { libc::getrlimit(resource, &raw mut rlim) } == 0;
        (ok && rlim.rlim_cur != libc::RLIM_INFINITY).then(|| u128::from(rlim.rlim_cur))
    };
    let headroom = |resource, used_key| {
        let cap = limit(resource)?;
        let used = proc_kb("/proc/self/status", used_key).unwrap_or(0);
        Some(cap.saturating_sub(used))
    };
    [
        headroom(libc::RLIMIT_AS, "VmSize:"),
        headroom(libc::RLIMIT_DATA, "VmData:"),
    ]
    .into_iter()
    .flatten()
    .min()
}

#[cfg(not(unix))]
fn rlimit_headroom() -> Option<u128> {
    None
}

/// The most memory this process has had resident so far (`VmHWM`), in bytes.
pub(crate) fn peak_resident_bytes() -> Option<u128> {
    proc_kb("/proc/self/status", "VmHWM:")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn a_cgroup_v2_limit_anywhere_up_the_tree_bounds_the_headroom() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(&root.join("memory.max"), "max\n");
        write(&root.join("user/memory.max"), "8589934592\n");
        write(&root.join("user/memory.current"), "1073741824\n");
        write(&root.join("user/job/memory.max"), "max\n");
        write(&root.join("user/job/memory.current"), "5\n");
        assert_eq!(cgroup_headroom(root, "0::/user/job\n"), Some(7 << 30));
        // No limit anywhere: nothing known.
        assert_eq!(cgroup_headroom(root, "0::/\n"), None);
    }

    #[test]
    fn a_cgroup_v1_memory_limit_bounds_the_headroom_and_unlimited_is_ignored() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        write(
            &root.join("memory/memory.limit_in_bytes"),
            "9223372036854771712\n",
        );
        write(
            &root.join("memory/box/memory.limit_in_bytes"),
            "2147483648\n",
        );
        write(
            &root.join("memory/box/memory.usage_in_bytes"),
            "1073741824\n",
        );
        let text = "4:memory:/box\n3:cpu,cpuacct:/box\n0::/\n";
        assert_eq!(cgroup_headroom(root, text), Some(1 << 30));
        // Inside a container whose own cgroup is shown as the root.
        write(&root.join("memory/memory.limit_in_bytes"), "536870912\n");
        assert_eq!(
            cgroup_headroom(root, "4:memory:/elsewhere\n"),
            Some(512 << 20)
        );
        // Usage above the limit leaves nothing.
        write(&root.join("memory/memory.usage_in_bytes"), "999999999999\n");
        assert_eq!(cgroup_headroom(root, "4:memory:/\n"), Some(0));
    }
}
