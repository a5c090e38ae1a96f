//! `memory`: resident memory held for a while, reached at once or over a ramp (a slow leak).
//!
//! The memory lives in a separate worker process (the same binary, `jolt __memory-worker`), so
//! that an out-of-memory kill takes the load and not the exporter: the worker raises its own
//! `oom_score_adj` and dies with the daemon. Requests that would push available memory below
//! the reserve are refused before anything starts.

mod budget;
mod child;
pub mod metrics;
pub mod worker;

pub use child::SUBCOMMAND;

use super::kinds::ActionKind;
use super::{ActionMetrics, Env, RunCtx, check_timing, in_range};
use crate::actions::ActionError;
use crate::telemetry::GaugeShare;
use crate::units::{Given, HumanDuration, SizeSpec};
use budget::Budget;
use child::{Report, Worker};
use prometheus_client::metrics::gauge::Gauge;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

/// How often the target follows the ramp, pause and duration (and the action reports).
const TICK: Duration = Duration::from_millis(100);

/// Parameters of a memory action.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MemoryParams {
    /// How much to hold: bytes, "500MB", "2GiB" or "25%" of total memory (resolved to bytes).
    pub size: Given<SizeSpec>,
    /// How long to hold it.
    pub duration: Given<HumanDuration>,
    /// Time to grow linearly to `size`; as long as `duration` it is a slow leak.
    pub ramp: Given<HumanDuration>,
    /// The figures `validate` judged the size against; admission judges again with what other
    /// memory actions have reserved meanwhile.
    #[serde(skip)]
    budget: Option<Budget>,
    /// This action's share of `jolt_memory_target_bytes`, taken at admission (under the
    /// registry's lock) rather than when the task starts, so two requests arriving together
    /// cannot both fit into the same room; the runner keeps it until the action ends.
    #[serde(skip)]
    reservation: Option<Arc<Reservation>>,
}

/// A share of `jolt_memory_target_bytes`.
type Reservation = GaugeShare<Gauge>;

impl Default for MemoryParams {
    fn default() -> Self {
        MemoryParams {
            size: SizeSpec::Bytes(500_000_000).into(),
            duration: HumanDuration(Duration::from_secs(60)).into(),
            ramp: HumanDuration(Duration::ZERO).into(),
            budget: None,
            reservation: None,
        }
    }
}

impl ActionKind for MemoryParams {
    type Metrics = metrics::MemoryMetrics;

    fn metrics(registry: &mut prometheus_client::registry::Registry) -> Self::Metrics {
        metrics::MemoryMetrics::register(registry)
    }

    /// Range and safety checks; resolves `size` to bytes and refuses (422, with the figures)
    /// what would push available memory below the reserve.
    fn validate(&mut self, env: &Env) -> Result<(), ActionError> {
        in_range("size", &self.size)?;
        in_range("duration", &self.duration)?;
        in_range("ramp", &self.ramp)?;
        check_timing(*self.duration, Some(*self.ramp))?;
        let budget = Budget::read(env)
            .map_err(|e| ActionError::Host(format!("cannot read available memory: {e:#}")))?;
        let size = self.size.resolve(budget.total);
        if size == 0 {
            return Err(ActionError::invalid("size", "size must be at least 1 byte"));
        }
        if let Some(cap) = env.config.memory_max_bytes.map(|c| c.resolve(budget.total))
            && size > cap
        {
            return Err(ActionError::invalid(
                "size",
                format!("size must be at most {cap} bytes (actions.memory_max_bytes)"),
            ));
        }
        budget.check(size)?;
        self.size = SizeSpec::Bytes(size).into();
        self.budget = Some(budget);
        Ok(())
    }

    /// Runs for `duration`.
    fn duration(&self) -> Option<Duration> {
        Some(self.duration.0)
    }

    fn timing(&mut self) -> Vec<&mut Given<HumanDuration>> {
        vec![&mut self.duration, &mut self.ramp]
    }

    async fn run(self, ctx: RunCtx) -> Result<(), String> {
        run(self, ctx).await
    }
}

