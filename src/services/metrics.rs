//! RED metrics of the simulated services. The families are registered once; each service
//! keeps clones of its own series so the request path never looks a label set up.

use crate::telemetry::{FGauge, LATENCY_BUCKETS};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// `{service}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ServiceLabels {
    service: String,
}

/// `{service,code}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CodeLabels {
    service: String,
    code: String,
}

type HistogramFamily = Family<ServiceLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The registered families, from which each service takes its series.
pub struct ServiceFamilies {
    requests: Family<CodeLabels, Counter>,
    duration: HistogramFamily,
    up: Family<ServiceLabels, Gauge>,
    heartbeat: Family<ServiceLabels, FGauge>,
    in_flight: Family<ServiceLabels, Gauge>,
    queued: Family<ServiceLabels, Gauge>,
    capacity: Family<ServiceLabels, Gauge>,
    slow: Family<ServiceLabels, Counter>,
    objective_latency: Family<ServiceLabels, FGauge>,
    objective_errors: Family<ServiceLabels, FGauge>,
}

/// One service's series.
#[derive(Clone)]
pub struct ServiceSeries {
    /// `code="200"`.
    pub ok: Counter,
    /// `code="500"`: errors, from the base ratio or a fault.
    pub failed: Counter,
    /// `code="503"`: answered while down.
    pub unavailable: Counter,
    /// Time from arrival to answer, queueing included.
    pub duration: Histogram,
    /// 1 while up, 0 while a fault holds it down.
    pub up: Gauge,
    /// Unix time of the last heartbeat; stops moving while down.
    pub heartbeat: FGauge,
    /// Requests being served now.
    pub in_flight: Gauge,
    /// Requests waiting for capacity now.
    pub queued: Gauge,
    /// Requests it serves at once now (faults may scale it).
    pub capacity: Gauge,
    /// Requests answered slower than the latency objective: the share of them is exact where a
    /// p99 from the histogram's buckets is an interpolation.
    pub slow: Counter,
    /// The p99 latency objective, in seconds.
    pub objective_latency: FGauge,
    /// The error-ratio objective.
    pub objective_errors: FGauge,
}

impl ServiceFamilies {
    /// Creates and registers the families.
    pub fn register(r: &mut Registry) -> Self {
        let f = ServiceFamilies {
            requests: Family::default(),
            duration: Family::new_with_constructor(latency_histogram as fn() -> Histogram),
            up: Family::default(),
            heartbeat: Family::default(),
            in_flight: Family::default(),
            queued: Family::default(),
            capacity: Family::default(),
            slow: Family::default(),
            objective_latency: Family::default(),
            objective_errors: Family::default(),
        };
        r.register(
            "jolt_service_requests",
            "Requests answered by simulated services, by service and status code",
            f.requests.clone(),
        );
        r.register(
            "jolt_service_request_duration_seconds",
            "Time simulated services take to answer, queueing included",
            f.duration.clone(),
        );
        r.register(
            "jolt_service_up",
            "1 while a simulated service is up, 0 while a fault holds it down",
            f.up.clone(),
        );
        r.register(
            "jolt_service_heartbeat_timestamp_seconds",
            "Unix time of a simulated service's last heartbeat (every second while up)",
            f.heartbeat.clone(),
        );
        r.register(
            "jolt_service_in_flight_requests",
            "Requests a simulated service is serving now",
            f.in_flight.clone(),
        );
        r.register(
            "jolt_service_queued_requests",
            "Requests waiting for a simulated service's capacity now",
            f.queued.clone(),
        );
        r.register(
            "jolt_service_capacity_requests",
            "Requests a simulated service serves at once (faults may scale it)",
            f.capacity.clone(),
        );
        r.register(
            "jolt_service_slow_requests",
            "Requests a simulated service answered slower than its latency objective",
            f.slow.clone(),
        );
        r.register(
            "jolt_service_objective_latency_seconds",
            "p99 latency objective of a simulated service (catalog slo, or derived from its median and spread)",
            f.objective_latency.clone(),
        );
        r.register(
            "jolt_service_objective_error_ratio",
            "Error-ratio objective of a simulated service (catalog slo, or derived from its base error ratio)",
            f.objective_errors.clone(),
        );
        f
    }

    /// The series of `service`, created at zero so `rate()` works from the first scrape.
    pub fn series(&self, service: &str) -> ServiceSeries {
        let code = |c: &str| {
            self.requests
                .get_or_create(&CodeLabels {
                    service: service.into(),
                    code: c.into(),
                })
                .clone()
        };
        let l = ServiceLabels {
            service: service.into(),
        };
        ServiceSeries {
            ok: code("200"),
            failed: code("500"),
            unavailable: code("503"),
            duration: self.duration.get_or_create(&l).clone(),
            up: self.up.get_or_create(&l).clone(),
            heartbeat: self.heartbeat.get_or_create(&l).clone(),
            in_flight: self.in_flight.get_or_create(&l).clone(),
            queued: self.queued.get_or_create(&l).clone(),
            capacity: self.capacity.get_or_create(&l).clone(),
            slow: self.slow.get_or_create(&l).clone(),
            objective_latency: self.objective_latency.get_or_create(&l).clone(),
            objective_errors: self.objective_errors.get_or_create(&l).clone(),
        }
    }
}
