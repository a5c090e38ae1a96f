//! Container awareness: jolt's own cgroup v2 CPU and memory limits
//! (`jolt_cgroup_cpu_limit_cores`, `jolt_cgroup_memory_limit_bytes`, both absent when
//! unlimited), and small helpers the cpu load action reuses for its closed loop.
//!
//! jolt's cgroup is the `0::PATH` line of `/proc/self/cgroup`, under the cgroup2 mount in
//! sysfs (`fs/cgroup`, or `fs/cgroup/unified` on hybrid hosts). A limit set on any ancestor
//! applies too, so the effective limit is the smallest one on the way up to the root.

use super::{Paths, Subsystem};
use crate::metrics::family::Family;
use anyhow::Context;
use std::path::{Path, PathBuf};

const CPU_LIMIT: &str = "jolt_cgroup_cpu_limit_cores";
const MEMORY_LIMIT: &str = "jolt_cgroup_memory_limit_bytes";

/// jolt's cgroup v2 directory and the cgroup2 mount it lives under; `None` without cgroup v2.
fn own_cgroup(paths: &Paths) -> anyhow::Result<Option<(PathBuf, PathBuf)>> {
    let text = paths.read_proc("self/cgroup")?;
    let Some(rel) = text.lines().find_map(|l| l.strip_prefix("0::")) else {
        return Ok(None);
    };
    let mount = ["fs/cgroup", "fs/cgroup/unified"]
        .iter()
        .map(|m| paths.sys(m))
        .find(|m| m.join("cgroup.controllers").exists());
    let Some(mount) = mount else { return Ok(None) };
    let dir = mount.join(rel.trim().trim_start_matches('/'));
    Ok(Some((mount, dir)))
}

/// jolt's own cgroup v2 directory, when there is one.
pub fn own_cgroup_dir(paths: &Paths) -> anyhow::Result<Option<PathBuf>> {
    Ok(own_cgroup(paths)?.map(|(_, dir)| dir))
}

/// The smallest limit `parse` finds in `file` from jolt's cgroup up to the mount.
fn effective<T: PartialOrd>(
    paths: &Paths,
    file: &str,
    parse: impl Fn(&str) -> anyhow::Result<Option<T>>,
) -> anyhow::Result<Option<T>> {
    let Some((mount, dir)) = own_cgroup(paths)? else {
        return Ok(None);
    };
    smallest(paths, &mount, &dir, file, parse)
}

