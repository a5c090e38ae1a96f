//! `node_cpu_seconds_total{cpu,mode}` and `node_cpu_guest_seconds_total{cpu,mode}` from
//! `/proc/stat`, plus [`read_cpu_totals`], the host-wide busy/total time that the cpu load
//! action's closed loop reuses.

use super::monotonic::Monotonic;
use super::stat::{self, CPU_FIELDS};
use super::{Paths, Subsystem};
use crate::metrics::family::Family;

const SECONDS: &str = "node_cpu_seconds_total";
const GUEST_SECONDS: &str = "node_cpu_guest_seconds_total";

/// node_exporter's modes, in `/proc/stat` column order.
const MODES: [&str; 8] = [
    "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal",
];
/// Columns 8 and 9 (`guest`, `guest_nice`) are exposed as these guest modes.
const GUEST_MODES: [&str; 2] = ["user", "nice"];

/// Host-wide CPU time since boot, in seconds summed over all online CPUs.
///
/// Busy fraction over an interval: `(b.busy - a.busy) / (b.total - a.total)`; see
/// [`CpuTotals::busy_ratio_since`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CpuTotals {
    /// Everything but `idle` and `iowait`.
    pub busy: f64,
    /// All eight modes (guest time is already counted in `user` and `nice`).
    pub total: f64,
    /// Online CPUs (lines `cpuN`).
    pub cpus: usize,
}

impl CpuTotals {
    /// The host's busy fraction (0..=1) between `earlier` and `self`; `None` when no time passed.
    pub fn busy_ratio_since(&self, earlier: &CpuTotals) -> Option<f64> {
        let total = self.total - earlier.total;
        (total > 0.0).then(|| ((self.busy - earlier.busy) / total).clamp(0.0, 1.0))
    }
}

/// Reads host-wide CPU time from `stat` under `paths`' procfs.
pub fn read_cpu_totals(paths: &Paths) -> anyhow::Result<CpuTotals> {
    let st = stat::read(paths)?;
    totals(&st, procfs::ticks_per_second() as f64)
}

fn totals(st: &stat::ProcStat, hz: f64) -> anyhow::Result<CpuTotals> {
    let all = st
        .cpus
        .iter()
        .find(|c| c.cpu.is_none())
        .ok_or_else(|| anyhow::anyhow!("no aggregate cpu line"))?;
    let total: u64 = all.ticks[..MODES.len()].iter().sum();
    let idle = all.ticks[3] + all.ticks[4];
    Ok(CpuTotals {
        busy: (total - idle.min(total)) as f64 / hz,
        total: total as f64 / hz,
        cpus: st.cpus.iter().filter(|c| c.cpu.is_some()).count(),
    })
}

/// The `cpu` collector.
pub struct Cpu {
    paths: Paths,
    /// USER_HZ: `/proc/stat` counts in these ticks.
    hz: f64,
    /// Per-CPU clamp: idle and iowait can step backwards on some kernels.
    mono: Monotonic,
}

impl Cpu {
    /// A collector reading under `paths`.
    pub fn new(paths: Paths) -> Self {
        Cpu {
            paths,
            hz: procfs::ticks_per_second() as f64,
            mono: Monotonic::default(),
        }
    }

    fn families(&self, st: &stat::ProcStat) -> [Family; 2] {
        let mut secs = Family::counter(SECONDS, "Seconds the CPUs spent in each mode.");
        let mut guest = Family::counter(
            GUEST_SECONDS,
            "Seconds the CPUs spent in guests (VMs) for each mode.",
        );
        let mut pass = self.mono.pass();
        let mut id = itoa_buf();
        for line in &st.cpus {
            let Some(n) = line.cpu else { continue };
            let cpu = id.fmt(n);
            let mut v = [0f64; CPU_FIELDS];
            for (v, t) in v.iter_mut().zip(line.ticks) {
                *v = t as f64 / self.hz;
            }
            pass.clamp(cpu, &mut v);
            for (mode, v) in MODES.iter().zip(&v) {
                secs.push(&[("cpu", cpu), ("mode", mode)], *v);
            }
            for (mode, v) in GUEST_MODES.iter().zip(&v[MODES.len()..]) {
                guest.push(&[("cpu", cpu), ("mode", mode)], *v);
            }
        }
        [secs, guest]
    }
}

