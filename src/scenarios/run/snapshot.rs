//! A run as plain data at one moment: what the API shows (it builds its JSON view from this)
//! and what a report reads.

use super::machine::{RunState, StepStatus};
use crate::scenarios::model::Scenario;
use crate::scenarios::verify::VerifySnapshot;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// A consistent copy of a run's state at one moment, for the API and reports.
#[derive(Debug, Clone)]
pub struct RunSnapshot {
    /// The run's id.
    pub id: String,
    /// What it plays.
    pub scenario: Arc<Scenario>,
    /// Timeline compression.
    pub speed: f64,
    /// Where the run is.
    pub state: RunState,
    /// Position on the timeline (scenario time), capped at the scenario's length.
    pub position: Duration,
    /// When the timeline began (a scheduled run: when it is due, until it begins).
    pub started_at: SystemTime,
    /// The time the caller scheduled the start for.
    pub start_at: Option<SystemTime>,
    /// When it ended.
    pub ended_at: Option<SystemTime>,
    /// Each step's progress, in timeline order.
    pub steps: Vec<StepStatus>,
    /// The latest started step with a note.
    pub current: Option<usize>,
    /// Why the run itself failed (its driver died).
    pub error: Option<String>,
    /// The checks of a verified run and what they found.
    pub verify: Option<VerifySnapshot>,
}
