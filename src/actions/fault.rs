//! `fault`: extra latency, errors or downtime in one simulated service, healed when it ends.

use super::{Env, RunCtx};
use crate::api::ApiError;
use crate::units::HumanDuration;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Parameters of a fault action.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultParams {
    /// The simulated service to make sick (required).
    pub service: String,
    /// Latency added to every request.
    pub latency: HumanDuration,
    /// Share of requests answered with 500, 0..1.
    pub error_rate: f64,
    /// Take the service down: heartbeat stops, requests get 503.
    pub down: bool,
    /// How long the fault lasts.
    pub duration: HumanDuration,
}

impl Default for FaultParams {
    fn default() -> Self {
        FaultParams {
            service: String::new(),
            latency: HumanDuration(Duration::ZERO),
            error_rate: 0.0,
            down: false,
            duration: HumanDuration(Duration::from_secs(60)),
        }
    }
}

impl FaultParams {
    /// Range checks; the service must exist.
    pub fn validate(&mut self, _env: &Env) -> Result<(), ApiError> {
        if self.service.is_empty() {
            return Err(ApiError::unprocessable(
                "service",
                "service is required, e.g. {\"service\": \"payment\"}",
            ));
        }
        if !(0.0..=1.0).contains(&self.error_rate) {
            return Err(ApiError::unprocessable(
                "error_rate",
                "error_rate must be between 0 and 1",
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

/// Applies the fault.
pub async fn run(_p: FaultParams, _ctx: RunCtx) -> Result<(), String> {
    Err("fault actions are not implemented yet".into())
}
