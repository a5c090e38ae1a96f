//! Scratch directories of disk actions: `<state_dir>/scratch/<pid>.<start>-<action id>`,
//! removed when the action ends (whatever way), when the daemon stops, and — for a crashed
//! daemon's leftovers — at the next start. The pid and the process start time (clock ticks
//! after boot, `/proc/PID/stat` field 22) tell whose a directory is, so several daemons can
//! share one state directory, and a crashed daemon's pid that is now a zombie or reused by
//! another program does not keep its leftovers alive. (`<pid>-<id>`, the older form without a
//! start time, is still recognised.)

use std::path::{Path, PathBuf};

/// A scratch directory, removed with everything in it when dropped.
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates `<state_dir>/scratch/<pid>-<id>`.
    pub fn create(state_dir: &Path, id: &str) -> std::io::Result<ScratchDir> {
        let me = std::process::id();
        let name = match start_time(me) {
            Some(start) => format!("{me}.{start}-{id}"),
            None => format!("{me}-{id}"),
        };
        let path = root(state_dir).join(name);
        std::fs::create_dir_all(&path)?;
        Ok(ScratchDir { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(path = %self.path.display(), error = %e, "cannot remove scratch directory");
        }
    }
}

/// Where scratch directories live.
pub fn root(state_dir: &Path) -> PathBuf {
    state_dir.join("scratch")
}

/// Removes scratch directories whose daemon is gone (its pid is not alive) and, when
/// `own` is true, this daemon's too; returns how many were removed.
pub fn remove_leftovers(state_dir: &Path, own: bool) -> usize {
    let Ok(entries) = std::fs::read_dir(root(state_dir)) else {
        return 0;
    };
    let me = std::process::id();
    let mut removed = 0;
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some((pid, start)) = name.to_str().and_then(owner) else {
            continue;
        };
        let stale = if pid == me { own } else { !alive(pid, start) };
        if stale && std::fs::remove_dir_all(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// The pid and (when recorded) start time a directory name carries.
fn owner(name: &str) -> Option<(u32, Option<u64>)> {
    let head = name.split('-').next()?;
    match head.split_once('.') {
        Some((pid, start)) => Some((pid.parse().ok()?, Some(start.parse().ok()?))),
        None => Some((head.parse().ok()?, None)),
    }
}

/// The start time of process `pid` in clock ticks after boot, if it exists.
fn start_time(pid: u32) -> Option<u64> {
    let stat = procfs::process::Process::new(i32::try_from(pid).ok()?)
        .ok()?
        .stat()
        .ok()?;
    Some(stat.starttime)
}

/// Whether the daemon that made a directory still runs: its pid exists, is not a zombie (or
/// dead), and — when the name recorded one — started at the same time (else the pid was
/// reused by another program).
fn alive(pid: u32, start: Option<u64>) -> bool {
    let Ok(pid) = i32::try_from(pid) else {
        return false;
    };
    let Ok(stat) = procfs::process::Process::new(pid).and_then(|p| p.stat()) else {
        return false;
    };
    let running = !matches!(stat.state, 'Z' | 'X' | 'x');
    running && start.is_none_or(|s| s == stat.starttime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removes_dead_daemons_dirs_and_keeps_live_ones() {
        let state = tempfile::tempdir().unwrap();
        let scratch = ScratchDir::create(state.path(), "disk-1").unwrap();
        std::fs::write(scratch.path().join("data"), b"x").unwrap();
        // pid 1 is always alive; a pid beyond pid_max never is.
        let live = root(state.path()).join("1-disk-2");
        let dead = root(state.path()).join("2147483646-disk-3");
        std::fs::create_dir_all(&live).unwrap();
        std::fs::create_dir_all(dead.join("sub")).unwrap();
        assert_eq!(remove_leftovers(state.path(), false), 1);
        assert!(live.exists() && !dead.exists() && scratch.path().exists());
        assert_eq!(remove_leftovers(state.path(), true), 1);
        assert!(!scratch.path().exists());
        drop(scratch);
    }

    #[test]
    fn a_zombie_or_a_reused_pid_owns_nothing() {
        let state = tempfile::tempdir().unwrap();
        // A child that exited and was not reaped yet is a zombie: kill(pid, 0) still succeeds.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let zombie = child.id();
        let is_zombie = || {
            procfs::process::Process::new(zombie as i32)
                .and_then(|p| p.stat())
                .is_ok_and(|s| s.state == 'Z')
        };
        let start = std::time::Instant::now();
        while !is_zombie() && start.elapsed() < std::time::Duration::from_secs(5) {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(is_zombie(), "the child did not become a zombie");
        let by_zombie = root(state.path()).join(format!("{zombie}-disk-1"));
        // pid 1 runs, but it did not start at tick 1 (a different program has the pid now).
        let init_start = start_time(1).unwrap();
        let reused = root(state.path()).join(format!("1.{}-disk-2", init_start + 1));
        let live = root(state.path()).join(format!("1.{init_start}-disk-3"));
        for d in [&by_zombie, &reused, &live] {
            std::fs::create_dir_all(d).unwrap();
        }
        assert_eq!(remove_leftovers(state.path(), false), 2);
        assert!(!by_zombie.exists() && !reused.exists() && live.exists());
        child.wait().unwrap();
    }
}
