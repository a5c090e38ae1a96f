//! `node_filesystem_{size,free,avail}_bytes`, `node_filesystem_{files,files_free,readonly,
//! device_error}{device,mountpoint,fstype}` from the mount table and `statfs(2)`.
//!
//! The mount table is `1/mounts` under procfs (the host's init sees the host's mounts even
//! when jolt runs in a container), else `self/mounts`. It is hand-parsed: the kernel escapes
//! space, tab, newline and backslash as `\040`, `\011`, `\012`, `\134`, and
//! `procfs::MountEntry` leaves `\040` escaped, so a mount point with a space would be wrong.
//!
//! A hung mount (a dead NFS server) blocks `statfs` forever, so the calls run on a helper
//! thread and the scrape waits at most the configured timeout. A mount that timed out is
//! *stuck*: it is reported with `device_error` 1 and not asked again until its call returns.
//! Each stuck mount holds exactly one thread, and at most [`MAX_STUCK`] may be stuck; beyond
//! that every mount is reported as an error, so threads stay bounded whatever the mounts do.

use super::config::{Filters, excluded};
use super::{Paths, Subsystem};
use crate::metrics::family::Family;
use anyhow::Context;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The most mounts that may be stuck (each holds one blocked thread) at once.
const MAX_STUCK: usize = 8;

/// What `statfs` says about one filesystem, in node_exporter's units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    /// Total bytes.
    pub size: f64,
    /// Free bytes.
    pub free: f64,
    /// Free bytes available to unprivileged users.
    pub avail: f64,
    /// Inodes.
    pub files: f64,
    /// Free inodes.
    pub files_free: f64,
}

/// The `statfs` function, swappable so tests can simulate a hung mount.
type StatfsFn = Arc<dyn Fn(&Path) -> std::io::Result<Usage> + Send + Sync>;

/// Calls `statfs(2)`.
pub fn statfs(path: &Path) -> std::io::Result<Usage> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: `c` is a valid NUL-terminated path and `buf` is plain old data filled on success.
    let mut buf: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(c.as_ptr(), &mut buf) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let bsize = buf.f_bsize as f64;
    Ok(Usage {
        size: buf.f_blocks as f64 * bsize,
        free: buf.f_bfree as f64 * bsize,
        avail: buf.f_bavail as f64 * bsize,
        files: buf.f_files as f64,
        files_free: buf.f_ffree as f64,
    })
}

/// One line of the mount table.
#[derive(Debug, PartialEq)]
struct Mount {
    device: String,
    mount_point: String,
    fs_type: String,
    read_only: bool,
}

