//! `memory`: resident memory held for a while, reached at once or over a ramp (a slow leak).

use super::{Env, RunCtx};
use crate::api::ApiError;
use crate::units::{HumanDuration, SizeSpec};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Parameters of a memory action.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemoryParams {
    /// How much to hold: bytes, "500MB", "2GiB" or "25%" of total memory (resolved to bytes).
    pub size: SizeSpec,
    /// How long to hold it.
    pub duration: HumanDuration,
    /// Time to grow linearly to `size`; as long as `duration` it is a slow leak.
    pub ramp: HumanDuration,
}

impl Default for MemoryParams {
    fn default() -> Self {
        MemoryParams {
            size: SizeSpec::Bytes(500_000_000),
            duration: HumanDuration(Duration::from_secs(60)),
            ramp: HumanDuration(Duration::ZERO),
        }
    }
}

impl MemoryParams {
    /// Range and safety checks.
    pub fn validate(&mut self, _env: &Env) -> Result<(), ApiError> {
        if self.duration.0.is_zero() {
            return Err(ApiError::unprocessable(
                "duration",
                "duration must be longer than 0s",
            ));
        }
        if self.ramp > self.duration {
            return Err(ApiError::unprocessable(
                "ramp",
                "ramp must not be longer than duration",
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
pub async fn run(_p: MemoryParams, _ctx: RunCtx) -> Result<(), String> {
    Err("memory actions are not implemented yet".into())
}
