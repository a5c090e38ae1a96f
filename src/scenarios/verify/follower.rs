//! The follower of a verified run: about once a second it reads the checked alerts' states
//! from Prometheus, collects the notifications jolt's `POST /alerts` received, runs each query
//! check's range query once its window has closed, and judges every check; each decision
//! becomes an event and a metric, and a failed `abort_on_fail` check stops the run. It ends
//! once every check is decided (or gives up, bounded, after the run's end).

use super::eval::{Now, Outcome, Verdict};
use super::state::{RunVerdict, Verification, kind};
use super::timeline::{AlertState, Notice, Series};
use crate::events::Severity;
use crate::prom::thread_cpu;
use crate::scenarios::metrics::{CheckLabels, ResultLabels, VerdictLabels};
use crate::scenarios::run::{Outputs, Run, RunState};
use serde_json::json;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;

/// How often Prometheus is asked.
const POLL: Duration = Duration::from_secs(1);
/// How long after a query window closes before its range query (scrape + evaluation lag).
const SETTLE: f64 = 3.0;
/// How long after the run's end (beyond the longest budget) the follower waits at most.
const GRACE: f64 = 30.0;

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Query windows on the wall clock, learnt as the check clock passes them.
#[derive(Default, Clone, Copy)]
struct Window {
    from_unix: Option<f64>,
    to_unix: Option<f64>,
    queried: bool,
}

/// Follows `run` until every check of `v` is decided; `root` cancelled = shutdown.
pub async fn follow(run: Arc<Run>, v: Arc<Verification>, out: Outputs, root: CancellationToken) {
    let labels = |check: &str, result: &str| CheckLabels {
        run: run.id.clone(),
        scenario: run.scenario.name.clone(),
        check: check.to_string(),
        result: result.to_string(),
    };
    let verdict_labels = |verdict: RunVerdict| VerdictLabels {
        run: run.id.clone(),
        scenario: run.scenario.name.clone(),
        verdict: verdict.as_str().into(),
    };
    let m = &out.metrics;
    let Some(prom) = v.prom.clone() else {
        m.verdict
            .get_or_create(&verdict_labels(RunVerdict::Unverified))
            .set(1);
        for c in &v.checks {
            m.check_result
                .get_or_create(&labels(&c.name, "inconclusive"))
                .set(1);
        }
        out.events.emit(
            "run_unverified",
            Severity::Warning,
            format!(
                "{}: scenario {} has {} checks but jolt has no --prometheus-url: the run is unverified",
                run.id,
                run.scenario.name,
                v.checks.len()
            ),
            json!({ "run": run.id, "scenario": run.scenario.name, "checks": v.checks.len() }),
        );
        return;
    };
    for c in &v.checks {
        m.check_result
            .get_or_create(&labels(&c.name, "pending"))
            .set(1);
    }
    m.verdict
        .get_or_create(&verdict_labels(RunVerdict::Pending))
        .set(1);
    let alertnames: HashSet<String> = v
        .checks
        .iter()
        .filter_map(|c| c.what.alert().map(|a| a.name.clone()))
        .collect();
    let longest = v
        .checks
        .iter()
        .filter_map(super::eval::budget)
        .fold(0.0, f64::max);
    let mut windows = vec![Window::default(); v.checks.len()];
    let mut last_event = out.events.since(0).last().map_or(0, |e| e.id);
    let mut done_at: Option<(Instant, f64)> = None;
    let mut cpu_seen = crate::prom::cpu_seconds();
    loop {
        let state = run.state();
        if done_at.is_none() && run.is_done() {
            done_at = Some((Instant::now(), run.active_secs()));
        }
        let (now, ended) = match done_at {
            Some((at, end)) => (end + at.elapsed().as_secs_f64(), Some(end)),
            None => (run.active_secs(), None),
        };
        let at = Now {
            now,
            ended,
            stopped: ended.is_some() && state == RunState::Stopped,
            speed: run.speed,
        };
        let unix = unix_now();
        // A paused run's check clock stands still: nothing to record.
        if state != RunState::Paused {
            let polled = prom.alerts().await.ok().map(|list| {
                list.into_iter()
                    .filter(|(l, _)| l.get("alertname").is_some_and(|n| alertnames.contains(n)))
                    .map(|(l, s)| {
                        let s = if s == "firing" {
                            AlertState::Firing
                        } else {
                            AlertState::Pending
                        };
                        (l, s)
                    })
                    .collect()
            });
            v.record(|r| r.poll(now, polled));
        }
        let notices: Vec<Notice> = out
            .events
            .since(last_event)
            .into_iter()
            .inspect(|e| last_event = last_event.max(e.id))
            .filter(|e| e.kind == "alert_firing" || e.kind == "alert_resolved")
            .filter_map(|e| {
                let labels: BTreeMap<String, String> =
                    serde_json::from_value(e.data["labels"].clone()).ok()?;
                Some(Notice {
                    t: now - (unix - e.time).max(0.0),
                    status: e.data["status"].as_str().unwrap_or("firing").to_string(),
                    labels,
                })
            })
            .collect();
        v.record(|r| r.notices.extend(notices));
        for (i, c) in v.checks.iter().enumerate() {
            let super::check::What::Query { expr, from, to, .. } = &c.what else {
                continue;
            };
            let w = &mut windows[i];
            let (from_w, to_w) = (
                from.at.as_secs_f64() / run.speed,
                to.at.as_secs_f64() / run.speed,
            );
            if w.from_unix.is_none() && now >= from_w {
                w.from_unix = Some(unix - (now - from_w));
            }
            if w.to_unix.is_none() && now >= to_w {
                w.to_unix = Some(unix - (now - to_w));
            }
            let (Some(f), Some(t)) = (w.from_unix, w.to_unix) else {
                continue;
            };
            if w.queried || unix < t + SETTLE {
                continue;
            }
            w.queried = true;
            let data = prom
                .query_range(expr, f, t, 1.0)
                .await
                .map(|list| {
                    list.into_iter()
                        .map(|(labels, samples)| Series {
                            labels,
                            samples: samples
                                .into_iter()
                                .map(|(ts, val)| (now - (unix - ts), val))
                                .collect(),
                        })
                        .collect()
                })
                .map_err(|e| e.to_string());
            v.record(|r| r.queries.insert(super::eval::check_index(c), data));
        }
        // No await from here to the end of the tick: the thread's CPU clock is this task's.
        let cpu0 = thread_cpu();
        let mut decided = v.judge(at);
        let all_decided = v.all_decided();
        let give_up = root.is_cancelled() || ended.is_some_and(|e| now > e + longest + GRACE);
        if give_up && !all_decided {
            let why = if root.is_cancelled() {
                "jolt shut down before the check was decided"
            } else {
                "not decided in time after the run ended"
            };
            decided.extend(v.give_up(now, why));
        }
        for (i, o) in &decided {
            announce(&run, &v, &out, *i, o, &labels);
        }
        let cpu_now = crate::prom::cpu_seconds();
        m.verify_cpu
            .inc_by((thread_cpu() - cpu0).max(0.0) + (cpu_now - cpu_seen));
        cpu_seen = cpu_now;
        if (all_decided || give_up) && (ended.is_some() || root.is_cancelled()) {
            break;
        }
        tokio::select! {
            _ = root.cancelled() => {}
            _ = tokio::time::sleep(POLL) => {}
        }
    }
    v.finish();
    let verdict = v.verdict();
    let score = v.score();
    m.verdict.remove(&verdict_labels(RunVerdict::Pending));
    m.verdict.get_or_create(&verdict_labels(verdict)).set(1);
    out.events.emit(
        "run_verdict",
        if verdict == RunVerdict::Pass {
            Severity::Info
        } else {
            Severity::Warning
        },
        format!(
            "{}: scenario {} verdict {} (score {score})",
            run.id,
            run.scenario.name,
            verdict.as_str().to_uppercase()
        ),
        json!({ "run": run.id, "scenario": run.scenario.name, "verdict": verdict, "score": score }),
    );
}

