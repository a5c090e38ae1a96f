//! The one table of host collectors, after node_exporter's `registerCollector`: each row names
//! a collector, says whether it runs by default, which flags tune it, how it is built and what
//! it exposes. `--collectors-only`/`--disable-collector` validation, `jolt --help`'s list, the
//! scrape's subsystem list and the README's collector table all come from here.

use super::config::{Filters, HostConfig};
use super::processes::ProcessSampler;
use super::{
    Paths, Subsystem, cgroup, cpu, diskstats, filefd, filesystem, loadavg, meminfo, netdev,
    pressure, processes, stat, time, uname, vmstat,
};
use std::sync::Arc;

/// What a factory may need to build its subsystem.
pub struct Build<'a> {
    /// Where procfs, sysfs and the host's root are.
    pub paths: &'a Paths,
    /// The compiled exclusion patterns.
    pub filters: &'a Filters,
    /// The whole `collectors:` section, for per-collector settings.
    pub cfg: &'a HostConfig,
    /// The background process sampler the `processes` collector reads.
    pub sampler: &'a Arc<ProcessSampler>,
}

/// One row of the table.
pub struct Spec {
    /// The `collector` label value and the name `--collectors-only`/`--disable-collector` take.
    pub name: &'static str,
    /// Whether it runs when `--collectors-only` is not given.
    pub default_on: bool,
    /// The flags that tune it (besides `--procfs` and the selection flags).
    pub flags: &'static [&'static str],
    /// Builds the subsystem.
    pub factory: fn(&Build) -> Box<dyn Subsystem>,
    /// One line for `jolt --help`.
    pub doc: &'static str,
    /// The README's rows: each family (or group of families) with what it means.
    pub families: &'static [&'static str],
}

