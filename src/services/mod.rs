//! The simulated services that traffic actions hit and fault actions make sick.
//!
//! Each service answers `/svc/{name}/...` on the services listener with a log-normal service
//! time, a base error ratio and a capacity beyond which requests queue, and exports RED
//! metrics and a heartbeat. jolt keeps no HEALTHY/DEGRADED judgement: Prometheus rules derive
//! it from these metrics.

mod background;
mod config;
mod metrics;
mod objective;
mod routes;
mod service;
#[cfg(test)]
pub(crate) mod testing;

pub use config::{ServiceSpec, ServicesArgs, ServicesConfig};
pub use objective::{Objective, SloSpec};
pub use routes::router;
pub use service::{Fault, FaultGuard, Service};

use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// The configured services; cheap to clone.
#[derive(Clone)]
pub struct Services {
    /// By name, in name order.
    by_name: Arc<BTreeMap<String, Arc<Service>>>,
    /// Background requests per second per service.
    baseline_rps: f64,
}

impl Services {
    /// Creates every configured service and registers their metrics.
    pub fn register(cfg: &ServicesConfig, registry: &mut Registry) -> Services {
        let families = metrics::ServiceFamilies::register(registry);
        let by_name = cfg
            .catalog
            .iter()
            .map(|(name, spec)| {
                let svc = Service::new(name, spec.clone(), families.series(name));
                (name.clone(), svc)
            })
            .collect();
        Services {
            by_name: Arc::new(by_name),
            baseline_rps: cfg.baseline_rps,
        }
    }

    /// Starts each service's heartbeat and baseline traffic, stopped by `token`.
    pub fn spawn(&self, tasks: &TaskTracker, token: &CancellationToken) {
        for svc in self.by_name.values() {
            tasks.spawn(background::heartbeat(svc.clone(), token.clone()));
            if self.baseline_rps > 0.0 {
                tasks.spawn(background::baseline(
                    svc.clone(),
                    self.baseline_rps,
                    token.clone(),
                ));
            }
        }
    }

    /// A service by name.
    pub fn get(&self, name: &str) -> Option<&Arc<Service>> {
        self.by_name.get(name)
    }

    /// Every service name, sorted.
    pub fn names(&self) -> Vec<&str> {
        self.by_name.keys().map(String::as_str).collect()
    }
}
