//! What the follower records while a run plays, as plain data: alert state transitions of the
//! checked alerts, the spans with no answer from Prometheus, the notifications jolt received,
//! and the series of query checks. Times are seconds on the run's check clock (wall time since
//! the start, paused spans excluded), so budgets do not run while a run is paused.

use serde::Serialize;
use std::collections::BTreeMap;

/// Prometheus silent for longer than this (seconds) makes a gap in the data.
pub const GAP: f64 = 3.0;

/// An alert's state as Prometheus reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Its expression is true, `for` has not elapsed yet.
    Pending,
    /// Firing.
    Firing,
    /// Gone from Prometheus's list (resolved, or never became firing).
    Inactive,
}

/// One change of one alert series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    /// Check-clock seconds.
    pub t: f64,
    /// The new state.
    pub state: AlertState,
    /// The alert's labels (with `alertname`).
    pub labels: BTreeMap<String, String>,
}

/// A notification jolt's `POST /alerts` received.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notice {
    /// Check-clock seconds.
    pub t: f64,
    /// firing | resolved.
    pub status: String,
    /// The alert's labels.
    pub labels: BTreeMap<String, String>,
}

/// One series of a range query: (check-clock seconds, value) samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Samples in time order.
    pub samples: Vec<(f64, f64)>,
}

/// Everything recorded for a run's checks.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Recording {
    /// Alert transitions in time order.
    pub transitions: Vec<Transition>,
    /// `[from, to]` spans with no answer from Prometheus.
    pub gaps: Vec<(f64, f64)>,
    /// Notifications received, in time order.
    pub notices: Vec<Notice>,
    /// Range-query results by check index: the series, or why the query failed.
    #[serde(skip)]
    pub queries: BTreeMap<usize, Result<Vec<Series>, String>>,
    /// The last poll Prometheus answered.
    pub last_ok: Option<f64>,
    /// Current state of each series (keyed by its labels).
    #[serde(skip)]
    current: BTreeMap<Vec<(String, String)>, AlertState>,
}

impl Recording {
    /// Records one poll of `/api/v1/alerts` at `t`: the alerts found (only those the checks
    /// are about), or `None` when Prometheus did not answer.
    pub fn poll(&mut self, t: f64, alerts: Option<Vec<(BTreeMap<String, String>, AlertState)>>) {
        let Some(alerts) = alerts else { return };
        let since = self.last_ok.unwrap_or(0.0);
        if t - since > GAP {
            self.gaps.push((since, t));
        }
        self.last_ok = Some(t);
        let mut seen = BTreeMap::new();
        for (labels, state) in alerts {
            let key: Vec<(String, String)> = labels.clone().into_iter().collect();
            if self.current.get(&key) != Some(&state) {
                self.transitions.push(Transition { t, state, labels });
            }
            seen.insert(key, state);
        }
        for key in self.current.keys() {
            if !seen.contains_key(key) {
                self.transitions.push(Transition {
                    t,
                    state: AlertState::Inactive,
                    labels: key.iter().cloned().collect(),
                });
            }
        }
        self.current = seen;
    }

    /// The gaps, with the open one (no answer since the last good poll) up to `now`.
    pub fn gaps_until(&self, now: f64) -> Vec<(f64, f64)> {
        let mut gaps = self.gaps.clone();
        let since = self.last_ok.unwrap_or(0.0);
        if now - since > GAP {
            gaps.push((since, now));
        }
        gaps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(name: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("alertname".to_string(), name.to_string())])
    }

    #[test]
    fn polls_become_transitions_and_silence_becomes_gaps() {
        let mut r = Recording::default();
        r.poll(0.5, Some(vec![]));
        r.poll(1.5, Some(vec![(l("A"), AlertState::Pending)]));
        r.poll(2.5, Some(vec![(l("A"), AlertState::Pending)]));
        r.poll(3.5, Some(vec![(l("A"), AlertState::Firing)]));
        r.poll(4.5, None);
        r.poll(5.5, None);
        r.poll(8.0, Some(vec![]));
        let states: Vec<_> = r.transitions.iter().map(|t| (t.t, t.state)).collect();
        assert_eq!(
            states,
            [
                (1.5, AlertState::Pending),
                (3.5, AlertState::Firing),
                (8.0, AlertState::Inactive)
            ]
        );
        assert_eq!(r.gaps, [(3.5, 8.0)]);
        assert_eq!(r.gaps_until(9.0), [(3.5, 8.0)]);
        assert_eq!(r.gaps_until(12.0), [(3.5, 8.0), (8.0, 12.0)]);
    }
}
