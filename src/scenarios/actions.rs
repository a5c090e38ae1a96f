//! What a run needs from the action engine, as a trait so the timeline logic can be tested
//! with paused tokio time and a fake engine.

use super::error::ActionFailure;
use crate::actions::{Engine, Params, State};
use std::future::Future;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long a run waits for an action it stops to finish cleaning up.
const STOP_WAIT: Duration = Duration::from_secs(5);

/// The engine operations a run uses.
pub trait Actions: Clone + Send + Sync + 'static {
    /// Starts an action tagged with `run`, as a child of the run's token; returns its id.
    fn start(
        &self,
        params: Params,
        run: &str,
        token: &CancellationToken,
    ) -> Result<String, ActionFailure>;
    /// Pauses or resumes an action (its load goes away while paused).
    fn set_paused(&self, id: &str, paused: bool);
    /// Stops an action and waits (bounded) until it has cleaned up.
    fn stop(&self, id: &str) -> impl Future<Output = ()> + Send;
    /// Waits until an action has ended; its final state and error.
    fn wait(&self, id: &str) -> impl Future<Output = (State, Option<String>)> + Send;
}

impl Actions for Engine {
    fn start(
        &self,
        params: Params,
        run: &str,
        token: &CancellationToken,
    ) -> Result<String, ActionFailure> {
        Engine::start(self, params, Some(run.to_string()), Some(token))
            .map(|v| v.id)
            .map_err(Into::into)
    }

    fn set_paused(&self, id: &str, paused: bool) {
        if let Err(e) = Engine::set_paused(self, id, paused) {
            tracing::debug!(id, error = %e, "pausing a run's action");
        }
    }

    async fn stop(&self, id: &str) {
        // 409 (already ended) is fine: the step is over either way.
        let _ = tokio::time::timeout(STOP_WAIT, Engine::stop(self, id)).await;
    }

    async fn wait(&self, id: &str) -> (State, Option<String>) {
        match Engine::wait(self, id).await {
            Ok(v) => (v.state, v.error),
            Err(e) => (State::Failed, Some(e.to_string())),
        }
    }
}
