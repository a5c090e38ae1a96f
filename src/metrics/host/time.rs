//! `node_time_seconds`: the host's wall clock, to spot clock skew between hosts.

use super::Subsystem;
use crate::metrics::family::Family;
use std::time::{SystemTime, UNIX_EPOCH};

/// Reads the system clock.
pub struct Time;

impl Subsystem for Time {
    fn name(&self) -> &'static str {
        "time"
    }

    fn collect(&self, out: &mut Vec<Family>) -> anyhow::Result<()> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs_f64();
        out.push(
            Family::gauge(
                "node_time_seconds",
                "System time in seconds since epoch (1970).",
            )
            .with(&[], now),
        );
        Ok(())
    }
}
