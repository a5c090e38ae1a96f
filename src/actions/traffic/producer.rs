//! The producer: sleeps until the next request is due (absolute schedule), releases every
//! request due by now into the backlog in one batch, adds connection workers while the
//! backlog outgrows the idle ones, and reports what was achieved.

use super::TrafficParams;
use super::schedule::Schedule;
use super::target::Target;
use super::worker::{self, Shared};
use crate::actions::RunCtx;
use crate::actions::pacer::Pacer;
use crate::telemetry::FGaugeShare;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// How often `achieved` and the target-rate gauge are refreshed.
const REPORT_EVERY: Duration = Duration::from_millis(250);
/// How far behind schedule requests may queue before new ones are dropped: the backlog holds
/// this much time's worth at the peak rate (and never less than `max_in_flight`). It must
/// cover many timer ticks, or workers idle between the producer's batches.
const BACKLOG_SPAN: Duration = Duration::from_secs(1);
/// The backlog's size at most (its slots are allocated up front).
const BACKLOG_MAX: usize = 100_000;

/// How the sending phase ended.
enum End {
    /// The schedule ran out.
    Done,
    /// The action was stopped.
    Stopped,
    /// A worker panicked: the action fails rather than run on short of a worker.
    Failed(String),
}

/// Collects the workers that have ended; a panic among them is the action's failure.
fn reap(workers: &mut JoinSet<()>) -> Result<(), String> {
    while let Some(r) = workers.try_join_next() {
        if let Err(e) = r
            && e.is_panic()
        {
            let panic = crate::supervise::panic_message(e.into_panic());
            return Err(format!("a traffic worker panicked: {panic}"));
        }
    }
    Ok(())
}

/// Runs the schedule, then lets the workers finish what was sent (unless stopped).
pub async fn run(p: TrafficParams, ctx: RunCtx) -> Result<(), String> {
    let target = Target::resolve(&p.target, &ctx.env).map_err(|e| e.to_string())?;
    let addr = lookup(&target.authority).await?;
    let shared = Arc::new(Shared::new(
        &target,
        addr,
        p.timeout.0,
        ctx.env.metrics.clone(),
    )?);
    let schedule = Schedule::new(p.ramp_from.unwrap_or(p.rps), p.rps, p.duration.0);
    // This action's share of `jolt_traffic_target_requests_per_second`, which sums every
    // running traffic action; whole numbers so the sum returns to exactly 0.
    let mut rate: FGaugeShare<&_> = FGaugeShare::new(&ctx.env.metrics.kinds.traffic.target);
    let peak = p.rps.max(p.ramp_from.unwrap_or(0.0));
    let backlog = ((peak * BACKLOG_SPAN.as_secs_f64()).ceil() as usize)
        .min(BACKLOG_MAX)
        .max(p.max_in_flight);
    let (tx, rx) = async_channel::bounded::<Instant>(backlog);
    let mut workers = JoinSet::new();
    let mut pacer = Pacer::start(&ctx);
    let mut next_report = pacer.origin();
    let mut i: u64 = 0;
    let end = loop {
        if pacer.paused() {
            // Requests still in the backlog were never sent: take them back so they go out
            // after the resume, and shift the schedule by the pause.
            let mut taken = 0;
            while rx.try_recv().is_ok() {
                taken += 1;
            }
            i -= taken;
            rate.set(0.0);
            report(&ctx, &p, &shared, &schedule, workers.len(), false);
            if !pacer.wait_resumed().await {
                break End::Stopped;
            }
            continue;
        }
        let now = Instant::now();
        let mut next_due = None;
        let mut dropped = 0;
        while let Some(offset) = schedule.due(i) {
            let due = pacer.origin() + offset;
            if due > now {
                next_due = Some(due);
                break;
            }
            if tx.try_send(due).is_err() {
                dropped += 1;
            }
            i += 1;
        }
        if dropped > 0 {
            shared.stats.dropped.fetch_add(dropped, Relaxed);
            ctx.env.metrics.kinds.traffic.dropped.inc_by(dropped);
        }
        if let Err(e) = reap(&mut workers) {
            break End::Failed(e);
        }
        let backlog = tx.len();
        let idle = shared.idle.load(Relaxed);
        if backlog > idle && workers.len() < p.max_in_flight {
            for _ in 0..(backlog - idle).min(p.max_in_flight - workers.len()) {
                shared.idle.fetch_add(1, Relaxed);
                workers.spawn(worker::run(shared.clone(), rx.clone()));
            }
        }
        if now >= next_report {
            rate.set(schedule.rate_at(ctx.elapsed()).round());
            report(&ctx, &p, &shared, &schedule, workers.len(), false);
            next_report = now + REPORT_EVERY;
        }
        let Some(next_due) = next_due else {
            break End::Done;
        };
        if !pacer.sleep_until(next_due.min(next_report)).await {
            break End::Stopped;
        }
    };
    // Closing the backlog lets idle workers exit once it is empty.
    drop(tx);
    drop(rx);
    rate.set(0.0);
    let mut outcome = match &end {
        End::Failed(e) => Err(e.clone()),
        _ => Ok(()),
    };
    if let End::Done = end {
        loop {
            tokio::select! {
                _ = ctx.cancelled() => break,
                r = workers.join_next() => match r {
                    None => break,
                    Some(Err(e)) if e.is_panic() => {
                        let panic = crate::supervise::panic_message(e.into_panic());
                        outcome = Err(format!("a traffic worker panicked: {panic}"));
                        break;
                    }
                    Some(_) => {}
                },
            }
        }
    }
    // Aborts whatever is still in flight; dropping the workers closes their connections.
    workers.shutdown().await;
    report(&ctx, &p, &shared, &schedule, 0, true);
    outcome
}

async fn lookup(authority: &str) -> Result<SocketAddr, String> {
    if let Ok(addr) = authority.parse() {
        return Ok(addr);
    }
    tokio::net::lookup_host(authority)
        .await
        .map_err(|e| format!("cannot resolve {authority}: {e}"))?
        .next()
        .ok_or_else(|| format!("{authority} resolves to no address"))
}

/// Publishes progress and `achieved`. The rate is what was sent over the active time so far;
/// at the end, over the scheduled duration.
fn report(
    ctx: &RunCtx,
    p: &TrafficParams,
    shared: &Shared,
    schedule: &Schedule,
    connections: usize,
    finished: bool,
) {
    let s = &shared.stats;
    let sent = s.sent.load(Relaxed);
    let elapsed = ctx.elapsed();
    let window = if finished {
        p.duration.0
    } else {
        elapsed.min(p.duration.0)
    };
    let rps = if window.is_zero() {
        0.0
    } else {
        sent as f64 / window.as_secs_f64()
    };
    let achieved = json!({
        "requests_per_second": rps,
        "sent": sent,
        "answered": s.answered.load(Relaxed),
        "dropped": s.dropped.load(Relaxed),
        "errors": s.errors.load(Relaxed),
        "p50_seconds": s.quantile(0.5),
        "p99_seconds": s.quantile(0.99),
        "connections": connections,
        "target_rps": schedule.rate_at(elapsed),
        "scheduled": schedule.total().floor(),
    });
    ctx.report(ctx.time_progress(p.duration.0), achieved);
}
