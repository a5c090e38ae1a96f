//! The event log: what happened to actions, runs and alerts, in one bounded in-memory list.
//!
//! Every event goes four ways at once: the ring (for `GET /events?since=ID`), a broadcast
//! channel (for the server-sent events stream), the log output, and
//! `jolt_events_total{type,severity}`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::sync::broadcast;

/// How many events the ring keeps.
pub const CAPACITY: usize = 500;

/// Severity of an event, as alert routing uses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Routine: something started or ended as asked.
    Info,
    /// Something was refused or failed.
    Warning,
    /// Something needs a person now.
    Critical,
}

impl Severity {
    fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// One event.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Monotonic id, starting at 1; `GET /events?since=ID` returns the ones after it.
    pub id: u64,
    /// Seconds since the epoch.
    pub time: f64,
    /// What happened, e.g. `action_started`, `run_step`, `alert_firing`.
    #[serde(rename = "type")]
    pub kind: String,
    /// How much it matters.
    pub severity: Severity,
    /// One sentence for people.
    pub message: String,
    /// Structured details: action id, run id, alert labels...
    pub data: serde_json::Value,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    r#type: String,
    severity: String,
}

/// The shared event log.
#[derive(Clone)]
pub struct Events {
    inner: Arc<Mutex<Ring>>,
    tx: broadcast::Sender<Event>,
    counter: Family<EventLabels, Counter>,
}

struct Ring {
    next_id: u64,
    events: VecDeque<Event>,
}

impl Events {
    /// A new log whose counter is registered in `registry`.
    pub fn new(registry: &mut Registry) -> Self {
        let counter = Family::<EventLabels, Counter>::default();
        registry.register(
            "jolt_events",
            "Events recorded by jolt, by type and severity",
            counter.clone(),
        );
        let (tx, _) = broadcast::channel(256);
        Events {
            inner: Arc::new(Mutex::new(Ring {
                next_id: 1,
                events: VecDeque::new(),
            })),
            tx,
            counter,
        }
    }

    /// Records an event and returns it.
    pub fn emit(
        &self,
        kind: &str,
        severity: Severity,
        message: impl Into<String>,
        data: serde_json::Value,
    ) -> Event {
        let message = message.into();
        let time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let event = {
            let mut ring = self.inner.lock().expect("event ring poisoned");
            let event = Event {
                id: ring.next_id,
                time,
                kind: kind.into(),
                severity,
                message,
                data,
            };
            ring.next_id += 1;
            if ring.events.len() == CAPACITY {
                ring.events.pop_front();
            }
            ring.events.push_back(event.clone());
            event
        };
        match severity {
            Severity::Info => tracing::info!(event = kind, data = %event.data, "{}", event.message),
            _ => {
                tracing::warn!(event = kind, severity = severity.as_str(), data = %event.data, "{}", event.message)
            }
        }
        self.counter
            .get_or_create(&EventLabels {
                r#type: kind.into(),
                severity: severity.as_str().into(),
            })
            .inc();
        let _ = self.tx.send(event.clone());
        event
    }

    /// Events with an id greater than `since`, oldest first.
    pub fn since(&self, since: u64) -> Vec<Event> {
        let ring = self.inner.lock().expect("event ring poisoned");
        ring.events
            .iter()
            .filter(|e| e.id > since)
            .cloned()
            .collect()
    }

    /// A receiver of every event emitted from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_is_bounded_and_since_filters() {
        let events = Events::new(&mut Registry::default());
        for i in 0..(CAPACITY + 10) {
            events.emit(
                "test",
                Severity::Info,
                format!("event {i}"),
                serde_json::Value::Null,
            );
        }
        let all = events.since(0);
        assert_eq!(all.len(), CAPACITY);
        assert_eq!(all.first().unwrap().id, 11);
        assert_eq!(events.since(CAPACITY as u64 + 8).len(), 2);
    }
}
