//! Configuration of the host collectors: paths, selection, exclusions, process sampling.

use super::{Paths, collectors};
use crate::merge::set;
use crate::units::HumanDuration;
use anyhow::bail;
use clap::Args;
use regex::Regex;
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// node_exporter 1.5's default `--collector.diskstats.device-exclude`: partitions, loop, ram
/// and floppy devices.
pub const DEFAULT_DISK_EXCLUDE: &str = r"^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$";
/// node_exporter 1.5's default `--collector.filesystem.mount-points-exclude`.
pub const DEFAULT_MOUNT_POINTS_EXCLUDE: &str =
    r"^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)";
/// node_exporter 1.5's default `--collector.filesystem.fs-types-exclude`: pseudo filesystems.
pub const DEFAULT_FS_TYPES_EXCLUDE: &str = "^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$";

/// The `collectors:` section of the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HostConfig {
    /// procfs mount point; `/host/proc` in a container that mounts the host's.
    pub procfs: PathBuf,
    /// sysfs mount point.
    pub sysfs: PathBuf,
    /// The host's root filesystem as seen by jolt (prefixes mount points for `statfs`).
    pub rootfs: PathBuf,
    /// Collectors to turn off, by name.
    pub disabled: Vec<String>,
    /// When not empty, only these collectors run (node_exporter's
    /// `--collector.disable-defaults` plus a list); `disabled` still applies.
    pub only: Vec<String>,
    /// Block devices whose name matches are skipped (empty: none).
    pub diskstats_device_exclude: String,
    /// Mount points that match are skipped (empty: none).
    pub filesystem_mount_points_exclude: String,
    /// Filesystem types that match are skipped (empty: none).
    pub filesystem_fs_types_exclude: String,
    /// Network interfaces whose name matches are skipped (empty: none).
    pub netdev_device_exclude: String,
    /// How long one `statfs` may take before its mount is reported with `device_error` 1;
    /// a hung network mount must not hang the scrape.
    pub filesystem_statfs_timeout: HumanDuration,
    /// How often the background sampler scans every process.
    pub process_sample_interval: HumanDuration,
    /// How many processes the top-by-CPU and top-by-memory families list.
    pub top_processes: usize,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            procfs: "/proc".into(),
            sysfs: "/sys".into(),
            rootfs: "/".into(),
            disabled: Vec::new(),
            only: Vec::new(),
            diskstats_device_exclude: DEFAULT_DISK_EXCLUDE.into(),
            filesystem_mount_points_exclude: DEFAULT_MOUNT_POINTS_EXCLUDE.into(),
            filesystem_fs_types_exclude: DEFAULT_FS_TYPES_EXCLUDE.into(),
            netdev_device_exclude: String::new(),
            filesystem_statfs_timeout: HumanDuration(Duration::from_secs(1)),
            process_sample_interval: HumanDuration(Duration::from_secs(2)),
            top_processes: 5,
        }
    }
}

/// The compiled exclusion patterns; `None` excludes nothing.
#[derive(Debug, Clone)]
pub struct Filters {
    /// `diskstats_device_exclude`.
    pub disk: Option<Regex>,
    /// `filesystem_mount_points_exclude`.
    pub mount_points: Option<Regex>,
    /// `filesystem_fs_types_exclude`.
    pub fs_types: Option<Regex>,
    /// `netdev_device_exclude`.
    pub netdev: Option<Regex>,
}

/// True when `re` is set and matches `s`.
pub fn excluded(re: &Option<Regex>, s: &str) -> bool {
    re.as_ref().is_some_and(|re| re.is_match(s))
}

/// Compiles one pattern; the error names the config key.
fn compile(key: &str, pattern: &str) -> anyhow::Result<Option<Regex>> {
    if pattern.is_empty() {
        return Ok(None);
    }
    Regex::new(pattern)
        .map(Some)
        .map_err(|e| anyhow::anyhow!("collectors.{key}: `{pattern}` is not a regex: {e}"))
}

impl HostConfig {
    /// The resolved pseudo-filesystem locations.
    pub fn paths(&self) -> Paths {
        Paths::new(self.procfs.clone(), self.sysfs.clone(), self.rootfs.clone())
    }

    /// Whether the named collector runs.
    pub fn is_enabled(&self, name: &str) -> bool {
        let default_on = collectors::find(name).is_none_or(|s| s.default_on);
        (if self.only.is_empty() {
            default_on
        } else {
            self.only.iter().any(|o| o == name)
        }) && !self.disabled.iter().any(|d| d == name)
    }

