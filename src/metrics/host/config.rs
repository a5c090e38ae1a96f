//! Configuration of the host collectors: paths, selection, exclusions, process sampling.

use super::{COLLECTORS, Paths};
use crate::config::set;
use anyhow::bail;
use clap::Args;
use serde::Deserialize;
use std::path::PathBuf;

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
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            procfs: "/proc".into(),
            sysfs: "/sys".into(),
            rootfs: "/".into(),
            disabled: Vec::new(),
        }
    }
}

impl HostConfig {
    /// The resolved pseudo-filesystem locations.
    pub fn paths(&self) -> Paths {
        Paths {
            proc: self.procfs.clone(),
            sys: self.sysfs.clone(),
            root: self.rootfs.clone(),
        }
    }

    /// Whether the named collector runs.
    pub fn is_enabled(&self, name: &str) -> bool {
        !self.disabled.iter().any(|d| d == name)
    }

    /// Rejects unknown collector names, listing the known ones.
    pub fn validate(&self) -> anyhow::Result<()> {
        for name in &self.disabled {
            if !COLLECTORS.contains(&name.as_str()) {
                bail!(
                    "collectors.disabled: unknown collector `{name}` (known: {})",
                    COLLECTORS.join(", ")
                );
            }
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
    /// Collectors to disable, comma-separated or repeated
    #[arg(
        long = "disable-collector",
        env = "JOLT_DISABLE_COLLECTORS",
        value_name = "NAME",
        value_delimiter = ','
    )]
    pub disabled: Vec<String>,
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
    }
}
