//! `/proc/stat`: boot time, context switches, interrupts, forks, running and blocked tasks.
//!
//! The parser here is shared with the cpu collector. It is hand-written because
//! `procfs::KernelStats` keeps per-CPU times in a plain `Vec` without the CPU number (a CPU
//! that is offline leaves a gap, so the index would mislabel every later CPU) and drops the
//! `intr` total.

use super::monotonic::Monotonic;
use super::{Paths, Subsystem};
use crate::metrics::family::Family;
use anyhow::Context;

const BOOT_TIME: &str = "node_boot_time_seconds";
const CONTEXT_SWITCHES: &str = "node_context_switches_total";
const INTR: &str = "node_intr_total";
const FORKS: &str = "node_forks_total";
const PROCS_RUNNING: &str = "node_procs_running";
const PROCS_BLOCKED: &str = "node_procs_blocked";

/// The number of CPU time columns jolt reads: user, nice, system, idle, iowait, irq, softirq,
/// steal, guest, guest_nice (older kernels have fewer; missing ones are 0).
pub const CPU_FIELDS: usize = 10;

/// One `cpu` or `cpuN` line, in USER_HZ ticks.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuLine {
    /// `None` for the aggregate `cpu` line, else the CPU number.
    pub cpu: Option<u32>,
    /// The columns in kernel order.
    pub ticks: [u64; CPU_FIELDS],
}

/// What jolt uses from `/proc/stat`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcStat {
    /// The aggregate line first (when present), then one per online CPU.
    pub cpus: Vec<CpuLine>,
    /// `ctxt`.
    pub ctxt: u64,
    /// `btime`, seconds since the epoch.
    pub btime: u64,
    /// First number of `intr`: every interrupt serviced.
    pub intr: u64,
    /// `processes`: forks since boot.
    pub processes: u64,
    /// `procs_running`.
    pub procs_running: u64,
    /// `procs_blocked`.
    pub procs_blocked: u64,
}

/// Parses the text of `/proc/stat`.
pub fn parse(text: &str) -> anyhow::Result<ProcStat> {
    let mut st = ProcStat::default();
    for line in text.lines() {
        let mut words = line.split_ascii_whitespace();
        let Some(key) = words.next() else { continue };
        let mut first = || -> anyhow::Result<u64> {
            words
                .next()
                .with_context(|| format!("`{key}` has no value"))?
                .parse()
                .with_context(|| format!("`{key}` is not a number"))
        };
        if let Some(n) = key.strip_prefix("cpu") {
            let cpu = if n.is_empty() {
                None
            } else {
                Some(n.parse().with_context(|| format!("bad cpu line `{key}`"))?)
            };
            let mut ticks = [0u64; CPU_FIELDS];
            for (slot, w) in ticks.iter_mut().zip(words) {
                *slot = w
                    .parse()
                    .with_context(|| format!("bad number in `{key}`"))?;
            }
            st.cpus.push(CpuLine { cpu, ticks });
            continue;
        }
        match key {
            "ctxt" => st.ctxt = first()?,
            "btime" => st.btime = first()?,
            "intr" => st.intr = first()?,
            "processes" => st.processes = first()?,
            "procs_running" => st.procs_running = first()?,
            "procs_blocked" => st.procs_blocked = first()?,
            _ => {}
        }
    }
    if st.cpus.is_empty() {
        anyhow::bail!("no cpu lines");
    }
    Ok(st)
}

/// Reads and parses `stat` under procfs.
pub fn read(paths: &Paths) -> anyhow::Result<ProcStat> {
    let text = paths.read_proc("stat")?;
    parse(&text).with_context(|| format!("parsing {}", paths.proc("stat").display()))
}

/// The `stat` collector.
pub struct Stat {
    paths: Paths,
    /// Keeps the three counters non-decreasing.
    mono: Monotonic,
}

impl Stat {
    /// A collector reading under `paths`.
    pub fn new(paths: Paths) -> Self {
        Stat {
            paths,
            mono: Monotonic::default(),
        }
    }
}

impl Subsystem for Stat {
    fn name(&self) -> &'static str {
        "stat"
    }

    fn collect(&self, out: &mut Vec<Family>) -> anyhow::Result<()> {
        let st = read(&self.paths)?;
        let mut counters = [st.ctxt as f64, st.intr as f64, st.processes as f64];
        self.mono.pass().clamp("", &mut counters);
        let [ctxt, intr, forks] = counters;
        out.push(
            Family::gauge(BOOT_TIME, "Node boot time, in unixtime.").with(&[], st.btime as f64),
        );
        out.push(
            Family::counter(CONTEXT_SWITCHES, "Total number of context switches.").with(&[], ctxt),
        );
        out.push(Family::counter(INTR, "Total number of interrupts serviced.").with(&[], intr));
        out.push(Family::counter(FORKS, "Total number of forks.").with(&[], forks));
        out.push(
            Family::gauge(PROCS_RUNNING, "Number of processes in runnable state.")
                .with(&[], st.procs_running as f64),
        );
        out.push(
            Family::gauge(
                PROCS_BLOCKED,
                "Number of processes blocked waiting for I/O to complete.",
            )
            .with(&[], st.procs_blocked as f64),
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::host::testutil::{fixture_paths, value};

    #[test]
    fn parses_the_real_snapshot() {
        let fams = {
            let mut out = Vec::new();
            Stat::new(fixture_paths("host"))
                .collect(&mut out)
                .expect("collect");
            out
        };
        assert_eq!(value(&fams, BOOT_TIME, &[]), 1795299799.0);
        assert_eq!(value(&fams, CONTEXT_SWITCHES, &[]), 442502.0);
        assert_eq!(value(&fams, INTR, &[]), 244399.0);
        assert_eq!(value(&fams, FORKS, &[]), 8888.0);
        assert_eq!(value(&fams, PROCS_RUNNING, &[]), 1.0);
        assert_eq!(value(&fams, PROCS_BLOCKED, &[]), 0.0);
    }

    #[test]
    fn keeps_cpu_numbers_across_an_offline_gap() {
        let st = parse("cpu 1 2 3 4\ncpu0 1 1 1 1\ncpu2 0 1 2 3 4 5 6 7 8 9\nctxt 5\n").unwrap();
        let ids: Vec<_> = st.cpus.iter().map(|c| c.cpu).collect();
        assert_eq!(ids, [None, Some(0), Some(2)]);
        assert_eq!(st.cpus[0].ticks[4], 0, "missing columns are zero");
        assert_eq!(st.cpus[2].ticks[9], 9);
        assert!(parse("ctxt 5\n").is_err());
        assert!(parse("cpu x y\n").is_err());
    }
}