    /// Compiles the exclusion patterns; errors name the key.
    pub fn filters(&self) -> anyhow::Result<Filters> {
        Ok(Filters {
            disk: compile("diskstats_device_exclude", &self.diskstats_device_exclude)?,
            mount_points: compile(
                "filesystem_mount_points_exclude",
                &self.filesystem_mount_points_exclude,
            )?,
            fs_types: compile(
                "filesystem_fs_types_exclude",
                &self.filesystem_fs_types_exclude,
            )?,
            netdev: compile("netdev_device_exclude", &self.netdev_device_exclude)?,
        })
    }

    /// Rejects unknown collector names, bad patterns and out-of-range values.
    pub fn validate(&self) -> anyhow::Result<()> {
        for (key, names) in [("disabled", &self.disabled), ("only", &self.only)] {
            for name in names {
                if collectors::find(name).is_none() {
                    bail!(
                        "collectors.{key}: unknown collector `{name}` (known: {})",
                        collectors::names()
                    );
                }
            }
        }
        self.filters()?;
        if self.filesystem_statfs_timeout.0 < Duration::from_millis(1) {
            bail!("collectors.filesystem_statfs_timeout: must be at least 1ms (try \"1s\")");
        }
        if self.process_sample_interval.0 < Duration::from_millis(100) {
            bail!("collectors.process_sample_interval: must be at least 100ms (try \"2s\")");
        }
        if self.top_processes > 100 {
            bail!(
                "collectors.top_processes: {} is too many; use 0..=100",
                self.top_processes
            );
        }
        Ok(())
    }
}

/// Flags for the host collectors.
#[derive(Debug, Clone, Default, Args)]
pub struct HostArgs {
    /// procfs mount point (node_exporter's --path.procfs) [default: /proc]
    #[arg(long, env = "JOLT_PROCFS", value_name = "DIR")]
    pub procfs: Option<PathBuf>,
    /// sysfs mount point (node_exporter's --path.sysfs) [default: /sys]
    #[arg(long, env = "JOLT_SYSFS", value_name = "DIR")]
    pub sysfs: Option<PathBuf>,
    /// Root filesystem of the host (node_exporter's --path.rootfs) [default: /]
    #[arg(long, env = "JOLT_ROOTFS", value_name = "DIR")]
    pub rootfs: Option<PathBuf>,
    /// Collectors to disable, comma-separated or repeated (`jolt --help` lists them)
    #[arg(
        long = "disable-collector",
        long_help = collectors::help(),
        env = "JOLT_DISABLE_COLLECTORS",
        value_name = "NAME",
        value_delimiter = ','
    )]
    pub disabled: Vec<String>,
    /// Run only these collectors, comma-separated or repeated [default: all]
    #[arg(
        long = "collectors-only",
        env = "JOLT_COLLECTORS_ONLY",
        value_name = "NAME",
        value_delimiter = ','
    )]
    pub only: Vec<String>,
    /// Regex of block devices to skip; "" skips none [default: partitions, loop, ram, fd]
    #[arg(long, env = "JOLT_DISKSTATS_DEVICE_EXCLUDE", value_name = "REGEX")]
    pub diskstats_device_exclude: Option<String>,
    /// Regex of mount points to skip [default: /dev, /proc, /sys, /run/credentials/...]
    #[arg(
        long,
        env = "JOLT_FILESYSTEM_MOUNT_POINTS_EXCLUDE",
        value_name = "REGEX"
    )]
    pub filesystem_mount_points_exclude: Option<String>,
    /// Regex of filesystem types to skip [default: pseudo filesystems, as node_exporter]
    #[arg(long, env = "JOLT_FILESYSTEM_FS_TYPES_EXCLUDE", value_name = "REGEX")]
    pub filesystem_fs_types_exclude: Option<String>,
    /// Regex of network interfaces to skip [default: none]
    #[arg(long, env = "JOLT_NETDEV_DEVICE_EXCLUDE", value_name = "REGEX")]
    pub netdev_device_exclude: Option<String>,
    /// Longest wait for one statfs before the mount gets device_error 1 [default: 1s]
    #[arg(long, env = "JOLT_FILESYSTEM_STATFS_TIMEOUT", value_name = "DURATION")]
    pub filesystem_statfs_timeout: Option<HumanDuration>,
    /// How often the background sampler scans all processes [default: 2s]
    #[arg(long, env = "JOLT_PROCESS_SAMPLE_INTERVAL", value_name = "DURATION")]
    pub process_sample_interval: Option<HumanDuration>,
    /// How many processes the top-process families list (0..=100) [default: 5]
    #[arg(long, env = "JOLT_TOP_PROCESSES", value_name = "N")]
    pub top_processes: Option<usize>,
}

