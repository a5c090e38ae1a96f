//! Limits of the action engine.

use crate::merge::{Invalid, set};
use crate::units::{HumanDuration, SizeSpec};
use clap::Args;
use serde::Deserialize;

/// The `actions:` section of the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ActionsConfig {
    /// Active actions allowed at once; more get 429.
    pub max_active: usize,
    /// Finished actions kept for `GET /actions/{id}`.
    pub history: usize,
    /// Available memory that memory actions must leave; default max(10 % of total, 256 MiB).
    pub memory_reserve: Option<SizeSpec>,
    /// Largest scratch file a disk action may create.
    pub disk_max_bytes: SizeSpec,
    /// `host:port` peers that traffic and network actions may target besides jolt's own.
    pub allow_targets: Vec<String>,
    /// Longest duration an action may ask for (a fuzzer's or a classroom's jolt sets it low).
    pub max_duration: HumanDuration,
    /// Largest size a memory action may ask for, besides the reserve rule; none = no cap.
    pub memory_max_bytes: Option<SizeSpec>,
}

impl Default for ActionsConfig {
    fn default() -> Self {
        ActionsConfig {
            max_active: 16,
            history: 100,
            memory_reserve: None,
            disk_max_bytes: SizeSpec::Bytes(1 << 30),
            allow_targets: Vec::new(),
            max_duration: HumanDuration(std::time::Duration::from_secs(365 * 86_400)),
            memory_max_bytes: None,
        }
    }
}

/// Flags of the action engine.
#[derive(Debug, Clone, Default, Args)]
pub struct ActionsArgs {
    /// Active actions allowed at once [default: 16]
    #[arg(long, env = "JOLT_MAX_ACTIVE_ACTIONS", value_name = "N")]
    pub max_active_actions: Option<usize>,
    /// Available memory memory actions must leave, e.g. 1GiB or 10% [default: max(10%, 256MiB)]
    #[arg(long, env = "JOLT_MEMORY_RESERVE", value_name = "SIZE")]
    pub memory_reserve: Option<SizeSpec>,
    /// Largest scratch file of a disk action [default: 1GiB]
    #[arg(long, env = "JOLT_DISK_MAX_BYTES", value_name = "SIZE")]
    pub disk_max_bytes: Option<SizeSpec>,
    /// HOST:PORT peers traffic and network actions may target, comma-separated
    #[arg(
        long = "allow-target",
        env = "JOLT_ALLOW_TARGETS",
        value_name = "HOST:PORT",
        value_delimiter = ','
    )]
    pub allow_targets: Vec<String>,
    /// Longest duration an action may ask for [default: 365 days]
    #[arg(long, env = "JOLT_MAX_ACTION_DURATION", value_name = "DURATION")]
    pub max_action_duration: Option<HumanDuration>,
    /// Largest size of a memory action, e.g. 64MiB [default: no cap besides the reserve]
    #[arg(long, env = "JOLT_MEMORY_MAX_BYTES", value_name = "SIZE")]
    pub memory_max_bytes: Option<SizeSpec>,
}

impl ActionsArgs {
    /// Overrides the file's values with the flags that were given.
    pub fn apply(&self, cfg: &mut ActionsConfig) {
        set(&mut cfg.max_active, self.max_active_actions);
        set(&mut cfg.memory_reserve, self.memory_reserve.map(Some));
        set(&mut cfg.disk_max_bytes, self.disk_max_bytes);
        set(&mut cfg.max_duration, self.max_action_duration);
        set(&mut cfg.memory_max_bytes, self.memory_max_bytes.map(Some));
        if !self.allow_targets.is_empty() {
            cfg.allow_targets = self.allow_targets.clone();
        }
    }
}

impl ActionsConfig {
    /// Range checks.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.max_active == 0 {
            return Err(Invalid::new("actions.max_active", "must be at least 1"));
        }
        if self.history == 0 {
            return Err(Invalid::new("actions.history", "must be at least 1"));
        }
        Ok(())
    }
}
