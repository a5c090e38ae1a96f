//! `statfs(2)` behind a hung-mount gate.
//!
//! A hung mount (a dead NFS server) blocks `statfs` forever, so the calls run on a helper
//! thread and the scrape waits at most the configured timeout for each. One scrape hands the
//! helper all its mounts in one job (one thread hand-off per scrape, not one per mount); the
//! answers come back in order. A mount that timed out is *stuck*: it is reported with
//! `device_error` 1 and not asked again until its call returns, and the mounts after it go to
//! a fresh helper. Each stuck mount holds exactly one thread, and at most [`MAX_STUCK`] may be
//! stuck; beyond that every mount is reported as an error, so threads stay bounded whatever
//! the mounts do.

use anyhow::Context;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The most mounts that may be stuck (each holds one blocked thread) at once.
const MAX_STUCK: usize = 8;

/// What `statfs` says about one filesystem, in node_exporter's units.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Usage {
    /// Total bytes.
    pub size: f64,
    /// Free bytes.
    pub free: f64,
    /// Free bytes available to unprivileged users.
    pub avail: f64,
    /// Inodes.
    pub files: f64,
    /// Free inodes.
    pub files_free: f64,
}

/// The `statfs` function, swappable so tests can simulate a hung mount.
pub(super) type StatfsFn = Arc<dyn Fn(&Path) -> std::io::Result<Usage> + Send + Sync>;

/// Calls `statfs(2)`.
pub fn statfs(path: &Path) -> std::io::Result<Usage> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())?;
    // SAFETY: `c` is a valid NUL-terminated path and `buf` is plain old data filled on success.
    let mut buf: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(c.as_ptr(), &mut buf) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let bsize = buf.f_bsize as f64;
    Ok(Usage {
        size: buf.f_blocks as f64 * bsize,
        free: buf.f_bfree as f64 * bsize,
        avail: buf.f_bavail as f64 * bsize,
        files: buf.f_files as f64,
        files_free: buf.f_ffree as f64,
    })
}

/// The outcome for one mount.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Outcome {
    Ok(Usage),
    /// The call failed, timed out, or the mount is still stuck from an earlier scrape.
    Error,
}

/// One request to the helper thread: the paths of one scrape, answered in order.
struct Job {
    paths: Vec<PathBuf>,
    reply: mpsc::Sender<(usize, std::io::Result<Usage>)>,
}

/// Runs `statfs` calls on a helper thread with a timeout per call.
pub(super) struct StatfsPool {
    timeout: Duration,
    call: StatfsFn,
    /// The live helper's job queue; `None` until needed or after the helper got stuck.
    worker: Mutex<Option<mpsc::Sender<Job>>>,
    /// Paths whose call has not returned yet. Shared with the helpers, which remove their
    /// path when the call finally returns.
    pub(super) stuck: Arc<Mutex<HashSet<PathBuf>>>,
}

impl StatfsPool {
    pub(super) fn new(timeout: Duration, call: StatfsFn) -> Self {
        StatfsPool {
            timeout,
            call,
            worker: Mutex::new(None),
            stuck: Arc::default(),
        }
    }

    fn spawn(&self) -> anyhow::Result<mpsc::Sender<Job>> {
        let (tx, rx) = mpsc::channel::<Job>();
        let call = self.call.clone();
        let stuck = self.stuck.clone();
        std::thread::Builder::new()
            .name("jolt-statfs".into())
            .spawn(move || {
                // Ends when the scrape side drops the sender: after a timeout, or on exit.
                for job in rx {
                    for (i, path) in job.paths.iter().enumerate() {
                        let r = call(path);
                        let mut stuck = stuck.lock().unwrap_or_else(|p| p.into_inner());
                        stuck.remove(path);
                        if job.reply.send((i, r)).is_err() {
                            break; // the scrape gave up on this job after a timeout
                        }
                    }
                }
            })
            .context("spawning the statfs helper thread")?;
        Ok(tx)
    }

