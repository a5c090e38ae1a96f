//! The measurement and the controller of `mode: host`: what share of the CPU is busy (the whole
//! host from `/proc/stat`, or jolt's cgroup against its quota when it has one), and an integral
//! controller that turns the gap to the target into the share the workers add.

use crate::metrics::host::Paths;
use crate::metrics::host::cgroup;
use crate::metrics::host::cpu::{CpuTotals, read_cpu_totals};
use std::time::Instant;

/// Where busy time is read from.
enum Source {
    /// The whole host, `/proc/stat`.
    Host,
    /// jolt's cgroup: `usage_usec` of `cpu.stat` against `quota` cores of wall time.
    Cgroup { quota: f64 },
}

/// Busy and available CPU seconds at one instant.
#[derive(Clone, Copy)]
struct Reading {
    busy: f64,
    total: f64,
}

/// Busy share of the CPU between successive calls to [`Sampler::sample`].
pub struct Sampler {
    paths: Paths,
    source: Source,
    /// CPUs the share is relative to: the host's online CPUs or the cgroup's quota in cores.
    capacity: f64,
    last: Option<Reading>,
    /// Origin of the wall clock used for the cgroup's available time.
    epoch: Instant,
}

impl Sampler {
    /// Measures jolt's cgroup when it has a CPU quota smaller than the host, else the host.
    pub fn new(paths: &Paths) -> anyhow::Result<Sampler> {
        let host = read_cpu_totals(paths)?;
        let quota = cgroup::cpu_limit(paths).ok().flatten();
        let (source, capacity) = match quota {
            Some(q) if q > 0.0 && q < host.cpus as f64 => (Source::Cgroup { quota: q }, q),
            _ => (Source::Host, host.cpus.max(1) as f64),
        };
        Ok(Sampler {
            paths: paths.clone(),
            source,
            capacity,
            last: None,
            epoch: Instant::now(),
        })
    }

    /// CPUs the busy share is relative to.
    pub fn capacity(&self) -> f64 {
        self.capacity
    }

    /// True when the share is the cgroup's, not the host's.
    pub fn is_cgroup(&self) -> bool {
        matches!(self.source, Source::Cgroup { .. })
    }

    fn read(&self) -> anyhow::Result<Reading> {
        match self.source {
            Source::Host => {
                let CpuTotals { busy, total, .. } = read_cpu_totals(&self.paths)?;
                Ok(Reading { busy, total })
            }
            Source::Cgroup { quota } => {
                let usec = cgroup::cpu_usage_usec(&self.paths)?
                    .ok_or_else(|| anyhow::anyhow!("jolt's cgroup has no cpu.stat"))?;
                Ok(Reading {
                    busy: usec as f64 / 1e6,
                    total: self.epoch.elapsed().as_secs_f64() * quota,
                })
            }
        }
    }

    /// The busy share (0..=1) since the previous call; `None` on the first call or when no time
    /// passed.
    pub fn sample(&mut self) -> anyhow::Result<Option<f64>> {
        let now = self.read()?;
        let share = self.last.and_then(|last| {
            let total = now.total - last.total;
            (total > 0.0).then(|| ((now.busy - last.busy) / total).clamp(0.0, 1.0))
        });
        self.last = Some(now);
        Ok(share)
    }
}

/// Integral gain per tick: each tick closes this fraction of the gap. With the one-tick delay
/// between setting the duty and measuring its effect, anything below 1 is stable without
/// overshoot; 0.4 settles in about three ticks and averages out most of the measurement's
/// quantisation noise (`/proc/stat` counts in 10 ms ticks).
const KI: f64 = 0.4;

/// The controller: `u` is the share of capacity the workers add.
pub struct Controller {
    u: f64,
    /// Largest share the workers can add (all of them at 100 %).
    max: f64,
    /// False until the first measurement has set `u` from the background load.
    primed: bool,
}

impl Controller {
    /// A controller whose output never exceeds `max`.
    pub fn new(max: f64) -> Controller {
        Controller {
            u: 0.0,
            max,
            primed: false,
        }
    }

    /// Feeds one measurement of the busy share while the workers added `self.u`; returns the
    /// share to add next. The first one starts from the gap between the target and what
    /// runs without jolt, so the target is reached in one step.
    pub fn update(&mut self, measured: f64, target: f64) -> f64 {
        let gap = target - measured;
        self.u = if self.primed {
            self.u + KI * gap
        } else {
            self.primed = true;
            self.u + gap
        }
        .clamp(0.0, self.max);
        self.u
    }

    /// The current output.
    pub fn output(&self) -> f64 {
        self.u
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A host where `other` is busy whatever jolt does, with no noise.
    fn settle(other: f64, target: f64, ticks: usize) -> f64 {
        let mut c = Controller::new(1.0);
        let mut measured = other;
        for _ in 0..ticks {
            let u = c.update(measured, target);
            measured = (other + u).min(1.0);
        }
        measured
    }

    #[test]
    fn reaches_the_target_whatever_else_runs() {
        for other in [0.0, 0.15, 0.3] {
            for target in [0.25, 0.5, 0.9] {
                let got = settle(other, target, 20);
                if other <= target {
                    assert!((got - target).abs() < 1e-3, "{other} {target} {got}");
                } else {
                    assert!((got - other).abs() < 1e-9, "cannot go below the background");
                }
            }
        }
    }

    #[test]
    fn output_stays_within_bounds() {
        let mut c = Controller::new(0.5);
        assert_eq!(c.update(0.0, 1.0), 0.5);
        for _ in 0..10 {
            c.update(1.0, 0.0);
        }
        assert_eq!(c.output(), 0.0);
    }

    #[test]
    fn samples_this_host() {
        let paths = crate::metrics::host::HostConfig::default().paths();
        let mut s = Sampler::new(&paths).unwrap();
        assert!(s.capacity() >= 1.0);
        assert_eq!(s.sample().unwrap(), None);
        std::thread::sleep(std::time::Duration::from_millis(50));
        let share = s.sample().unwrap().unwrap();
        assert!((0.0..=1.0).contains(&share));
    }
}
