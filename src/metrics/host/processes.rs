//! What node_exporter refuses to do: the busiest processes. A background sampler scans every
//! process each `process_sample_interval` and publishes a snapshot; the scrape only reads it:
//! `jolt_top_process_cpu_usage_ratio{rank,pid,name}` and
//! `jolt_top_process_resident_memory_bytes{rank,pid,name}` (rank 1..N, so at most N series
//! each), `jolt_processes{state}`, `jolt_threads`, plus `jolt_process_open_fds` (the host's
//! open file handles, read cheaply from `sys/fs/file-nr` at scrape time).
//!
//! Why not `sysinfo`: its process list always reads the real `/proc`, so it cannot honour
//! `--procfs` (a container watching its host), and a full refresh reads several files per
//! process (stat, status, cmdline, environ, cwd...) where jolt needs one. This sampler reads
//! only `PID/stat` into one reused buffer and parses it with `procfs::process::Stat`.

use super::{Paths, Subsystem};
use crate::metrics::family::Family;
use procfs::FromRead;
use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

const TOP_CPU: &str = "jolt_top_process_cpu_usage_ratio";
const TOP_RSS: &str = "jolt_top_process_resident_memory_bytes";
const BY_STATE: &str = "jolt_processes";
const THREADS: &str = "jolt_threads";
const OPEN_FDS: &str = "jolt_process_open_fds";
const SAMPLE_DURATION: &str = "jolt_process_sample_duration_seconds";

/// One process in a ranking.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// Process id.
    pub pid: i32,
    /// `comm` (the kernel's 15-character name).
    pub name: String,
    /// Cores used (0..N) or resident bytes.
    pub value: f64,
}

/// What one scan found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Top N by CPU over the last interval; empty until two scans were made.
    pub top_cpu: Vec<Ranked>,
    /// Top N by resident memory.
    pub top_rss: Vec<Ranked>,
    /// Processes per state name.
    pub states: Vec<(&'static str, u64)>,
    /// Threads of all processes.
    pub threads: u64,
    /// How long the scan took, in seconds.
    pub duration: f64,
}

/// Per-process CPU ticks at the previous scan, keyed by pid; `starttime` tells a reused pid.
#[derive(Default)]
struct Previous {
    /// pid → (starttime, utime + stime).
    ticks: HashMap<i32, (u64, u64)>,
    /// When the previous scan ran, and the uptime in ticks then.
    at: Option<(Instant, u64)>,
}

/// Scans processes and holds the latest snapshot.
pub struct ProcessSampler {
    paths: Paths,
    /// N.
    top: usize,
    /// USER_HZ.
    hz: f64,
    /// Bytes per page, for `rss`.
    page_size: f64,
    /// State kept between scans (only the sampler touches it).
    prev: Mutex<Previous>,
    /// What the scrape reads.
    latest: RwLock<Arc<Snapshot>>,
}

/// The kernel's one-letter state as a label value.
fn state_name(c: char) -> &'static str {
    match c {
        'R' => "running",
        'S' => "sleeping",
        'D' => "disk_sleep",
        'Z' => "zombie",
        'T' => "stopped",
        't' => "tracing_stop",
        'X' | 'x' => "dead",
        'I' => "idle",
        'P' => "parked",
        'W' => "paging",
        _ => "other",
    }
}

/// Keeps the `n` largest by value (ties: lower pid first), largest first.
fn top_n(mut all: Vec<Ranked>, n: usize) -> Vec<Ranked> {
    all.sort_unstable_by(|a, b| b.value.total_cmp(&a.value).then(a.pid.cmp(&b.pid)));
    all.truncate(n);
    all
}

impl ProcessSampler {
    /// A sampler reading under `paths`, ranking `top` processes.
    pub fn new(paths: Paths, top: usize) -> Self {
        ProcessSampler {
            paths,
            top,
            hz: procfs::ticks_per_second() as f64,
            page_size: procfs::page_size() as f64,
            prev: Mutex::default(),
            latest: RwLock::default(),
        }
    }

