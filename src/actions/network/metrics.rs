//! The network kind's series: bytes sent and received by protocol, and the aimed rate.

use crate::telemetry::FGauge;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// `{protocol}` (udp | tcp).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProtocolLabels {
    /// udp or tcp.
    pub protocol: String,
}

/// The network actions' series; cheap to clone.
#[derive(Clone, Default)]
pub struct NetworkMetrics {
    /// `jolt_network_sent_bytes_total{protocol}`.
    pub sent: Family<ProtocolLabels, Counter>,
    /// `jolt_network_received_bytes_total{protocol}`: what jolt's sink took in.
    pub received: Family<ProtocolLabels, Counter>,
    /// `jolt_network_target_bytes_per_second` (base units: bytes, as promtool asks).
    pub target: FGauge,
}

impl NetworkMetrics {
    /// Creates and registers them, both protocols at 0 so `rate()` works from the start.
    pub fn register(r: &mut Registry) -> Self {
        let m = NetworkMetrics::default();
        r.register(
            "jolt_network_sent_bytes",
            "Bytes sent by network actions",
            m.sent.clone(),
        );
        r.register(
            "jolt_network_received_bytes",
            "Bytes received by jolt's network sink",
            m.received.clone(),
        );
        r.register(
            "jolt_network_target_bytes_per_second",
            "Byte rate the network actions aim for",
            m.target.clone(),
        );
        for protocol in ["udp", "tcp"] {
            let labels = ProtocolLabels {
                protocol: protocol.into(),
            };
            let _ = m.sent.get_or_create(&labels);
            let _ = m.received.get_or_create(&labels);
        }
        m
    }
}
