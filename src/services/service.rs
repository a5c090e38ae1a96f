//! One simulated service: a log-normal service time, a base error ratio, a capacity beyond
//! which requests queue, and the faults currently applied to it.
//!
//! Faults combine: latencies add up, error rates combine as independent failures
//! (1 − Π(1 − eᵢ)), any `down` takes it down, capacity factors multiply. The combined effect
//! lives in atomics so the request path reads it without a lock.

use super::config::ServiceSpec;
use super::metrics::ServiceSeries;
use crate::telemetry::GaugeShare;
use axum::body::Bytes;
use axum::http::StatusCode;
use prometheus_client::metrics::gauge::Gauge;
use rand::Rng;
use rand_distr::{Distribution, LogNormal};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Semaphore;

/// Permits per unit of capacity. A request takes `SCALE / factor` permits, so a capacity
/// factor from a fault changes how many requests fit at once without resizing the semaphore
/// (tokio's semaphore cannot shrink while permits are out).
const SCALE: u32 = 1000;

/// What a fault does to a service; see the module docs for how several combine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fault {
    /// Added to every answered request, outside the capacity (a slow dependency).
    pub latency: Duration,
    /// Share of requests answered with 500, 0..1.
    pub error_rate: f64,
    /// Refuse every request with 503 and stop the heartbeat.
    pub down: bool,
    /// Multiplies the capacity (2.0 = scaled out to twice the instances).
    pub capacity: f64,
}

/// Removes its fault from the service when dropped (the service heals).
pub struct FaultGuard {
    service: Arc<Service>,
    id: u64,
}

impl Drop for FaultGuard {
    fn drop(&mut self) {
        let mut faults = self.service.faults.lock().expect("faults poisoned");
        faults.retain(|(id, _)| *id != self.id);
        self.service.recompute(&faults);
    }
}

/// The combined effect of the applied faults, read on every request.
struct Effect {
    extra_latency_ns: AtomicU64,
    error_ratio_bits: AtomicU64,
    down: AtomicBool,
    weight: AtomicU32,
    capacity_factor_bits: AtomicU64,
}

/// A simulated service.
pub struct Service {
    /// The name in `/svc/{name}` and in the `service` label.
    pub name: String,
    /// Its healthy behaviour.
    pub spec: ServiceSpec,
    latency: LogNormal<f64>,
    /// Capacity × SCALE permits; a request holds `weight` of them while it is served.
    gate: Semaphore,
    faults: Mutex<Vec<(u64, Fault)>>,
    next_fault: AtomicU64,
    effect: Effect,
    series: ServiceSeries,
    /// Answers slower than this count in `jolt_service_slow_requests_total`.
    objective_latency: f64,
    ok_body: Bytes,
    failed_body: Bytes,
    down_body: Bytes,
}

/// One request's share of a gauge (queued, in flight), given back when dropped so a client
/// hanging up mid-request keeps it right.
fn held(g: &Gauge) -> GaugeShare<&Gauge> {
    GaugeShare::with(g, 1)
}

impl Service {
    /// A healthy service with its series at their starting values.
    pub fn new(name: &str, spec: ServiceSpec, series: ServiceSeries) -> Arc<Service> {
        let median = spec.latency.0.as_secs_f64().max(1e-6);
        let latency = LogNormal::new(median.ln(), spec.spread).expect("validated spread");
        let body = |v: serde_json::Value| Bytes::from(format!("{v}\n"));
        let objective = spec.objective();
        series
            .objective_latency
            .set(objective.latency.as_secs_f64());
        series.objective_errors.set(objective.error_ratio);
        let s = Arc::new(Service {
            objective_latency: objective.latency.as_secs_f64(),
            name: name.to_string(),
            latency,
            gate: Semaphore::new(spec.capacity as usize * SCALE as usize),
            faults: Mutex::new(Vec::new()),
            next_fault: AtomicU64::new(1),
            effect: Effect {
                extra_latency_ns: AtomicU64::new(0),
                error_ratio_bits: AtomicU64::new(spec.error_ratio.to_bits()),
                down: AtomicBool::new(false),
                weight: AtomicU32::new(SCALE),
                capacity_factor_bits: AtomicU64::new(1f64.to_bits()),
            },
            ok_body: body(json!({ "service": name, "ok": true })),
            failed_body: body(json!({
                "error": "internal",
                "message": format!("simulated failure in service {name}"),
                "field": null
            })),
            down_body: body(json!({
                "error": "unavailable",
                "message": format!("service {name} is down (fault injected)"),
                "field": null
            })),
            spec,
            series,
        });
        s.series.up.set(1);
        s.series.capacity.set(i64::from(s.spec.capacity));
        s.beat();
        s
    }

