//! The driver of one run: walks the timeline, starts each step's action at its offset, stops
//! open-ended actions (disk) at their step's end, follows how every action ends, and finishes
//! the run when the timeline is over and its actions have ended, or when it is stopped.

use super::actions::Actions;
use super::run::{Run, StepStart};
use crate::actions::State;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Longest wall time between two progress updates.
const TICK: Duration = Duration::from_millis(250);
/// How long, past the timeline's end, actions may take to end by themselves before the run
/// stops them (their clocks start a moment after their step's offset).
const OVERTIME: Duration = Duration::from_secs(3);
/// How long a stopped run waits for its actions to clean up.
const DRAIN: Duration = Duration::from_secs(5);

type Watchers = JoinSet<(usize, State, Option<String>)>;

/// Plays `run` to its end. Runs on its own task; returns once the run has finished.
pub async fn drive<A: Actions>(run: Arc<Run>, actions: A) {
    if let Some(at) = run.start_at {
        let wait = at
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default();
        tokio::select! {
            _ = run.token.cancelled() => {}
            _ = tokio::time::sleep(wait) => run.begin(),
        }
    }
    let steps = &run.scenario.steps;
    let total = run.scenario.duration;
    let mut next = 0;
    let mut watchers = Watchers::new();
    // Started steps whose kind has no duration of its own: the run stops them at their end.
    let mut open_ended: Vec<(usize, String)> = Vec::new();
    let mut paused = run.paused.subscribe();
    let mut overtime: Option<Instant> = None;
    loop {
        if run.token.is_cancelled() {
            break;
        }
        if *paused.borrow_and_update() {
            tokio::select! {
                _ = run.token.cancelled() => break,
                _ = paused.changed() => {}
                Some(r) = watchers.join_next(), if !watchers.is_empty() => record(&run, r),
            }
            continue;
        }
        let now = run.position();
        while next < steps.len() && steps[next].at <= now {
            match run.start_step(next, &actions) {
                StepStart::Deferred => break,
                StepStart::Failed => {}
                StepStart::Started(id) => {
                    if !steps[next].timed {
                        open_ended.push((next, id.clone()));
                    }
                    let a = actions.clone();
                    let i = next;
                    watchers.spawn(async move {
                        let (state, error) = a.wait(&id).await;
                        (i, state, error)
                    });
                }
            }
            next += 1;
        }
        if next > 0 {
            crate::supervise::injection_point("run");
        }
        for (_, id) in open_ended.extract_if(.., |(i, _)| steps[*i].end() <= now) {
            actions.stop(&id).await;
        }
        run.publish_progress();
        let mut wait = TICK;
        if now >= total {
            if watchers.is_empty() {
                break;
            }
            let deadline = *overtime.get_or_insert_with(|| Instant::now() + OVERTIME);
            if Instant::now() >= deadline {
                for id in run.running_actions() {
                    actions.stop(&id).await;
                }
            }
        } else {
            let next_t = [
                steps.get(next).map(|s| s.at),
                open_ended.iter().map(|(i, _)| steps[*i].end()).min(),
                Some(total),
            ]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or(total);
            let left = next_t.saturating_sub(now).div_f64(run.speed);
            wait = left.clamp(Duration::from_millis(1), TICK);
        }
        tokio::select! {
            _ = run.token.cancelled() => break,
            _ = paused.changed() => {}
            Some(r) = watchers.join_next(), if !watchers.is_empty() => record(&run, r),
            _ = tokio::time::sleep(wait) => {}
        }
    }
    let stopped = run.token.is_cancelled();
    // When stopped, the actions' tokens (children of the run's) are already cancelled.
    let drain = async {
        while let Some(r) = watchers.join_next().await {
            record(&run, r);
        }
    };
    if tokio::time::timeout(DRAIN, drain).await.is_err() {
        tracing::warn!(run = %run.id, "some actions of the run did not end within {DRAIN:?}");
    }
    run.finish(stopped);
}

fn record(run: &Run, r: Result<(usize, State, Option<String>), tokio::task::JoinError>) {
    match r {
        Ok((i, state, error)) => run.record(i, state, error),
        Err(e) => tracing::warn!(run = %run.id, error = %e, "watcher of a run's action failed"),
    }
}

#[cfg(test)]
#[path = "runner_tests.rs"]
mod tests;
