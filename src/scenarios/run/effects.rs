//! What a run's transitions do to the outside world: the `run_*` events and the
//! `jolt_scenario_*` series. Engine calls are not here: [`super::Run`] makes them.

use super::Run;
use super::machine::{RunState, Transition};
use crate::events::{Events, Severity};
use crate::scenarios::format::clock;
use crate::scenarios::metrics::{
    OutcomeLabels, RunLabels, ScenarioLabels, ScenarioMetrics, StepLabels,
};
use serde_json::json;

/// Where a run reports: the event log and the scenario metrics.
#[derive(Clone)]
pub struct Outputs {
    /// The event log.
    pub events: Events,
    /// Scenario families.
    pub metrics: ScenarioMetrics,
}

impl Run {
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

    /// Announces the start (event and metrics); called once, before the driver runs.
    pub(in crate::scenarios) fn announce(&self) {
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

    /// Publishes the position on the timeline as progress.
    pub(in crate::scenarios) fn publish_progress(&self) {
        let total = self.scenario.duration.as_secs_f64();
        let progress = (self.position().as_secs_f64() / total).clamp(0.0, 1.0);
        self.out
            .metrics
            .progress
            .get_or_create(&self.run_labels())
            .set(progress);
    }

    /// Carries out the events and metrics of `transitions`, in order.
    pub(super) fn publish(&self, transitions: &[Transition]) {
        for t in transitions {
            match t {
                Transition::Chapter { from, to } => {
                    let info = &self.out.metrics.step_info;
                    if let Some(prev) = from {
                        info.remove(&self.step_labels(*prev));
                    }
                    info.get_or_create(&self.step_labels(*to)).set(1);
                }
                Transition::StepRunning { step, action } => self.step_event(*step, Ok(action)),
                Transition::StepRefused { step, error } => self.step_event(*step, Err(error)),
                Transition::Paused { .. } => {
                    let running = &self.out.metrics.running;
                    running.get_or_create(&self.scenario_labels()).dec();
                    self.event("run_paused", "paused");
                }
                Transition::Resumed { .. } => {
                    let running = &self.out.metrics.running;
                    running.get_or_create(&self.scenario_labels()).inc();
                    self.event("run_resumed", "resumed");
                }
                Transition::Orphan { .. } => {}
                Transition::Finished {
                    was,
                    state,
                    chapter,
                    error,
                } => self.finished(*was, *state, *chapter, error.as_deref()),
            }
        }
    }

    fn step_event(&self, i: usize, result: Result<&String, &String>) {
        let step = &self.scenario.steps[i];
        let note = step.note.clone().unwrap_or_default();
        let (action, error) = match result {
            Ok(id) => (Some(id), None),
            Err(e) => (None, Some(e)),
        };
        let data = json!({
            "run": self.id, "scenario": self.scenario.name, "step": step.number,
            "at": clock(step.at), "note": note, "kind": step.kind,
            "action": action, "error": error,
        });
        let headline = match &step.note {
            Some(n) => format!(
                "{}: step {} at {}: {n}",
                self.id,
                step.number,
                clock(step.at)
            ),
            None => format!("{}: step {} at {}", self.id, step.number, clock(step.at)),
        };
        let events = &self.out.events;
        let _ = match result {
            Ok(id) => events.emit(
                "run_step",
                Severity::Info,
                format!("{headline} ({} action {id})", step.kind),
                data,
            ),
            Err(e) => events.emit(
                "run_step_failed",
                Severity::Warning,
                format!("{headline}: {} action refused: {e}", step.kind),
                data,
            ),
        };
    }

    fn event(&self, kind: &str, verb: &str) {
        self.out.events.emit(
            kind,
            Severity::Info,
            format!("scenario {} run {} {verb}", self.scenario.name, self.id),
            json!({ "run": self.id, "scenario": self.scenario.name }),
        );
    }

    fn finished(
        &self,
        was: RunState,
        state: RunState,
        chapter: Option<usize>,
        error: Option<&str>,
    ) {
        let m = &self.out.metrics;
        if was == RunState::Running {
            m.running.get_or_create(&self.scenario_labels()).dec();
        }
        m.progress.remove(&self.run_labels());
        if let Some(i) = chapter {
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
        if let Some(e) = error {
            msg.push_str(": ");
            msg.push_str(e);
        } else if state == RunState::Failed {
            msg.push_str(" (some steps could not run; the run's steps say which)");
        }
        self.out.events.emit(
            &format!("run_{outcome}"),
            severity,
            msg,
            json!({ "run": self.id, "scenario": self.scenario.name, "error": error }),
        );
    }
}
