//! The busy threads of a cpu action: each runs a duty cycle in short slices (busy for
//! `duty × SLICE`, asleep for the rest), on an absolute schedule so sleep overshoot does not
//! drift the ratio. They are OS threads, never tasks of the async runtime, and they check their
//! stop flag every slice, so they are gone within a slice or two of [`Workers::stop`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// Mean duty-cycle period. Short enough that a 100 ms controller tick spans ten of them (the
/// load looks smooth at any scrape interval), long enough that the sleep's wakeup cost and
/// timer slack (~0.1 ms) stay small next to it.
const SLICE: Duration = Duration::from_millis(10);

/// Each period is drawn uniformly from `SLICE × (1 ± JITTER)`. The kernel charges busy time in
/// whole scheduler ticks (4 ms at HZ=250) to whatever runs when the tick fires, so a fixed
/// 10 ms cycle keeps the same phase against the tick grid and `/proc/stat` over- or
/// under-counts it by a steady bias (measured: 21 % shown for 25 % used). Random periods
/// make the phase uniform and the tick's sampling unbiased.
const JITTER: f64 = 0.5;

/// Niceness of the busy threads. A small positive value lets the exporter's runtime threads
/// (nice 0) win the CPU at once when a scrape arrives while every core is held, and costs no
/// accuracy: below 100 % there is idle time for everyone, and the host-mode controller closes
/// its loop on the measured busy time anyway.
const NICE: libc::c_int = 5;

/// Prefix of the thread names (`jolt-cpu-0`, ...), as `/proc/<pid>/task/*/comm` shows them.
pub const THREAD_PREFIX: &str = "jolt-cpu-";

/// State shared with the threads.
struct Shared {
    /// Busy fraction of each slice, 0..=1, as `f64` bits.
    duty: AtomicU64,
    /// Set once to make every thread return.
    stop: AtomicBool,
}

/// A set of running busy threads.
pub struct Workers {
    shared: Arc<Shared>,
    handles: Vec<JoinHandle<()>>,
    /// Closed (every sender dropped) once all threads have left their loop.
    exited: mpsc::Receiver<()>,
}

impl Workers {
    /// Starts `n` threads, idle until [`set_duty`](Self::set_duty).
    pub fn spawn(n: usize) -> std::io::Result<Workers> {
        let shared = Arc::new(Shared {
            duty: AtomicU64::new(0f64.to_bits()),
            stop: AtomicBool::new(false),
        });
        let (tx, exited) = mpsc::channel(1);
        let mut workers = Workers {
            shared,
            handles: Vec::with_capacity(n),
            exited,
        };
        for i in 0..n {
            let shared = workers.shared.clone();
            let tx = tx.clone();
            let handle = std::thread::Builder::new()
                .name(format!("{THREAD_PREFIX}{i}"))
                .spawn(move || {
                    lower_priority();
                    work(&shared);
                    drop(tx);
                })?;
            workers.handles.push(handle);
        }
        Ok(workers)
    }

    /// Number of threads.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Sets every thread's busy fraction (clamped to 0..=1).
    pub fn set_duty(&self, duty: f64) {
        let duty = if duty.is_finite() {
            duty.clamp(0.0, 1.0)
        } else {
            0.0
        };
        self.shared.duty.store(duty.to_bits(), Ordering::Relaxed);
    }

    /// Stops every thread and waits until they have exited.
    pub async fn stop(mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        while self.exited.recv().await.is_some() {}
        for h in self.handles.drain(..) {
            // Each thread has left its loop; joining only waits for it to unwind.
            let _ = h.join();
        }
    }
}

impl Drop for Workers {
    /// A dropped set (its action's task was aborted) still stops its threads.
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
    }
}

/// Lowers the calling thread's priority by [`NICE`]; best effort.
fn lower_priority() {
    // SAFETY: plain syscalls on the calling thread's own id.
    unsafe {
        let tid = libc::gettid() as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, tid, NICE);
    }
}

/// The duty-cycle loop: each slice starts where the previous one was due to end (an absolute
/// schedule), busy for `duty` of its randomly drawn length.
fn work(shared: &Shared) {
    let mut rng = fastrand::Rng::new();
    let mut slice_start = Instant::now();
    while !shared.stop.load(Ordering::Relaxed) {
        let duty = f64::from_bits(shared.duty.load(Ordering::Relaxed));
        let (busy, slice) = plan_slice(duty, rng.f64());
        spin_until(slice_start + busy);
        slice_start += slice;
        let now = Instant::now();
        if slice_start > now {
            std::thread::sleep(slice_start - now);
        } else if now - slice_start > SLICE {
            // Preempted for more than a slice: start afresh rather than catch up in a burst.
            slice_start = now;
        }
    }
}

/// One slice of the duty cycle: its busy part and its whole length, for a duty of 0..=1 and a
/// uniform draw `u` in 0..1 that places the length within `SLICE × (1 ± JITTER)`. Pure, so the
/// schedule is tested without measuring CPU time.
fn plan_slice(duty: f64, u: f64) -> (Duration, Duration) {
    let slice = SLICE.mul_f64(1.0 + JITTER * (2.0 * u - 1.0));
    (slice.mul_f64(duty), slice)
}

/// Burns CPU until `deadline`.
fn spin_until(deadline: Instant) {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    while Instant::now() < deadline {
        for _ in 0..256 {
            x = std::hint::black_box(x.rotate_left(7).wrapping_mul(0x2545_f491_4f6c_dd1d));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread_cpu() -> Duration {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: writes into a local timespec.
        unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
        Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
    }

    #[test]
    fn every_slice_is_busy_for_exactly_its_duty_and_within_the_jitter() {
        for duty in [0.0, 0.25, 0.5, 0.9, 1.0] {
            for u in [0.0, 0.3, 0.5, 0.999] {
                let (busy, slice) = plan_slice(duty, u);
                let ratio = busy.as_secs_f64() / slice.as_secs_f64();
                assert!((ratio - duty).abs() < 1e-9, "duty {duty}, u {u}: {ratio}");
                assert!(
                    slice >= SLICE.mul_f64(1.0 - JITTER) && slice <= SLICE.mul_f64(1.0 + JITTER)
                );
            }
        }
    }

    #[tokio::test]
    async fn a_busy_worker_burns_cpu_and_stop_ends_its_thread() {
        let w = Workers::spawn(1).unwrap();
        w.set_duty(1.0);
        let cpu0 = thread_cpu();
        // Behaviour, not a share: CPU time is charged once the worker has had a chance to run
        // (the 60 s bound only turns a broken worker into a message instead of a hang).
        let give_up = Instant::now() + Duration::from_secs(60);
        while thread_cpu() - cpu0 < Duration::from_millis(5) && Instant::now() < give_up {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert!(
            thread_cpu() - cpu0 >= Duration::from_millis(5),
            "the worker never ran"
        );
        // stop() joins every thread: returning at all is the proof that they exited.
        w.stop().await;
    }

    #[test]
    fn set_duty_clamps_and_rejects_non_finite_values() {
        let w = Workers::spawn(0).unwrap();
        for (given, kept) in [(2.0, 1.0), (-1.0, 0.0), (f64::NAN, 0.0), (0.4, 0.4)] {
            w.set_duty(given);
            assert_eq!(f64::from_bits(w.shared.duty.load(Ordering::Relaxed)), kept);
        }
    }
}
