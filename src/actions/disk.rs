//! `disk`: reads and writes of a block size in a scratch directory that is always removed.

use super::{Env, RunCtx};
use crate::api::ApiError;
use crate::units::SizeSpec;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Access pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pattern {
    /// Random offsets.
    Random,
    /// Consecutive offsets.
    Sequential,
}

/// Parameters of a disk action.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiskParams {
    /// Number of operations (reads + writes).
    pub operations: u64,
    /// Bytes per operation.
    pub block_size: SizeSpec,
    /// random or sequential.
    pub pattern: Pattern,
    /// Share of operations that write, 0..1.
    pub write_ratio: f64,
    /// fsync after each write.
    pub sync: bool,
}

impl Default for DiskParams {
    fn default() -> Self {
        DiskParams {
            operations: 1000,
            block_size: SizeSpec::Bytes(64 * 1024),
            pattern: Pattern::Random,
            write_ratio: 0.5,
            sync: false,
        }
    }
}

impl DiskParams {
    /// Range and safety checks.
    pub fn validate(&mut self, _env: &Env) -> Result<(), ApiError> {
        if !(0.0..=1.0).contains(&self.write_ratio) {
            return Err(ApiError::unprocessable(
                "write_ratio",
                "write_ratio must be between 0 and 1",
            ));
        }
        if self.operations == 0 {
            return Err(ApiError::unprocessable(
                "operations",
                "operations must be at least 1",
            ));
        }
        Ok(())
    }

    /// Ends when the operations are done: no fixed duration.
    pub fn duration(&self) -> Option<Duration> {
        None
    }
}

/// Produces the load.
pub async fn run(_p: DiskParams, _ctx: RunCtx) -> Result<(), String> {
    Err("disk actions are not implemented yet".into())
}
