//! `traffic`: HTTP requests at a rate against a simulated service, the built-in echo route,
//! or an allowlisted peer.
//!
//! Open model: request i is due at start + i/rps whatever the latency; one producer releases
//! due requests into a bounded backlog and connection workers send them. Latency counts from
//! the due time (no coordinated omission); requests that find the backlog full are dropped
//! and counted.

mod http1;
pub mod metrics;
mod producer;
mod schedule;
mod stats;
mod target;
mod worker;

use super::kinds::ActionKind;
use super::ranges::Range;
use super::{Env, RunCtx, check_timing, in_range, ranges};
use crate::actions::ActionError;
use crate::units::{Given, HumanDuration};
use serde::{Deserialize, Serialize};
use std::time::Duration;

pub use target::{ECHO, Target};

/// Parameters of a traffic action.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrafficParams {
    /// Requests per second (at the end of the ramp, if any).
    pub rps: f64,
    /// How long to send.
    pub duration: Given<HumanDuration>,
    /// A simulated service name, `echo`, or an allowlisted `host:port`.
    pub target: String,
    /// Rate at the start of a linear ramp to `rps`; none = constant rate.
    pub ramp_from: Option<f64>,
    /// Requests in flight at most (one connection each); beyond it requests wait in a
    /// backlog of about a second's worth, and beyond that they are dropped and counted.
    pub max_in_flight: usize,
    /// A request without a response after this long counts as an error (`code="error"`).
    pub timeout: Given<HumanDuration>,
}

impl Default for TrafficParams {
    fn default() -> Self {
        TrafficParams {
            rps: 1000.0,
            duration: HumanDuration(Duration::from_secs(30)).into(),
            target: "auth".into(),
            ramp_from: None,
            max_in_flight: 1000,
            timeout: HumanDuration(Duration::from_secs(10)).into(),
        }
    }
}

impl ActionKind for TrafficParams {
    type Metrics = metrics::TrafficMetrics;

    fn metrics(registry: &mut prometheus_client::registry::Registry) -> Self::Metrics {
        metrics::TrafficMetrics::register(registry)
    }

    const RANGES: &'static [Range] = &[
        ranges::TRAFFIC_RPS,
        ranges::TRAFFIC_RAMP_FROM,
        ranges::TRAFFIC_MAX_IN_FLIGHT,
    ];
    /// Range and safety checks; the target must be one of jolt's or allowlisted.
    fn validate(&mut self, env: &Env) -> Result<(), ActionError> {
        in_range("duration", &self.duration)?;
        in_range("timeout", &self.timeout)?;
        ranges::TRAFFIC_RPS.check(self.rps)?;
        if let Some(from) = self.ramp_from {
            ranges::TRAFFIC_RAMP_FROM.check(from)?;
        }
        check_timing(*self.duration, None)?;
        ranges::TRAFFIC_MAX_IN_FLIGHT.check(self.max_in_flight as f64)?;
        if self.timeout.0 < Duration::from_millis(1) {
            return Err(ActionError::invalid(
                "timeout",
                "timeout must be at least 1ms",
            ));
        }
        Target::resolve(&self.target, env)?;
        Ok(())
    }

    /// Runs for `duration`.
    fn duration(&self) -> Option<Duration> {
        Some(self.duration.0)
    }

    fn timing(&mut self) -> Vec<&mut Given<HumanDuration>> {
        vec![&mut self.duration]
    }

    async fn run(self, ctx: RunCtx) -> Result<(), String> {
        run(self, ctx).await
    }
}

/// Produces the load.
pub async fn run(p: TrafficParams, ctx: RunCtx) -> Result<(), String> {
    producer::run(p, ctx).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::Params;
    use crate::actions::traffic::metrics::TrafficLabels;
    use crate::services::testing::TestBed;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pause_stops_sending_without_dropping_and_resume_goes_on() {
        let bed = TestBed::start("catalog: {cart: {latency: 1ms}}").await;
        let params = Params::Traffic(TrafficParams {
            rps: 200.0,
            duration: HumanDuration(Duration::from_secs(20)).into(),
            target: ECHO.into(),
            ..Default::default()
        });
        let id = bed
            .engine
            .start(params, Some("run-1".into()), None)
            .unwrap()
            .id;
        let m = bed.engine.env().metrics.clone();
        let ok = m
            .kinds
            .traffic
            .requests
            .get_or_create(&TrafficLabels {
                target: ECHO.into(),
                code: "200".into(),
            })
            .clone();
        let until_more_than = |n: u64| {
            let ok = ok.clone();
            async move {
                for _ in 0..300 {
                    if ok.get() > n {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                panic!("no requests beyond {n}");
            }
        };
        until_more_than(10).await;
        bed.engine.set_paused(&id, true).unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
        let paused_at = ok.get();
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert_eq!(ok.get(), paused_at, "nothing sent while paused");
        bed.engine.set_paused(&id, false).unwrap();
        until_more_than(paused_at + 10).await;
        assert_eq!(
            m.kinds.traffic.dropped.get(),
            0,
            "paused time is not counted as dropped"
        );
        let view = bed.engine.stop(&id).await.unwrap();
        assert_eq!(view.achieved["dropped"], 0, "{:?}", view.achieved);
    }
}
