//! A metric family built fresh at scrape time, before any byte is written.
//!
//! Collectors fill these plain values first and encode them only once everything was read,
//! so a collector that fails half-way contributes nothing rather than a truncated family.

use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use std::borrow::Cow;

/// The two types host collectors need; histograms live in live `prometheus_client` metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Monotonic; the name carries `_total` as node_exporter's does.
    Counter,
    /// Any value.
    Gauge,
}

/// One sample: its label pairs and value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// Label names are static (they are the contract), values come from the host.
    pub labels: Vec<(&'static str, String)>,
    /// The value; counters are kept non-decreasing by their collector.
    pub value: f64,
}

/// A named family of samples of one type.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// Full exposition name, e.g. `node_cpu_seconds_total` (counters end in `_total`).
    pub name: Cow<'static, str>,
    /// One line of help text (no newlines, no backslashes).
    pub help: Cow<'static, str>,
    /// Counter or gauge.
    pub kind: Kind,
    /// The series; an empty family is not encoded at all.
    pub samples: Vec<Sample>,
}

impl Family {
    /// A new empty family.
    pub fn new(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
        kind: Kind,
    ) -> Self {
        Family {
            name: name.into(),
            help: help.into(),
            kind,
            samples: Vec::new(),
        }
    }

    /// A gauge family.
    pub fn gauge(name: impl Into<Cow<'static, str>>, help: impl Into<Cow<'static, str>>) -> Self {
        Self::new(name, help, Kind::Gauge)
    }

    /// A counter family; `name` must end in `_total`.
    pub fn counter(name: impl Into<Cow<'static, str>>, help: impl Into<Cow<'static, str>>) -> Self {
        let f = Self::new(name, help, Kind::Counter);
        debug_assert!(
            f.name.ends_with("_total"),
            "counter {} lacks _total",
            f.name
        );
        f
    }

    /// Adds a sample and returns the family, for one-liners.
    pub fn with(mut self, labels: &[(&'static str, &str)], value: f64) -> Self {
        self.push(labels, value);
        self
    }

    /// Adds a sample.
    pub fn push(&mut self, labels: &[(&'static str, &str)], value: f64) {
        let labels = labels.iter().map(|(k, v)| (*k, (*v).to_string())).collect();
        self.samples.push(Sample { labels, value });
    }

    /// Writes the family through prometheus-client's OpenMetrics encoder.
    pub fn encode(&self, enc: &mut DescriptorEncoder) -> std::fmt::Result {
        if self.samples.is_empty() {
            return Ok(());
        }
        let (name, ty) = match self.kind {
            Kind::Counter => (
                self.name.strip_suffix("_total").unwrap_or(&self.name),
                MetricType::Counter,
            ),
            Kind::Gauge => (&*self.name, MetricType::Gauge),
        };
        let mut metric = enc.encode_descriptor(name, &self.help, None, ty)?;
        if let [only] = self.samples.as_slice()
            && only.labels.is_empty()
        {
            // Without this, an empty label set is written as `name{}`.
            return match self.kind {
                Kind::Counter => ConstCounter::new(only.value).encode(metric),
                Kind::Gauge => ConstGauge::new(only.value).encode(metric),
            };
        }
        for s in &self.samples {
            let labels: &[(&'static str, String)] = &s.labels;
            let sample = metric.encode_family(&labels)?;
            match self.kind {
                Kind::Counter => ConstCounter::new(s.value).encode(sample)?,
                Kind::Gauge => ConstGauge::new(s.value).encode(sample)?,
            }
        }
        Ok(())
    }
}
