//! Metric helpers shared by the actions and the simulated services: the float gauge type,
//! the latency buckets both histograms use, and the one "my share of a summed gauge" guard.
//!
//! A leaf module (it uses nothing of jolt's own), so `actions` and `services` can both depend
//! on it without depending on each other.

use prometheus_client::metrics::gauge::{Atomic, Gauge};
use std::borrow::Borrow;
use std::marker::PhantomData;
use std::ops::Sub;
use std::sync::atomic::{AtomicI64, AtomicU64};

/// A float gauge.
pub type FGauge = Gauge<f64, AtomicU64>;

/// Latency buckets from 1 ms to 10 s, dense enough for p50/p95/p99.
pub const LATENCY_BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// One holder's share of a gauge that sums over several holders (running actions, requests
/// in flight): `set` moves the gauge by the change of this share, and dropping the guard takes
/// the share back out, so the sum stays right however the holder ends (stop, failure, panic,
/// a client hanging up). `G` is the gauge itself or a reference to it.
#[derive(Debug)]
pub struct GaugeShare<G, N = i64, A = AtomicI64>
where
    G: Borrow<Gauge<N, A>>,
    A: Atomic<N>,
    N: Copy + Default + PartialOrd + Sub<Output = N>,
{
    gauge: G,
    mine: N,
    _atomic: PhantomData<A>,
}

/// A share of a float gauge.
pub type FGaugeShare<G = FGauge> = GaugeShare<G, f64, AtomicU64>;

impl<G, N, A> GaugeShare<G, N, A>
where
    G: Borrow<Gauge<N, A>>,
    A: Atomic<N>,
    N: Copy + Default + PartialOrd + Sub<Output = N>,
{
    /// A share of `gauge` that starts at zero.
    pub fn new(gauge: G) -> Self {
        GaugeShare {
            gauge,
            mine: N::default(),
            _atomic: PhantomData,
        }
    }

    /// A share of `gauge` that starts at `value`.
    pub fn with(gauge: G, value: N) -> Self {
        let mut share = Self::new(gauge);
        share.set(value);
        share
    }

    /// Makes this holder's share `value`.
    pub fn set(&mut self, value: N) {
        let gauge = self.gauge.borrow();
        if value >= self.mine {
            gauge.inc_by(value - self.mine);
        } else {
            gauge.dec_by(self.mine - value);
        }
        self.mine = value;
    }
}

impl<G, N, A> Drop for GaugeShare<G, N, A>
where
    G: Borrow<Gauge<N, A>>,
    A: Atomic<N>,
    N: Copy + Default + PartialOrd + Sub<Output = N>,
{
    fn drop(&mut self) {
        self.set(N::default());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_sum_and_are_given_back_on_drop() {
        let g: Gauge = Gauge::default();
        let mut a = GaugeShare::new(&g);
        a.set(5);
        {
            let _b = GaugeShare::with(&g, 3);
            assert_eq!(g.get(), 8);
            a.set(2);
            assert_eq!(g.get(), 5);
        }
        assert_eq!(g.get(), 2);
        drop(a);
        assert_eq!(g.get(), 0);
    }

    #[test]
    fn float_shares_return_to_exactly_zero() {
        let g = FGauge::default();
        let mut a: FGaugeShare = GaugeShare::new(g.clone());
        let mut b: FGaugeShare = GaugeShare::new(g.clone());
        a.set(1234.0);
        b.set(17.0);
        a.set(99.0);
        assert_eq!(g.get(), 116.0);
        drop(a);
        b.set(0.0);
        assert_eq!(g.get(), 0.0);
    }
}
