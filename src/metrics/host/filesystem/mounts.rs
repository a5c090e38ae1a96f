//! The mount table: parsed from `1/mounts` under procfs (the host's init sees the host's
//! mounts even when jolt runs in a container), else `self/mounts`, and kept open.
//!
//! It is hand-parsed: the kernel escapes space, tab, newline and backslash as `\040`, `\011`,
//! `\012`, `\134`, and `procfs::MountEntry` leaves `\040` escaped, so a mount point with a
//! space would be wrong.
//!
//! The kernel renders the whole table on every read, which was a third of the filesystem
//! collector's time. The file is pollable: a mount or unmount (or a remount, e.g. read-only)
//! in its namespace raises `POLLPRI` on the open descriptor (proc(5)), so the table is read
//! again only then; a scrape otherwise costs one `poll` with a zero timeout.

use super::super::Paths;
use anyhow::Context;
use std::fs::File;
use std::io::{Read, Seek};
use std::os::fd::AsRawFd;
use std::path::PathBuf;

/// One line of the mount table.
#[derive(Debug, PartialEq)]
pub(super) struct Mount {
    pub device: String,
    pub mount_point: String,
    pub fs_type: String,
    pub read_only: bool,
}

impl Mount {
    /// Parses `DEVICE MOUNTPOINT FSTYPE OPTIONS ...`; `None` for a malformed line.
    pub fn parse(line: &str) -> Option<Mount> {
        let mut w = line.split_ascii_whitespace();
        let (device, mount_point, fs_type, options) = (w.next()?, w.next()?, w.next()?, w.next()?);
        Some(Mount {
            device: unescape(device),
            mount_point: unescape(mount_point),
            fs_type: unescape(fs_type),
            read_only: options.split(',').any(|o| o == "ro"),
        })
    }
}

/// Undoes the kernel's `\NNN` octal escapes.
pub(super) fn unescape(field: &str) -> String {
    if !field.contains('\\') {
        return field.to_string();
    }
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let octal = b
            .get(i + 1..i + 4)
            .filter(|d| d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match (b[i], octal) {
            (b'\\', Some(d)) => {
                let v = d.iter().fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
                out.push(v as u8);
                i += 4;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The open mount table file.
pub(super) struct MountWatch {
    file: File,
    path: PathBuf,
}

impl MountWatch {
    /// Opens init's mount table, else jolt's own.
    pub fn open(paths: &Paths) -> anyhow::Result<Self> {
        let init = paths.proc("1/mounts");
        if let Ok(file) = File::open(&init) {
            return Ok(MountWatch { file, path: init });
        }
        let own = paths.proc("self/mounts");
        let file = File::open(&own).with_context(|| format!("reading {}", own.display()))?;
        Ok(MountWatch { file, path: own })
    }

    /// True when the kernel reported a mount change since the last call (or the last read).
    /// A file that is not pollable that way (a test fixture) never reports one.
    pub fn changed(&self) -> bool {
        let mut p = libc::pollfd {
            fd: self.file.as_raw_fd(),
            events: libc::POLLPRI,
            revents: 0,
        };
        // SAFETY: one valid pollfd, zero timeout.
        let n = unsafe { libc::poll(&mut p, 1, 0) };
        n < 0 || p.revents & (libc::POLLPRI | libc::POLLERR | libc::POLLNVAL) != 0
    }

    /// Reads and parses the whole table from the start.
    pub fn read(&mut self) -> anyhow::Result<Vec<Mount>> {
        let mut text = String::with_capacity(8 * 1024);
        self.file
            .rewind()
            .and_then(|_| self.file.read_to_string(&mut text))
            .with_context(|| format!("reading {}", self.path.display()))?;
        Ok(text.lines().filter_map(Mount::parse).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescapes_octal_sequences() {
        assert_eq!(unescape(r"/mnt/my\040disk"), "/mnt/my disk");
        assert_eq!(unescape(r"a\011b\012c\134d"), "a\tb\nc\\d");
        assert_eq!(unescape(r"trailing\04"), r"trailing\04");
        assert_eq!(unescape("plain"), "plain");
        let m = Mount::parse(r"/dev/sdb1 /mnt/my\040disk ext4 rw,ro 0 0").unwrap();
        assert!(m.read_only && m.mount_point == "/mnt/my disk");
        assert_eq!(Mount::parse("short line"), None);
    }

    #[test]
    fn the_live_table_reports_no_change_between_reads() {
        let paths = crate::metrics::host::HostConfig::default().paths();
        let mut w = MountWatch::open(&paths).unwrap();
        // Opening arms the event at the current state: nothing changed yet, and reading
        // twice gives the same table (unless the host mounts something right now).
        let first = w.read().unwrap();
        assert!(first.iter().any(|m| m.mount_point == "/"));
        if !w.changed() {
            assert_eq!(w.read().unwrap(), first);
        }
    }
}