/// Every host collector, in scrape order.
pub const TABLE: &[Spec] = &[
    Spec {
        name: "cgroup",
        default_on: true,
        flags: &["--sysfs"],
        factory: |b| Box::new(cgroup::Cgroup::new(b.paths.clone())),
        doc: "jolt's own cgroup v2 CPU and memory limits",
        families: &[
            "`jolt_cgroup_cpu_limit_cores`, `jolt_cgroup_memory_limit_bytes` — jolt's cgroup v2 limits (absent when unlimited)",
        ],
    },
    Spec {
        name: "cpu",
        default_on: true,
        flags: &[],
        factory: |b| Box::new(cpu::Cpu::new(b.paths.clone())),
        doc: "seconds per CPU and mode from /proc/stat",
        families: &[
            "`node_cpu_seconds_total{cpu,mode}` — seconds per CPU in user, nice, system, idle, iowait, irq, softirq, steal (never decreasing)",
            "`node_cpu_guest_seconds_total{cpu,mode}` — seconds running guests, mode user or nice",
        ],
    },
    Spec {
        name: "diskstats",
        default_on: true,
        flags: &["--diskstats-device-exclude"],
        factory: |b| {
            Box::new(diskstats::Diskstats::new(
                b.paths.clone(),
                b.filters.disk.clone(),
            ))
        },
        doc: "I/O per block device from /proc/diskstats",
        families: &[
            "`node_disk_{reads,writes,discards}_completed_total{device}`, `node_disk_{reads,writes,discards}_merged_total`, `node_disk_read_bytes_total`, `node_disk_written_bytes_total`, `node_disk_discarded_sectors_total` — operations and bytes per disk (partitions, loop and ram devices excluded)",
            "`node_disk_{read,write,discard}_time_seconds_total`, `node_disk_io_time_seconds_total`, `node_disk_io_time_weighted_seconds_total`, `node_disk_flush_requests_total`, `node_disk_flush_requests_time_seconds_total` — time spent, flushes",
            "`node_disk_io_now{device}` — I/Os in progress",
        ],
    },
    Spec {
        name: "filefd",
        default_on: true,
        flags: &[],
        factory: |b| Box::new(filefd::Filefd::new(b.paths.clone())),
        doc: "allocated and maximum file handles",
        families: &["`node_filefd_allocated`, `node_filefd_maximum` — file handles"],
    },
    Spec {
        name: "filesystem",
        default_on: true,
        flags: &[
            "--rootfs",
            "--filesystem-mount-points-exclude",
            "--filesystem-fs-types-exclude",
            "--filesystem-statfs-timeout",
        ],
        factory: |b| {
            Box::new(filesystem::Filesystem::new(
                b.paths.clone(),
                b.filters.clone(),
                b.cfg.filesystem_statfs_timeout.0,
            ))
        },
        doc: "space and inodes per mounted filesystem (statfs, hung mounts time out)",
        families: &[
            "`node_filesystem_{size,free,avail}_bytes{device,mountpoint,fstype}` — space (pseudo filesystems and /dev, /proc, /sys, /run/credentials excluded)",
            "`node_filesystem_files`, `node_filesystem_files_free` — inodes",
            "`node_filesystem_readonly` — 1 when mounted read-only",
            "`node_filesystem_device_error` — 1 when `statfs` failed or timed out (a hung mount never hangs the scrape)",
        ],
    },
    Spec {
        name: "loadavg",
        default_on: true,
        flags: &[],
        factory: |b| Box::new(loadavg::LoadAvg::new(b.paths.clone())),
        doc: "1, 5 and 15 minute load averages",
        families: &["`node_load1`, `node_load5`, `node_load15` — load averages"],
    },
    Spec {
        name: "meminfo",
        default_on: true,
        flags: &[],
        factory: |b| Box::new(meminfo::Meminfo::new(b.paths.clone())),
        doc: "every /proc/meminfo field",
        families: &[
            "`node_memory_<Field>_bytes` — every `/proc/meminfo` field in bytes (`Active(anon)` → `Active_anon`; unitless fields such as `HugePages_Total` have no `_bytes`)",
        ],
    },
    Spec {
        name: "netdev",
        default_on: true,
        flags: &["--netdev-device-exclude"],
        factory: |b| {
            Box::new(netdev::Netdev::new(
                b.paths.clone(),
                b.filters.netdev.clone(),
            ))
        },
        doc: "traffic per network interface from /proc/net/dev",
        families: &[
            "`node_network_{receive,transmit}_{bytes,packets,errs,drop,fifo,compressed}_total{device}`, `node_network_receive_{frame,multicast}_total`, `node_network_transmit_{colls,carrier}_total` — per interface",
        ],
    },
    Spec {
        name: "pressure",
        default_on: true,
        flags: &[],
        factory: |b| Box::new(pressure::Pressure::new(b.paths.clone())),
        doc: "pressure stall information (PSI) for cpu, io and memory",
        families: &[
            "`node_pressure_{cpu,io,memory}_waiting_seconds_total`, `node_pressure_{cpu,io,memory}_stalled_seconds_total` — PSI stall time (absent without PSI)",
        ],
    },
    Spec {
        name: "processes",
        default_on: true,
        flags: &["--process-sample-interval", "--top-processes"],
        factory: |b| {
            Box::new(processes::Processes::new(
                b.paths.clone(),
                b.sampler.clone(),
            ))
        },
        doc: "top processes by CPU and memory, from a background sampler",
        families: &[
            "`jolt_top_process_cpu_usage_ratio{rank,pid,name}` — top N processes by CPU over the last sample, in cores (rank 1..N)",
            "`jolt_top_process_resident_memory_bytes{rank,pid,name}` — top N processes by resident memory",
            "`jolt_processes{state}` — processes by state (running, sleeping, disk_sleep, zombie, idle...)",
            "`jolt_threads` — threads of all processes",
            "`jolt_process_open_fds` — open file handles on the whole host",
            "`jolt_process_sample_duration_seconds` — how long the last process scan took",
        ],
    },
    Spec {
        name: "stat",
        default_on: true,
        flags: &[],
        factory: |b| Box::new(stat::Stat::new(b.paths.clone())),
        doc: "boot time, context switches, interrupts, forks, running and blocked tasks",
        families: &[
            "`node_boot_time_seconds` — boot time",
            "`node_context_switches_total`, `node_intr_total`, `node_forks_total` — since boot",
            "`node_procs_running`, `node_procs_blocked` — runnable and I/O-blocked tasks",
        ],
    },
    Spec {
        name: "time",
        default_on: true,
        flags: &[],
        factory: |_| Box::new(time::Time),
        doc: "the host clock",
        families: &["`node_time_seconds` — the host clock"],
    },
    Spec {
        name: "uname",
        default_on: true,
        flags: &[],
        factory: |_| Box::new(uname::Uname),
        doc: "kernel name, release, version and machine",
        families: &[
            "`node_uname_info{sysname,release,version,machine,nodename,domainname}` — always 1",
        ],
    },
    Spec {
        name: "vmstat",
        default_on: true,
        flags: &[],
        factory: |b| Box::new(vmstat::Vmstat::new(b.paths.clone())),
        doc: "page faults, swap-ins and -outs, OOM kills from /proc/vmstat",
        families: &[
            "`node_vmstat_{pgfault,pgmajfault,pswpin,pswpout,oom_kill}` — cumulative counts from `/proc/vmstat` (gauges here, untyped in node_exporter)",
        ],
    },
];

