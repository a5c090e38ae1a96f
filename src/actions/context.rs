//! What a running action sees: its cancellation, its pause state, an active-time clock that
//! does not count paused spans, and a way to report progress and what it achieves.

use super::engine::Env;
use super::entry::Entry;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Handed to a kind's `run`; cheap to clone into worker tasks.
#[derive(Clone)]
pub struct RunCtx {
    /// The entry this action updates.
    pub(super) entry: Arc<Entry>,
    /// Shared resources: config, metrics, host paths, services.
    pub env: Arc<Env>,
}

impl RunCtx {
    /// The action id, e.g. `cpu-3`.
    pub fn id(&self) -> &str {
        &self.entry.id
    }

    /// True once the action has been asked to stop.
    pub fn is_cancelled(&self) -> bool {
        self.entry.cancel.is_cancelled()
    }

    /// Resolves when the action is asked to stop.
    pub async fn cancelled(&self) {
        self.entry.cancel.cancelled().await
    }

    /// True while the action's scenario run is paused: the load must go away meanwhile.
    pub fn is_paused(&self) -> bool {
        *self.entry.paused.borrow()
    }

    /// A receiver of pause changes, for loops that wait on them.
    pub fn pause_watch(&self) -> watch::Receiver<bool> {
        self.entry.paused.subscribe()
    }

    /// Active time since start, not counting paused spans.
    pub fn elapsed(&self) -> Duration {
        self.entry.clock.lock().expect("clock poisoned").active()
    }

    /// Publishes progress (clamped to 0..1) and the live `achieved` figure.
    pub fn report(&self, progress: f64, achieved: serde_json::Value) {
        let progress = if progress.is_finite() {
            progress.clamp(0.0, 1.0)
        } else {
            0.0
        };
        {
            let mut s = self.entry.status.lock().expect("status poisoned");
            s.progress = progress;
            s.achieved = achieved;
        }
        self.env
            .metrics
            .progress
            .get_or_create(&self.entry.id_labels())
            .set(progress);
    }

    /// Time-based progress: active elapsed over `duration`.
    pub fn time_progress(&self, duration: Duration) -> f64 {
        if duration.is_zero() {
            1.0
        } else {
            self.elapsed().as_secs_f64() / duration.as_secs_f64()
        }
    }
}
