//! Reading procfs and sysfs files on the scrape path.
//!
//! procfs and sysfs render a file's content afresh on every read that starts at offset 0, so
//! the collectors' [`KeptFiles`] keep a file read once open and read it again with
//! `pread(fd, buf, 0)`: one scrape then
//! costs one or two `pread`s per file instead of `open` (a path walk through procfs, the
//! dearest part), `statx`, a 32-byte probe `read`, more `read`s and `close`. Only files on
//! procfs, sysfs and cgroup2 are kept (checked once with `fstatfs`): a regular file (a test
//! fixture) could be replaced under its path, and a pseudo file cannot. A kept file that fails
//! or reads empty (its cgroup was removed) is dropped and opened again, so errors such as
//! `NotFound` still reach the caller exactly as an `open` reports them. The collectors are
//! built (and read once) at start, so the kept descriptors are open before anything counts
//! jolt's descriptors, and their number does not grow with scrapes or actions; the actions
//! read through [`read_small`], which keeps nothing.

use std::collections::HashMap;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

/// What a procfs or sysfs file of the scrape path fits in (`/proc/stat` on a large host
/// grows past it, and is then read in more steps).
const CAPACITY: usize = 16 * 1024;

/// The most files kept open: the scrape path reads about 25.
const MAX_OPEN: usize = 64;

/// `statfs.f_type` of the filesystems whose files render on every read (linux/magic.h).
const RE_RENDERED: [i64; 3] = [0x9fa0, 0x6265_6572, 0x6367_7270];

/// Pseudo files kept open by path, shared by the clones of one [`Paths`](super::Paths).
#[derive(Debug, Default)]
pub struct KeptFiles {
    open: Mutex<HashMap<PathBuf, Arc<File>>>,
}

impl KeptFiles {
    /// Reads a whole file, keeping it open for the next read when it is a pseudo file.
    pub fn read(&self, path: &Path) -> io::Result<String> {
        let kept = self.lock().get(path).cloned();
        if let Some(file) = kept {
            match read_from_start(&file) {
                Ok(text) if !text.is_empty() => return Ok(text),
                _ => {
                    self.lock().remove(path);
                }
            }
        }
        let file = File::open(path)?;
        let text = read_from_start(&file)?;
        if re_rendered(&file) {
            let mut open = self.lock();
            if open.len() < MAX_OPEN {
                open.insert(path.to_path_buf(), Arc::new(file));
            }
        }
        Ok(text)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, Arc<File>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[cfg(test)]
    fn keeps(&self, path: &Path) -> bool {
        self.lock().contains_key(path)
    }
}

/// Reads a whole file in as few `read`s as it allows (no `statx`, no 32-byte probe as
/// `std::fs::read_to_string` makes), keeping nothing open.
pub fn read_small(path: &Path) -> io::Result<String> {
    read_from_start(&File::open(path)?)
}

/// The whole content from offset 0, in as few `pread`s as the content allows.
fn read_from_start(file: &File) -> io::Result<String> {
    let mut buf = vec![0u8; CAPACITY];
    let mut len = 0;
    loop {
        if len == buf.len() {
            buf.resize(buf.len() * 2, 0);
        }
        match file.read_at(&mut buf[len..], len as u64) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    buf.truncate(len);
    String::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// True when `file` lives on procfs, sysfs or cgroup2.
fn re_rendered(file: &File) -> bool {
    // SAFETY: a valid descriptor and a plain-old-data buffer filled on success.
    let mut buf: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::fstatfs(file.as_raw_fd(), &mut buf) } != 0 {
        return false;
    }
    #[allow(clippy::unnecessary_cast)] // f_type's width differs between targets
    RE_RENDERED.contains(&(buf.f_type as i64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_procfs_file_shows_fresh_content_on_each_read() {
        // /proc/self/stat changes with every context switch and page fault; its 14th and
        // 15th fields (utime, stime) or 10th (minflt) move once this thread does some work.
        let kept = KeptFiles::default();
        let path = Path::new("/proc/self/stat");
        let first = kept.read(path).unwrap();
        assert!(kept.keeps(path));
        let mut second = kept.read(path).unwrap();
        let mut work = Vec::new();
        for _ in 0..64 {
            if second != first {
                break;
            }
            work.push(vec![1u8; 1 << 16]); // fresh pages fault in: minflt moves
            second = kept.read(path).unwrap();
        }
        assert_ne!(
            second, first,
            "a kept file must not replay its first content"
        );
        assert!(second.starts_with(first.split(' ').next().unwrap()));
    }

    #[test]
    fn regular_files_are_read_but_not_kept_and_missing_ones_say_not_found() {
        let kept = KeptFiles::default();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "one\n").unwrap();
        assert_eq!(kept.read(&path).unwrap(), "one\n");
        assert!(!kept.keeps(&path));
        let big = "x".repeat(CAPACITY * 2 + 3);
        std::fs::write(&path, &big).unwrap();
        assert_eq!(kept.read(&path).unwrap(), big);
        assert_eq!(read_small(&path).unwrap(), big);
        let err = kept.read(&dir.path().join("missing")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
    }
}