    /// The latest snapshot.
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.latest
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Scans every process once and publishes the result.
    pub fn sample(&self) -> anyhow::Result<()> {
        let start = Instant::now();
        let uptime = self.paths.read_proc("uptime")?;
        let uptime_ticks = uptime
            .split_whitespace()
            .next()
            .and_then(|s| s.parse::<f64>().ok())
            .map_or(0, |s| (s * self.hz) as u64);
        let dir = std::fs::read_dir(&self.paths.proc)
            .map_err(|e| anyhow::anyhow!("reading {}: {e}", self.paths.proc.display()))?;
        let mut prev = self.prev.lock().unwrap_or_else(|p| p.into_inner());
        let elapsed = prev.at.map(|(at, up)| (at.elapsed().as_secs_f64(), up));
        let mut ticks = HashMap::with_capacity(prev.ticks.len() + 16);
        let mut cpu = Vec::new();
        let mut rss = Vec::new();
        let mut states: Vec<(&'static str, u64)> = Vec::new();
        let mut threads = 0u64;
        let mut buf = Vec::with_capacity(1024);
        let mut path = self.paths.proc.clone();
        for entry in dir.flatten() {
            let name = entry.file_name();
            let Some(pid) = name.to_str().and_then(|s| s.parse::<i32>().ok()) else {
                continue;
            };
            path.push(&name);
            path.push("stat");
            buf.clear();
            // A process may exit between listing and reading: skip it.
            let read = std::fs::File::open(&path).and_then(|mut f| f.read_to_end(&mut buf));
            path.pop();
            path.pop();
            if read.is_err() {
                continue;
            }
            let Ok(st) = procfs::process::Stat::from_read(&buf[..]) else {
                continue;
            };
            let state = state_name(st.state);
            match states.iter_mut().find(|(s, _)| *s == state) {
                Some((_, n)) => *n += 1,
                None => states.push((state, 1)),
            }
            threads += st.num_threads.max(0) as u64;
            let used = st.utime + st.stime;
            ticks.insert(pid, (st.starttime, used));
            if let Some((secs, up_then)) = elapsed
                && secs > 0.0
            {
                let before = match prev.ticks.get(&pid) {
                    Some((start, t)) if *start == st.starttime => Some(*t),
                    // Started since the last scan: all its CPU time is in this interval.
                    _ if st.starttime >= up_then => Some(0),
                    _ => None,
                };
                if let Some(before) = before {
                    let ratio = used.saturating_sub(before) as f64 / self.hz / secs;
                    cpu.push(Ranked {
                        pid,
                        name: st.comm.clone(),
                        value: ratio,
                    });
                }
            }
            rss.push(Ranked {
                pid,
                name: st.comm,
                value: st.rss as f64 * self.page_size,
            });
        }
        prev.ticks = ticks;
        prev.at = Some((Instant::now(), uptime_ticks));
        drop(prev);
        states.sort_unstable();
        let snap = Snapshot {
            top_cpu: top_n(cpu, self.top),
            top_rss: top_n(rss, self.top),
            states,
            threads,
            duration: start.elapsed().as_secs_f64(),
        };
        *self.latest.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(snap);
        Ok(())
    }
}

/// The `processes` collector: reads the sampler's snapshot, never scans.
pub struct Processes {
    paths: Paths,
    sampler: Arc<ProcessSampler>,
}

impl Processes {
    /// Serves `sampler`'s snapshots; `paths` is for `sys/fs/file-nr`.
    pub fn new(paths: Paths, sampler: Arc<ProcessSampler>) -> Self {
        Processes { paths, sampler }
    }
}

/// Pushes one ranking with `rank` 1..N.
fn ranking(fam: &mut Family, list: &[Ranked]) {
    for (i, r) in list.iter().enumerate() {
        let rank = (i + 1).to_string();
        let pid = r.pid.to_string();
        fam.push(
            &[("rank", &rank), ("pid", &pid), ("name", &r.name)],
            r.value,
        );
    }
}

impl Subsystem for Processes {
    fn name(&self) -> &'static str {
        "processes"
    }

