//! The one pause-aware pacer of the kinds that follow an absolute schedule (traffic, network),
//! a sequence of steps (disk) or hold a state while active (fault): while the action's run is
//! paused the load goes away, and on resume the schedule's origin moves by the pause, so
//! nothing is sent late in a burst.

use super::RunCtx;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// How often a blocking loop (the disk thread) looks at the pause state while paused.
const BLOCKING_POLL: Duration = Duration::from_millis(20);

/// An absolute schedule's origin that does not count paused spans.
pub struct Pacer {
    ctx: RunCtx,
    pause: watch::Receiver<bool>,
    origin: Instant,
}

impl Pacer {
    /// A schedule starting now.
    pub fn start(ctx: &RunCtx) -> Self {
        Pacer {
            ctx: ctx.clone(),
            pause: ctx.pause_watch(),
            origin: Instant::now(),
        }
    }

    /// Time zero of the schedule, moved on by every pause so far.
    pub fn origin(&self) -> Instant {
        self.origin
    }

    /// True while paused; also marks the pause state as seen, so [`sleep_until`] wakes only
    /// on a later change.
    ///
    /// [`sleep_until`]: Pacer::sleep_until
    pub fn paused(&mut self) -> bool {
        *self.pause.borrow_and_update()
    }

    /// Waits out a pause and moves the origin by its length; false if the action was stopped
    /// meanwhile.
    pub async fn wait_resumed(&mut self) -> bool {
        let paused_at = Instant::now();
        tokio::select! {
            _ = self.ctx.cancelled() => return false,
            _ = self.pause.wait_for(|p| !*p) => {}
        }
        self.origin += paused_at.elapsed();
        true
    }

    /// Sleeps until `deadline`, waking early when the pause state changes; false if the action
    /// was stopped.
    pub async fn sleep_until(&mut self, deadline: Instant) -> bool {
        tokio::select! {
            biased;
            _ = self.ctx.cancelled() => false,
            _ = self.pause.changed() => true,
            _ = tokio::time::sleep_until(deadline) => true,
        }
    }
}

/// For a loop on its own thread (disk): blocks while the action is paused; false once it is
/// stopped.
pub fn block_while_paused(ctx: &RunCtx) -> bool {
    while ctx.is_paused() && !ctx.is_cancelled() {
        std::thread::sleep(BLOCKING_POLL);
    }
    !ctx.is_cancelled()
}
