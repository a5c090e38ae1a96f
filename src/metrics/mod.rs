//! What the `/metrics` listener serves: one read-only registry, encoded per scrape as
//! OpenMetrics or as classic text (the HTTP side, `Accept` negotiation included, is
//! `api::scrape`).

pub mod classic;
pub mod family;
pub mod host;
pub mod process;

use prometheus_client::registry::Registry;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Content type of OpenMetrics 1.0 text.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The registry every metric source registered into at start; read-only afterwards.
#[derive(Clone)]
pub struct Exposition {
    registry: Arc<Registry>,
    /// The size of the last scrape's text, so the next one is written into a buffer that
    /// needs no regrowth (each doubling copies everything written so far).
    last_len: Arc<AtomicUsize>,
}

impl Exposition {
    /// Freezes the registry.
    pub fn new(registry: Registry) -> Self {
        Exposition {
            registry: Arc::new(registry),
            last_len: Arc::new(AtomicUsize::new(64 * 1024)),
        }
    }

    /// Encodes every metric as OpenMetrics text, ending with `# EOF`.
    pub fn openmetrics(&self) -> String {
        let mut out = String::with_capacity(self.last_len.load(Ordering::Relaxed) + 4096);
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        self.last_len.store(out.len(), Ordering::Relaxed);
        out
    }

    /// Encodes every metric as classic text 0.0.4.
    pub fn classic(&self) -> String {
        classic::from_openmetrics(&self.openmetrics())
    }
}

/// Registers what describes the daemon itself: build info and the `process_*` metrics.
pub fn register_self(registry: &mut Registry) {
    registry.register_collector(Box::new(BuildInfo));
    registry.register_collector(Box::new(process::SelfProcess::new()));
}

/// `jolt_build_info{version,revision}`, constant 1.
#[derive(Debug)]
struct BuildInfo;

impl prometheus_client::collector::Collector for BuildInfo {
    fn encode(&self, mut enc: prometheus_client::encoding::DescriptorEncoder) -> std::fmt::Result {
        family::Family::gauge(
            "jolt_build_info",
            "jolt's version and git revision; always 1.",
        )
        .with(
            &[
                ("version", env!("CARGO_PKG_VERSION")),
                ("revision", env!("JOLT_REVISION")),
            ],
            1.0,
        )
        .encode(&mut enc)
    }
}
