//! The live metrics of actions: the engine-wide families, and each kind's own series
//! ([`KindMetrics`], defined by the kinds themselves). Registered once at start; series labelled with an action id are removed when the
//! action ends so dashboards only show what is running.

use super::{Kind, KindMetrics};
use crate::telemetry::FGauge;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// `{kind}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct KindLabels {
    /// Action kind.
    pub kind: String,
}

/// `{kind,outcome}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// Action kind.
    pub kind: String,
    /// completed | stopped | failed.
    pub outcome: String,
}

/// `{id,kind,run}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InfoLabels {
    /// Action id.
    pub id: String,
    /// Action kind.
    pub kind: String,
    /// Scenario run id, or empty.
    pub run: String,
}

/// `{id,kind}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IdLabels {
    /// Action id.
    pub id: String,
    /// Action kind.
    pub kind: String,
}

/// Every action metric; cheap to clone (all handles are `Arc`s inside).
#[derive(Clone)]
pub struct ActionMetrics {
    /// `jolt_actions_active{kind}`.
    pub active: Family<KindLabels, Gauge>,
    /// `jolt_actions_started_total{kind}`.
    pub started: Family<KindLabels, Counter>,
    /// `jolt_actions_finished_total{kind,outcome}`.
    pub finished: Family<OutcomeLabels, Counter>,
    /// `jolt_action_info{id,kind,run}`.
    pub info: Family<InfoLabels, Gauge>,
    /// `jolt_action_progress_ratio{id,kind}`.
    pub progress: Family<IdLabels, FGauge>,
    /// Each kind's own series (targets, achieved figures, counters).
    pub kinds: KindMetrics,
}

impl ActionMetrics {
    /// Creates and registers every family; counters of every kind start at 0 so `rate()` works
    /// from the first scrape.
    pub fn new(r: &mut Registry) -> Self {
        let active = Family::<KindLabels, Gauge>::default();
        let started = Family::<KindLabels, Counter>::default();
        let finished = Family::<OutcomeLabels, Counter>::default();
        let info = Family::<InfoLabels, Gauge>::default();
        let progress = Family::<IdLabels, FGauge>::default();
        r.register(
            "jolt_actions_active",
            "Actions running now, by kind",
            active.clone(),
        );
        r.register(
            "jolt_actions_started",
            "Actions started, by kind",
            started.clone(),
        );
        r.register(
            "jolt_actions_finished",
            "Actions ended, by kind and outcome",
            finished.clone(),
        );
        r.register(
            "jolt_action_info",
            "1 while an action runs (drawn as annotations)",
            info.clone(),
        );
        r.register(
            "jolt_action_progress_ratio",
            "Progress of a running action, 0 to 1",
            progress.clone(),
        );
        // The kinds' own series come after the engine-wide ones, in table order.
        let m = ActionMetrics {
            active,
            started,
            finished,
            info,
            progress,
            kinds: KindMetrics::new(r),
        };
        for kind in Kind::ALL {
            let k = KindLabels {
                kind: kind.as_str().into(),
            };
            let _ = m.active.get_or_create(&k);
            let _ = m.started.get_or_create(&k);
            for outcome in ["completed", "stopped", "failed"] {
                let _ = m.finished.get_or_create(&OutcomeLabels {
                    kind: k.kind.clone(),
                    outcome: outcome.into(),
                });
            }
        }
        m
    }
}
