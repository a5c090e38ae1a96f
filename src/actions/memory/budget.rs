//! How much memory a new memory action may take: what is available now (the host's
//! `MemAvailable`, or less when jolt's cgroup has a memory limit), minus the reserve that must
//! stay available, minus what running memory actions are still growing into.

use crate::actions::ActionError;
use crate::actions::{ActionMetrics, ActionsConfig, Env};
use crate::metrics::host::{Paths, cgroup};
use anyhow::Context;
use bytesize::ByteSize;
use procfs::FromRead;

/// The reserve when none is configured: the larger of 10 % of total memory and this.
const MIN_RESERVE: u64 = 256 << 20;

/// The figures a memory request is judged against.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    /// Total memory (`MemTotal`), what `"25%"` is relative to.
    pub total: u64,
    /// Available now: `MemAvailable`, capped by jolt's cgroup limit minus its usage.
    pub available: u64,
    /// What must stay available.
    pub reserve: u64,
    /// Bytes running memory actions have asked for but do not hold yet.
    pub pending: u64,
}

impl Budget {
    /// Reads the host and the running actions' figures.
    pub fn read(env: &Env) -> anyhow::Result<Budget> {
        let info =
            procfs::Meminfo::from_file(env.host.proc("meminfo")).context("reading meminfo")?;
        let total = info.mem_total;
        let mut available = info.mem_available.unwrap_or(info.mem_free + info.cached);
        if let Some(room) = cgroup_room(&env.host) {
            available = available.min(room);
        }
        Ok(Budget {
            total,
            available,
            reserve: reserve(&env.config, total),
            pending: pending(&env.metrics),
        })
    }

    /// The most a new action may take.
    pub fn allowed(&self) -> u64 {
        self.available
            .saturating_sub(self.reserve)
            .saturating_sub(self.pending)
    }

    /// 422 with the figures when `size` would push available memory below the reserve.
    pub fn check(&self, size: u64) -> Result<(), ActionError> {
        if size <= self.allowed() {
            return Ok(());
        }
        let b = |n: u64| ByteSize(n).display().iec().to_string();
        let pending = if self.pending > 0 {
            format!(
                " − {} still to be taken by running memory actions",
                b(self.pending)
            )
        } else {
            String::new()
        };
        Err(ActionError::invalid(
            "size",
            format!(
                "requested {} ({size} bytes) would push available memory below the reserve: \
                 available {} − reserve {} (actions.memory_reserve){pending} leaves {} to take; \
                 ask for less or lower --memory-reserve",
                b(size),
                b(self.available),
                b(self.reserve),
                b(self.allowed()),
            ),
        ))
    }
}

/// Bytes memory actions have reserved but do not hold yet: target − held.
pub fn pending(m: &ActionMetrics) -> u64 {
    (m.kinds.memory.target.get() - m.kinds.memory.held.get()).max(0) as u64
}

/// The configured reserve resolved against `total`, or max(10 % of total, 256 MiB).
pub fn reserve(config: &ActionsConfig, total: u64) -> u64 {
    match config.memory_reserve {
        Some(spec) => spec.resolve(total),
        None => (total / 10).max(MIN_RESERVE),
    }
}

/// Room left under jolt's cgroup memory limit, when it has one.
fn cgroup_room(paths: &Paths) -> Option<u64> {
    let limit = cgroup::memory_limit(paths).ok()??;
    let dir = cgroup::own_cgroup_dir(paths).ok()??;
    let used: u64 = std::fs::read_to_string(dir.join("memory.current"))
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(limit.saturating_sub(used))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::SizeSpec;

    fn budget(available: u64, pending: u64) -> Budget {
        Budget {
            total: 8 << 30,
            available,
            reserve: 1 << 30,
            pending,
        }
    }

    #[test]
    fn default_reserve_is_the_larger_of_ten_percent_and_256_mib() {
        let cfg = ActionsConfig::default();
        assert_eq!(reserve(&cfg, 1 << 30), 256 << 20);
        assert_eq!(reserve(&cfg, 10 << 30), 1 << 30);
        let cfg = ActionsConfig {
            memory_reserve: Some(SizeSpec::Percent(50.0)),
            ..Default::default()
        };
        assert_eq!(reserve(&cfg, 4 << 30), 2 << 30);
    }

    #[test]
    fn refuses_what_would_cross_the_reserve_with_the_figures() {
        let b = budget(3 << 30, 0);
        assert!(b.check(2 << 30).is_ok());
        let msg = b.check((2 << 30) + 1).unwrap_err().to_string();
        assert!(msg.contains("available 3.0 GiB"), "{msg}");
        assert!(msg.contains("reserve 1.0 GiB"), "{msg}");
        assert!(msg.contains("2147483649 bytes"), "{msg}");
        let b = budget(3 << 30, 1 << 30);
        assert_eq!(b.allowed(), 1 << 30);
        assert!(b.check(1 << 30).is_ok());
        assert!(b.check(u64::MAX).is_err());
    }
}
