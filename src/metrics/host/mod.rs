//! Host collectors with node_exporter's names, labels and units, plus jolt's process view.
//!
//! Each subsystem reads its files into plain [`Family`] values; [`HostCollector`] runs them in
//! turn at scrape time, times each, and encodes `jolt_scrape_collector_*` last. A subsystem that
//! fails reports success 0 and contributes nothing; the others are still served.

pub mod cgroup;
pub mod collectors;
mod config;
pub mod cpu;
mod diskstats;
mod filefd;
mod files;
pub mod filesystem;
mod loadavg;
mod meminfo;
mod monotonic;
mod netdev;
mod pressure;
mod processes;
mod stat;
#[cfg(test)]
mod testutil;
mod time;
mod uname;
mod vmstat;

pub use config::{
    DEFAULT_DISK_EXCLUDE, DEFAULT_FS_TYPES_EXCLUDE, DEFAULT_MOUNT_POINTS_EXCLUDE, HostArgs,
    HostConfig,
};
pub use files::{KeptFiles, read_small};

use super::family::Family;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Where the host's pseudo filesystems are mounted (`/proc`, `/sys`, `/` outside a container).
#[derive(Debug, Clone)]
pub struct Paths {
    /// procfs mount point.
    pub proc: PathBuf,
    /// sysfs mount point.
    pub sys: PathBuf,
    /// The host's root filesystem, prefixed to mount points when reading filesystems.
    pub root: PathBuf,
    /// The collectors' open pseudo files (see [`files`]); `None` reads without keeping.
    kept: Option<Arc<KeptFiles>>,
}

impl Paths {
    /// A file under procfs.
    pub fn proc(&self, rel: &str) -> PathBuf {
        self.proc.join(rel)
    }
    /// A file under sysfs.
    pub fn sys(&self, rel: &str) -> PathBuf {
        self.sys.join(rel)
    }

    /// Locations under `proc`, `sys` and `root`, reading without keeping files open.
    pub fn new(proc: PathBuf, sys: PathBuf, root: PathBuf) -> Self {
        Paths {
            proc,
            sys,
            root,
            kept: None,
        }
    }

    /// The same locations, keeping the pseudo files read through them open (the collectors').
    pub fn keeping_files(mut self) -> Self {
        self.kept = Some(Arc::default());
        self
    }

    /// Reads a file under procfs; the error names the path.
    pub fn read_proc(&self, rel: &str) -> anyhow::Result<String> {
        self.read(&self.proc(rel))
    }

    /// Reads a whole (small, pseudo-filesystem) file; the error names the path.
    pub fn read(&self, path: &std::path::Path) -> anyhow::Result<String> {
        use anyhow::Context;
        self.read_small(path)
            .with_context(|| format!("reading {}", path.display()))
    }

    /// [`read`](Self::read) with the plain I/O error, for callers that tell `NotFound` apart.
    pub fn read_small(&self, path: &std::path::Path) -> std::io::Result<String> {
        match &self.kept {
            Some(kept) => kept.read(path),
            None => read_small(path),
        }
    }
}

/// One host subsystem, e.g. `meminfo`.
pub trait Subsystem: Send + Sync {
    /// The `collector` label value and the name used to enable or disable it.
    fn name(&self) -> &'static str;
    /// Reads the host and appends this subsystem's families to `out`.
    fn collect(&self, out: &mut Vec<Family>) -> anyhow::Result<()>;
    /// Starts, before any subsystem collects, work that can overlap the others' (the
    /// filesystem collector's `statfs` calls on their helper thread).
    fn prepare(&self) {}
}

/// A subsystem with its last outcome, so a failure is logged once, not on every scrape.
struct Entry {
    subsystem: Box<dyn Subsystem>,
    failing: AtomicBool,
}

/// Runs the enabled subsystems at scrape time.
pub struct HostCollector {
    entries: Vec<Entry>,
    /// The process sampler and its interval, when the `processes` collector is enabled.
    sampler: Option<(Arc<processes::ProcessSampler>, Duration)>,
    /// One scrape at a time: work a subsystem prepares belongs to the scrape that collects it.
    scrape: Mutex<()>,
}

impl std::fmt::Debug for HostCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<_> = self.entries.iter().map(|e| e.subsystem.name()).collect();
        f.debug_struct("HostCollector")
            .field("subsystems", &names)
            .finish()
    }
}

