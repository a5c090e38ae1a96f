//! Scenarios: timed multi-step stories ("Black Friday Rush") that drive load actions along a
//! timeline, with notes that tell the story as it plays.
//!
//! `format` is the file format and `schema` its JSON Schema; `model` validates a file into a
//! runnable [`Scenario`]; `builtin` embeds the shipped ones and `catalog` adds custom ones
//! from a directory or the API; `run` is one run's state, `runner` plays it, and `runs` keeps
//! them all.

mod actions;
mod builtin;
mod catalog;
mod config;
mod error;
mod format;
mod metrics;
mod model;
mod run;
mod runner;
mod runs;
mod schedule;
pub mod schema;
pub mod verify;

pub use actions::Actions;
pub use catalog::{Catalog, Reload};
pub use config::{ScenariosArgs, ScenariosConfig};
pub use error::{ActionFailure, ScenarioError};
pub use format::{Offset, ScenarioFile, clock, parse};
pub use metrics::ScenarioMetrics;
pub use model::{Scenario, Step, check_name, compile};
pub use run::{Outputs, RunSnapshot, RunState, StepState, StepStatus};
pub use runs::{MAX_SPEED, Runs};
pub use schedule::{MAX_AHEAD, Schedule, check_run_id, parse_start_at};

use crate::actions::Engine;
use crate::events::Events;
use crate::prom::Prom;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Largest scenario body `PUT /scenarios/{name}` accepts.
pub const MAX_BODY: usize = 256 * 1024;

/// The handle the API and the server hold: the catalog and the runs.
#[derive(Clone)]
pub struct Scenarios {
    /// Built-in and custom scenarios.
    pub catalog: Arc<Catalog>,
    /// Runs, running and finished.
    pub runs: Runs,
    /// Where verified runs look (`--prometheus-url`); None: runs with checks are unverified.
    pub prom: Option<Prom>,
}

impl Scenarios {
    /// Loads the catalog (built-ins and `config.dir`) and pre-creates the metric series of
    /// every scenario so dashboards have data before the first run.
    pub fn new(
        config: &ScenariosConfig,
        engine: Engine,
        events: Events,
        metrics: ScenarioMetrics,
        root: CancellationToken,
        tasks: TaskTracker,
    ) -> anyhow::Result<Scenarios> {
        let catalog = Catalog::new(config.dir.clone(), engine.env().clone(), events.clone())?;
        for s in catalog.list() {
            metrics.precreate(&s.name);
        }
        let out = Outputs { events, metrics };
        Ok(Scenarios {
            catalog: Arc::new(catalog),
            runs: Runs::new(engine, out, root, tasks),
            prom: None,
        })
    }

    /// The same, with verified runs looking at `prom`.
    pub fn with_prom(mut self, prom: Option<Prom>) -> Scenarios {
        self.prom = prom;
        self
    }

    /// The verification of a run about to start: None when the scenario has no checks or
    /// `verify` is false; otherwise the preflight must pass first (unless there is no
    /// Prometheus, and the run will be `unverified`).
    pub async fn prepare(
        &self,
        scenario: &Scenario,
        speed: f64,
        verify: bool,
    ) -> Result<Option<Arc<verify::Verification>>, ScenarioError> {
        if !verify || scenario.checks.is_empty() {
            return Ok(None);
        }
        if let Some(prom) = &self.prom {
            verify::preflight(prom, scenario, &scenario.checks, speed).await?;
        }
        Ok(Some(Arc::new(verify::Verification::new(
            scenario.checks.clone(),
            self.prom.clone(),
        ))))
    }

    /// Re-reads the custom scenario directory (SIGHUP).
    pub fn reload(&self) -> Reload {
        self.catalog.reload()
    }
}
