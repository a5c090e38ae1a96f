//! `cpu`: busy CPU, either driving the whole host's busy share to a target (closed loop) or
//! adding a fixed share per worker (open loop, like `stress-ng --cpu-load`).

mod control;
pub mod metrics;
mod workers;

pub use workers::THREAD_PREFIX;

use super::kinds::{ActionKind, Choices};
use super::ranges::Range;
use super::{Env, RunCtx, check_timing, in_range, ranges};
use crate::actions::ActionError;
use crate::units::{Given, HumanDuration};
use control::{Controller, Sampler};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use workers::Workers;

/// How often the controller measures and adjusts (and the action reports).
const TICK: Duration = Duration::from_millis(100);

/// Weight of the newest measurement in the reported (smoothed) busy share: about a one-second
/// average, so `achieved` does not flicker with the measurement's 10 ms quantisation.
const SMOOTHING: f64 = 0.2;

/// How `percent` is interpreted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The host's total busy time reaches `percent`, whatever else runs.
    Host,
    /// Each worker adds `percent` of one core.
    Add,
}

/// Parameters of a cpu action.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CpuParams {
    /// Target busy percentage, 1..=100.
    pub percent: f64,
    /// How long the load lasts.
    pub duration: Given<HumanDuration>,
    /// Worker threads, one per core; 0 = all cores.
    pub cores: u32,
    /// host (closed loop) or add (open loop).
    pub mode: Mode,
    /// Time to climb linearly from 0 to the target.
    pub ramp: Given<HumanDuration>,
}

impl Default for CpuParams {
    fn default() -> Self {
        CpuParams {
            percent: 90.0,
            duration: HumanDuration(Duration::from_secs(10)).into(),
            cores: 0,
            mode: Mode::Host,
            ramp: HumanDuration(Duration::ZERO).into(),
        }
    }
}

impl ActionKind for CpuParams {
    type Metrics = metrics::CpuMetrics;

    fn metrics(registry: &mut prometheus_client::registry::Registry) -> Self::Metrics {
        metrics::CpuMetrics::register(registry)
    }

    const RANGES: &'static [Range] = &[ranges::CPU_PERCENT, ranges::CPU_CORES];
    const CHOICES: Choices = &[("mode", &["host", "add"])];
    /// Range checks; resolves `cores: 0` to the number of cores.
    fn validate(&mut self, _env: &Env) -> Result<(), ActionError> {
        in_range("duration", &self.duration)?;
        in_range("ramp", &self.ramp)?;
        ranges::CPU_PERCENT.check(self.percent)?;
        ranges::CPU_CORES.check(self.cores.into())?;
        let n = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
        if self.cores > n {
            return Err(ActionError::invalid(
                "cores",
                format!("cores must be at most {n} (this host's cores), or 0 for all"),
            ));
        }
        if self.cores == 0 {
            self.cores = n;
        }
        check_timing(*self.duration, Some(*self.ramp))?;
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

/// Running cpu actions; the shared target and achieved gauges go to 0 when the last one ends.
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// Counts a running cpu action and zeroes the gauges when the last one ends.
struct Running<'a>(&'a RunCtx);

impl<'a> Running<'a> {
    fn enter(ctx: &'a RunCtx) -> Self {
        RUNNING.fetch_add(1, Ordering::SeqCst);
        Running(ctx)
    }
}

impl Drop for Running<'_> {
    fn drop(&mut self) {
        if RUNNING.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.env.metrics.kinds.cpu.target.set(0.0);
            self.0.env.metrics.kinds.cpu.achieved.set(0.0);
        }
    }
}

/// Linear climb: the share of the target in force after `elapsed` of a `ramp`.
fn ramp_factor(elapsed: Duration, ramp: Duration) -> f64 {
    if ramp.is_zero() {
        1.0
    } else {
        (elapsed.as_secs_f64() / ramp.as_secs_f64()).min(1.0)
    }
}

/// Produces the load: starts the workers, then every [`TICK`] measures the busy share and sets
/// their duty (closed loop in host mode, fixed in add mode) until the duration is up or the
/// action is stopped; the workers have exited when this returns.
pub async fn run(p: CpuParams, ctx: RunCtx) -> Result<(), String> {
    let mut sampler =
        Sampler::new(&ctx.env.host).map_err(|e| format!("cannot measure CPU time: {e:#}"))?;
    let workers = Workers::spawn(p.cores as usize)
        .map_err(|e| format!("cannot start cpu worker threads: {e}"))?;
    let _running = Running::enter(&ctx);
    let result = control_loop(&p, &ctx, &mut sampler, &workers).await;
    workers.stop().await;
    result
}

async fn control_loop(
    p: &CpuParams,
    ctx: &RunCtx,
    sampler: &mut Sampler,
    workers: &Workers,
) -> Result<(), String> {
    let m = &ctx.env.metrics;
    let capacity = sampler.capacity();
    let n = workers.len() as f64;
    let mut controller = Controller::new(n / capacity);
    let mut shown: Option<f64> = None;
    let mut was_paused = false;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ctx.cancelled() => return Ok(()),
            _ = tick.tick() => {}
        }
        let elapsed = ctx.elapsed();
        if elapsed >= p.duration.0 {
            return Ok(());
        }
        // Paused: the workers idle and the controller holds its output; the measurement goes
        // on so `achieved` shows the host without the load.
        let paused = ctx.is_paused();
        let measured = sampler
            .sample()
            .map_err(|e| format!("cannot measure CPU time: {e:#}"))?;
        let level = p.percent / 100.0 * ramp_factor(elapsed, p.ramp.0);
        // Per-worker duty, and the busy share of capacity aimed at.
        let (duty, target) = match (paused, p.mode, measured) {
            (true, _, _) => (0.0, 0.0),
            (false, Mode::Add, _) => (level, (level * n / capacity).min(1.0)),
            // The first interval after a pause measured the host without the load: skip it.
            (false, Mode::Host, Some(busy)) if !was_paused => {
                (controller.update(busy, level) * capacity / n, level)
            }
            // No measurement yet: let the first interval show the background load.
            (false, Mode::Host, _) => (controller.output() * capacity / n, level),
        };
        was_paused = paused;
        workers.set_duty(duty);
        if let Some(busy) = measured {
            let s = shown.map_or(busy, |s| s + SMOOTHING * (busy - s));
            shown = Some(s);
            m.kinds.cpu.achieved.set(s);
        }
        m.kinds.cpu.target.set(target);
        ctx.report(
            ctx.time_progress(p.duration.0),
            json!({
                "host_busy_percent": shown.map(percent),
                "target_percent": percent(target),
                "measured": if sampler.is_cgroup() { "cgroup" } else { "host" },
                "workers": workers.len(),
                "worker_duty_percent": percent(duty.clamp(0.0, 1.0)),
            }),
        );
    }
}

/// A share as a percentage with one decimal.
fn percent(share: f64) -> f64 {
    (share * 1000.0).round() / 10.0
}
