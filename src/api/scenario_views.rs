//! The JSON shapes the API serves for scenarios and runs, with their OpenAPI description:
//! built here from the domain's plain data ([`Scenario`], [`RunSnapshot`]), so the domain
//! knows nothing of how it is shown.

use crate::scenarios::verify::{self, Check, Outcome, VerifySnapshot};
use crate::scenarios::{RunSnapshot, Scenario, Step, clock};
use serde::Serialize;
use serde_json::{Map, Value, json};
use std::time::SystemTime;

/// A scenario as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ScenarioView {
    /// The name used in URLs.
    pub name: String,
    /// What people see.
    pub title: String,
    /// The story.
    pub description: String,
    /// Length of the timeline, in seconds.
    pub duration_seconds: f64,
    /// Shipped with jolt (read-only).
    pub builtin: bool,
    /// The timeline.
    pub steps: Vec<StepView>,
}

/// A step as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct StepView {
    /// 1-based position.
    pub step: usize,
    /// Start offset, `M:SS`.
    pub at: String,
    /// Start offset in seconds.
    pub at_seconds: f64,
    /// Length in seconds.
    pub duration_seconds: f64,
    /// The action: `kind` plus its parameters as written.
    #[schema(value_type = Object)]
    pub action: Value,
    /// The story at this point.
    pub note: Option<String>,
}

impl From<&Scenario> for ScenarioView {
    fn from(s: &Scenario) -> Self {
        ScenarioView {
            name: s.name.clone(),
            title: s.title.clone(),
            description: s.description.clone(),
            duration_seconds: s.duration.as_secs_f64(),
            builtin: s.builtin,
            steps: s.steps.iter().map(StepView::from).collect(),
        }
    }
}

impl From<&Step> for StepView {
    fn from(s: &Step) -> Self {
        let mut action = Map::new();
        action.insert("kind".into(), json!(s.kind.as_str()));
        action.extend(s.params.clone());
        StepView {
            step: s.number,
            at: clock(s.at),
            at_seconds: s.at.as_secs_f64(),
            duration_seconds: s.duration.as_secs_f64(),
            action: Value::Object(action),
            note: s.note.clone(),
        }
    }
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

impl From<crate::scenarios::RunState> for RunState {
    fn from(s: crate::scenarios::RunState) -> Self {
        use crate::scenarios::RunState as D;
        match s {
            D::Running => RunState::Running,
            D::Paused => RunState::Paused,
            D::Completed => RunState::Completed,
            D::Stopped => RunState::Stopped,
            D::Failed => RunState::Failed,
        }
    }
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

impl From<crate::scenarios::StepState> for StepState {
    fn from(s: crate::scenarios::StepState) -> Self {
        use crate::scenarios::StepState as D;
        match s {
            D::Pending => StepState::Pending,
            D::Running => StepState::Running,
            D::Done => StepState::Done,
            D::Failed => StepState::Failed,
            D::Skipped => StepState::Skipped,
        }
    }
}

/// A run's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum RunVerdict {
    /// Checks still undecided.
    Pending,
    /// Every check passed.
    Pass,
    /// At least one check failed.
    Fail,
    /// None failed, at least one could not be decided.
    Inconclusive,
    /// The scenario has checks but jolt has no `--prometheus-url`: nothing was verified.
    Unverified,
}

impl From<verify::RunVerdict> for RunVerdict {
    fn from(v: verify::RunVerdict) -> Self {
        use verify::RunVerdict as D;
        match v {
            D::Pending => RunVerdict::Pending,
            D::Pass => RunVerdict::Pass,
            D::Fail => RunVerdict::Fail,
            D::Inconclusive => RunVerdict::Inconclusive,
            D::Unverified => RunVerdict::Unverified,
        }
    }
}

/// The result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Not decided yet.
    Pending,
    /// Met.
    Pass,
    /// Not met.
    Fail,
    /// Could not be decided: no data, a failed query, Prometheus unreachable, run stopped.
    Inconclusive,
}