/// One decision: metrics, an event, and the abort of the run if the check asks for it.
fn announce(
    run: &Run,
    v: &Verification,
    out: &Outputs,
    i: usize,
    o: &Outcome,
    labels: &dyn Fn(&str, &str) -> CheckLabels,
) {
    let c = &v.checks[i];
    let m = &out.metrics;
    m.check_result.remove(&labels(&c.name, "pending"));
    m.check_result
        .get_or_create(&labels(&c.name, o.result.as_str()))
        .set(1);
    m.checks_total
        .get_or_create(&ResultLabels {
            scenario: run.scenario.name.clone(),
            result: o.result.as_str().into(),
        })
        .inc();
    let (kind_, severity) = match o.result {
        Verdict::Pass => ("check_passed", Severity::Info),
        Verdict::Fail => ("check_failed", Severity::Warning),
        _ => ("check_inconclusive", Severity::Warning),
    };
    let expected = super::state::expected(c, run.speed);
    out.events.emit(
        kind_,
        severity,
        format!(
            "{}: check `{}` {}: {}",
            run.id,
            c.name,
            o.result.as_str(),
            o.observed
        ),
        json!({
            "run": run.id, "scenario": run.scenario.name, "check": c.name, "type": kind(c),
            "result": o.result, "expected": expected, "observed": o.observed,
            "decided_at": o.decided_at,
        }),
    );
    if o.result == Verdict::Fail && c.abort_on_fail && !run.is_done() && !run.token.is_cancelled() {
        out.events.emit(
            "run_aborted",
            Severity::Warning,
            format!(
                "{}: check `{}` failed and has abort_on_fail: stopping the run",
                run.id, c.name
            ),
            json!({ "run": run.id, "scenario": run.scenario.name, "check": c.name }),
        );
        run.token.cancel();
    }
}

/// Removes a forgotten run's series (`check_result`, `verdict`), so they stay bounded by the
/// run history.
pub fn forget(run: &Run, v: &Verification, out: &Outputs) {
    let m = &out.metrics;
    for (check, result) in v.results() {
        m.check_result.remove(&CheckLabels {
            run: run.id.clone(),
            scenario: run.scenario.name.clone(),
            check,
            result: result.as_str().into(),
        });
    }
    m.verdict.remove(&VerdictLabels {
        run: run.id.clone(),
        scenario: run.scenario.name.clone(),
        verdict: v.verdict().as_str().into(),
    });
}
