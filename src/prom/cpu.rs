//! The CPU time of the calling thread: what a Prometheus call (and the follower's judging)
//! costs, for `jolt_scenario_verify_cpu_seconds_total`.

/// CPU time of the calling thread, in seconds.
pub fn thread_cpu() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the struct we pass.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9
}
