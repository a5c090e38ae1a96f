//! The traffic kind's series: the aimed rate, requests by target and code, their latency
//! and what could not be sent on schedule.

use crate::telemetry::{FGauge, LATENCY_BUCKETS};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// `{target,code}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TrafficLabels {
    /// Service name or allowlisted host:port.
    pub target: String,
    /// HTTP status code, or `error` when no response came.
    pub code: String,
}

/// The traffic actions' series; cheap to clone.
#[derive(Clone)]
pub struct TrafficMetrics {
    /// `jolt_traffic_target_requests_per_second`.
    pub target: FGauge,
    /// `jolt_traffic_requests_total{target,code}`.
    pub requests: Family<TrafficLabels, Counter>,
    /// `jolt_traffic_request_duration_seconds`, measured from when each request was due.
    pub duration: Histogram,
    /// `jolt_traffic_dropped_total`: requests not sent because the schedule fell behind.
    pub dropped: Counter,
}

impl TrafficMetrics {
    /// Creates and registers them.
    pub fn register(r: &mut Registry) -> Self {
        let m = TrafficMetrics {
            target: FGauge::default(),
            requests: Family::default(),
            duration: Histogram::new(LATENCY_BUCKETS),
            dropped: Counter::default(),
        };
        r.register(
            "jolt_traffic_target_requests_per_second",
            "Request rate the traffic actions aim for",
            m.target.clone(),
        );
        r.register(
            "jolt_traffic_requests",
            "Requests sent by traffic actions, by target and code",
            m.requests.clone(),
        );
        r.register(
            "jolt_traffic_request_duration_seconds",
            "Latency of traffic requests, from when each was due",
            m.duration.clone(),
        );
        r.register(
            "jolt_traffic_dropped",
            "Traffic requests not sent on schedule",
            m.dropped.clone(),
        );
        m
    }
}
