//! When request i is due, as an offset from the start: i / rps for a constant rate, and for a
//! linear ramp from `from` to `to` over `duration` the time at which the integral of the rate
//! reaches i. Absolute offsets (never "previous + gap") keep the rate from drifting.

use std::time::Duration;

/// A constant rate or a linear ramp.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Rate at the start, requests per second.
    from: f64,
    /// Rate change per second (0 for a constant rate).
    slope: f64,
    /// When the schedule ends.
    duration: Duration,
}

impl Schedule {
    /// Ramps linearly from `from` to `to` over `duration` (`from == to` is a constant rate).
    pub fn new(from: f64, to: f64, duration: Duration) -> Schedule {
        let secs = duration.as_secs_f64();
        let slope = if secs > 0.0 { (to - from) / secs } else { 0.0 };
        Schedule {
            from,
            slope,
            duration,
        }
    }

    /// The offset at which request `i` (0-based) is due, or `None` once past the end.
    pub fn due(&self, i: u64) -> Option<Duration> {
        let n = i as f64;
        // Solves from·t + slope·t²/2 = n in the form that stays exact when slope → 0 and
        // when the ramp goes down.
        let root = (self.from * self.from + 2.0 * self.slope * n)
            .max(0.0)
            .sqrt();
        let denom = self.from + root;
        let t = if i == 0 {
            0.0
        } else if denom > 0.0 {
            2.0 * n / denom
        } else {
            return None;
        };
        let t = Duration::try_from_secs_f64(t).ok()?;
        (t < self.duration).then_some(t)
    }

    /// The rate at `elapsed`, requests per second.
    pub fn rate_at(&self, elapsed: Duration) -> f64 {
        let t = elapsed.min(self.duration).as_secs_f64();
        self.from + self.slope * t
    }

    /// How many requests the whole schedule holds.
    pub fn total(&self) -> f64 {
        let t = self.duration.as_secs_f64();
        self.from * t + self.slope * t * t / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(s: &Schedule) -> u64 {
        (0..).take_while(|&i| s.due(i).is_some()).count() as u64
    }

    #[test]
    fn constant_rate_is_exact() {
        let s = Schedule::new(1000.0, 1000.0, Duration::from_secs(2));
        assert_eq!(s.due(0), Some(Duration::ZERO));
        assert_eq!(s.due(1500), Some(Duration::from_millis(1500)));
        assert_eq!(count(&s), 2000);
        assert_eq!(s.total(), 2000.0);
    }

    #[test]
    fn ramp_up_follows_the_integral() {
        // 0 → 200 rps over 10 s: 1,000 requests, half the time gone at a quarter of them.
        let s = Schedule::new(0.0, 200.0, Duration::from_secs(10));
        assert_eq!(count(&s), 1000);
        let quarter = s.due(250).unwrap().as_secs_f64();
        assert!((quarter - 5.0).abs() < 1e-9, "{quarter}");
        assert_eq!(s.rate_at(Duration::from_secs(5)), 100.0);
    }

    #[test]
    fn ramp_down_ends_on_time() {
        let s = Schedule::new(200.0, 0.0, Duration::from_secs(10));
        let n = count(&s);
        assert!((999..=1000).contains(&n), "{n}");
        let half = s.due(750).unwrap().as_secs_f64();
        assert!((half - 5.0).abs() < 1e-9, "{half}");
    }
}
