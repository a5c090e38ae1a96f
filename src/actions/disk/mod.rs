//! `disk`: reads and writes of a block size in a scratch directory that is always removed.
//!
//! The I/O runs on its own thread ([`storm`]) in a scratch directory ([`scratch`]) that the
//! thread removes before it reports back, whether the action completed, failed or was stopped.

pub mod metrics;
mod scratch;
mod storm;

pub use scratch::remove_leftovers;

use super::kinds::{ActionKind, Choices};
use super::ranges::{self, Range};
use super::{Env, RunCtx, in_range};
use crate::actions::ActionError;
use crate::units::{Given, SizeSpec};
use bytesize::ByteSize;
use metrics::OpLabels;
use scratch::ScratchDir;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use storm::{Counters, Plan, Tally};

/// Name of the I/O thread, as `/proc/<pid>/task/*/comm` shows it.
pub const THREAD_NAME: &str = "jolt-disk";

/// Smallest and largest `block_size`.
const BLOCK_RANGE: std::ops::RangeInclusive<u64> = super::ranges::BLOCK_BYTES;

/// Share of the filesystem that must stay free after the scratch file is laid out.
const FREE_HEADROOM: f64 = 0.05;

/// How often progress is reported.
const TICK: Duration = Duration::from_millis(100);

/// Access pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Pattern {
    /// Random offsets.
    Random,
    /// Consecutive offsets.
    Sequential,
}

/// Parameters of a disk action.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DiskParams {
    /// Number of operations (reads + writes).
    pub operations: u64,
    /// Bytes per operation.
    pub block_size: Given<SizeSpec>,
    /// random or sequential.
    pub pattern: Pattern,
    /// Share of operations that write, 0..1.
    pub write_ratio: f64,
    /// fsync after each write.
    pub sync: bool,
}

impl Default for DiskParams {
    fn default() -> Self {
        DiskParams {
            operations: 1000,
            block_size: SizeSpec::Bytes(64 * 1024).into(),
            pattern: Pattern::Random,
            write_ratio: 0.5,
            sync: false,
        }
    }
}

impl ActionKind for DiskParams {
    type Metrics = metrics::DiskMetrics;

    fn metrics(registry: &mut prometheus_client::registry::Registry) -> Self::Metrics {
        metrics::DiskMetrics::register(registry)
    }

    const TIMED: bool = false;
    const RANGES: &'static [Range] = &[ranges::DISK_OPERATIONS, ranges::DISK_WRITE_RATIO];
    const CHOICES: Choices = &[("pattern", &["random", "sequential"])];
    /// Range and safety checks: the scratch file (`operations × block_size` bytes) must fit under
    /// `actions.disk_max_bytes` and leave free space on the state directory's filesystem.
    fn validate(&mut self, env: &Env) -> Result<(), ActionError> {
        in_range("block_size", &self.block_size)?;
        super::ranges::DISK_WRITE_RATIO.check(self.write_ratio)?;
        super::ranges::DISK_OPERATIONS.check(self.operations as f64)?;
        let block = match *self.block_size {
            SizeSpec::Bytes(b) if BLOCK_RANGE.contains(&b) => b,
            _ => {
                return Err(ActionError::invalid(
                    "block_size",
                    format!(
                        "block_size must be between {} and {} bytes, like \"64KiB\", not {}",
                        BLOCK_RANGE.start(),
                        BLOCK_RANGE.end(),
                        *self.block_size
                    ),
                ));
            }
        };
        let b = |n: u64| ByteSize(n).display().iec().to_string();
        let too_big = |what: String| {
            ActionError::invalid(
                "operations",
                format!("the scratch file would be {what}; lower operations or block_size"),
            )
        };
        let span = self
            .operations
            .checked_mul(block)
            .ok_or_else(|| too_big("larger than any disk".into()))?;
        let (avail, fs_size) = free_space(&env.state_dir).map_err(|e| {
            ActionError::Host(format!(
                "cannot read free space of {}: {e}",
                env.state_dir.display()
            ))
        })?;
        let cap = env.config.disk_max_bytes.resolve(fs_size);
        if span > cap {
            return Err(too_big(format!(
                "{} (operations × block_size = {span} bytes), more than actions.disk_max_bytes = {} \
                 (raise it with --disk-max-bytes)",
                b(span),
                b(cap)
            )));
        }
        let headroom = (fs_size as f64 * FREE_HEADROOM) as u64;
        if span.saturating_add(headroom) > avail {
            return Err(too_big(format!(
                "{} ({span} bytes), but {} has {} free and {} ({}% of it) must stay free",
                b(span),
                env.state_dir.display(),
                b(avail),
                b(headroom),
                FREE_HEADROOM * 100.0
            )));
        }
        self.block_size = SizeSpec::Bytes(block).into();
        Ok(())
    }

