//! One scenario run: its identity, a timeline clock that stops while paused, and the glue
//! between the pure state machine (`machine`), its side effects (`effects`: events, metrics)
//! and the action engine. The engine is never called while the run's lock is held: what a
//! call needs is taken under the lock, the lock is dropped, the call made, and its result
//! applied under the lock again.

mod effects;
mod machine;
mod snapshot;

pub use effects::Outputs;
pub use machine::{RunState, StepState, StepStatus};
pub use snapshot::RunSnapshot;

use super::actions::Actions;
use super::error::ScenarioError;
use super::model::Scenario;
use super::verify::Verification;
use crate::actions::State;
use crate::clock::ActiveClock;
use machine::{Event, Machine, Refusal, Transition};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

struct Status {
    machine: Machine,
    clock: ActiveClock,
    ended_at: Option<SystemTime>,
    /// When the timeline began (for a scheduled run, set when `start_at` arrives).
    started_at: SystemTime,
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
        let notes = scenario.steps.iter().map(|s| s.note.is_some()).collect();
        Run {
            id,
            scenario,
            speed,
            token,
            start_at: None,
            status: Mutex::new(Status {
                machine: Machine::new(notes, true),
                clock: ActiveClock::start(),
                ended_at: None,
                started_at: SystemTime::now(),
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
        st.clock.restart_at(Instant::now() + delay);
        st.started_at = at;
        st.machine.begun = false;
        self
    }

    /// Starts the timeline now: the moment a scheduled run's `start_at` arrived.
    pub(super) fn begin(&self) {
        let mut st = self.lock();
        st.clock.restart_at(Instant::now());
        st.started_at = SystemTime::now();
        let _ = st.machine.on(Event::Begin);
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

    /// Position on the timeline (scenario time), capped at the scenario's length.
    pub fn position(&self) -> Duration {
        let active = self.lock().clock.active();
        active.mul_f64(self.speed).min(self.scenario.duration)
    }

    /// The current state.
    pub fn state(&self) -> RunState {
        self.lock().machine.state
    }

    /// Feeds `event` to the machine under the lock, then publishes what it did.
    fn apply(&self, event: Event) -> Result<Vec<Transition>, Refusal> {
        let transitions = self.lock().machine.on(event)?;
        self.publish(&transitions);
        Ok(transitions)
    }

    /// Starts step `i`'s action unless the run is paused; a refusal fails the step only.
    /// The engine is called without the lock: a pause or resume that lands meanwhile is
    /// reconciled afterwards (the new action takes the run's pause state).
    pub(super) fn start_step<A: Actions>(&self, i: usize, actions: &A) -> StepStart {
        if self.state() != RunState::Running {
            return StepStart::Deferred;
        }
        let started = actions
            .start(
                self.scenario.steps[i].params(self.speed),
                &self.id,
                &self.token,
            )
            .map_err(ScenarioError::Action);
        let event = match &started {
            Ok(id) => Event::Started {
                step: i,
                action: id.clone(),
            },
            Err(e) => Event::Refused {
                step: i,
                error: e.to_string(),
            },
        };
        let mut st = self.lock();
        let transitions = st.machine.on(event).unwrap_or_default();
        let paused = st.machine.state == RunState::Paused;
        drop(st);
        self.publish(&transitions);
        if transitions
            .iter()
            .any(|t| matches!(t, Transition::Orphan { .. }))
        {
            // The run ended while the action was starting: its token (the run's child) stops it.
            self.token.cancel();
        }
        match started {
            Ok(id) => {
                if paused {
                    self.sync_pause(actions);
                }
                StepStart::Started(id)
            }
            Err(_) => StepStart::Failed,
        }
    }

    /// Records how a step's action ended.
    pub(super) fn record(&self, i: usize, state: State, error: Option<String>) {
        let failed = state == State::Failed;
        let _ = self.apply(Event::Ended {
            step: i,
            failed,
            error,
        });
    }

    /// Ids of the actions of steps still running.
    pub(super) fn running_actions(&self) -> Vec<String> {
        self.lock().machine.running_actions()
    }

    /// Pauses the timeline and the run's running actions (their load goes away).
    pub fn pause<A: Actions>(&self, actions: &A) -> Result<(), ScenarioError> {
        self.pause_or_resume(Event::Pause, actions)
    }

    /// Resumes the timeline and the run's paused actions.
    pub fn resume<A: Actions>(&self, actions: &A) -> Result<(), ScenarioError> {
        self.pause_or_resume(Event::Resume, actions)
    }

    fn pause_or_resume<A: Actions>(&self, event: Event, actions: &A) -> Result<(), ScenarioError> {
        let verb = if event == Event::Pause {
            "pause"
        } else {
            "resume"
        };
        let mut st = self.lock();
        let transitions = st.machine.on(event).map_err(|r| ScenarioError::NotNow {
            run: self.id.clone(),
            verb,
            why: match r {
                Refusal::State(s) => format!("it is {}", s.as_str()),
                Refusal::NotBegun => "it has not begun yet (start_at); stop it instead".into(),
            },
        })?;
        let paused = st.machine.state == RunState::Paused;
        if paused {
            st.clock.stop();
        } else {
            st.clock.go();
        }
        self.paused.send_replace(paused);
        // Published under the lock so the events of racing pauses and resumes keep their order.
        self.publish(&transitions);
        drop(st);
        self.sync_pause(actions);
        Ok(())
    }

    /// Gives every running action the run's pause state, outside the lock. A pause or
    /// resume that overtakes this one bumps the epoch; then the current state is applied
    /// again, so the last call to the engine always matches the run.
    fn sync_pause<A: Actions>(&self, actions: &A) {
        loop {
            let (epoch, paused, ids) = {
                let st = self.lock();
                let m = &st.machine;
                (m.epoch, m.state == RunState::Paused, m.running_actions())
            };
            for id in &ids {
                actions.set_paused(id, paused);
            }
            if self.lock().machine.epoch == epoch {
                return;
            }
        }
    }

    /// Ends the run: final state, skipped steps, metrics, event; wakes `wait_done`.
    pub(super) fn finish(&self, stopped: bool) {
        let mut st = self.lock();
        let transitions = st.machine.on(Event::Finish { stopped }).unwrap_or_default();
        st.clock.stop();
        st.ended_at.get_or_insert_with(SystemTime::now);
        drop(st);
        self.publish(&transitions);
        self.done.send_replace(true);
    }

    /// Ends a run whose driver died (a panic): stops its actions and finishes it `failed`
    /// with `message`, unless the driver had already finished it.
    pub(super) fn fail(&self, message: String) {
        self.token.cancel();
        if self.is_done() {
            return;
        }
        let _ = self.apply(Event::Crashed { message });
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

    /// A consistent copy of the run's state now.
    pub fn snapshot(&self) -> RunSnapshot {
        let st = self.lock();
        let position = st
            .clock
            .active()
            .mul_f64(self.speed)
            .min(self.scenario.duration);
        RunSnapshot {
            id: self.id.clone(),
            scenario: self.scenario.clone(),
            speed: self.speed,
            state: st.machine.state,
            position,
            started_at: st.started_at,
            start_at: self.start_at,
            ended_at: st.ended_at,
            steps: st.machine.steps.clone(),
            current: st.machine.current,
            error: st.machine.error.clone(),
            verify: self.verify.as_ref().map(|v| v.snapshot()),
        }
    }
}

#[cfg(test)]
#[path = "race_tests.rs"]
mod race_tests;
