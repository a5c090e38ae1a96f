//! The run registry: starts runs on their own tasks (children of the root token), lists them,
//! pauses, resumes and stops them, and keeps a bounded history of finished ones.

use super::error::ScenarioError;
use super::model::Scenario;
use super::run::{Outputs, Run, RunSnapshot};
use super::runner::drive;
use super::schedule::Schedule;
use super::verify::{Verification, follow, forget};
use crate::actions::Engine;
use crate::registry::Registry;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Finished runs kept for `GET /runs/{id}`.
const HISTORY: usize = 50;
/// Fastest allowed timeline compression.
pub const MAX_SPEED: f64 = crate::actions::ranges::RUN_SPEED.max;
/// How long `DELETE /runs/{id}` waits for the run's actions to clean up.
const STOP_WAIT: Duration = Duration::from_secs(6);

/// Starts and tracks runs; cheap to clone.
#[derive(Clone)]
pub struct Runs {
    engine: Engine,
    out: Outputs,
    root: CancellationToken,
    tasks: TaskTracker,
    registry: Arc<Registry<Run>>,
}

impl crate::registry::Job for Run {
    fn id(&self) -> &str {
        &self.id
    }
}

impl Runs {
    /// Runs are children of `root` and tracked by `tasks`, like actions.
    pub fn new(engine: Engine, out: Outputs, root: CancellationToken, tasks: TaskTracker) -> Self {
        Runs {
            engine,
            out,
            root,
            tasks,
            registry: Arc::new(Registry::new(HISTORY)),
        }
    }

    /// Starts a run of `scenario` at `speed`, now or at `schedule.start_at`, under the
    /// caller's id when it gives one (409 when a run already has it).
    pub fn start(
        &self,
        scenario: Arc<Scenario>,
        speed: f64,
        schedule: Schedule,
    ) -> Result<RunSnapshot, ScenarioError> {
        self.start_verified(scenario, speed, schedule, None)
    }

    /// Like [`start`](Self::start), the run followed and judged by `verify` when given.
    pub fn start_verified(
        &self,
        scenario: Arc<Scenario>,
        speed: f64,
        schedule: Schedule,
        verify: Option<Arc<Verification>>,
    ) -> Result<RunSnapshot, ScenarioError> {
        crate::actions::ranges::RUN_SPEED
            .check(speed)
            .map_err(|e| ScenarioError::Action(Box::new(e)))?;
        let taken = |id: &str| ScenarioError::RunIdTaken(id.to_owned());
        let run = self.registry.admit(|slots| {
            let id = match schedule.id {
                Some(id) if slots.contains(&id) => return Err(taken(&id)),
                Some(id) => id,
                None => format!("run-{}", slots.number()),
            };
            let token = self.root.child_token();
            let mut run = Run::new(id, scenario, speed, token, self.out.clone());
            if let Some(at) = schedule.start_at {
                run = run.scheduled(at);
            }
            Ok(run.with_verify(verify.clone()))
        })?;
        run.announce();
        let view = run.snapshot();
        if let Some(v) = verify {
            self.tasks
                .spawn(follow(run.clone(), v, self.out.clone(), self.root.clone()));
        }
        let engine = self.engine.clone();
        let (registry, out) = (self.registry.clone(), self.out.clone());
        self.tasks.spawn(async move {
            if let Err(panic) = crate::supervise::catch_panic(drive(run.clone(), engine)).await {
                tracing::error!(run = %run.id, panic = %panic, "a run's driver panicked");
                run.fail(format!(
                    "internal error: the run's driver panicked: {panic}"
                ));
            }
            // Forget the oldest finished run beyond the history bound.
            if let Some(gone) = registry.finish(&run)
                && let Some(v) = &gone.verify
            {
                forget(&gone, v, &out);
            }
        });
        Ok(view)
    }

    /// Numbers new runs after `highest`, so a run never takes the id of a recorded past run.
    pub fn number_after(&self, highest: u64) {
        self.registry.number_after(highest);
    }

    fn find(&self, id: &str) -> Result<Arc<Run>, ScenarioError> {
        self.registry
            .find(id)
            .map(|(run, _)| run)
            .ok_or_else(|| ScenarioError::UnknownRun(id.to_owned()))
    }

    /// Every run, newest first.
    pub fn list(&self) -> Vec<RunSnapshot> {
        let runs = self.registry.newest_first();
        runs.iter().map(|r| r.snapshot()).collect()
    }

    /// One run.
    pub fn get(&self, id: &str) -> Result<RunSnapshot, ScenarioError> {
        self.find(id).map(|r| r.snapshot())
    }

    /// Pauses a running run and its actions.
    pub fn pause(&self, id: &str) -> Result<RunSnapshot, ScenarioError> {
        let run = self.find(id)?;
        run.pause(&self.engine)?;
        Ok(run.snapshot())
    }

    /// Resumes a paused run and its actions.
    pub fn resume(&self, id: &str) -> Result<RunSnapshot, ScenarioError> {
        let run = self.find(id)?;
        run.resume(&self.engine)?;
        Ok(run.snapshot())
    }

    /// Stops a run and its actions; answers once they have cleaned up (bounded).
    pub async fn stop(&self, id: &str) -> Result<RunSnapshot, ScenarioError> {
        let run = self.find(id)?;
        if run.is_done() || run.token.is_cancelled() {
            return Err(ScenarioError::Ended(id.to_owned()));
        }
        run.token.cancel();
        run.wait_done(STOP_WAIT).await;
        Ok(run.snapshot())
    }
}
