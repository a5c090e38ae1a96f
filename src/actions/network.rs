//! `network`: UDP or TCP bytes at a bit rate to jolt's own sink (or an allowlisted peer).

use super::{Env, RunCtx};
use crate::api::ApiError;
use crate::units::HumanDuration;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Datagrams.
    Udp,
    /// A stream.
    Tcp,
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
    pub fn validate(&mut self, _env: &Env) -> Result<(), ApiError> {
        if !(self.mbps > 0.0 && self.mbps.is_finite()) {
            return Err(ApiError::unprocessable(
                "mbps",
                "mbps must be a positive number",
            ));
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
pub async fn run(_p: NetworkParams, _ctx: RunCtx) -> Result<(), String> {
    Err("network actions are not implemented yet".into())
}
