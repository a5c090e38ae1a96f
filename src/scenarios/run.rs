//! One scenario run: its state, a timeline clock that stops while paused, each step's state,
//! and the transitions (start a step, pause, resume, finish) with their events and metrics.

use super::actions::Actions;
use super::error::ScenarioError;
use super::format::clock;
use super::metrics::{OutcomeLabels, RunLabels, ScenarioLabels, ScenarioMetrics, StepLabels};
use super::model::Scenario;
use super::verify::{CheckView, RunVerdict, Verification};
use crate::actions::State;
use crate::events::{Events, Severity};
use serde::Serialize;
use serde_json::json;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Where a run reports: the event log and the scenario metrics.
#[derive(Clone)]
pub struct Outputs {
    /// The event log.
    pub events: Events,
    /// Scenario families.
    pub metrics: ScenarioMetrics,
}

/// The lifecycle state of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// The timeline advances.
    Running,
    /// The timeline and the run's actions are paused.
    Paused,
    /// Every step ran and none failed.
    Completed,
    /// Stopped by a request or shutdown.
    Stopped,
    /// Ran to the end, but at least one step's action was refused or failed.
    Failed,
}

/// The state of one step in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum StepState {
    /// Not started yet.
    Pending,
    /// Its action runs.
    Running,
    /// Its action ended (completed, or stopped at the step's end).
    Done,
    /// Its action was refused or failed (`error` says why); the run went on.
    Failed,
    /// The run was stopped before the step started.
    Skipped,
}

/// Active time: wall time since start minus paused spans (tokio time, so tests can pause it).
struct Clock {
    started: Instant,
    paused_total: Duration,
    paused_since: Option<Instant>,
}

impl Clock {
    fn active(&self) -> Duration {
        let now = self.paused_since.unwrap_or_else(Instant::now);
        now.duration_since(self.started)
            .saturating_sub(self.paused_total)
    }
}

/// One step's progress in a run.
#[derive(Debug, Clone)]
pub(super) struct StepStatus {
    pub state: StepState,
    pub action: Option<String>,
    pub error: Option<String>,
}

struct Status {
    state: RunState,
    clock: Clock,
    steps: Vec<StepStatus>,
    current: Option<usize>,
    ended_at: Option<SystemTime>,
    /// When the timeline began (for a scheduled run, set when `start_at` arrives).
    started_at: SystemTime,
    /// False while a scheduled run waits for its `start_at`.
    begun: bool,
    /// Why the run itself failed (its driver panicked), as opposed to one of its steps.
    error: Option<String>,
}

/// A run of a scenario.
pub struct Run {
    /// `run-N`.
    pub id: String,
    /// What it plays.
    pub scenario: Arc<Scenario>,
    /// Timeline compression: 10 plays a 3-minute scenario in 18 s.
    pub speed: f64,
    /// Parent of the tokens of the run's actions: cancelling it stops them all.
    pub token: CancellationToken,
    /// The wall-clock time the timeline is scheduled to begin, when the caller gave one.
    pub start_at: Option<SystemTime>,
    status: Mutex<Status>,
    /// True while paused; the driver waits on it.
    pub(super) paused: watch::Sender<bool>,
    /// Flips to true once the driver has finished.
    done: watch::Sender<bool>,
    out: Outputs,
    /// The checks of a verified run (None: no checks, or started with `verify=false`).
    pub verify: Option<Arc<Verification>>,
}

/// What starting a step did.
pub(super) enum StepStart {
    /// The action runs with this id.
    Started(String),
    /// The action was refused; the step is failed.
    Failed,
    /// The run is paused: try again later.
    Deferred,
}

impl Run {
    /// A running run whose clock starts now.
    pub fn new(
        id: String,
        scenario: Arc<Scenario>,
        speed: f64,
        token: CancellationToken,
        out: Outputs,
    ) -> Run {
        let steps = vec![
            StepStatus {
                state: StepState::Pending,
                action: None,
                error: None,
            };
            scenario.steps.len()
        ];
        Run {
            id,
            scenario,
            speed,
            token,
            start_at: None,
            status: Mutex::new(Status {
                state: RunState::Running,
                clock: Clock {
                    started: Instant::now(),
                    paused_total: Duration::ZERO,
                    paused_since: None,
                },
                steps,
                current: None,
                ended_at: None,
                started_at: SystemTime::now(),
                begun: true,
                error: None,
            }),
            paused: watch::Sender::new(false),
            done: watch::Sender::new(false),
            out,
            verify: None,
        }
    }

