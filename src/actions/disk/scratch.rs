//! Scratch directories of disk actions: `<state_dir>/scratch/<pid>-<action id>`, removed when
//! the action ends (whatever way), when the daemon stops, and — for a crashed daemon's
//! leftovers — at the next start. The pid in the name tells whose a directory is, so several
//! daemons can share one state directory.

use std::path::{Path, PathBuf};

/// A scratch directory, removed with everything in it when dropped.
pub struct ScratchDir {
    path: PathBuf,
}

impl ScratchDir {
    /// Creates `<state_dir>/scratch/<pid>-<id>`.
    pub fn create(state_dir: &Path, id: &str) -> std::io::Result<ScratchDir> {
        let path = root(state_dir).join(format!("{}-{id}", std::process::id()));
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
        let Some(pid) = name
            .to_str()
            .and_then(|n| n.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        let stale = if pid == me { own } else { !alive(pid) };
        if stale && std::fs::remove_dir_all(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

/// Whether a process with this pid exists (EPERM means it does, owned by someone else).
fn alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 only checks for existence.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
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
}
