//! Keeps counters read from the kernel non-decreasing between scrapes.
//!
//! Some kernels let per-CPU `idle` and `iowait` step backwards a little, and a counter that
//! drops looks like a reset to Prometheus's `rate()`, producing a huge spike. Each series'
//! value is clamped to the highest value seen before. Series that disappear (a CPU gone
//! offline, a removed interface) are forgotten, so when they come back they start afresh.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

/// Last values, keyed by a row (a CPU, a device) holding one value per column.
#[derive(Debug, Default)]
pub struct Monotonic {
    /// Row key → (generation last seen, column values).
    rows: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    generation: u64,
    rows: HashMap<String, (u64, Vec<f64>)>,
}

impl Monotonic {
    /// Starts one scrape's pass; rows not clamped during the pass are dropped when it ends.
    pub fn pass(&self) -> Pass<'_> {
        let mut state = self.rows.lock().unwrap_or_else(|p| p.into_inner());
        state.generation += 1;
        Pass { state }
    }
}

/// One scrape's view of the last values.
pub struct Pass<'a> {
    state: MutexGuard<'a, State>,
}

impl Pass<'_> {
    /// Raises each of `values` to at least its last value for `key`, and remembers them.
    pub fn clamp(&mut self, key: &str, values: &mut [f64]) {
        let generation = self.state.generation;
        match self.state.rows.get_mut(key) {
            Some((seen, last)) if last.len() == values.len() => {
                *seen = generation;
                for (v, l) in values.iter_mut().zip(last.iter_mut()) {
                    if *v < *l {
                        *v = *l;
                    } else {
                        *l = *v;
                    }
                }
            }
            _ => {
                self.state
                    .rows
                    .insert(key.to_string(), (generation, values.to_vec()));
            }
        }
    }
}

impl Drop for Pass<'_> {
    fn drop(&mut self) {
        let generation = self.state.generation;
        self.state.rows.retain(|_, (seen, _)| *seen == generation);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clamps_decreases_and_forgets_vanished_rows() {
        let m = Monotonic::default();
        let mut a = [10.0, 5.0];
        let mut b = [1.0];
        {
            let mut p = m.pass();
            p.clamp("a", &mut a);
            p.clamp("b", &mut b);
        }
        let mut a2 = [9.5, 6.0];
        m.pass().clamp("a", &mut a2);
        assert_eq!(a2, [10.0, 6.0], "a decrease is held at the last value");
        // `b` was absent from the last pass, so a lower value is taken as is.
        let mut b2 = [0.5];
        m.pass().clamp("b", &mut b2);
        assert_eq!(b2, [0.5]);
    }
}