    fn collect(&self, out: &mut Vec<Family>) -> anyhow::Result<()> {
        let (allocated, _) = super::filefd::parse(&self.paths.read_proc("sys/fs/file-nr")?)?;
        let snap = self.sampler.snapshot();
        let mut cpu = Family::gauge(
            TOP_CPU,
            "CPU used by the busiest processes over the last sample interval, in cores.",
        );
        ranking(&mut cpu, &snap.top_cpu);
        let mut rss = Family::gauge(
            TOP_RSS,
            "Resident memory of the processes that hold the most, in bytes.",
        );
        ranking(&mut rss, &snap.top_rss);
        let mut states = Family::gauge(BY_STATE, "Processes on the host by state.");
        for (state, n) in &snap.states {
            states.push(&[("state", state)], *n as f64);
        }
        out.push(cpu);
        out.push(rss);
        out.push(states);
        if !snap.states.is_empty() {
            out.push(
                Family::gauge(THREADS, "Threads of all processes on the host.")
                    .with(&[], snap.threads as f64),
            );
            out.push(
                Family::gauge(SAMPLE_DURATION, "How long the last process scan took.")
                    .with(&[], snap.duration),
            );
        }
        out.push(
            Family::gauge(OPEN_FDS, "Open file handles on the whole host (file-nr).")
                .with(&[], allocated),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::host::testutil::{collect, fixture_paths, value};
    use std::time::Duration;

    #[test]
    fn ranks_the_fixture_processes() {
        let s = Arc::new(ProcessSampler::new(fixture_paths("procs"), 2));
        s.sample().unwrap();
        let snap = s.snapshot();
        assert!(snap.top_cpu.is_empty(), "CPU needs two scans");
        assert_eq!(
            snap.top_rss.iter().map(|r| r.pid).collect::<Vec<_>>(),
            [300, 100],
            "by resident memory, largest first, at most N"
        );
        assert_eq!(snap.top_rss[0].name, "my (odd) name");
        assert_eq!(
            snap.states,
            [("running", 1), ("sleeping", 1), ("zombie", 1)]
        );
        assert_eq!(snap.threads, 6);
        let fams = collect(&Processes::new(fixture_paths("procs"), s.clone()));
        assert_eq!(
            value(&fams, TOP_RSS, &[("rank", "1"), ("pid", "300")]),
            2000.0 * procfs::page_size() as f64
        );
        assert_eq!(value(&fams, BY_STATE, &[("state", "zombie")]), 1.0);
        assert_eq!(value(&fams, OPEN_FDS, &[]), 1234.0);
        // Second scan: unchanged tick counts give zero CPU for everyone, still ranked.
        std::thread::sleep(Duration::from_millis(20));
        s.sample().unwrap();
        let snap = s.snapshot();
        assert_eq!(snap.top_cpu.len(), 2);
        assert!(snap.top_cpu.iter().all(|r| r.value == 0.0));
    }

    #[test]
    fn measures_a_busy_process_on_this_host() {
        // Every process is ranked (N far above the process count), so this one is listed however
        // busy the rest of the machine is; it spins for 100 ms of its *own* CPU time (several
        // clock ticks), so its measured usage is above zero, whatever the wall time it took.
        let s = ProcessSampler::new(crate::metrics::host::HostConfig::default().paths(), 100_000);
        s.sample().unwrap();
        let me = std::process::id() as i32;
        let cpu = || {
            procfs::process::Process::myself()
                .unwrap()
                .stat()
                .unwrap()
                .utime
        };
        let start = cpu();
        let ticks = procfs::ticks_per_second() / 10;
        while cpu() < start + ticks {
            for _ in 0..100_000 {
                std::hint::black_box(0u64.wrapping_add(1));
            }
        }
        s.sample().unwrap();
        let snap = s.snapshot();
        assert!(snap.top_cpu.len() > 1);
        assert!(snap.top_cpu.windows(2).all(|w| w[0].value >= w[1].value));
        let mine = snap
            .top_cpu
            .iter()
            .find(|r| r.pid == me)
            .expect("every process is ranked");
        assert!(mine.value > 0.0, "{mine:?}");
    }

    #[test]
    fn top_n_orders_and_bounds() {
        let r = |pid, value| Ranked {
            pid,
            name: "x".into(),
            value,
        };
        let t = top_n(vec![r(3, 1.0), r(1, 5.0), r(2, 1.0), r(4, 0.5)], 3);
        assert_eq!(t.iter().map(|r| r.pid).collect::<Vec<_>>(), [1, 2, 3]);
        assert!(top_n(vec![r(1, 1.0)], 0).is_empty());
    }
}
