//! The memory kind's series: what memory actions hold and aim to hold (admission reads
//! both: pending = target − held).

use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// The memory actions' series; cheap to clone.
#[derive(Clone, Default)]
pub struct MemoryMetrics {
    /// `jolt_memory_held_bytes`: resident bytes held by memory actions.
    pub held: Gauge,
    /// `jolt_memory_target_bytes`: bytes memory actions aim to hold.
    pub target: Gauge,
}

impl MemoryMetrics {
    /// Creates and registers them.
    pub fn register(r: &mut Registry) -> Self {
        let m = MemoryMetrics::default();
        r.register(
            "jolt_memory_held_bytes",
            "Resident bytes held by memory actions",
            m.held.clone(),
        );
        r.register(
            "jolt_memory_target_bytes",
            "Bytes memory actions aim to hold",
            m.target.clone(),
        );
        m
    }
}