/// [`effective`] for a cgroup already located, so one scrape reads `/proc/self/cgroup` once.
fn smallest<T: PartialOrd>(
    paths: &Paths,
    mount: &Path,
    dir: &Path,
    file: &str,
    parse: impl Fn(&str) -> anyhow::Result<Option<T>>,
) -> anyhow::Result<Option<T>> {
    let mut best: Option<T> = None;
    let mut at: &Path = dir;
    loop {
        let path = at.join(file);
        match paths.read_small(&path) {
            Ok(text) => {
                if let Some(v) =
                    parse(&text).with_context(|| format!("parsing {}", path.display()))?
                    && best.as_ref().is_none_or(|b| v < *b)
                {
                    best = Some(v);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        }
        if at == mount {
            break;
        }
        match at.parent() {
            Some(p) if p.starts_with(mount) => at = p,
            _ => break,
        }
    }
    Ok(best)
}

/// Parses `cpu.max` (`"max 100000"` or `"QUOTA PERIOD"`) into cores.
fn parse_cpu_max(text: &str) -> anyhow::Result<Option<f64>> {
    let mut w = text.split_whitespace();
    let quota = w.next().context("empty")?;
    if quota == "max" {
        return Ok(None);
    }
    let quota: f64 = quota.parse().context("bad quota")?;
    let period: f64 = w.next().unwrap_or("100000").parse().context("bad period")?;
    anyhow::ensure!(period > 0.0, "zero period");
    Ok(Some(quota / period))
}

/// Parses `memory.max` (`"max"` or bytes).
fn parse_memory_max(text: &str) -> anyhow::Result<Option<u64>> {
    match text.trim() {
        "max" => Ok(None),
        n => Ok(Some(n.parse().context("bad number")?)),
    }
}

/// CPU cores jolt's cgroup may use (`cpu.max` quota / period), `None` when unlimited or
/// without cgroup v2.
pub fn cpu_limit(paths: &Paths) -> anyhow::Result<Option<f64>> {
    effective(paths, "cpu.max", parse_cpu_max)
}

/// Memory jolt's cgroup may use (`memory.max`), `None` when unlimited or without cgroup v2.
pub fn memory_limit(paths: &Paths) -> anyhow::Result<Option<u64>> {
    effective(paths, "memory.max", parse_memory_max)
}

/// CPU time jolt's cgroup has used (`usage_usec` of `cpu.stat`), `None` without cgroup v2.
pub fn cpu_usage_usec(paths: &Paths) -> anyhow::Result<Option<u64>> {
    let Some((_, dir)) = own_cgroup(paths)? else {
        return Ok(None);
    };
    let path = dir.join("cpu.stat");
    let text = paths.read(&path)?;
    let usage = text
        .lines()
        .find_map(|l| l.strip_prefix("usage_usec "))
        .with_context(|| format!("no usage_usec in {}", path.display()))?;
    Ok(Some(usage.trim().parse().context("bad usage_usec")?))
}

/// The `cgroup` collector.
pub struct Cgroup {
    paths: Paths,
}

impl Cgroup {
    /// A collector reading under `paths`.
    pub fn new(paths: Paths) -> Self {
        Cgroup { paths }
    }
}

impl Subsystem for Cgroup {
    fn name(&self) -> &'static str {
        "cgroup"
    }

    fn collect(&self, out: &mut Vec<Family>) -> anyhow::Result<()> {
        let Some((mount, dir)) = own_cgroup(&self.paths)? else {
            return Ok(());
        };
        if let Some(cores) = smallest(&self.paths, &mount, &dir, "cpu.max", parse_cpu_max)? {
            out.push(
                Family::gauge(CPU_LIMIT, "CPU cores jolt's cgroup may use (cpu.max).")
                    .with(&[], cores),
            );
        }
        if let Some(bytes) = smallest(&self.paths, &mount, &dir, "memory.max", parse_memory_max)? {
            out.push(
                Family::gauge(MEMORY_LIMIT, "Memory jolt's cgroup may use (memory.max).")
                    .with(&[], bytes as f64),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::host::testutil::{collect, fixture_paths, value};

    #[test]
    fn limited_cgroup_takes_the_smallest_limit_on_the_way_up() {
        let paths = fixture_paths("cgroup-limited");
        let fams = collect(&Cgroup::new(paths.clone()));
        // The leaf allows 1.5 cores; its parent 2, so 1.5 wins.
        assert_eq!(value(&fams, CPU_LIMIT, &[]), 1.5);
        // The leaf has no memory limit; the parent's 512 MiB applies.
        assert_eq!(value(&fams, MEMORY_LIMIT, &[]), 536870912.0);
        assert_eq!(cpu_usage_usec(&paths).unwrap(), Some(123456789));
        assert!(
            own_cgroup_dir(&paths)
                .unwrap()
                .unwrap()
                .ends_with("system.slice/jolt.service")
        );
    }

    #[test]
    fn unlimited_or_v1_only_hosts_have_no_families() {
        assert!(collect(&Cgroup::new(fixture_paths("host"))).is_empty());
        assert_eq!(cpu_limit(&fixture_paths("host")).unwrap(), None);
    }

    #[test]
    fn parses_limit_files() {
        assert_eq!(parse_cpu_max("max 100000\n").unwrap(), None);
        assert_eq!(parse_cpu_max("50000 100000\n").unwrap(), Some(0.5));
        assert!(parse_cpu_max("x 1").is_err());
        assert_eq!(parse_memory_max("max\n").unwrap(), None);
        assert_eq!(parse_memory_max("1024\n").unwrap(), Some(1024));
    }
}
