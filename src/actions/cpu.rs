//! `cpu`: busy CPU, either driving the whole host's busy share to a target (closed loop) or
//! adding a fixed share per worker (open loop, like `stress-ng --cpu-load`).

use super::{Env, RunCtx};
use crate::api::ApiError;
use crate::units::HumanDuration;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How `percent` is interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The host's total busy time reaches `percent`, whatever else runs.
    Host,
    /// Each worker adds `percent` of one core.
    Add,
}

/// Parameters of a cpu action.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CpuParams {
    /// Target busy percentage, 1..=100.
    pub percent: f64,
    /// How long the load lasts.
    pub duration: HumanDuration,
    /// Worker threads, one per core; 0 = all cores.
    pub cores: u32,
    /// host (closed loop) or add (open loop).
    pub mode: Mode,
    /// Time to climb linearly from 0 to the target.
    pub ramp: HumanDuration,
}

impl Default for CpuParams {
    fn default() -> Self {
        CpuParams {
            percent: 90.0,
            duration: HumanDuration(Duration::from_secs(10)),
            cores: 0,
            mode: Mode::Host,
            ramp: HumanDuration(Duration::ZERO),
        }
    }
}

impl CpuParams {
    /// Range checks; resolves `cores: 0` to the number of cores.
    pub fn validate(&mut self, _env: &Env) -> Result<(), ApiError> {
        if !(self.percent > 0.0 && self.percent <= 100.0) {
            return Err(ApiError::unprocessable(
                "percent",
                format!("percent must be in (0, 100], not {}", self.percent),
            ));
        }
        let n = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
        if self.cores > n {
            return Err(ApiError::unprocessable(
                "cores",
                format!("cores must be at most {n} (this host's cores), or 0 for all"),
            ));
        }
        if self.cores == 0 {
            self.cores = n;
        }
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
pub async fn run(_p: CpuParams, _ctx: RunCtx) -> Result<(), String> {
    Err("cpu actions are not implemented yet".into())
}