impl HostArgs {
    /// Overrides the file's values with the flags that were given.
    pub fn apply(&self, cfg: &mut HostConfig) {
        set(&mut cfg.procfs, self.procfs.clone());
        set(&mut cfg.sysfs, self.sysfs.clone());
        set(&mut cfg.rootfs, self.rootfs.clone());
        if !self.disabled.is_empty() {
            cfg.disabled = self.disabled.clone();
        }
        if !self.only.is_empty() {
            cfg.only = self.only.clone();
        }
        set(
            &mut cfg.diskstats_device_exclude,
            self.diskstats_device_exclude.clone(),
        );
        set(
            &mut cfg.filesystem_mount_points_exclude,
            self.filesystem_mount_points_exclude.clone(),
        );
        set(
            &mut cfg.filesystem_fs_types_exclude,
            self.filesystem_fs_types_exclude.clone(),
        );
        set(
            &mut cfg.netdev_device_exclude,
            self.netdev_device_exclude.clone(),
        );
        set(
            &mut cfg.filesystem_statfs_timeout,
            self.filesystem_statfs_timeout,
        );
        set(
            &mut cfg.process_sample_interval,
            self.process_sample_interval,
        );
        set(&mut cfg.top_processes, self.top_processes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_node_exporter() {
        let f = HostConfig::default().filters().unwrap();
        for skipped in ["loop0", "ram1", "sda1", "vda2", "nvme0n1p3", "xvdb1"] {
            assert!(excluded(&f.disk, skipped), "{skipped}");
        }
        for kept in ["vda", "sda", "nvme0n1", "dm-0", "zram0", "md0"] {
            assert!(!excluded(&f.disk, kept), "{kept}");
        }
        for skipped in [
            "/proc",
            "/sys/fs/cgroup",
            "/dev/shm",
            "/run/credentials/x.service",
        ] {
            assert!(excluded(&f.mount_points, skipped), "{skipped}");
        }
        for kept in ["/", "/home", "/run", "/devices", "/mnt/my disk"] {
            assert!(!excluded(&f.mount_points, kept), "{kept}");
        }
        assert!(excluded(&f.fs_types, "cgroup2") && !excluded(&f.fs_types, "tmpfs"));
        assert!(f.netdev.is_none());
    }

    #[test]
    fn a_bad_regex_names_its_key() {
        let cfg = HostConfig {
            netdev_device_exclude: "(".into(),
            ..Default::default()
        };
        let err = cfg.validate().unwrap_err().to_string();
        assert!(err.contains("collectors.netdev_device_exclude"), "{err}");
    }

    #[test]
    fn only_and_disabled_select_collectors() {
        let cfg = HostConfig {
            only: vec!["cpu".into(), "meminfo".into()],
            disabled: vec!["meminfo".into()],
            ..Default::default()
        };
        cfg.validate().unwrap();
        assert!(cfg.is_enabled("cpu"));
        assert!(!cfg.is_enabled("meminfo") && !cfg.is_enabled("netdev"));
        let bad = HostConfig {
            only: vec!["cpus".into()],
            ..Default::default()
        };
        assert!(
            bad.validate()
                .unwrap_err()
                .to_string()
                .contains("collectors.only")
        );
    }

    #[test]
    fn yaml_keys_and_ranges() {
        let cfg: HostConfig = serde_yaml_ng::from_str(
            "filesystem_statfs_timeout: 250ms\nprocess_sample_interval: 5\ntop_processes: 3\n",
        )
        .unwrap();
        assert_eq!(cfg.filesystem_statfs_timeout.0, Duration::from_millis(250));
        assert_eq!(cfg.process_sample_interval.0, Duration::from_secs(5));
        assert_eq!(cfg.top_processes, 3);
        let bad = HostConfig {
            process_sample_interval: HumanDuration(Duration::ZERO),
            ..Default::default()
        };
        assert!(bad.validate().is_err());
    }
}
