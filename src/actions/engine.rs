//! The action engine: admission (validation, then the cap and reservations under the
//! registry's lock), a task per action under a child of one root token, and the bounded
//! history of finished ones (`crate::registry`).

use super::entry::{ActionView, Entry, State, Status};
use super::metrics::{KindLabels, OutcomeLabels};
use super::{ActionError, ActionMetrics, ActionsConfig, Params, RunCtx};
use crate::clock::ActiveClock;
use crate::events::{Events, Severity};
use crate::metrics::host::Paths;
use crate::registry::Registry;
use serde_json::json;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long `stop` waits for an action to finish cleaning up before answering anyway.
const STOP_WAIT: Duration = Duration::from_secs(5);

/// Shared resources every action may use.
pub struct Env {
    /// Engine limits and allowlists.
    pub config: ActionsConfig,
    /// Host pseudo-filesystems (the cpu controller reads /proc/stat through these).
    pub host: Paths,
    /// State directory; disk actions put scratch directories under it.
    pub state_dir: PathBuf,
    /// The bound address of jolt's simulated services (the default traffic target).
    pub services_addr: SocketAddr,
    /// The simulated services: fault actions make them sick, traffic actions resolve names.
    pub services: crate::services::Services,
    /// Live action metrics.
    pub metrics: ActionMetrics,
    /// The event log.
    pub events: Events,
}

/// Starts, lists and stops actions.
#[derive(Clone)]
pub struct Engine {
    env: Arc<Env>,
    registry: Arc<Registry<Entry>>,
    root: CancellationToken,
    tasks: TaskTracker,
}

impl Engine {
    /// An engine whose actions are children of `root` and tracked by `tasks`.
    pub fn new(env: Env, root: CancellationToken, tasks: TaskTracker) -> Self {
        Engine {
            registry: Arc::new(Registry::new(env.config.history)),
            env: Arc::new(env),
            root,
            tasks,
        }
    }

    /// The shared environment.
    pub fn env(&self) -> &Arc<Env> {
        &self.env
    }

    /// Validates and starts an action. `run` tags it with a scenario run; `parent` (the run's
    /// token) makes stopping the run stop it.
    pub fn start(
        &self,
        mut params: Params,
        run: Option<String>,
        parent: Option<&CancellationToken>,
    ) -> Result<ActionView, ActionError> {
        let kind = params.kind();
        let max = self.env.config.max_duration;
        let checked = params
            .validate(&self.env)
            .and_then(|()| match params.duration() {
                Some(d) if d > max.0 => Err(ActionError::invalid(
                    "duration",
                    format!("duration must be at most {max} (actions.max_duration)"),
                )),
                _ => Ok(()),
            });
        if let Err(e) = checked {
            return Err(self.refused(kind, &run, e));
        }
        let shown = params.to_json();
        let duration = params.duration();
        let max_active = self.env.config.max_active;
        let admitted = self.registry.admit(|slots| {
            if slots.active() >= max_active {
                return Err(ActionError::Busy {
                    active: slots.active(),
                    max: max_active,
                });
            }
            params.admit(&self.env.metrics)?;
            Ok(Entry {
                id: format!("{kind}-{}", slots.number()),
                kind,
                params: shown,
                run: run.clone(),
                started_at: SystemTime::now(),
                duration,
                cancel: parent.unwrap_or(&self.root).child_token(),
                paused: watch::Sender::new(false),
                clock: Mutex::new(ActiveClock::start()),
                status: Mutex::new(Status {
                    state: State::Running,
                    progress: 0.0,
                    achieved: serde_json::Value::Null,
                    error: None,
                    finished_at: None,
                }),
                begun: watch::Sender::new(false),
                done: watch::Sender::new(false),
            })
        });
        let entry = admitted.map_err(|e| self.refused(kind, &run, e))?;
        let m = &self.env.metrics;
        let kl = KindLabels {
            kind: kind.as_str().into(),
        };
        m.started.get_or_create(&kl).inc();
        m.active.get_or_create(&kl).inc();
        m.info.get_or_create(&entry.info_labels()).set(1);
        m.progress.get_or_create(&entry.id_labels()).set(0.0);
        let view = entry.view();
        self.env.events.emit(
            "action_started",
            Severity::Info,
            format!("{kind} action {} started", entry.id),
            json!({ "id": entry.id, "kind": kind, "run": run, "params": entry.params }),
        );
        let ctx = RunCtx {
            entry: entry.clone(),
            env: self.env.clone(),
        };
        let engine = self.clone();
        self.tasks.spawn(async move {
            let point = format!("action:{kind}");
            let run = async move {
                crate::supervise::injection_point(&point);
                params.run(ctx).await
            };
            match crate::supervise::catch_panic(first_poll(run, &entry.begun)).await {
                Ok(result) => engine.finish(&entry, result, false),
                Err(panic) => {
                    tracing::error!(id = %entry.id, panic = %panic, "an action's task panicked");
                    let msg = format!("internal error: the {kind} action's task panicked: {panic}");
                    engine.finish(&entry, Err(msg), true);
                }
            }
        });
        Ok(view)
    }

    /// Emits `action_refused` for `e` (a bad parameter or a full house) and gives it back.
    fn refused(&self, kind: super::Kind, run: &Option<String>, e: ActionError) -> ActionError {
        self.env.events.emit(
            "action_refused",
            Severity::Warning,
            format!("{kind} action refused: {e}"),
            json!({ "kind": kind, "run": run, "reason": e.to_string() }),
        );
        e
    }