    /// The same run, its timeline held at zero until the wall-clock time `at`; the driver
    /// calls [`Run::begin`] then.
    pub fn scheduled(mut self, at: SystemTime) -> Run {
        let delay = at.duration_since(SystemTime::now()).unwrap_or_default();
        self.start_at = Some(at);
        let st = self.status.get_mut().expect("run status poisoned");
        st.clock.started = Instant::now() + delay;
        st.started_at = at;
        st.begun = false;
        self
    }

    /// Starts the timeline now: the moment a scheduled run's `start_at` arrived.
    pub(super) fn begin(&self) {
        let mut st = self.lock();
        st.clock.started = Instant::now();
        st.started_at = SystemTime::now();
        st.begun = true;
    }

    /// The same run, verified by `v`.
    pub fn with_verify(mut self, v: Option<Arc<Verification>>) -> Run {
        self.verify = v;
        self
    }

    /// The check clock: wall seconds since the start, paused spans excluded; it stops when
    /// the run ends.
    pub fn active_secs(&self) -> f64 {
        self.lock().clock.active().as_secs_f64()
    }

    fn lock(&self) -> MutexGuard<'_, Status> {
        self.status.lock().expect("run status poisoned")
    }

    fn run_labels(&self) -> RunLabels {
        RunLabels {
            run: self.id.clone(),
            scenario: self.scenario.name.clone(),
        }
    }

    fn scenario_labels(&self) -> ScenarioLabels {
        ScenarioLabels {
            scenario: self.scenario.name.clone(),
        }
    }

    fn step_labels(&self, i: usize) -> StepLabels {
        let step = &self.scenario.steps[i];
        StepLabels {
            run: self.id.clone(),
            scenario: self.scenario.name.clone(),
            step: step.number.to_string(),
            note: step.note.clone().unwrap_or_default(),
        }
    }

    /// Position on the timeline (scenario time), capped at the scenario's length.
    pub fn position(&self) -> Duration {
        let active = self.lock().clock.active();
        active.mul_f64(self.speed).min(self.scenario.duration)
    }

    /// The current state.
    #[cfg(test)]
    pub fn state(&self) -> RunState {
        self.lock().state
    }

    /// Announces the start (event and metrics); called once, before the driver runs.
    pub(super) fn announce(&self) {
        let start_at = self
            .start_at
            .map(|t| humantime::format_rfc3339_millis(t).to_string());
        let m = &self.out.metrics;
        m.running.get_or_create(&self.scenario_labels()).inc();
        m.progress.get_or_create(&self.run_labels()).set(0.0);
        self.out.events.emit(
            "run_started",
            Severity::Info,
            format!(
                "scenario {} ({}) started as {} at speed {}{}",
                self.scenario.name,
                self.scenario.title,
                self.id,
                self.speed,
                start_at
                    .as_ref()
                    .map(|t| format!(", its timeline beginning at {t}"))
                    .unwrap_or_default()
            ),
            json!({ "run": self.id, "scenario": self.scenario.name, "speed": self.speed,
                    "start_at": start_at }),
        );
    }

    /// Starts step `i`'s action unless the run is paused; a refusal fails the step only.
    pub(super) fn start_step<A: Actions>(&self, i: usize, actions: &A) -> StepStart {
        let mut st = self.lock();
        if st.state != RunState::Running {
            return StepStart::Deferred;
        }
        let step = &self.scenario.steps[i];
        let result = step.params(self.speed).and_then(|p| {
            actions
                .start(p, &self.id, &self.token)
                .map_err(ScenarioError::Action)
        });
        // The current step is the latest one with a note (the story's chapter); steps
        // without a note that start alongside it do not replace it.
        let steps = &self.scenario.steps;
        if step.note.is_some() || st.current.is_none_or(|c| steps[c].note.is_none()) {
            let info = &self.out.metrics.step_info;
            if let Some(prev) = st.current.replace(i) {
                info.remove(&self.step_labels(prev));
            }
            info.get_or_create(&self.step_labels(i)).set(1);
        }
        let note = step.note.clone().unwrap_or_default();
        let data = |action: &Option<String>, error: &Option<String>| {
            json!({
                "run": self.id, "scenario": self.scenario.name, "step": step.number,
                "at": clock(step.at), "note": note, "kind": step.kind,
                "action": action, "error": error,
            })
        };
        let headline = match &step.note {
            Some(n) => format!(
                "{}: step {} at {}: {n}",
                self.id,
                step.number,
                clock(step.at)
            ),
            None => format!("{}: step {} at {}", self.id, step.number, clock(step.at)),
        };
        let s = &mut st.steps[i];
        match result {
            Ok(id) => {
                s.state = StepState::Running;
                s.action = Some(id.clone());
                self.out.events.emit(
                    "run_step",
                    Severity::Info,
                    format!("{headline} ({} action {id})", step.kind),
                    data(&s.action, &None),
                );
                StepStart::Started(id)
            }
            Err(e) => {
                s.state = StepState::Failed;
                s.error = Some(e.to_string());
                self.out.events.emit(
                    "run_step_failed",
                    Severity::Warning,
                    format!("{headline}: {} action refused: {e}", step.kind),
                    data(&None, &s.error),
                );
                StepStart::Failed
            }
        }
    }

    /// Records how a step's action ended.
    pub(super) fn record(&self, i: usize, state: State, error: Option<String>) {
        let mut st = self.lock();
        let s = &mut st.steps[i];
        if state == State::Failed {
            s.state = StepState::Failed;
            s.error = error;
        } else {
            s.state = StepState::Done;
        }
    }

    /// Ids of the actions of steps still running.
    pub(super) fn running_actions(&self) -> Vec<String> {
        self.lock()
            .steps
            .iter()
            .filter(|s| s.state == StepState::Running)
            .filter_map(|s| s.action.clone())
            .collect()
    }

    /// Publishes progress.
    pub(super) fn publish_progress(&self) {
        let progress = self.progress();
        self.out
            .metrics
            .progress
            .get_or_create(&self.run_labels())
            .set(progress);
    }

    fn progress(&self) -> f64 {
        let total = self.scenario.duration.as_secs_f64();
        (self.position().as_secs_f64() / total).clamp(0.0, 1.0)
    }

    /// Pauses the timeline and the run's running actions (their load goes away).
    pub fn pause<A: Actions>(&self, actions: &A) -> Result<(), ScenarioError> {
        let mut st = self.lock();
        if st.state != RunState::Running {
            return Err(self.conflict(st.state, "pause"));
        }
        if !st.begun {
            return Err(ScenarioError::NotNow {
                run: self.id.clone(),
                verb: "pause",
                why: "it has not begun yet (start_at); stop it instead".into(),
            });
        }
        st.state = RunState::Paused;
        st.clock.paused_since = Some(Instant::now());
        for id in st.steps.iter().filter(|s| s.state == StepState::Running) {
            if let Some(id) = &id.action {
                actions.set_paused(id, true);
            }
        }
        self.paused.send_replace(true);
        drop(st);
        self.out
            .metrics
            .running
            .get_or_create(&self.scenario_labels())
            .dec();
        self.event("run_paused", "paused");
        Ok(())
    }

    /// Resumes the timeline and the run's paused actions.
    pub fn resume<A: Actions>(&self, actions: &A) -> Result<(), ScenarioError> {
        let mut st = self.lock();
        if st.state != RunState::Paused {
            return Err(self.conflict(st.state, "resume"));
        }
        st.state = RunState::Running;
        if let Some(since) = st.clock.paused_since.take() {
            st.clock.paused_total += since.elapsed();
        }
        for s in st.steps.iter().filter(|s| s.state == StepState::Running) {
            if let Some(id) = &s.action {
                actions.set_paused(id, false);
            }
        }
        self.paused.send_replace(false);
        drop(st);
        self.out
            .metrics
            .running
            .get_or_create(&self.scenario_labels())
            .inc();
        self.event("run_resumed", "resumed");
        Ok(())
    }

    fn conflict(&self, state: RunState, verb: &'static str) -> ScenarioError {
        let state = serde_json::to_value(state).unwrap_or_default();
        ScenarioError::NotNow {
            run: self.id.clone(),
            verb,
            why: format!("it is {}", state.as_str().unwrap_or("?")),
        }
    }

    fn event(&self, kind: &str, verb: &str) {
        self.out.events.emit(
            kind,
            Severity::Info,
            format!("scenario {} run {} {verb}", self.scenario.name, self.id),
            json!({ "run": self.id, "scenario": self.scenario.name }),
        );
    }

    /// Ends the run: final state, skipped steps, metrics, event; wakes `wait_done`.
    pub(super) fn finish(&self, stopped: bool) {
        let mut st = self.lock();
        let was = st.state;
        let any_failed = st.steps.iter().any(|s| s.state == StepState::Failed);
        st.state = match (stopped, any_failed) {
            _ if st.error.is_some() => RunState::Failed,
            (true, _) => RunState::Stopped,
            (false, true) => RunState::Failed,
            (false, false) => RunState::Completed,
        };
        for s in st.steps.iter_mut() {
            match s.state {
                StepState::Pending => s.state = StepState::Skipped,
                StepState::Running => s.state = StepState::Done,
                _ => {}
            }
        }
        if st.clock.paused_since.is_none() {
            st.clock.paused_since = Some(Instant::now());
        }
        st.ended_at = Some(SystemTime::now());
        let current = st.current;
        let state = st.state;
        drop(st);
        let m = &self.out.metrics;
        if was == RunState::Running {
            m.running.get_or_create(&self.scenario_labels()).dec();
        }
        m.progress.remove(&self.run_labels());
        if let Some(i) = current {
            m.step_info.remove(&self.step_labels(i));
        }
        let outcome = match state {
            RunState::Stopped => "stopped",
            RunState::Failed => "failed",
            _ => "completed",
        };
        m.runs
            .get_or_create(&OutcomeLabels {
                scenario: self.scenario.name.clone(),
                outcome: outcome.into(),
            })
            .inc();
        let severity = if state == RunState::Failed {
            Severity::Warning
        } else {
            Severity::Info
        };
        let mut msg = format!("scenario {} run {} {outcome}", self.scenario.name, self.id);
        let error = self.lock().error.clone();
        if let Some(e) = &error {
            msg.push_str(": ");
            msg.push_str(e);
        } else if state == RunState::Failed {
            msg.push_str(" (some steps could not run; GET /runs/");
            msg.push_str(&self.id);
            msg.push_str(" says which)");
        }
        self.out.events.emit(
            &format!("run_{outcome}"),
            severity,
            msg,
            json!({ "run": self.id, "scenario": self.scenario.name, "error": error }),
        );
        self.done.send_replace(true);
    }

    /// Ends a run whose driver died (a panic): stops its actions and finishes it `failed`
    /// with `message`, unless the driver had already finished it.
    pub(super) fn fail(&self, message: String) {
        self.token.cancel();
        if self.is_done() {
            return;
        }
        self.lock().error = Some(message);
        self.finish(true);
    }

    /// True once the driver has finished.
    pub fn is_done(&self) -> bool {
        *self.done.borrow()
    }

    /// Waits (bounded) until the driver has finished.
    pub async fn wait_done(&self, limit: Duration) {
        let mut rx = self.done.subscribe();
        let _ = tokio::time::timeout(limit, rx.wait_for(|d| *d)).await;
    }

    /// The API view.
    pub fn view(&self) -> RunView {
        let st = self.lock();
        let total = self.scenario.duration;
        let position = st.clock.active().mul_f64(self.speed).min(total);
        let steps: Vec<StepRunView> = self
            .scenario
            .steps
            .iter()
            .zip(&st.steps)
            .map(|(step, s)| StepRunView {
                step: step.number,
                at: clock(step.at),
                at_seconds: step.at.as_secs_f64(),
                duration_seconds: step.duration.as_secs_f64(),
                kind: step.kind.as_str().into(),
                note: step.note.clone(),
                state: s.state,
                action: s.action.clone(),
                error: s.error.clone(),
            })
            .collect();
        RunView {
            id: self.id.clone(),
            scenario: self.scenario.name.clone(),
            title: self.scenario.title.clone(),
            state: st.state,
            speed: self.speed,
            progress: (position.as_secs_f64() / total.as_secs_f64()).clamp(0.0, 1.0),
            elapsed_seconds: position.as_secs_f64(),
            remaining_seconds: total.saturating_sub(position).as_secs_f64(),
            duration_seconds: total.as_secs_f64(),
            started_at: humantime::format_rfc3339_millis(st.started_at).to_string(),
            start_at: self
                .start_at
                .map(|t| humantime::format_rfc3339_millis(t).to_string()),
            ended_at: st
                .ended_at
                .map(|t| humantime::format_rfc3339_millis(t).to_string()),
            current_step: st.current.map(|i| steps[i].clone()),
            error: st.error.clone(),
            steps,
            verdict: self.verify.as_ref().map(|v| v.verdict()),
            score: self.verify.as_ref().map(|v| v.score()),
            checks: self
                .verify
                .as_ref()
                .map(|v| v.views(self.speed))
                .unwrap_or_default(),
            alerts: self
                .verify
                .as_ref()
                .map(|v| {
                    v.transitions()
                        .into_iter()
                        .map(|t| serde_json::to_value(t).unwrap_or_default())
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// The run object of the API. Times are timeline seconds: at speed 10, a wall second is ten.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunView {
    /// `run-N`.
    pub id: String,
    /// Scenario name.
    pub scenario: String,
    /// Scenario title.
    pub title: String,
    /// running | paused | completed | stopped | failed.
    pub state: RunState,
    /// Timeline compression factor.
    pub speed: f64,
    /// 0..1.
    pub progress: f64,
    /// Position on the timeline, in scenario seconds.
    pub elapsed_seconds: f64,
    /// Scenario seconds left (divide by `speed` for wall seconds).
    pub remaining_seconds: f64,
    /// The scenario's length in seconds.
    pub duration_seconds: f64,
    /// RFC 3339 time the timeline began (a scheduled run: when it is due, until it begins).
    pub started_at: String,
    /// RFC 3339 time the caller scheduled the start for (`start_at`), or null.
    pub start_at: Option<String>,
    /// RFC 3339 end time, once ended.
    pub ended_at: Option<String>,
    /// The latest started step with a note (the story so far), or null before the first.
    pub current_step: Option<StepRunView>,
    /// Every step with its state and action id.
    pub steps: Vec<StepRunView>,
    /// Why the run failed when its driver did (not one of its steps), else null.
    pub error: Option<String>,
    /// For a scenario with checks: pending | pass | fail | inconclusive | unverified; null
    /// without checks (or with `verify=false`).
    pub verdict: Option<RunVerdict>,
    /// 0–100 (README, "Verified scenarios"); null without checks.
    pub score: Option<u8>,
    /// Each check with what it expects, what was observed and its result.
    pub checks: Vec<CheckView>,
    /// The checked alerts' transitions (`{t, state, labels}`, t in check-clock seconds).
    #[schema(value_type = Vec<Object>)]
    pub alerts: Vec<serde_json::Value>,
}

/// A step of a run.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StepRunView {
    /// 1-based position.
    pub step: usize,
    /// Start offset, `M:SS`.
    pub at: String,
    /// Start offset in seconds.
    pub at_seconds: f64,
    /// Length in scenario seconds.
    pub duration_seconds: f64,
    /// Action kind.
    pub kind: String,
    /// The story at this point.
    pub note: Option<String>,
    /// pending | running | done | failed | skipped.
    pub state: StepState,
    /// The action's id once started (`GET /actions/{id}`).
    pub action: Option<String>,
    /// Why the action was refused or failed.
    pub error: Option<String>,
}