impl HostCollector {
    /// Builds the enabled subsystems from the configuration; fails on a bad exclusion regex.
    /// The process sampler only runs once [`spawn_samplers`](Self::spawn_samplers) is called.
    pub fn new(cfg: &HostConfig) -> anyhow::Result<Self> {
        let paths = cfg.paths();
        let filters = cfg.filters()?;
        let sampler = Arc::new(processes::ProcessSampler::new(
            paths.clone(),
            cfg.top_processes,
        ));
        // The sampler reads without keeping: its files open and close per sample.
        let paths = paths.keeping_files();
        let build = collectors::Build {
            paths: &paths,
            filters: &filters,
            cfg,
            sampler: &sampler,
        };
        let mut c = Self::from_subsystems(
            collectors::TABLE
                .iter()
                .filter(|s| cfg.is_enabled(s.name))
                .map(|s| (s.factory)(&build))
                .collect(),
        );
        if cfg.is_enabled("processes") {
            c.sampler = Some((sampler, cfg.process_sample_interval.0));
        }
        // One collection at start opens the files the collectors keep (and the statfs
        // helper): from then on a scrape opens nothing and jolt's descriptors stay put.
        c.collect();
        Ok(c)
    }

    /// Starts the background process sampler (when the `processes` collector is enabled) on
    /// `tasks`; it stops when `token` is cancelled.
    pub fn spawn_samplers(&self, tasks: &TaskTracker, token: &CancellationToken) {
        let Some((sampler, interval)) = self.sampler.clone() else {
            return;
        };
        let token = token.clone();
        tasks.spawn(async move {
            let mut tick = tokio::time::interval(interval);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            loop {
                tokio::select! {
                    _ = token.cancelled() => break,
                    _ = tick.tick() => {}
                }
                let s = sampler.clone();
                let result = tokio::task::spawn_blocking(move || s.sample()).await;
                match result.map_err(anyhow::Error::from).and_then(|r| r) {
                    Ok(()) => failing = false,
                    Err(e) if !failing => {
                        failing = true;
                        tracing::warn!(error = format!("{e:#}"), "process sampler failed");
                    }
                    Err(_) => {}
                }
            }
        });
    }

    /// Wraps an explicit list (tests use this to inject failing subsystems).
    pub fn from_subsystems(subsystems: Vec<Box<dyn Subsystem>>) -> Self {
        let entries = subsystems
            .into_iter()
            .map(|subsystem| Entry {
                subsystem,
                failing: AtomicBool::new(false),
            })
            .collect();
        HostCollector {
            entries,
            sampler: None,
            scrape: Mutex::new(()),
        }
    }

    /// Collects every subsystem, returning the host families followed by the scrape families.
    pub fn collect(&self) -> Vec<Family> {
        let _one_at_a_time = self.scrape.lock().unwrap_or_else(|p| p.into_inner());
        for entry in &self.entries {
            entry.subsystem.prepare();
        }
        let mut out = Vec::with_capacity(64);
        let mut duration = Family::gauge(
            "jolt_scrape_collector_duration_seconds",
            "Time a host collector took during this scrape.",
        );
        let mut success = Family::gauge(
            "jolt_scrape_collector_success",
            "Whether a host collector succeeded (1) or failed (0).",
        );
        for entry in &self.entries {
            let name = entry.subsystem.name();
            let start = Instant::now();
            let before = out.len();
            let ok = match entry.subsystem.collect(&mut out) {
                Ok(()) => {
                    if entry.failing.swap(false, Ordering::Relaxed) {
                        tracing::info!(collector = name, "collector recovered");
                    }
                    true
                }
                Err(e) => {
                    out.truncate(before);
                    if !entry.failing.swap(true, Ordering::Relaxed) {
                        tracing::warn!(
                            collector = name,
                            error = format!("{e:#}"),
                            "collector failed"
                        );
                    }
                    false
                }
            };
            duration.push(&[("collector", name)], start.elapsed().as_secs_f64());
            success.push(&[("collector", name)], if ok { 1.0 } else { 0.0 });
        }
        out.push(duration);
        out.push(success);
        out
    }
}

impl Collector for HostCollector {
    fn encode(&self, mut enc: DescriptorEncoder) -> std::fmt::Result {
        self.collect().iter().try_for_each(|f| f.encode(&mut enc))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Broken;
    impl Subsystem for Broken {
        fn name(&self) -> &'static str {
            "broken"
        }
        fn collect(&self, out: &mut Vec<Family>) -> anyhow::Result<()> {
            out.push(Family::gauge("half_written", "h").with(&[], 1.0));
            anyhow::bail!("cannot read")
        }
    }

    #[test]
    fn a_failing_subsystem_reports_zero_and_leaves_no_partial_family() {
        let c = HostCollector::from_subsystems(vec![Box::new(Broken), Box::new(time::Time)]);
        let fams = c.collect();
        assert!(fams.iter().all(|f| f.name != "half_written"));
        assert!(fams.iter().any(|f| f.name == "node_time_seconds"));
        let success = fams
            .iter()
            .find(|f| f.name == "jolt_scrape_collector_success")
            .unwrap();
        let value = |n: &str| {
            success
                .samples
                .iter()
                .find(|s| s.labels[0].1 == n)
                .unwrap()
                .value
        };
        assert_eq!(value("broken"), 0.0);
        assert_eq!(value("time"), 1.0);
    }
}
