//! What runs behind the services all the time: a heartbeat per service, and the baseline
//! traffic that keeps their RED metrics alive before anyone triggers anything.

use super::service::Service;
use rand_distr::{Distribution, Exp};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Baseline requests outstanding per service beyond which new ones are skipped, so a service
/// held very slow by a fault cannot pile up background requests without bound.
const BASELINE_MAX_IN_FLIGHT: usize = 256;

/// Beats every second while the service is up (a down service's timestamp stops moving).
pub async fn heartbeat(service: Arc<Service>, token: CancellationToken) {
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = token.cancelled() => return,
            _ = tick.tick() => service.beat(),
        }
    }
}

/// Serves requests at `rps` on average with Poisson arrivals, in process (no sockets): they
/// show in the service's RED metrics exactly like requests from outside.
pub async fn baseline(service: Arc<Service>, rps: f64, token: CancellationToken) {
    let Ok(gap) = Exp::new(rps) else { return };
    let mut in_flight = JoinSet::new();
    loop {
        let wait = Duration::from_secs_f64(gap.sample(&mut rand::rng()));
        tokio::select! {
            // Dropping the set aborts the requests still being served.
            _ = token.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        while in_flight.try_join_next().is_some() {}
        if in_flight.len() < BASELINE_MAX_IN_FLIGHT {
            let s = service.clone();
            in_flight.spawn(async move { s.serve().await });
        }
    }
}
