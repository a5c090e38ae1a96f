//! The blocking I/O of a disk action, run on its own thread.
//!
//! The scratch file spans `operations × block_size` bytes; operation `i` touches one block of
//! it (block `i` for `sequential`, a random block for `random`), and writes are spread evenly
//! among the operations so exactly `write_ratio` of them write.
//!
//! Reads must reach the device so that `node_disk_*` moves. The file is written out first
//! (when there is anything to read), flushed, and each read drops its block from the page
//! cache with `posix_fadvise(DONTNEED)` just before reading it. That is chosen over
//! `O_DIRECT`, which tmpfs and some overlay/FUSE filesystems refuse with EINVAL and which
//! needs sector-aligned buffers, offsets and lengths (so an odd `block_size` would fail);
//! fadvise works everywhere (a no-op where there is no device) and leaves writes as ordinary
//! buffered writes — written back by the kernel, or at once with `sync` (`fdatasync` after each
//! write). A block written moments earlier and still dirty is served from the cache, as it
//! would be for any application.

use super::Pattern;
use crate::actions::RunCtx;
use crate::actions::pacer::block_while_paused;
use prometheus_client::metrics::counter::Counter;
use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Chunk size of the initial write-out.
const PREPARE_CHUNK: usize = 1 << 20;

/// What to do.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    /// Operations in all.
    pub operations: u64,
    /// Bytes per operation.
    pub block: u64,
    /// Offsets.
    pub pattern: Pattern,
    /// Share of writes.
    pub write_ratio: f64,
    /// `fdatasync` after each write.
    pub sync: bool,
}

/// Live counts, read by the action's reporting loop.
#[derive(Debug, Default)]
pub struct Tally {
    /// Reads done.
    pub reads: AtomicU64,
    /// Writes done.
    pub writes: AtomicU64,
    /// Bytes read and written by the operations.
    pub bytes: AtomicU64,
    /// Bytes written to lay out the file before the operations.
    pub prepared: AtomicU64,
}

/// `jolt_disk_operations_total{op}` and `jolt_disk_bytes_total{op}` for reads and writes.
pub struct Counters {
    /// op="read" operations.
    pub read_ops: Counter,
    /// op="write" operations.
    pub write_ops: Counter,
    /// op="read" bytes.
    pub read_bytes: Counter,
    /// op="write" bytes.
    pub write_bytes: Counter,
}

/// Runs the plan in `dir` until done or cancelled; returns early (Ok) when cancelled.
pub fn run(
    plan: Plan,
    dir: &Path,
    ctx: &RunCtx,
    tally: &Tally,
    c: &Counters,
) -> std::io::Result<()> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(dir.join("data"))?;
    let block = plan.block as usize;
    let span = plan.operations * plan.block;
    let mut rng = fastrand::Rng::new();
    if plan.write_ratio < 1.0 {
        if !prepare(&file, span, ctx, tally, c, &mut rng)? {
            return Ok(());
        }
    } else {
        file.set_len(span)?;
    }
    let mut data = vec![0u8; block];
    rng.fill(&mut data);
    let mut scratch = vec![0u8; block];
    for i in 0..plan.operations {
        if !block_while_paused(ctx) {
            return Ok(());
        }
        let offset = match plan.pattern {
            Pattern::Sequential => i * plan.block,
            Pattern::Random => rng.u64(0..plan.operations) * plan.block,
        };
        if is_write(i, plan.write_ratio) {
            file.write_all_at(&data, offset)?;
            if plan.sync {
                file.sync_data()?;
            }
            tally.writes.fetch_add(1, Ordering::Relaxed);
            c.write_ops.inc();
            c.write_bytes.inc_by(plan.block);
        } else {
            drop_cached(&file, offset, plan.block);
            file.read_exact_at(&mut scratch, offset)?;
            tally.reads.fetch_add(1, Ordering::Relaxed);
            c.read_ops.inc();
            c.read_bytes.inc_by(plan.block);
        }
        tally.bytes.fetch_add(plan.block, Ordering::Relaxed);
    }
    Ok(())
}

/// Writes the whole span, flushes it and drops it from the cache; false if cancelled.
fn prepare(
    file: &File,
    span: u64,
    ctx: &RunCtx,
    tally: &Tally,
    c: &Counters,
    rng: &mut fastrand::Rng,
) -> std::io::Result<bool> {
    let mut chunk = vec![0u8; PREPARE_CHUNK];
    rng.fill(&mut chunk);
    let mut at = 0u64;
    while at < span {
        if !block_while_paused(ctx) {
            return Ok(false);
        }
        let n = (span - at).min(PREPARE_CHUNK as u64);
        file.write_all_at(&chunk[..n as usize], at)?;
        at += n;
        tally.prepared.fetch_add(n, Ordering::Relaxed);
        c.write_bytes.inc_by(n);
    }
    file.sync_data()?;
    drop_cached(file, 0, span);
    Ok(true)
}

/// True for the operations that write: `write_ratio` of them, evenly spread.
fn is_write(i: u64, ratio: f64) -> bool {
    ((i + 1) as f64 * ratio).floor() > (i as f64 * ratio).floor()
}

/// Evicts clean cached pages of the range, so the next read goes to the device.
fn drop_cached(file: &File, offset: u64, len: u64) {
    // SAFETY: an advisory call on an open descriptor; it cannot affect memory safety.
    unsafe {
        libc::posix_fadvise(
            file.as_raw_fd(),
            offset as libc::off_t,
            len as libc::off_t,
            libc::POSIX_FADV_DONTNEED,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::is_write;

    #[test]
    fn writes_are_exactly_the_ratio_and_evenly_spread() {
        for (ratio, want) in [(0.0, 0), (0.25, 25), (0.5, 50), (1.0, 100)] {
            let n = (0..100).filter(|&i| is_write(i, ratio)).count();
            assert_eq!(n, want, "{ratio}");
        }
        let half: Vec<bool> = (0..4).map(|i| is_write(i, 0.5)).collect();
        assert_eq!(half, [false, true, false, true]);
    }
}
