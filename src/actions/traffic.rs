//! `traffic`: HTTP requests at a rate against a simulated service (or an allowlisted peer).

use super::{Env, RunCtx};
use crate::api::ApiError;
use crate::units::HumanDuration;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Parameters of a traffic action.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrafficParams {
    /// Requests per second (at the end of the ramp, if any).
    pub rps: f64,
    /// How long to send.
    pub duration: HumanDuration,
    /// A simulated service name, or an allowlisted `host:port`.
    pub target: String,
    /// Rate at the start of a linear ramp to `rps`; none = constant rate.
    pub ramp_from: Option<f64>,
}

impl Default for TrafficParams {
    fn default() -> Self {
        TrafficParams {
            rps: 1000.0,
            duration: HumanDuration(Duration::from_secs(30)),
            target: "auth".into(),
            ramp_from: None,
        }
    }
}

impl TrafficParams {
    /// Range and safety checks.
    pub fn validate(&mut self, _env: &Env) -> Result<(), ApiError> {
        if !(self.rps > 0.0 && self.rps.is_finite()) {
            return Err(ApiError::unprocessable(
                "rps",
                "rps must be a positive number",
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
pub async fn run(_p: TrafficParams, _ctx: RunCtx) -> Result<(), String> {
    Err("traffic actions are not implemented yet".into())
}
