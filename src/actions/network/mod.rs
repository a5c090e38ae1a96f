//! `network`: UDP or TCP bytes at a bit rate to jolt's own loopback sink (or an allowlisted
//! peer), paced by an absolute schedule (byte n is due at start + 8n / bit rate) and counted
//! on both ends.

mod sender;
mod sink;

use super::{Env, RunCtx};
use crate::api::ApiError;
use crate::units::HumanDuration;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The highest bit rate a network action may ask for, in megabits per second.
const MAX_MBPS: f64 = 10_000.0;

/// Transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Datagrams.
    Udp,
    /// A stream.
    Tcp,
}

impl Protocol {
    /// The `protocol` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Udp => "udp",
            Protocol::Tcp => "tcp",
        }
    }
}

/// Parameters of a network action.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkParams {
    /// Megabits per second.
    pub mbps: f64,
    /// How long to send.
    pub duration: HumanDuration,
    /// udp or tcp.
    pub protocol: Protocol,
    /// An allowlisted `host:port`; none = jolt's own loopback sink.
    pub peer: Option<String>,
}

impl Default for NetworkParams {
    fn default() -> Self {
        NetworkParams {
            mbps: 100.0,
            duration: HumanDuration(Duration::from_secs(30)),
            protocol: Protocol::Udp,
            peer: None,
        }
    }
}

impl NetworkParams {
    /// Range and safety checks.
    pub fn validate(&mut self, env: &Env) -> Result<(), ApiError> {
        if !(self.mbps > 0.0 && self.mbps <= MAX_MBPS) {
            return Err(ApiError::unprocessable(
                "mbps",
                format!("mbps must be a positive number up to {MAX_MBPS}"),
            ));
        }
        if let Some(peer) = &self.peer {
            let allowed = env
                .config
                .allow_targets
                .iter()
                .any(|a| a.eq_ignore_ascii_case(peer));
            if !allowed {
                return Err(ApiError::unprocessable(
                    "peer",
                    format!(
                        "`{peer}` is not on actions.allow_targets (--allow-target HOST:PORT); \
                         leave peer out to use jolt's own loopback sink"
                    ),
                ));
            }
        }
        if self.duration.0.is_zero() {
            return Err(ApiError::unprocessable(
                "duration",
                "duration must be longer than 0s",
            ));
        }
        Ok(())
    }

    /// Runs for `duration`.
    pub fn duration(&self) -> Option<Duration> {
        Some(self.duration.0)
    }
}

/// Produces the load.
pub async fn run(p: NetworkParams, ctx: RunCtx) -> Result<(), String> {
    sender::run(p, ctx).await
}
