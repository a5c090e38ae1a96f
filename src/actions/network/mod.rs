//! `network`: UDP or TCP bytes at a bit rate to jolt's own loopback sink (or an allowlisted
//! peer), paced by an absolute schedule (byte n is due at start + 8n / bit rate) and counted
//! on both ends.

pub mod metrics;
mod sender;
mod sink;

use super::kinds::{ActionKind, Choices};
use super::ranges::{self, Range};
use super::{Env, RunCtx, check_timing, in_range};
use crate::actions::ActionError;
use crate::units::{Given, HumanDuration};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Transport.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// Datagrams.
    Udp,
    /// A stream.
    Tcp,
}

impl Protocol {
    /// The `protocol` label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Udp => "udp",
            Protocol::Tcp => "tcp",
        }
    }
}

/// Parameters of a network action.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkParams {
    /// Megabits per second.
    pub mbps: f64,
    /// How long to send.
    pub duration: Given<HumanDuration>,
    /// udp or tcp.
    pub protocol: Protocol,
    /// An allowlisted `host:port`; none = jolt's own loopback sink.
    pub peer: Option<String>,
}

impl Default for NetworkParams {
    fn default() -> Self {
        NetworkParams {
            mbps: 100.0,
            duration: HumanDuration(Duration::from_secs(30)).into(),
            protocol: Protocol::Udp,
            peer: None,
        }
    }
}

impl ActionKind for NetworkParams {
    type Metrics = metrics::NetworkMetrics;

    fn metrics(registry: &mut prometheus_client::registry::Registry) -> Self::Metrics {
        metrics::NetworkMetrics::register(registry)
    }

    const RANGES: &'static [Range] = &[ranges::NETWORK_MBPS];
    const CHOICES: Choices = &[("protocol", &["udp", "tcp"])];
    /// Range and safety checks.
    fn validate(&mut self, env: &Env) -> Result<(), ActionError> {
        in_range("duration", &self.duration)?;
        super::ranges::NETWORK_MBPS.check(self.mbps)?;
        if let Some(peer) = &self.peer {
            let allowed = env
                .config
                .allow_targets
                .iter()
                .any(|a| a.eq_ignore_ascii_case(peer));
            if !allowed {
                return Err(ActionError::invalid(
                    "peer",
                    format!(
                        "`{peer}` is not on actions.allow_targets (--allow-target HOST:PORT); \
                         leave peer out to use jolt's own loopback sink"
                    ),
                ));
            }
        }
        check_timing(*self.duration, None)?;
        Ok(())
    }

    /// Runs for `duration`.
    fn duration(&self) -> Option<Duration> {
        Some(self.duration.0)
    }

    fn timing(&mut self) -> Vec<&mut Given<HumanDuration>> {
        vec![&mut self.duration]
    }

    async fn run(self, ctx: RunCtx) -> Result<(), String> {
        run(self, ctx).await
    }
}

/// Produces the load.
pub async fn run(p: NetworkParams, ctx: RunCtx) -> Result<(), String> {
    sender::run(p, ctx).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actions::Params;
    use crate::actions::network::metrics::ProtocolLabels;
    use crate::services::testing::TestBed;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn pause_stops_sending_and_resume_goes_on() {
        let bed = TestBed::start("catalog: {cart: {}}").await;
        let params = Params::Network(NetworkParams {
            mbps: 8.0,
            duration: HumanDuration(Duration::from_secs(20)).into(),
            protocol: Protocol::Udp,
            peer: None,
        });
        let id = bed
            .engine
            .start(params, Some("run-1".into()), None)
            .unwrap()
            .id;
        let sent = bed
            .engine
            .env()
            .metrics
            .kinds
            .network
            .sent
            .get_or_create(&ProtocolLabels {
                protocol: "udp".into(),
            })
            .clone();
        let until_more_than = |n: u64| {
            let sent = sent.clone();
            async move {
                for _ in 0..300 {
                    if sent.get() > n {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                panic!("no bytes beyond {n}");
            }
        };
        until_more_than(50_000).await;
        bed.engine.set_paused(&id, true).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let paused_at = sent.get();
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(sent.get(), paused_at, "nothing sent while paused");
        bed.engine.set_paused(&id, false).unwrap();
        until_more_than(paused_at + 50_000).await;
        let view = bed.engine.stop(&id).await.unwrap();
        // Paused time does not count: no burst to catch up on the pause.
        let total = view.achieved["bytes_sent"].as_f64().unwrap();
        let expected = view.elapsed_seconds * 1e6;
        assert!(total <= expected * 1.05 + 10_000.0, "{total} vs {expected}");
    }
}