    /// Answers one request: queue for capacity, take the service time, maybe fail.
    pub async fn serve(&self) -> (StatusCode, Bytes) {
        let arrived = Instant::now();
        let e = &self.effect;
        let status = if e.down.load(Relaxed) {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            let service_time = self.latency.sample(&mut rand::rng());
            {
                let queued = held(&self.series.queued);
                let permit = self
                    .gate
                    .acquire_many(e.weight.load(Relaxed))
                    .await
                    .expect("the gate is never closed");
                drop(queued);
                let _busy = held(&self.series.in_flight);
                tokio::time::sleep(Duration::from_secs_f64(service_time)).await;
                drop(permit);
            }
            let extra = e.extra_latency_ns.load(Relaxed);
            if extra > 0 {
                tokio::time::sleep(Duration::from_nanos(extra)).await;
            }
            let error_ratio = f64::from_bits(e.error_ratio_bits.load(Relaxed));
            if e.down.load(Relaxed) {
                StatusCode::SERVICE_UNAVAILABLE
            } else if error_ratio > 0.0 && rand::rng().random::<f64>() < error_ratio {
                StatusCode::INTERNAL_SERVER_ERROR
            } else {
                StatusCode::OK
            }
        };
        let took = arrived.elapsed().as_secs_f64();
        self.series.duration.observe(took);
        if took > self.objective_latency {
            self.series.slow.inc();
        }
        let (counter, body) = match status {
            StatusCode::OK => (&self.series.ok, &self.ok_body),
            StatusCode::INTERNAL_SERVER_ERROR => (&self.series.failed, &self.failed_body),
            _ => (&self.series.unavailable, &self.down_body),
        };
        counter.inc();
        (status, body.clone())
    }

    /// Applies a fault until the guard is dropped.
    pub fn apply(self: &Arc<Self>, fault: Fault) -> FaultGuard {
        let id = self.next_fault.fetch_add(1, Relaxed);
        let mut faults = self.faults.lock().expect("faults poisoned");
        faults.push((id, fault));
        self.recompute(&faults);
        FaultGuard {
            service: self.clone(),
            id,
        }
    }

    fn recompute(&self, faults: &[(u64, Fault)]) {
        let latency: Duration = faults.iter().map(|(_, f)| f.latency).sum();
        let healthy = faults
            .iter()
            .fold(1.0 - self.spec.error_ratio, |ok, (_, f)| {
                ok * (1.0 - f.error_rate)
            });
        let down = faults.iter().any(|(_, f)| f.down);
        let factor: f64 = faults.iter().map(|(_, f)| f.capacity).product();
        let total = self.spec.capacity.saturating_mul(SCALE);
        let weight = (f64::from(SCALE) / factor)
            .ceil()
            .clamp(1.0, f64::from(total)) as u32;
        let e = &self.effect;
        e.extra_latency_ns
            .store(latency.as_nanos().min(u128::from(u64::MAX)) as u64, Relaxed);
        e.error_ratio_bits
            .store((1.0 - healthy).clamp(0.0, 1.0).to_bits(), Relaxed);
        e.weight.store(weight, Relaxed);
        e.capacity_factor_bits.store(factor.to_bits(), Relaxed);
        let was_down = e.down.swap(down, Relaxed);
        self.series.up.set(i64::from(!down));
        self.series.capacity.set(i64::from(total / weight));
        if was_down && !down {
            // The heartbeat resumes at once rather than at the next tick.
            self.beat();
        }
    }

    /// Records a heartbeat unless the service is down.
    pub fn beat(&self) {
        if !self.effect.down.load(Relaxed) {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default();
            self.series.heartbeat.set(now.as_secs_f64());
        }
    }

    /// True unless a fault holds it down.
    pub fn is_up(&self) -> bool {
        !self.effect.down.load(Relaxed)
    }