/// The row named `name`.
pub fn find(name: &str) -> Option<&'static Spec> {
    TABLE.iter().find(|s| s.name == name)
}

/// Every collector name, comma-separated, for error messages.
pub fn names() -> String {
    TABLE.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
}

/// The long help of `--disable-collector`: one line per collector.
pub fn help() -> String {
    let width = TABLE.iter().map(|s| s.name.len()).max().unwrap_or(0);
    let mut out =
        String::from("Collectors to disable, comma-separated or repeated. Known collectors:");
    for s in TABLE {
        let off = if s.default_on {
            ""
        } else {
            " (off by default)"
        };
        out.push_str(&format!("\n  {:width$}  {}{off}", s.name, s.doc));
    }
    out
}

/// The README's collector table (between its `collectors` markers).
pub fn markdown() -> String {
    let mut out =
        String::from("| collector | default | tuned by | families |\n|---|---|---|---|\n");
    for s in TABLE {
        let flags: Vec<String> = s.flags.iter().map(|f| format!("`{f}`")).collect();
        let flags = if flags.is_empty() {
            "none".to_string()
        } else {
            flags.join(", ")
        };
        let default = if s.default_on { "on" } else { "off" };
        for (i, fam) in s.families.iter().enumerate() {
            if i == 0 {
                out.push_str(&format!("| `{}` | {default} | {flags} | {fam} |\n", s.name));
            } else {
                out.push_str(&format!("| | | | {fam} |\n"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: &str =
        "<!-- collectors:start (generated from src/metrics/host/collectors.rs) -->\n";
    const END: &str = "<!-- collectors:end -->";

    #[test]
    fn the_readme_lists_the_collectors_of_the_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).expect("README.md");
        let start = readme.find(START).expect("README lacks the start marker") + START.len();
        let end = readme[start..]
            .find(END)
            .expect("README lacks the end marker")
            + start;
        if std::env::var_os("JOLT_BLESS").is_some() {
            let fresh = format!("{}{}{}", &readme[..start], markdown(), &readme[end..]);
            std::fs::write(path, fresh).expect("writing README.md");
            return;
        }
        assert_eq!(
            readme[start..end],
            markdown(),
            "README's collector table is out of date: rerun this test with JOLT_BLESS=1"
        );
    }

    #[test]
    fn names_are_unique_and_every_row_documents_itself() {
        for (i, s) in TABLE.iter().enumerate() {
            assert!(TABLE[..i].iter().all(|o| o.name != s.name), "{}", s.name);
            assert!(!s.doc.is_empty() && !s.families.is_empty(), "{}", s.name);
        }
    }

    #[test]
    fn every_factory_builds_a_subsystem_of_its_own_name() {
        let cfg = HostConfig::default();
        let paths = cfg.paths();
        let filters = cfg.filters().unwrap();
        let sampler = Arc::new(ProcessSampler::new(paths.clone(), 1));
        let b = Build {
            paths: &paths,
            filters: &filters,
            cfg: &cfg,
            sampler: &sampler,
        };
        for s in TABLE {
            assert_eq!((s.factory)(&b).name(), s.name);
        }
    }

    #[test]
    fn help_names_every_collector() {
        let h = help();
        for s in TABLE {
            assert!(h.contains(&format!("  {} ", s.name)), "{}", s.name);
        }
    }
}
