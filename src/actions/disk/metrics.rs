//! The disk kind's series: operations and bytes, by direction.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// `{op}` (read | write).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OpLabels {
    /// read or write.
    pub op: String,
}

/// The disk actions' series; cheap to clone.
#[derive(Clone, Default)]
pub struct DiskMetrics {
    /// `jolt_disk_operations_total{op}`.
    pub ops: Family<OpLabels, Counter>,
    /// `jolt_disk_bytes_total{op}`.
    pub bytes: Family<OpLabels, Counter>,
}

impl DiskMetrics {
    /// Creates and registers them, both directions at 0 so `rate()` works from the start.
    pub fn register(r: &mut Registry) -> Self {
        let m = DiskMetrics::default();
        r.register(
            "jolt_disk_operations",
            "Disk operations done by disk actions",
            m.ops.clone(),
        );
        r.register(
            "jolt_disk_bytes",
            "Bytes read and written by disk actions",
            m.bytes.clone(),
        );
        for op in ["read", "write"] {
            let _ = m.ops.get_or_create(&OpLabels { op: op.into() });
            let _ = m.bytes.get_or_create(&OpLabels { op: op.into() });
        }
        m
    }
}
