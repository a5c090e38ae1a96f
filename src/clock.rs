//! Active time: wall time since a start minus the spans spent paused. Actions and scenario
//! runs both report it (an action's elapsed time and progress, a run's timeline position), so
//! pausing means the same thing for both. Tokio's `Instant`, so tests with paused time can
//! drive it.

use std::time::Duration;
use tokio::time::Instant;

/// A stopwatch that can be stopped (a pause, or the end) and started again.
#[derive(Debug)]
pub struct ActiveClock {
    started: Instant,
    paused_total: Duration,
    paused_since: Option<Instant>,
}

impl ActiveClock {
    /// Running from now.
    pub fn start() -> Self {
        Self::start_at(Instant::now())
    }

    /// Running from `at`; before then (a scheduled start) the active time is zero.
    pub fn start_at(at: Instant) -> Self {
        ActiveClock {
            started: at,
            paused_total: Duration::ZERO,
            paused_since: None,
        }
    }

    /// Moves the start to `at`, keeping the paused spans counted so far.
    pub fn restart_at(&mut self, at: Instant) {
        self.started = at;
    }

    /// Active time so far; frozen while stopped.
    pub fn active(&self) -> Duration {
        let now = self.paused_since.unwrap_or_else(Instant::now);
        now.saturating_duration_since(self.started)
            .saturating_sub(self.paused_total)
    }

    /// Stops the clock; false when it was stopped already (nothing changes then).
    pub fn stop(&mut self) -> bool {
        if self.paused_since.is_some() {
            return false;
        }
        self.paused_since = Some(Instant::now());
        true
    }

    /// Starts it again after [`stop`](Self::stop); false when it was running.
    pub fn go(&mut self) -> bool {
        let Some(since) = self.paused_since.take() else {
            return false;
        };
        self.paused_total += since.elapsed();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn paused_spans_do_not_count() {
        let mut c = ActiveClock::start();
        tokio::time::advance(Duration::from_secs(3)).await;
        assert!(c.stop());
        assert!(!c.stop(), "stopping a stopped clock changes nothing");
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(c.active(), Duration::from_secs(3));
        assert!(c.go());
        assert!(!c.go());
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(c.active(), Duration::from_secs(5));
    }

    #[tokio::test(start_paused = true)]
    async fn a_start_in_the_future_reads_zero_until_then() {
        let c = ActiveClock::start_at(Instant::now() + Duration::from_secs(5));
        assert_eq!(c.active(), Duration::ZERO);
        tokio::time::advance(Duration::from_secs(7)).await;
        assert_eq!(c.active(), Duration::from_secs(2));
    }
}