    /// Records the outcome, updates metrics and moves the entry to the history. A task that
    /// `panicked` is `failed` even if it was being stopped: its cleanup may not have run.
    fn finish(&self, entry: &Arc<Entry>, result: Result<(), String>, panicked: bool) {
        let state = match (&result, entry.cancel.is_cancelled()) {
            _ if panicked => State::Failed,
            (_, true) => State::Stopped,
            (Ok(()), false) => State::Completed,
            (Err(_), false) => State::Failed,
        };
        {
            let mut s = entry.status.lock().expect("status poisoned");
            s.state = state;
            s.finished_at = Some(SystemTime::now());
            if state == State::Completed {
                s.progress = 1.0;
            }
            if let (Err(e), State::Failed) = (&result, state) {
                s.error = Some(e.clone());
            }
        }
        {
            // Freeze the active clock at the end: a finished action's elapsed time stays put.
            entry.clock.lock().expect("clock poisoned").stop();
        }
        let m = &self.env.metrics;
        let kind = entry.kind.as_str();
        m.active
            .get_or_create(&KindLabels { kind: kind.into() })
            .dec();
        m.finished
            .get_or_create(&OutcomeLabels {
                kind: kind.into(),
                outcome: state.outcome().into(),
            })
            .inc();
        m.info.remove(&entry.info_labels());
        m.progress.remove(&entry.id_labels());
        self.registry.finish(entry);
        let (severity, verb) = match state {
            State::Failed => (Severity::Warning, "failed"),
            State::Stopped => (Severity::Info, "stopped"),
            _ => (Severity::Info, "completed"),
        };
        let mut msg = format!("{kind} action {} {verb}", entry.id);
        if let Err(e) = &result
            && state == State::Failed
        {
            msg.push_str(": ");
            msg.push_str(e);
        }
        self.env.events.emit(
            &format!("action_{verb}"),
            severity,
            msg,
            json!({ "id": entry.id, "kind": kind, "run": entry.run, "error": result.err() }),
        );
        // Whatever the task spawned on its own (workers, watchers) hangs off this token.
        entry.cancel.cancel();
        entry.begun.send_replace(true);
        entry.done.send_replace(true);
    }

    fn find(&self, id: &str) -> Option<(Arc<Entry>, bool)> {
        self.registry.find(id)
    }

    /// Active actions (oldest first), then finished ones (newest first).
    pub fn list(&self) -> Vec<ActionView> {
        self.registry
            .active_then_finished()
            .iter()
            .map(|e| e.view())
            .collect()
    }

    /// One action by id.
    pub fn get(&self, id: &str) -> Result<ActionView, ActionError> {
        self.find(id)
            .map(|(e, _)| e.view())
            .ok_or_else(|| not_found(id))
    }

    /// Stops one action and waits (bounded) until it has cleaned up; 409 if it had ended.
    pub async fn stop(&self, id: &str) -> Result<ActionView, ActionError> {
        let (entry, active) = self.find(id).ok_or_else(|| not_found(id))?;
        let state = entry.status.lock().expect("status poisoned").state;
        if !active || state != State::Running || entry.cancel.is_cancelled() {
            return Err(ActionError::Ended {
                id: id.to_string(),
                outcome: state.outcome(),
            });
        }
        entry.cancel.cancel();
        wait_done(&entry).await;
        Ok(entry.view())
    }

    /// Stops every active action; returns how many were asked to stop.
    pub async fn stop_all(&self) -> usize {
        let active = self.registry.active();
        let mut n = 0;
        for e in &active {
            if !e.cancel.is_cancelled() {
                e.cancel.cancel();
                n += 1;
            }
        }
        for e in &active {
            wait_done(e).await;
        }
        n
    }

    /// Pauses or resumes an action (used by scenario runs); the load goes away while paused.
    pub fn set_paused(&self, id: &str, paused: bool) -> Result<(), ActionError> {
        let (entry, active) = self.find(id).ok_or_else(|| not_found(id))?;
        if !active {
            return Ok(());
        }
        let mut clock = entry.clock.lock().expect("clock poisoned");
        let changed = if paused { clock.stop() } else { clock.go() };
        drop(clock);
        if !changed {
            return Ok(());
        }
        entry.paused.send_replace(paused);
        Ok(())
    }

    /// Waits (bounded) until the action's task has begun, so that what the kind does first is in
    /// effect when the API answers: a script that POSTs a fault and then calls the service sees
    /// the fault.
    pub async fn begun(&self, id: &str) {
        let Some((entry, _)) = self.find(id) else {
            return;
        };
        let mut rx = entry.begun.subscribe();
        if tokio::time::timeout(STOP_WAIT, rx.wait_for(|b| *b))
            .await
            .is_err()
        {
            tracing::warn!(id, "action's task did not begin within {STOP_WAIT:?}");
        }
    }

    /// Waits until the action has finished (for scenario runners); returns its final view.
    pub async fn wait(&self, id: &str) -> Result<ActionView, ActionError> {
        let (entry, _) = self.find(id).ok_or_else(|| not_found(id))?;
        let mut rx = entry.done.subscribe();
        let _ = rx.wait_for(|d| *d).await;
        Ok(entry.view())
    }
}

/// Runs `fut`, flipping `begun` once its first poll has returned.
async fn first_poll<F: Future>(fut: F, begun: &watch::Sender<bool>) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut first = true;
    std::future::poll_fn(|cx| {
        let polled = fut.as_mut().poll(cx);
        if std::mem::take(&mut first) {
            begun.send_replace(true);
        }
        polled
    })
    .await
}

async fn wait_done(entry: &Entry) {
    let mut rx = entry.done.subscribe();
    if tokio::time::timeout(STOP_WAIT, rx.wait_for(|d| *d))
        .await
        .is_err()
    {
        tracing::warn!(id = %entry.id, "action did not finish cleaning up within {STOP_WAIT:?}");
    }
}

fn not_found(id: &str) -> ActionError {
    ActionError::NotFound(id.to_string())
}