impl Mount {
    /// Parses `DEVICE MOUNTPOINT FSTYPE OPTIONS ...`; `None` for a malformed line.
    fn parse(line: &str) -> Option<Mount> {
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
fn unescape(field: &str) -> String {
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

/// One request to the helper thread.
struct Job {
    path: PathBuf,
    reply: mpsc::SyncSender<std::io::Result<Usage>>,
}

/// Runs `statfs` calls on a helper thread with a timeout.
struct StatfsPool {
    timeout: Duration,
    call: StatfsFn,
    /// The live helper's job queue; `None` until needed or after the helper got stuck.
    worker: Mutex<Option<mpsc::Sender<Job>>>,
    /// Paths whose call has not returned yet. Shared with the helpers, which remove their
    /// path when the call finally returns.
    stuck: Arc<Mutex<HashSet<PathBuf>>>,
}

/// The outcome for one mount.
#[derive(Debug, PartialEq)]
enum Outcome {
    Ok(Usage),
    /// The call failed, timed out, or the mount is still stuck from an earlier scrape.
    Error,
}

impl StatfsPool {
    fn new(timeout: Duration, call: StatfsFn) -> Self {
        StatfsPool {
            timeout,
            call,
            worker: Mutex::new(None),
            stuck: Arc::default(),
        }
    }

    fn spawn(&self) -> anyhow::Result<mpsc::Sender<Job>> {
        let (tx, rx) = mpsc::channel::<Job>();
        let call = self.call.clone();
        let stuck = self.stuck.clone();
        std::thread::Builder::new()
            .name("jolt-statfs".into())
            .spawn(move || {
                // Ends when the scrape side drops the sender: after a timeout, or on exit.
                for job in rx {
                    let r = call(&job.path);
                    let mut stuck = stuck.lock().unwrap_or_else(|p| p.into_inner());
                    stuck.remove(&job.path);
                    let _ = job.reply.send(r);
                }
            })
            .context("spawning the statfs helper thread")?;
        Ok(tx)
    }

    /// `statfs` of `path`, waiting at most the timeout.
    fn usage(&self, path: &Path) -> anyhow::Result<Outcome> {
        {
            let stuck = self.stuck.lock().unwrap_or_else(|p| p.into_inner());
            if stuck.contains(path) || stuck.len() >= MAX_STUCK {
                return Ok(Outcome::Error);
            }
        }
        let mut worker = self.worker.lock().unwrap_or_else(|p| p.into_inner());
        let (reply, answer) = mpsc::sync_channel(1);
        let mut job = Job {
            path: path.to_path_buf(),
            reply,
        };
        // A helper that exited (it cannot, short of a panic) is replaced once.
        for _ in 0..2 {
            let tx = match worker.as_ref() {
                Some(tx) => tx,
                None => worker.insert(self.spawn()?),
            };
            match tx.send(job) {
                Ok(()) => break,
                Err(mpsc::SendError(j)) => {
                    job = j;
                    *worker = None;
                }
            }
        }
        match answer.recv_timeout(self.timeout) {
            Ok(r) => Ok(r.map_or(Outcome::Error, Outcome::Ok)),
            Err(RecvTimeoutError::Timeout) => {
                let mut stuck = self.stuck.lock().unwrap_or_else(|p| p.into_inner());
                // The helper answers while holding `stuck`, so this cannot miss a late reply.
                if let Ok(r) = answer.try_recv() {
                    return Ok(r.map_or(Outcome::Error, Outcome::Ok));
                }
                stuck.insert(path.to_path_buf());
                // Abandon the blocked helper; it exits once its call returns.
                *worker = None;
                tracing::warn!(path = %path.display(), timeout = ?self.timeout, "statfs timed out; mount marked stuck");
                Ok(Outcome::Error)
            }
            Err(RecvTimeoutError::Disconnected) => {
                *worker = None;
                anyhow::bail!("the statfs helper thread died")
            }
        }
    }
}

/// The `filesystem` collector.
pub struct Filesystem {
    paths: Paths,
    filters: Filters,
    pool: StatfsPool,
}

impl Filesystem {
    /// A collector reading under `paths`, skipping what `filters` exclude.
    pub fn new(paths: Paths, filters: Filters, timeout: Duration) -> Self {
        Self::with_statfs(paths, filters, timeout, Arc::new(statfs))
    }

    fn with_statfs(paths: Paths, filters: Filters, timeout: Duration, call: StatfsFn) -> Self {
        Filesystem {
            paths,
            filters,
            pool: StatfsPool::new(timeout, call),
        }
    }

    /// The mount table, from init's view when readable.
    fn mounts(&self) -> anyhow::Result<Vec<Mount>> {
        let text = match std::fs::read_to_string(self.paths.proc("1/mounts")) {
            Ok(t) => t,
            Err(_) => self.paths.read_proc("self/mounts")?,
        };
        Ok(text.lines().filter_map(Mount::parse).collect())
    }

    /// The mount point as labelled (without a rootfs prefix) and the path to `statfs`.
    fn locate(&self, mount_point: &str) -> (String, PathBuf) {
        let root = &self.paths.root;
        if root != Path::new("/")
            && let Ok(rel) = Path::new(mount_point).strip_prefix(root)
        {
            return (format!("/{}", rel.display()), PathBuf::from(mount_point));
        }
        (
            mount_point.to_string(),
            root.join(mount_point.trim_start_matches('/')),
        )
    }
}

/// node_exporter's family names and help, in output order.
const SIZE: (&str, &str) = ("node_filesystem_size_bytes", "Filesystem size in bytes.");
const FREE: (&str, &str) = (
    "node_filesystem_free_bytes",
    "Filesystem free space in bytes.",
);
const AVAIL: (&str, &str) = (
    "node_filesystem_avail_bytes",
    "Filesystem space available to non-root users in bytes.",
);
const FILES: (&str, &str) = ("node_filesystem_files", "Filesystem total file nodes.");
const FILES_FREE: (&str, &str) = (
    "node_filesystem_files_free",
    "Filesystem total free file nodes.",
);
const READONLY: (&str, &str) = ("node_filesystem_readonly", "Filesystem read-only status.");
const DEVICE_ERROR: (&str, &str) = (
    "node_filesystem_device_error",
    "Whether an error occurred while getting statistics for the given device.",
);

impl Subsystem for Filesystem {
    fn name(&self) -> &'static str {
        "filesystem"
    }

    fn collect(&self, out: &mut Vec<Family>) -> anyhow::Result<()> {
        let mut fams: Vec<Family> = [SIZE, FREE, AVAIL, FILES, FILES_FREE, READONLY, DEVICE_ERROR]
            .iter()
            .map(|(name, help)| Family::gauge(*name, *help))
            .collect();
        let mut seen = HashSet::new();
        for m in self.mounts()? {
            let (mount_point, target) = self.locate(&m.mount_point);
            if excluded(&self.filters.mount_points, &mount_point)
                || excluded(&self.filters.fs_types, &m.fs_type)
            {
                continue;
            }
            if !seen.insert((m.device.clone(), mount_point.clone(), m.fs_type.clone())) {
                continue;
            }
            let labels = [
                ("device", m.device.as_str()),
                ("mountpoint", mount_point.as_str()),
                ("fstype", m.fs_type.as_str()),
            ];
            let ro = if m.read_only { 1.0 } else { 0.0 };
            let outcome = self.pool.usage(&target)?;
            let (values, error) = match outcome {
                Outcome::Ok(u) => (Some([u.size, u.free, u.avail, u.files, u.files_free]), 0.0),
                Outcome::Error => (None, 1.0),
            };
            if let Some(values) = values {
                for (fam, v) in fams.iter_mut().zip(values) {
                    fam.push(&labels, v);
                }
            }
            fams[5].push(&labels, ro);
            fams[6].push(&labels, error);
        }
        out.extend(fams);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::host::HostConfig;
    use crate::metrics::host::testutil::{collect, fixture_paths, try_value, value};

    fn filters() -> Filters {
        HostConfig::default().filters().unwrap()
    }

    #[test]
    fn escaped_spaces_pseudo_filesystems_and_errors() {
        let fs = Filesystem::new(fixture_paths("odd"), filters(), Duration::from_secs(1));
        let fams = collect(&fs);
        let disk = [
            ("device", "/dev/sdb1"),
            ("mountpoint", "/mnt/my disk"),
            ("fstype", "ext4"),
        ];
        assert!(value(&fams, "node_filesystem_size_bytes", &disk) > 0.0);
        assert_eq!(value(&fams, "node_filesystem_readonly", &disk), 1.0);
        assert_eq!(value(&fams, "node_filesystem_device_error", &disk), 0.0);
        // The NFS mount point does not exist under the fixture root: statfs fails.
        let nfs = [("mountpoint", "/mnt/nfs")];
        assert_eq!(value(&fams, "node_filesystem_device_error", &nfs), 1.0);
        assert_eq!(value(&fams, "node_filesystem_readonly", &nfs), 0.0);
        assert_eq!(try_value(&fams, "node_filesystem_size_bytes", &nfs), None);
        // proc (by type and mount point), /sys and /dev are excluded; the duplicate / is once.
        for gone in [
            "/proc",
            "/sys/fs/cgroup",
            "/dev/shm",
            "/run/credentials/a.service",
        ] {
            assert_eq!(
                try_value(
                    &fams,
                    "node_filesystem_device_error",
                    &[("mountpoint", gone)]
                ),
                None,
                "{gone}"
            );
        }
        let roots = fams[6]
            .samples
            .iter()
            .filter(|s| s.labels[1].1 == "/")
            .count();
        assert_eq!(roots, 1);
    }

    #[test]
    fn a_hung_mount_times_out_is_skipped_while_stuck_and_holds_one_thread() {
        // The "NFS" mount hangs until the test releases it: a scrape that returns at all while it
        // hangs proves the timeout, with no wall-clock assertion.
        let calls = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let gate = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let (counter, hang) = (calls.clone(), gate.clone());
        let slow: StatfsFn = Arc::new(move |p: &Path| {
            if p.ends_with("mnt/nfs") {
                counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                let (open, cv) = &*hang;
                let mut open = open.lock().unwrap();
                while !*open {
                    open = cv.wait(open).unwrap();
                }
            }
            statfs(Path::new("/"))
        });
        let fs = Filesystem::with_statfs(
            fixture_paths("odd"),
            filters(),
            Duration::from_millis(50),
            slow,
        );
        let fams = collect(&fs);
        let nfs = [("mountpoint", "/mnt/nfs")];
        assert_eq!(value(&fams, "node_filesystem_device_error", &nfs), 1.0);
        assert_eq!(
            value(
                &fams,
                "node_filesystem_device_error",
                &[("mountpoint", "/")]
            ),
            0.0,
            "mounts after the hung one are still read"
        );
        // While stuck, the mount is not asked again (its one thread is still blocked).
        let fams = collect(&fs);
        assert_eq!(value(&fams, "node_filesystem_device_error", &nfs), 1.0);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 1);
        assert_eq!(fs.pool.stuck.lock().unwrap().len(), 1);
        // Once the call returns, the mount is tried again.
        *gate.0.lock().unwrap() = true;
        gate.1.notify_all();
        while !fs.pool.stuck.lock().unwrap().is_empty() {
            std::thread::sleep(Duration::from_millis(10));
        }
        collect(&fs);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    }

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
    fn a_missing_mount_table_is_an_error() {
        let fs = Filesystem::new(fixture_paths("no-psi"), filters(), Duration::from_secs(1));
        assert!(fs.collect(&mut Vec::new()).is_err());
    }
}