    /// Ends when the operations are done: no fixed duration.
    fn duration(&self) -> Option<Duration> {
        None
    }

    async fn run(self, ctx: RunCtx) -> Result<(), String> {
        run(self, ctx).await
    }
}

/// Produces the load on a dedicated thread and reports its progress until it is done; the
/// scratch directory is gone when this returns.
pub async fn run(p: DiskParams, ctx: RunCtx) -> Result<(), String> {
    let plan = Plan {
        operations: p.operations,
        block: p.block_size.resolve(0),
        pattern: p.pattern,
        write_ratio: p.write_ratio,
        sync: p.sync,
    };
    let counters = counters(&ctx);
    let tally = Arc::new(Tally::default());
    let (tx, mut done) = tokio::sync::oneshot::channel();
    let thread = {
        let (ctx, tally) = (ctx.clone(), tally.clone());
        std::thread::Builder::new()
            .name(THREAD_NAME.into())
            .spawn(move || {
                let result = ScratchDir::create(&ctx.env.state_dir, ctx.id())
                    .map_err(|e| format!("cannot create the scratch directory: {e}"))
                    .and_then(|dir| {
                        storm::run(plan, dir.path(), &ctx, &tally, &counters).map_err(|e| {
                            format!("disk I/O failed in {}: {e}", dir.path().display())
                        })
                    });
                let _ = tx.send(result);
            })
            .map_err(|e| format!("cannot start the disk thread: {e}"))?
    };
    let mut tick = tokio::time::interval(TICK);
    let result = loop {
        tokio::select! {
            r = &mut done => break r.unwrap_or_else(|_| Err("the disk thread panicked".into())),
            _ = tick.tick() => report(&p, &ctx, &tally),
        }
    };
    // The thread has sent its result and removed the scratch directory; it is exiting.
    let _ = thread.join();
    report(&p, &ctx, &tally);
    result
}

fn report(p: &DiskParams, ctx: &RunCtx, t: &Tally) {
    let reads = t.reads.load(Ordering::Relaxed);
    let writes = t.writes.load(Ordering::Relaxed);
    let done = reads + writes;
    let secs = ctx.elapsed().as_secs_f64();
    ctx.report(
        done as f64 / p.operations as f64,
        json!({
            "operations_done": done,
            "read_ops": reads,
            "write_ops": writes,
            "bytes": t.bytes.load(Ordering::Relaxed),
            "prepared_bytes": t.prepared.load(Ordering::Relaxed),
            "ops_per_second": if secs > 0.0 { (done as f64 / secs).round() } else { 0.0 },
        }),
    );
}

fn counters(ctx: &RunCtx) -> Counters {
    let m = &ctx.env.metrics;
    let op = |op: &str| OpLabels { op: op.into() };
    Counters {
        read_ops: m.kinds.disk.ops.get_or_create(&op("read")).clone(),
        write_ops: m.kinds.disk.ops.get_or_create(&op("write")).clone(),
        read_bytes: m.kinds.disk.bytes.get_or_create(&op("read")).clone(),
        write_bytes: m.kinds.disk.bytes.get_or_create(&op("write")).clone(),
    }
}

/// Available bytes (for unprivileged users) and size of the filesystem holding `dir`, or its
/// nearest existing ancestor.
fn free_space(dir: &Path) -> std::io::Result<(u64, u64)> {
    let mut at = dir;
    while !at.exists() {
        at = at.parent().unwrap_or(Path::new("/"));
    }
    let usage = crate::metrics::host::filesystem::statfs(at)?;
    Ok((usage.avail as u64, usage.size as u64))
}
