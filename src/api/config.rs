//! Security settings of the control listener.

use crate::config::set;
use anyhow::bail;
use clap::Args;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The `control:` section of the config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControlConfig {
    /// File holding the bearer token every control request must carry.
    pub token_file: Option<PathBuf>,
    /// The token itself (from `JOLT_CONTROL_TOKEN`; never written to a file by jolt).
    #[serde(skip)]
    pub token: Option<String>,
    /// Allows a non-loopback control address without a token; logged loudly.
    pub insecure: bool,
}

impl ControlConfig {
    /// The effective token: the environment variable wins over the file.
    pub fn resolve_token(&self) -> anyhow::Result<Option<String>> {
        if let Some(t) = &self.token {
            return Ok(Some(t.trim().to_string()).filter(|t| !t.is_empty()));
        }
        match &self.token_file {
            Some(path) => {
                let t = std::fs::read_to_string(path).map_err(|e| {
                    anyhow::anyhow!("control.token_file: cannot read {}: {e}", path.display())
                })?;
                let t = t.trim().to_string();
                if t.is_empty() {
                    bail!("control.token_file: {} is empty", path.display());
                }
                Ok(Some(t))
            }
            None => Ok(None),
        }
    }

    /// A control address off loopback needs a token or an explicit `--control-insecure`.
    pub fn validate(&self, listen: SocketAddr) -> anyhow::Result<()> {
        let token = self.resolve_token()?;
        if !listen.ip().is_loopback() && token.is_none() && !self.insecure {
            bail!(
                "control_listen: {listen} is not a loopback address; set a token \
                 (--control-token-file or JOLT_CONTROL_TOKEN) or pass --control-insecure"
            );
        }
        Ok(())
    }
}

/// Flags of the control listener.
#[derive(Debug, Clone, Default, Args)]
pub struct ControlArgs {
    /// File with the bearer token required on every control request
    #[arg(long, env = "JOLT_CONTROL_TOKEN_FILE", value_name = "FILE")]
    pub control_token_file: Option<PathBuf>,
    /// Bearer token required on every control request (prefer the file)
    #[arg(
        long = "control-token",
        env = "JOLT_CONTROL_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub control_token: Option<String>,
    /// Serve the control API on a non-loopback address without a token (dangerous)
    #[arg(long, env = "JOLT_CONTROL_INSECURE")]
    pub control_insecure: bool,
}

impl ControlArgs {
    /// Overrides the file's values with the flags that were given.
    pub fn apply(&self, cfg: &mut ControlConfig) {
        set(
            &mut cfg.token_file,
            self.control_token_file.clone().map(Some),
        );
        set(&mut cfg.token, self.control_token.clone().map(Some));
        cfg.insecure |= self.control_insecure;
    }
}
