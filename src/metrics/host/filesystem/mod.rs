//! `node_filesystem_{size,free,avail}_bytes`, `node_filesystem_{files,files_free,readonly,
//! device_error}{device,mountpoint,fstype}` from the mount table ([`mounts`]) and `statfs(2)`
//! behind a hung-mount gate ([`statfs`]).
//!
//! The filtered, de-duplicated list of mounts is kept between scrapes and rebuilt only when the
//! kernel reports a mount change, so a scrape costs one `poll` plus one `statfs` per mount.

mod mounts;
mod statfs;

pub use statfs::{Usage, statfs};

use super::config::{Filters, excluded};
use super::{Paths, Subsystem};
use crate::metrics::family::Family;
use mounts::MountWatch;
use statfs::{Outcome, Pending, StatfsFn, StatfsPool};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One mount to report: its labels, whether it is read-only and the path to `statfs`.
struct Target {
    device: String,
    mount_point: String,
    fs_type: String,
    read_only: bool,
    path: PathBuf,
}

/// The open mount table and the targets built from it.
struct Cache {
    watch: MountWatch,
    targets: Arc<Vec<Target>>,
}

/// The `filesystem` collector.
pub struct Filesystem {
    paths: Paths,
    filters: Filters,
    pool: StatfsPool,
    /// `None` until the first scrape, and after the table could not be read.
    cache: Mutex<Option<Cache>>,
    /// The `statfs` job [`Subsystem::prepare`] started for this scrape, with its targets.
    pending: Mutex<Option<(Arc<Vec<Target>>, Pending)>>,
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
            cache: Mutex::new(None),
            pending: Mutex::new(None),
        }
    }

    /// The mounts to report, re-read only when the mount table changed.
    fn targets(&self) -> anyhow::Result<Arc<Vec<Target>>> {
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = cache.as_ref()
            && !c.watch.changed()
        {
            return Ok(c.targets.clone());
        }
        let mut watch = match cache.take() {
            Some(c) => c.watch,
            None => MountWatch::open(&self.paths)?,
        };
        let mut seen = HashSet::new();
        let mut targets = Vec::new();
        for m in watch.read()? {
            let (mount_point, path) = self.locate(&m.mount_point);
            if excluded(&self.filters.mount_points, &mount_point)
                || excluded(&self.filters.fs_types, &m.fs_type)
            {
                continue;
            }
            if !seen.insert((m.device.clone(), mount_point.clone(), m.fs_type.clone())) {
                continue;
            }
            targets.push(Target {
                device: m.device,
                mount_point,
                fs_type: m.fs_type,
                read_only: m.read_only,
                path,
            });
        }
        let targets = Arc::new(targets);
        *cache = Some(Cache {
            watch,
            targets: targets.clone(),
        });
        Ok(targets)
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

impl Filesystem {
    /// Reads the targets and hands their `statfs` calls to the helper.
    fn start(&self) -> anyhow::Result<(Arc<Vec<Target>>, Pending)> {
        let targets = self.targets()?;
        let pending = self
            .pool
            .start(targets.iter().map(|t| t.path.clone()).collect())?;
        Ok((targets, pending))
    }
}

impl Subsystem for Filesystem {
    fn name(&self) -> &'static str {
        "filesystem"
    }

    /// The `statfs` calls run on their helper thread while the other collectors read
    /// procfs, so this collector usually finds its answers waiting. A failure here is
    /// reported by `collect`, which starts again.
    fn prepare(&self) {
        if let Ok(started) = self.start() {
            *self.pending.lock().unwrap_or_else(|p| p.into_inner()) = Some(started);
        }
    }

    fn collect(&self, out: &mut Vec<Family>) -> anyhow::Result<()> {
        let mut fams: Vec<Family> = [SIZE, FREE, AVAIL, FILES, FILES_FREE, READONLY, DEVICE_ERROR]
            .iter()
            .map(|(name, help)| Family::gauge(*name, *help))
            .collect();
        let started = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        let (targets, pending) = match started {
            Some(p) => p,
            None => self.start()?,
        };
        let outcomes = self.pool.finish(pending)?;
        for (t, outcome) in targets.iter().zip(outcomes) {
            let labels = [
                ("device", t.device.as_str()),
                ("mountpoint", t.mount_point.as_str()),
                ("fstype", t.fs_type.as_str()),
            ];
            let error = match outcome {
                Outcome::Ok(u) => {
                    let values = [u.size, u.free, u.avail, u.files, u.files_free];
                    for (fam, v) in fams.iter_mut().zip(values) {
                        fam.push(&labels, v);
                    }
                    0.0
                }
                Outcome::Error => 1.0,
            };
            fams[5].push(&labels, if t.read_only { 1.0 } else { 0.0 });
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
        for (other, when) in [("/", "before"), ("/mnt/after", "after")] {
            assert_eq!(
                value(
                    &fams,
                    "node_filesystem_device_error",
                    &[("mountpoint", other)]
                ),
                0.0,
                "the mount {when} the hung one is still read"
            );
        }
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
    fn a_missing_mount_table_is_an_error() {
        let fs = Filesystem::new(fixture_paths("no-psi"), filters(), Duration::from_secs(1));
        assert!(fs.collect(&mut Vec::new()).is_err());
    }
}
