//! The live metrics of actions: engine-wide families and each kind's target and achieved
//! figures. Registered once at start; series labelled with an action id are removed when the
//! action ends so dashboards only show what is running.

use super::Kind;
use crate::telemetry::{FGauge, LATENCY_BUCKETS};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// `{kind}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// Action kind.
    pub kind: String,
}

/// `{kind,outcome}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// Action kind.
    pub kind: String,
    /// completed | stopped | failed.
    pub outcome: String,
}

/// `{id,kind,run}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InfoLabels {
    /// Action id.
    pub id: String,
    /// Action kind.
    pub kind: String,
    /// Scenario run id, or empty.
    pub run: String,
}

/// `{id,kind}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IdLabels {
    /// Action id.
    pub id: String,
    /// Action kind.
    pub kind: String,
}

/// `{op}` (read | write).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OpLabels {
    /// read or write.
    pub op: String,
}

/// `{target,code}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TrafficLabels {
    /// Service name or allowlisted host:port.
    pub target: String,
    /// HTTP status code, or `error` when no response came.
    pub code: String,
}

/// `{protocol}` (udp | tcp).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ProtocolLabels {
    /// udp or tcp.
    pub protocol: String,
}

/// Every action metric; cheap to clone (all handles are `Arc`s inside).
#[derive(Clone)]
pub struct ActionMetrics {
    /// `jolt_actions_active{kind}`.
    pub active: Family<KindLabels, Gauge>,
    /// `jolt_actions_started_total{kind}`.
    pub started: Family<KindLabels, Counter>,
    /// `jolt_actions_finished_total{kind,outcome}`.
    pub finished: Family<OutcomeLabels, Counter>,
    /// `jolt_action_info{id,kind,run}`.
    pub info: Family<InfoLabels, Gauge>,
    /// `jolt_action_progress_ratio{id,kind}`.
    pub progress: Family<IdLabels, FGauge>,
    /// `jolt_cpu_load_target_ratio`: the host busy ratio cpu actions aim for (0 when none).
    pub cpu_target: FGauge,
    /// `jolt_cpu_load_achieved_ratio`: host busy ratio measured by the cpu controller.
    pub cpu_achieved: FGauge,
    /// `jolt_memory_held_bytes`: resident bytes held by memory actions.
    pub memory_held: Gauge,
    /// `jolt_memory_target_bytes`: bytes memory actions aim to hold.
    pub memory_target: Gauge,
    /// `jolt_disk_operations_total{op}`.
    pub disk_ops: Family<OpLabels, Counter>,
    /// `jolt_disk_bytes_total{op}`.
    pub disk_bytes: Family<OpLabels, Counter>,
    /// `jolt_traffic_target_requests_per_second`.
    pub traffic_target: FGauge,
    /// `jolt_traffic_requests_total{target,code}`.
    pub traffic_requests: Family<TrafficLabels, Counter>,
    /// `jolt_traffic_request_duration_seconds`, measured from when each request was due.
    pub traffic_duration: Histogram,
    /// `jolt_traffic_dropped_total`: requests not sent on time (in-flight cap reached).
    pub traffic_dropped: Counter,
    /// `jolt_network_sent_bytes_total{protocol}`.
    pub network_sent: Family<ProtocolLabels, Counter>,
    /// `jolt_network_received_bytes_total{protocol}`: what jolt's own sink received.
    pub network_received: Family<ProtocolLabels, Counter>,
    /// `jolt_network_target_bytes_per_second` (base units: bytes, as promtool asks).
    pub network_target: FGauge,
}

