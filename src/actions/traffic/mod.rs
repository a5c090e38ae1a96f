//! `traffic`: HTTP requests at a rate against a simulated service, the built-in echo route,
//! or an allowlisted peer.
//!
//! Open model: request i is due at start + i/rps whatever the latency; one producer releases
//! due requests into a bounded backlog and connection workers send them. Latency counts from
//! the due time (no coordinated omission); requests that find the backlog full are dropped
//! and counted.

mod producer;
mod schedule;
mod stats;
mod target;
mod worker;

use super::{Env, RunCtx};
use crate::api::ApiError;
use crate::units::HumanDuration;
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub use target::{ECHO, Target};

/// The highest rate a traffic action may ask for.
const MAX_RPS: f64 = 100_000.0;
/// The most connections (requests in flight) one action may open.
const MAX_IN_FLIGHT: usize = 10_000;

/// Parameters of a traffic action.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrafficParams {
    /// Requests per second (at the end of the ramp, if any).
    pub rps: f64,
    /// How long to send.
    pub duration: HumanDuration,
    /// A simulated service name, `echo`, or an allowlisted `host:port`.
    pub target: String,
    /// Rate at the start of a linear ramp to `rps`; none = constant rate.
    pub ramp_from: Option<f64>,
    /// Requests in flight at most (one connection each); beyond it requests wait in a
    /// backlog of the same size, and beyond that they are dropped and counted.
    pub max_in_flight: usize,
    /// A request without a response after this long counts as an error (`code="error"`).
    pub timeout: HumanDuration,
}

impl Default for TrafficParams {
    fn default() -> Self {
        TrafficParams {
            rps: 1000.0,
            duration: HumanDuration(Duration::from_secs(30)),
            target: "auth".into(),
            ramp_from: None,
            max_in_flight: 1000,
            timeout: HumanDuration(Duration::from_secs(10)),
        }
    }
}

fn rate_ok(r: f64) -> bool {
    r.is_finite() && (0.0..=MAX_RPS).contains(&r)
}

impl TrafficParams {
    /// Range and safety checks; the target must be one of jolt's or allowlisted.
    pub fn validate(&mut self, env: &Env) -> Result<(), ApiError> {
        if !(rate_ok(self.rps) && self.rps > 0.0) {
            return Err(ApiError::unprocessable(
                "rps",
                format!("rps must be a positive number up to {MAX_RPS}"),
            ));
        }
        if let Some(from) = self.ramp_from
            && !rate_ok(from)
        {
            return Err(ApiError::unprocessable(
                "ramp_from",
                format!("ramp_from must be between 0 and {MAX_RPS}"),
            ));
        }
        if self.duration.0.is_zero() {
            return Err(ApiError::unprocessable(
                "duration",
                "duration must be longer than 0s",
            ));
        }
        if !(1..=MAX_IN_FLIGHT).contains(&self.max_in_flight) {
            return Err(ApiError::unprocessable(
                "max_in_flight",
                format!("max_in_flight must be between 1 and {MAX_IN_FLIGHT}"),
            ));
        }
        if self.timeout.0 < Duration::from_millis(1) {
            return Err(ApiError::unprocessable(
                "timeout",
                "timeout must be at least 1ms",
            ));
        }
        Target::resolve(&self.target, env)?;
        Ok(())
    }

    /// Runs for `duration`.
    pub fn duration(&self) -> Option<Duration> {
        Some(self.duration.0)
    }
}

/// Produces the load.
pub async fn run(p: TrafficParams, ctx: RunCtx) -> Result<(), String> {
    producer::run(p, ctx).await
}
