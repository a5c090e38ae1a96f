//! One action's record: its identity, lifecycle state, active-time clock and the view the API
//! returns. The engine owns the entries; kinds see them only through `RunCtx`.

use super::Kind;
use super::metrics::{IdLabels, InfoLabels};
use crate::clock::ActiveClock;
use serde::Serialize;
use std::sync::Mutex;
use std::time::{Duration, SystemTime};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

/// The lifecycle state of an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    /// Producing load (or paused by its run).
    Running,
    /// Ran its course.
    Completed,
    /// Stopped by a request, its run, or shutdown.
    Stopped,
    /// Could not do what it was asked (`error` says why).
    Failed,
}

impl State {
    pub(super) fn outcome(self) -> &'static str {
        match self {
            State::Running => "running",
            State::Completed => "completed",
            State::Stopped => "stopped",
            State::Failed => "failed",
        }
    }
}

/// Mutable part of an entry.
pub(super) struct Status {
    pub state: State,
    pub progress: f64,
    pub achieved: serde_json::Value,
    pub error: Option<String>,
    pub finished_at: Option<SystemTime>,
}

/// One action, running or finished.
pub struct Entry {
    pub(super) id: String,
    pub(super) kind: Kind,
    pub(super) params: serde_json::Value,
    pub(super) run: Option<String>,
    pub(super) started_at: SystemTime,
    pub(super) duration: Option<Duration>,
    pub(super) cancel: CancellationToken,
    pub(super) paused: watch::Sender<bool>,
    pub(super) clock: Mutex<ActiveClock>,
    pub(super) status: Mutex<Status>,
    /// Flips to true once the task's first poll has returned (what the kind does before its
    /// first await, like a fault's apply, has happened) or the task has finished.
    pub(super) begun: watch::Sender<bool>,
    /// Flips to true once the task has finished and cleaned up.
    pub(super) done: watch::Sender<bool>,
}

impl crate::registry::Job for Entry {
    fn id(&self) -> &str {
        &self.id
    }
}

impl Entry {
    pub(super) fn id_labels(&self) -> IdLabels {
        IdLabels {
            id: self.id.clone(),
            kind: self.kind.as_str().into(),
        }
    }

    pub(super) fn info_labels(&self) -> InfoLabels {
        InfoLabels {
            id: self.id.clone(),
            kind: self.kind.as_str().into(),
            run: self.run.clone().unwrap_or_default(),
        }
    }

    pub(super) fn view(&self) -> ActionView {
        let s = self.status.lock().expect("status poisoned");
        let active = self.clock.lock().expect("clock poisoned").active();
        let ends_at = match (s.finished_at, self.duration) {
            (Some(t), _) => Some(t),
            (None, Some(d)) => Some(SystemTime::now() + d.saturating_sub(active)),
            (None, None) => None,
        };
        ActionView {
            id: self.id.clone(),
            kind: self.kind,
            state: s.state,
            paused: *self.paused.borrow(),
            params: self.params.clone(),
            started_at: rfc3339(self.started_at),
            ends_at: ends_at.map(rfc3339),
            elapsed_seconds: active.as_secs_f64(),
            progress: s.progress,
            achieved: s.achieved.clone(),
            run: self.run.clone(),
            error: s.error.clone(),
        }
    }
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

/// The action object the API serves (its OpenAPI description is `api::schema::ActionView`).
#[derive(Debug, Clone, Serialize)]
pub struct ActionView {
    /// Unique id, e.g. `cpu-3`.
    pub id: String,
    /// The kind.
    pub kind: Kind,
    /// running | completed | stopped | failed.
    pub state: State,
    /// True while its scenario run is paused.
    pub paused: bool,
    /// Resolved parameters with defaults filled in.
    pub params: serde_json::Value,
    /// RFC 3339 start time.
    pub started_at: String,
    /// RFC 3339 end time: planned while running, actual once ended; null if unknown.
    pub ends_at: Option<String>,
    /// Active seconds so far (paused time excluded).
    pub elapsed_seconds: f64,
    /// 0..1.
    pub progress: f64,
    /// What is measured now (host CPU %, resident bytes, operations done, rps...); null until
    /// the first measurement.
    pub achieved: serde_json::Value,
    /// Scenario run id, or null.
    pub run: Option<String>,
    /// Why it failed, when it did.
    pub error: Option<String>,
}
