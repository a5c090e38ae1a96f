//! What one traffic action has done, shared lock-free between its workers: counts, and a
//! latency histogram fine enough (~6 % wide buckets) for an honest p99 in `achieved`.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Linear sub-buckets per power of two of microseconds.
const SUB: usize = 16;
/// Powers of two covered: 1 µs up to ~2⁴⁰ µs (12 days); anything longer lands in the last.
const OCTAVES: usize = 40;

/// Counts of one action.
pub struct Stats {
    /// Requests handed to a connection.
    pub sent: AtomicU64,
    /// Requests that got a response (any status).
    pub answered: AtomicU64,
    /// Requests with no response (connect, I/O error or timeout) or a 5xx answer.
    pub errors: AtomicU64,
    /// Requests not sent because the backlog was full.
    pub dropped: AtomicU64,
    /// Latency from due time, log-linear buckets of microseconds.
    buckets: Box<[AtomicU64]>,
}

impl Default for Stats {
    fn default() -> Self {
        Stats {
            sent: AtomicU64::new(0),
            answered: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            buckets: (0..SUB * OCTAVES).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

impl Stats {
    /// Records one latency.
    pub fn observe(&self, d: Duration) {
        self.buckets[index(d)].fetch_add(1, Relaxed);
    }

    /// The `q` quantile (0..1) of the recorded latencies in seconds; 0 when none.
    pub fn quantile(&self, q: f64) -> f64 {
        let counts: Vec<u64> = self.buckets.iter().map(|b| b.load(Relaxed)).collect();
        let total: u64 = counts.iter().sum();
        if total == 0 {
            return 0.0;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, c) in counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return upper_micros(i) as f64 / 1e6;
            }
        }
        upper_micros(counts.len() - 1) as f64 / 1e6
    }
}

/// Bucket of a duration: octave from the leading bit, then the next 4 bits linearly.
fn index(d: Duration) -> usize {
    let us = d.as_micros().min(u128::from(u64::MAX)) as u64;
    if us < SUB as u64 {
        return us as usize;
    }
    let octave = 63 - us.leading_zeros() as usize; // ≥ 4
    let sub = ((us >> (octave - 4)) as usize) & (SUB - 1);
    ((octave - 3) * SUB + sub).min(SUB * OCTAVES - 1)
}

/// The largest microsecond value a bucket holds.
fn upper_micros(i: usize) -> u64 {
    if i < SUB {
        return i as u64;
    }
    let octave = i / SUB + 3;
    let sub = (i % SUB) as u64;
    ((SUB as u64 + sub + 1) << (octave - 4)) - 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_bound_their_values() {
        for us in [
            0u64, 1, 15, 16, 17, 100, 999, 1000, 12_345, 1_000_000, 9_999_999,
        ] {
            let i = index(Duration::from_micros(us));
            assert!(upper_micros(i) >= us, "{us} -> {i}");
            assert!(
                upper_micros(i) as f64 <= us as f64 * 1.07 + 1.0,
                "{us} -> {}",
                upper_micros(i)
            );
            if i > 0 {
                assert!(upper_micros(i - 1) < us, "{us}");
            }
        }
    }

    #[test]
    fn quantiles_of_a_known_set() {
        let s = Stats::default();
        assert_eq!(s.quantile(0.99), 0.0);
        for ms in 1..=100 {
            s.observe(Duration::from_millis(ms));
        }
        let p50 = s.quantile(0.5);
        let p99 = s.quantile(0.99);
        assert!((0.050..0.054).contains(&p50), "{p50}");
        assert!((0.099..0.106).contains(&p99), "{p99}");
    }
}