/// A small reusable buffer for formatting CPU numbers without allocating per line.
fn itoa_buf() -> NumBuf {
    NumBuf(String::with_capacity(8))
}

struct NumBuf(String);

impl NumBuf {
    fn fmt(&mut self, n: u32) -> &str {
        use std::fmt::Write;
        self.0.clear();
        let _ = write!(self.0, "{n}");
        &self.0
    }
}

impl Subsystem for Cpu {
    fn name(&self) -> &'static str {
        "cpu"
    }

    fn collect(&self, out: &mut Vec<Family>) -> anyhow::Result<()> {
        let st = stat::read(&self.paths)?;
        out.extend(self.families(&st));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::family::Kind;
    use crate::metrics::host::testutil::{collect, fixture_paths, kind, try_value, value};

    fn cpu(hz: f64) -> Cpu {
        Cpu {
            paths: fixture_paths("host"),
            hz,
            mono: Monotonic::default(),
        }
    }

    #[test]
    fn converts_the_real_snapshot_with_user_hz() {
        let fams = collect(&cpu(100.0));
        assert_eq!(kind(&fams, SECONDS), Kind::Counter);
        assert_eq!(
            value(&fams, SECONDS, &[("cpu", "0"), ("mode", "user")]),
            63.84
        );
        assert_eq!(
            value(&fams, SECONDS, &[("cpu", "1"), ("mode", "idle")]),
            275.47
        );
        assert_eq!(
            value(&fams, SECONDS, &[("cpu", "1"), ("mode", "steal")]),
            0.09
        );
        assert_eq!(
            value(&fams, GUEST_SECONDS, &[("cpu", "0"), ("mode", "nice")]),
            0.0
        );
        // 2 CPUs × 8 modes, 2 CPUs × 2 guest modes.
        assert_eq!(fams[0].samples.len(), 16);
        assert_eq!(fams[1].samples.len(), 4);
    }

    #[test]
    fn an_offline_cpu_vanishes_and_idle_never_goes_back() {
        let c = cpu(100.0);
        let first = stat::parse("cpu 0 0 0 0\ncpu0 10 0 0 500 20\ncpu1 10 0 0 400 5\n").unwrap();
        c.families(&first);
        // cpu1 went offline; cpu0's idle and iowait stepped backwards a little.
        let second = stat::parse("cpu 0 0 0 0\ncpu0 11 0 0 499 19\n").unwrap();
        let fams = c.families(&second);
        assert_eq!(
            value(&fams, SECONDS, &[("cpu", "0"), ("mode", "idle")]),
            5.0
        );
        assert_eq!(
            value(&fams, SECONDS, &[("cpu", "0"), ("mode", "iowait")]),
            0.2
        );
        assert_eq!(
            value(&fams, SECONDS, &[("cpu", "0"), ("mode", "user")]),
            0.11
        );
        assert_eq!(try_value(&fams, SECONDS, &[("cpu", "1")]), None);
    }

    #[test]
    fn totals_and_busy_ratio() {
        let a = totals(
            &stat::parse("cpu 100 0 100 700 100 0 0 0 50 0\ncpu0 1\ncpu1 1\n").unwrap(),
            100.0,
        )
        .unwrap();
        assert_eq!(a.total, 10.0);
        assert_eq!(a.busy, 2.0);
        assert_eq!(a.cpus, 2);
        let b = totals(
            &stat::parse("cpu 250 0 150 750 150 0 0 0 50 0\ncpu0 1\ncpu1 1\n").unwrap(),
            100.0,
        )
        .unwrap();
        assert_eq!(b.busy_ratio_since(&a), Some(2.0 / 3.0));
        assert_eq!(a.busy_ratio_since(&a), None);
    }

    #[test]
    fn reads_this_host() {
        let t = read_cpu_totals(&crate::metrics::host::HostConfig::default().paths()).unwrap();
        assert!(t.total > 0.0 && t.busy <= t.total && t.cpus >= 1);
    }
}
