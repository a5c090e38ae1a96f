//! `fault`: extra latency, errors, downtime or a capacity change in one simulated service,
//! healed when it ends, is stopped or its run is paused (and re-applied on resume).

use super::kinds::ActionKind;
use super::pacer::Pacer;
use super::ranges::{self, Range};
use super::{Env, RunCtx, check_timing, in_range};
use crate::actions::ActionError;
use crate::services::Fault;
use crate::units::{Given, HumanDuration};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;
use tokio::time::Instant;

/// The largest latency a fault may add.
const MAX_LATENCY: Duration = Duration::from_secs(super::ranges::MAX_LATENCY_SECS);
/// How often `achieved` is refreshed.
const REPORT_EVERY: Duration = Duration::from_millis(250);

/// Parameters of a fault action.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultParams {
    /// The simulated service to make sick (required).
    pub service: String,
    /// Latency added to every request.
    pub latency: Given<HumanDuration>,
    /// Share of requests answered with 500, 0..1.
    pub error_rate: f64,
    /// Take the service down: heartbeat stops, requests get 503.
    pub down: bool,
    /// How long the fault lasts.
    pub duration: Given<HumanDuration>,
    /// Multiplies the service's capacity: 2.0 models scaling out to twice the instances
    /// (the same load queues less), 0.5 losing half of them.
    pub capacity: f64,
}

impl Default for FaultParams {
    fn default() -> Self {
        FaultParams {
            service: String::new(),
            latency: HumanDuration(Duration::ZERO).into(),
            error_rate: 0.0,
            down: false,
            duration: HumanDuration(Duration::from_secs(60)).into(),
            capacity: 1.0,
        }
    }
}

impl ActionKind for FaultParams {
    /// Faults change a simulated service: its own series show them.
    type Metrics = ();

    fn metrics(_: &mut prometheus_client::registry::Registry) {}

    const RANGES: &'static [Range] = &[ranges::FAULT_ERROR_RATE, ranges::FAULT_CAPACITY];
    /// Range checks; the service must exist.
    fn validate(&mut self, env: &Env) -> Result<(), ActionError> {
        in_range("latency", &self.latency)?;
        in_range("duration", &self.duration)?;
        let known = env.services.names().join(", ");
        if self.service.is_empty() {
            return Err(ActionError::invalid(
                "service",
                format!("service is required, e.g. {{\"service\": \"payment\"}} (known: {known})"),
            ));
        }
        if env.services.get(&self.service).is_none() {
            return Err(ActionError::invalid(
                "service",
                format!("no simulated service `{}` (known: {known})", self.service),
            ));
        }
        if self.latency.0 > MAX_LATENCY {
            return Err(ActionError::invalid(
                "latency",
                format!("latency must be at most {}", HumanDuration(MAX_LATENCY)),
            ));
        }
        super::ranges::FAULT_CAPACITY.check(self.capacity)?;
        super::ranges::FAULT_ERROR_RATE.check(self.error_rate)?;
        check_timing(*self.duration, None)?;
        if self.latency.0.is_zero() && self.error_rate == 0.0 && !self.down && self.capacity == 1.0
        {
            return Err(ActionError::Invalid {
                message:
                    "this fault would change nothing: set latency, error_rate, down or capacity"
                        .into(),
                field: None,
            });
        }
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

/// Applies the fault for `duration` of active time; heals while paused and at the end.
pub async fn run(p: FaultParams, ctx: RunCtx) -> Result<(), String> {
    let svc = ctx
        .env
        .services
        .get(&p.service)
        .cloned()
        .ok_or_else(|| format!("simulated service `{}` is gone", p.service))?;
    let fault = Fault {
        latency: p.latency.0,
        error_rate: p.error_rate,
        down: p.down,
        capacity: p.capacity,
    };
    let (requests0, errors0) = svc.counts();
    let report = |applied: bool| {
        let (requests, errors) = svc.counts();
        let mut achieved = json!({
            "service": svc.name,
            "applied": applied,
            "requests": requests - requests0,
            "errors": errors - errors0,
        });
        if let (Some(a), serde_json::Value::Object(c)) = (achieved.as_object_mut(), svc.condition())
        {
            a.extend(c);
        }
        ctx.report(ctx.time_progress(p.duration.0), achieved);
    };
    let mut pacer = Pacer::start(&ctx);
    // Dropping the guard heals the service, on every way out of this loop.
    let mut guard = None;
    loop {
        let paused = pacer.paused();
        if paused {
            guard = None;
        } else if guard.is_none() {
            guard = Some(svc.apply(fault));
        }
        report(guard.is_some());
        let left = p.duration.0.saturating_sub(ctx.elapsed());
        if left.is_zero() {
            break;
        }
        let going = if paused {
            pacer.wait_resumed().await
        } else {
            pacer
                .sleep_until(Instant::now() + left.min(REPORT_EVERY))
                .await
        };
        if !going {
            break;
        }
    }
    drop(guard);
    report(false);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::Params;
    use crate::services::testing::TestBed;

    async fn until(what: &str, mut f: impl FnMut() -> bool) {
        for _ in 0..200 {
            if f() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("timed out waiting until {what}");
    }

    #[tokio::test]
    async fn pause_heals_and_resume_reapplies() {
        let bed = TestBed::start("catalog: {cart: {latency: 1ms}}").await;
        let cart = bed.services.get("cart").unwrap().clone();
        let params = Params::Fault(FaultParams {
            service: "cart".into(),
            down: true,
            duration: HumanDuration(Duration::from_secs(30)).into(),
            ..Default::default()
        });
        let id = bed
            .engine
            .start(params, Some("run-1".into()), None)
            .unwrap()
            .id;
        until("down", || !cart.is_up()).await;
        bed.engine.set_paused(&id, true).unwrap();
        until("healed while paused", || cart.is_up()).await;
        bed.engine.set_paused(&id, false).unwrap();
        until("down again after resume", || !cart.is_up()).await;
        bed.engine.stop(&id).await.unwrap();
        assert!(cart.is_up(), "healed when stopped");
    }
}