impl From<verify::Verdict> for Verdict {
    fn from(v: verify::Verdict) -> Self {
        use verify::Verdict as D;
        match v {
            D::Pending => Verdict::Pending,
            D::Pass => Verdict::Pass,
            D::Fail => Verdict::Fail,
            D::Inconclusive => Verdict::Inconclusive,
        }
    }
}

/// A check as the run object shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CheckView {
    /// Unique name in the scenario.
    pub name: String,
    /// fires | notified | resolves | never | query.
    #[serde(rename = "type")]
    pub kind: String,
    /// pending | pass | fail | inconclusive.
    pub result: Verdict,
    /// What was expected, in a sentence.
    pub expected: String,
    /// What was seen, in a sentence.
    pub observed: String,
    /// Seconds (wall, pauses excluded) from the run's start to the decision.
    pub decided_at: Option<f64>,
    /// Seconds from the anchor to the event, for timed checks that passed.
    pub delay_seconds: Option<f64>,
    /// Stops the run when it fails.
    pub abort_on_fail: bool,
    /// The check as compiled (alert, labels, anchors, bounds).
    #[schema(value_type = Object)]
    pub spec: serde_json::Value,
}

impl CheckView {
    fn new(c: &Check, o: &Outcome, speed: f64) -> Self {
        let tenths = |t: f64| (t * 10.0).round() / 10.0;
        CheckView {
            name: c.name.clone(),
            kind: verify::kind(c).into(),
            result: o.result.into(),
            expected: verify::expected(c, speed),
            observed: o.observed.clone(),
            decided_at: o.decided_at.map(tenths),
            delay_seconds: o.delay.map(tenths),
            abort_on_fail: c.abort_on_fail,
            spec: serde_json::to_value(c).unwrap_or_default(),
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

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

impl From<RunSnapshot> for RunView {
    fn from(r: RunSnapshot) -> Self {
        let total = r.scenario.duration;
        let position = r.position;
        let steps: Vec<StepRunView> = r
            .scenario
            .steps
            .iter()
            .zip(&r.steps)
            .map(|(step, s)| StepRunView {
                step: step.number,
                at: clock(step.at),
                at_seconds: step.at.as_secs_f64(),
                duration_seconds: step.duration.as_secs_f64(),
                kind: step.kind.as_str().into(),
                note: step.note.clone(),
                state: s.state.into(),
                action: s.action.clone(),
                error: s.error.clone(),
            })
            .collect();
        let (verdict, score, checks, alerts) = match r.verify {
            Some(VerifySnapshot {
                verdict,
                score,
                checks,
                transitions,
            }) => (
                Some(verdict.into()),
                Some(score),
                checks
                    .iter()
                    .map(|(c, o)| CheckView::new(c, o, r.speed))
                    .collect(),
                transitions
                    .into_iter()
                    .map(|t| serde_json::to_value(t).unwrap_or_default())
                    .collect(),
            ),
            None => (None, None, Vec::new(), Vec::new()),
        };
        RunView {
            id: r.id,
            scenario: r.scenario.name.clone(),
            title: r.scenario.title.clone(),
            state: r.state.into(),
            speed: r.speed,
            progress: (position.as_secs_f64() / total.as_secs_f64()).clamp(0.0, 1.0),
            elapsed_seconds: position.as_secs_f64(),
            remaining_seconds: total.saturating_sub(position).as_secs_f64(),
            duration_seconds: total.as_secs_f64(),
            started_at: rfc3339(r.started_at),
            start_at: r.start_at.map(rfc3339),
            ended_at: r.ended_at.map(rfc3339),
            current_step: r.current.map(|i| steps[i].clone()),
            error: r.error,
            steps,
            verdict,
            score,
            checks,
            alerts,
        }
    }
}

/// The run object as JSON, for whoever keeps a run as it was served (run reports).
pub fn run_json(run: RunSnapshot) -> serde_json::Value {
    serde_json::to_value(RunView::from(run)).unwrap_or_default()
}