impl ActionMetrics {
    /// Creates and registers every family; counters of every kind start at 0 so `rate()` works
    /// from the first scrape.
    pub fn new(r: &mut Registry) -> Self {
        let m = ActionMetrics {
            active: Family::default(),
            started: Family::default(),
            finished: Family::default(),
            info: Family::default(),
            progress: Family::default(),
            cpu_target: FGauge::default(),
            cpu_achieved: FGauge::default(),
            memory_held: Gauge::default(),
            memory_target: Gauge::default(),
            disk_ops: Family::default(),
            disk_bytes: Family::default(),
            traffic_target: FGauge::default(),
            traffic_requests: Family::default(),
            traffic_duration: Histogram::new(LATENCY_BUCKETS),
            traffic_dropped: Counter::default(),
            network_sent: Family::default(),
            network_received: Family::default(),
            network_target: FGauge::default(),
        };
        r.register(
            "jolt_actions_active",
            "Actions running now, by kind",
            m.active.clone(),
        );
        r.register(
            "jolt_actions_started",
            "Actions started, by kind",
            m.started.clone(),
        );
        r.register(
            "jolt_actions_finished",
            "Actions ended, by kind and outcome",
            m.finished.clone(),
        );
        r.register(
            "jolt_action_info",
            "1 while an action runs (drawn as annotations)",
            m.info.clone(),
        );
        r.register(
            "jolt_action_progress_ratio",
            "Progress of a running action, 0 to 1",
            m.progress.clone(),
        );
        r.register(
            "jolt_cpu_load_target_ratio",
            "Host busy ratio the cpu actions aim for",
            m.cpu_target.clone(),
        );
        r.register(
            "jolt_cpu_load_achieved_ratio",
            "Host busy ratio measured by the cpu controller",
            m.cpu_achieved.clone(),
        );
        r.register(
            "jolt_memory_held_bytes",
            "Resident bytes held by memory actions",
            m.memory_held.clone(),
        );
        r.register(
            "jolt_memory_target_bytes",
            "Bytes memory actions aim to hold",
            m.memory_target.clone(),
        );
        r.register(
            "jolt_disk_operations",
            "Disk operations done by disk actions",
            m.disk_ops.clone(),
        );
        r.register(
            "jolt_disk_bytes",
            "Bytes read and written by disk actions",
            m.disk_bytes.clone(),
        );
        r.register(
            "jolt_traffic_target_requests_per_second",
            "Request rate the traffic actions aim for",
            m.traffic_target.clone(),
        );
        r.register(
            "jolt_traffic_requests",
            "Requests sent by traffic actions, by target and code",
            m.traffic_requests.clone(),
        );
        r.register(
            "jolt_traffic_request_duration_seconds",
            "Latency of traffic requests, from when each was due",
            m.traffic_duration.clone(),
        );
        r.register(
            "jolt_traffic_dropped",
            "Traffic requests not sent on schedule",
            m.traffic_dropped.clone(),
        );
        r.register(
            "jolt_network_sent_bytes",
            "Bytes sent by network actions",
            m.network_sent.clone(),
        );
        r.register(
            "jolt_network_received_bytes",
            "Bytes received by jolt's network sink",
            m.network_received.clone(),
        );
        r.register(
            "jolt_network_target_bytes_per_second",
            "Byte rate the network actions aim for",
            m.network_target.clone(),
        );
        for kind in Kind::ALL {
            let k = KindLabels {
                kind: kind.as_str().into(),
            };
            let _ = m.active.get_or_create(&k);
            let _ = m.started.get_or_create(&k);
            for outcome in ["completed", "stopped", "failed"] {
                let _ = m.finished.get_or_create(&OutcomeLabels {
                    kind: k.kind.clone(),
                    outcome: outcome.into(),
                });
            }
        }
        for op in ["read", "write"] {
            let _ = m.disk_ops.get_or_create(&OpLabels { op: op.into() });
            let _ = m.disk_bytes.get_or_create(&OpLabels { op: op.into() });
        }
        for protocol in ["udp", "tcp"] {
            let _ = m.network_sent.get_or_create(&ProtocolLabels {
                protocol: protocol.into(),
            });
            let _ = m.network_received.get_or_create(&ProtocolLabels {
                protocol: protocol.into(),
            });
        }
        m
    }
}