    /// Hands the helper the `statfs` calls of `paths` (except stuck ones) and returns at
    /// once; [`finish`](Self::finish) collects the answers. Callers run one start/finish pair
    /// at a time (the host collector serialises scrapes): a second job queued behind a hung
    /// call would otherwise time out on a mount that is not the hung one.
    pub(super) fn start(&self, paths: Vec<PathBuf>) -> anyhow::Result<Pending> {
        let rest: Vec<usize> = {
            let stuck = self.stuck.lock().unwrap_or_else(|p| p.into_inner());
            (0..paths.len())
                .filter(|&i| !stuck.contains(&paths[i]))
                .collect()
        };
        let mut pending = Pending {
            paths,
            rest,
            answers: None,
        };
        self.submit(&mut pending)?;
        Ok(pending)
    }

    /// Sends the not-yet-answered paths of `pending` as one job, unless too many are stuck.
    fn submit(&self, pending: &mut Pending) -> anyhow::Result<()> {
        pending.answers = None;
        if pending.rest.is_empty()
            || self.stuck.lock().unwrap_or_else(|p| p.into_inner()).len() >= MAX_STUCK
        {
            return Ok(());
        }
        let (reply, answers) = mpsc::channel();
        let mut job = Job {
            paths: pending
                .rest
                .iter()
                .map(|&i| pending.paths[i].clone())
                .collect(),
            reply,
        };
        let mut worker = self.worker.lock().unwrap_or_else(|p| p.into_inner());
        // A helper that exited (it cannot, short of a panic) is replaced once.
        for _ in 0..2 {
            let tx = match worker.as_ref() {
                Some(tx) => tx,
                None => worker.insert(self.spawn()?),
            };
            match tx.send(job) {
                Ok(()) => break,
                Err(mpsc::SendError(j)) => {
                    job = j;
                    *worker = None;
                }
            }
        }
        pending.answers = Some(answers);
        Ok(())
    }

    /// The outcome for each path given to [`start`](Self::start), waiting at most the timeout
    /// for each call.
    pub(super) fn finish(&self, mut pending: Pending) -> anyhow::Result<Vec<Outcome>> {
        let mut out = vec![Outcome::Error; pending.paths.len()];
        while let Some(answers) = pending.answers.take() {
            let mut got = 0;
            let mut gave_up = None;
            while got < pending.rest.len() {
                let answer = match answers.recv_timeout(self.timeout) {
                    Ok(a) => a,
                    Err(RecvTimeoutError::Timeout) => {
                        let mut stuck = self.stuck.lock().unwrap_or_else(|p| p.into_inner());
                        // The helper answers while holding `stuck`: a late reply is not missed.
                        if let Ok(a) = answers.try_recv() {
                            a
                        } else {
                            // Answers come in order: the helper is blocked on `rest[got]`.
                            let path = &pending.paths[pending.rest[got]];
                            stuck.insert(path.clone());
                            // Abandon the blocked helper; it exits once its call returns.
                            *self.worker.lock().unwrap_or_else(|p| p.into_inner()) = None;
                            tracing::warn!(path = %path.display(), timeout = ?self.timeout, "statfs timed out; mount marked stuck");
                            gave_up = Some(got);
                            break;
                        }
                    }
                    Err(RecvTimeoutError::Disconnected) => {
                        *self.worker.lock().unwrap_or_else(|p| p.into_inner()) = None;
                        anyhow::bail!("the statfs helper thread died")
                    }
                };
                let (i, r) = answer;
                out[pending.rest[i]] = r.map_or(Outcome::Error, Outcome::Ok);
                got += 1;
            }
            if let Some(at) = gave_up {
                // The mounts after the stuck one go to a fresh helper.
                pending.rest = pending.rest.split_off(at + 1);
                drop(answers);
                self.submit(&mut pending)?;
            }
        }
        Ok(out)
    }
}

/// The calls of one scrape, handed to the helper and not yet collected.
pub(super) struct Pending {
    paths: Vec<PathBuf>,
    /// Indices into `paths` still to be answered by the current job.
    rest: Vec<usize>,
    /// The current job's answers; `None` when nothing is asked.
    answers: Option<mpsc::Receiver<(usize, std::io::Result<Usage>)>>,
}