impl MemoryParams {
    /// Reserves the size against the budget `validate` read, with `pending` as it is now
    /// (`jolt_memory_target_bytes` − `jolt_memory_held_bytes`, reservations included): called
    /// under the registry's lock, so of two requests that each fit alone but not together,
    /// the second is refused.
    pub fn admit(&mut self, metrics: &ActionMetrics) -> Result<(), ActionError> {
        let size = self.size.resolve(0);
        if let Some(budget) = self.budget {
            Budget {
                pending: budget::pending(metrics),
                ..budget
            }
            .check(size)?;
        }
        let share = GaugeShare::with(metrics.kinds.memory.target.clone(), size as i64);
        self.reservation = Some(Arc::new(share));
        Ok(())
    }
}

/// Produces the load: starts the worker, steers its target (ramp, pause) every [`TICK`], and
/// kills it when the duration is up or the action is stopped. Fails if the worker dies on its
/// own (e.g. killed by the kernel when out of memory).
pub async fn run(p: MemoryParams, ctx: RunCtx) -> Result<(), String> {
    let size = p.size.resolve(0);
    let mut worker =
        Worker::spawn(size).map_err(|e| format!("cannot start the memory worker: {e}"))?;
    let reservation = p.reservation.clone();
    let mut gauges = Gauges::new(&ctx, reservation, size);
    let result = steer(&p, &ctx, &mut worker, &mut gauges).await;
    worker.kill().await;
    gauges.held(0);
    result
}

async fn steer(
    p: &MemoryParams,
    ctx: &RunCtx,
    worker: &mut Worker,
    gauges: &mut Gauges<'_>,
) -> Result<(), String> {
    let size = p.size.resolve(0);
    let mut sent = None;
    let mut resident = 0u64;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ctx.cancelled() => return Ok(()),
            report = worker.next() => match report {
                Report::Resident(n) => {
                    resident = n;
                    gauges.held(n);
                }
                Report::Exited(why) => return Err(why),
            },
            _ = tick.tick() => {
                let elapsed = ctx.elapsed();
                if elapsed >= p.duration.0 {
                    return Ok(());
                }
                let target = if ctx.is_paused() {
                    0
                } else if p.ramp.0.is_zero() {
                    size
                } else {
                    (size as f64 * (elapsed.as_secs_f64() / p.ramp.0.as_secs_f64()).min(1.0)) as u64
                };
                if sent != Some(target) && worker.set_target(target).await.is_ok() {
                    sent = Some(target);
                }
                ctx.report(
                    ctx.time_progress(p.duration.0),
                    json!({
                        "resident_bytes": resident,
                        "target_bytes": target,
                        "worker_pid": worker.pid(),
                    }),
                );
            }
        }
    }
}

/// This action's share of `jolt_memory_held_bytes` and `jolt_memory_target_bytes`, which sum
/// over running memory actions; taken back out when dropped.
struct Gauges<'a> {
    _target: Arc<Reservation>,
    held: GaugeShare<&'a Gauge>,
}

impl<'a> Gauges<'a> {
    /// Keeps the reservation taken at admission (or takes one, for a caller that skipped it).
    fn new(ctx: &'a RunCtx, reservation: Option<Arc<Reservation>>, target: u64) -> Self {
        let m = &ctx.env.metrics;
        Gauges {
            _target: reservation.unwrap_or_else(|| {
                Arc::new(GaugeShare::with(
                    m.kinds.memory.target.clone(),
                    target as i64,
                ))
            }),
            held: GaugeShare::new(&m.kinds.memory.held),
        }
    }

    fn held(&mut self, bytes: u64) {
        self.held.set(bytes as i64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_admission_sees_the_first_ones_reservation() {
        let m = ActionMetrics::new(&mut prometheus_client::registry::Registry::default());
        let request = || MemoryParams {
            size: SizeSpec::Bytes(60).into(),
            budget: Some(Budget {
                total: 1000,
                available: 200,
                reserve: 100,
                pending: 0,
            }),
            ..Default::default()
        };
        let mut first = request();
        first.admit(&m).unwrap();
        assert_eq!(m.kinds.memory.target.get(), 60);
        let mut second = request();
        let e = second.admit(&m).unwrap_err();
        assert_eq!(e.field(), Some("size"), "{e}");
        assert!(e.to_string().contains("still to be taken"), "{e}");
        drop(first);
        assert_eq!(
            m.kinds.memory.target.get(),
            0,
            "the reservation is given back"
        );
        second.admit(&m).unwrap();
    }
}