    /// The combined effect now, as fault actions report it.
    pub fn condition(&self) -> serde_json::Value {
        let e = &self.effect;
        json!({
            "up": self.is_up(),
            "added_latency_seconds": Duration::from_nanos(e.extra_latency_ns.load(Relaxed)).as_secs_f64(),
            "error_ratio": f64::from_bits(e.error_ratio_bits.load(Relaxed)),
            "capacity_factor": f64::from_bits(e.capacity_factor_bits.load(Relaxed)),
            "capacity": self.series.capacity.get(),
        })
    }

    /// Requests answered so far, and how many of them were errors (500 or 503).
    pub fn counts(&self) -> (u64, u64) {
        let s = &self.series;
        let errors = s.failed.get() + s.unavailable.get();
        (s.ok.get() + errors, errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::services::SloSpec;
    use crate::services::metrics::ServiceFamilies;
    use crate::units::HumanDuration;

    fn service(spec: ServiceSpec) -> Arc<Service> {
        let fams = ServiceFamilies::register(&mut Default::default());
        Service::new("t", spec, fams.series("t"))
    }

    fn fault() -> Fault {
        Fault {
            latency: Duration::ZERO,
            error_rate: 0.0,
            down: false,
            capacity: 1.0,
        }
    }

    #[test]
    fn faults_combine_and_heal() {
        let s = service(ServiceSpec {
            error_ratio: 0.0,
            capacity: 10,
            ..Default::default()
        });
        let a = s.apply(Fault {
            latency: Duration::from_millis(100),
            error_rate: 0.5,
            ..fault()
        });
        let b = s.apply(Fault {
            latency: Duration::from_millis(50),
            error_rate: 0.5,
            capacity: 2.0,
            ..fault()
        });
        let c = s.condition();
        assert_eq!(c["added_latency_seconds"], 0.15);
        assert_eq!(c["error_ratio"], 0.75);
        assert_eq!(c["capacity"], 20);
        let d = s.apply(Fault {
            down: true,
            ..fault()
        });
        assert!(!s.is_up());
        assert_eq!(s.series.up.get(), 0);
        drop(d);
        assert!(s.is_up());
        drop((a, b));
        let c = s.condition();
        assert_eq!(c["added_latency_seconds"], 0.0);
        assert_eq!(c["error_ratio"], 0.0);
        assert_eq!(c["capacity"], 10);
    }

    #[tokio::test(start_paused = true)]
    async fn down_refuses_and_errors_count() {
        let s = service(ServiceSpec {
            error_ratio: 0.0,
            ..Default::default()
        });
        assert_eq!(s.serve().await.0, StatusCode::OK);
        let g = s.apply(Fault {
            down: true,
            ..fault()
        });
        assert_eq!(s.serve().await.0, StatusCode::SERVICE_UNAVAILABLE);
        drop(g);
        let g = s.apply(Fault {
            error_rate: 1.0,
            ..fault()
        });
        assert_eq!(s.serve().await.0, StatusCode::INTERNAL_SERVER_ERROR);
        drop(g);
        assert_eq!(s.counts(), (3, 2));
    }

    /// Real time: the duration is measured with the std clock, as in production.
    #[tokio::test]
    async fn answers_slower_than_the_objective_count_as_slow() {
        let s = service(ServiceSpec {
            latency: HumanDuration(Duration::from_millis(1)),
            spread: 0.0,
            error_ratio: 0.0,
            slo: SloSpec {
                latency: Some(HumanDuration(Duration::from_millis(30))),
                error_ratio: None,
            },
            ..Default::default()
        });
        assert_eq!(s.series.objective_latency.get(), 0.03);
        s.serve().await;
        assert_eq!(s.series.slow.get(), 0);
        let _slow = s.apply(Fault {
            latency: Duration::from_millis(40),
            ..fault()
        });
        s.serve().await;
        assert_eq!(s.series.slow.get(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn requests_beyond_capacity_queue() {
        let s = service(ServiceSpec {
            latency: crate::units::HumanDuration(Duration::from_millis(100)),
            spread: 0.0,
            error_ratio: 0.0,
            capacity: 2,
            ..Default::default()
        });
        let start = tokio::time::Instant::now();
        let all = tokio::join!(s.serve(), s.serve(), s.serve(), s.serve());
        assert!(
            [all.0, all.1, all.2, all.3]
                .iter()
                .all(|(c, _)| *c == StatusCode::OK)
        );
        // Two at a time: the second pair waits for the first.
        assert_eq!(start.elapsed(), Duration::from_millis(200));
    }
}
