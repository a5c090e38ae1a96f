//! The standard `process_*` metrics of the daemon itself, as every Prometheus client library
//! exposes them, read from `/proc/self` at scrape time.

use super::family::Family;
use super::host::KeptFiles;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use std::path::Path;

/// Reads the daemon's own CPU, memory, file descriptors and start time.
#[derive(Debug)]
pub struct SelfProcess {
    /// Clock ticks per second, for converting `utime`/`stime` and `starttime`.
    ticks: f64,
    /// Page size, for converting `rss` pages to bytes.
    page_size: f64,
    /// Boot time in seconds since the epoch, for `process_start_time_seconds`.
    boot_time: f64,
    /// `/proc/self/{stat,limits}`, kept open between scrapes.
    kept: KeptFiles,
}

impl SelfProcess {
    /// Reads the constants once, and the files once so they are open from the start.
    pub fn new() -> Self {
        let boot_time = procfs::boot_time_secs().unwrap_or(0) as f64;
        let me = SelfProcess {
            ticks: procfs::ticks_per_second() as f64,
            page_size: procfs::page_size() as f64,
            boot_time,
            kept: KeptFiles::default(),
        };
        let _ = me.families();
        me
    }

    /// Builds the families; errors mean `/proc/self` is unreadable.
    /// The files are read through `kept`, which keeps them open between scrapes.
    pub fn families(&self) -> procfs::ProcResult<Vec<Family>> {
        use procfs::FromRead;
        let stat = procfs::process::Stat::from_read(
            self.kept.read(Path::new("/proc/self/stat"))?.as_bytes(),
        )?;
        let fds = open_fds().unwrap_or(0) as f64;
        let max_fds = self
            .kept
            .read(Path::new("/proc/self/limits"))
            .ok()
            .and_then(|t| procfs::process::Limits::from_read(t.as_bytes()).ok())
            .and_then(|l| match l.max_open_files.soft_limit {
                procfs::process::LimitValue::Value(v) => Some(v as f64),
                procfs::process::LimitValue::Unlimited => None,
            });
        let cpu = (stat.utime + stat.stime) as f64 / self.ticks;
        let mut out = vec![
            Family::counter(
                "process_cpu_seconds_total",
                "Total user and system CPU time spent in seconds.",
            )
            .with(&[], cpu),
            Family::gauge(
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
            )
            .with(&[], stat.rss as f64 * self.page_size),
            Family::gauge(
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
            )
            .with(&[], stat.vsize as f64),
            Family::gauge(
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
            )
            .with(&[], self.boot_time + stat.starttime as f64 / self.ticks),
            Family::gauge("process_open_fds", "Number of open file descriptors.").with(&[], fds),
            Family::gauge("process_threads", "Number of OS threads in the process.")
                .with(&[], stat.num_threads as f64),
        ];
        if let Some(max) = max_fds {
            out.push(
                Family::gauge(
                    "process_max_fds",
                    "Maximum number of open file descriptors.",
                )
                .with(&[], max),
            );
        }
        Ok(out)
    }
}

/// jolt's open descriptors: the size of `/proc/self/fd` (Linux 6.2+ reports the count there),
/// else its entries, as procfs's `fd_count` counts them.
fn open_fds() -> std::io::Result<usize> {
    let dir = Path::new("/proc/self/fd");
    let size = std::fs::metadata(dir)?.len();
    if size > 0 {
        return Ok(size as usize);
    }
    Ok(std::fs::read_dir(dir)?.count())
}

impl Default for SelfProcess {
    fn default() -> Self {
        Self::new()
    }
}

impl Collector for SelfProcess {
    fn encode(&self, mut enc: DescriptorEncoder) -> std::fmt::Result {
        match self.families() {
            Ok(fams) => fams.iter().try_for_each(|f| f.encode(&mut enc)),
            Err(e) => {
                tracing::debug!(error = %e, "cannot read /proc/self");
                Ok(())
            }
        }
    }
}
