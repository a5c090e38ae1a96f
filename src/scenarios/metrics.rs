//! Scenario families: how many runs of each scenario are running, each run's progress, the
//! current step of each run (dashboards draw it as an annotation) and finished runs by outcome.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// A float gauge.
pub type FGauge = Gauge<f64, AtomicU64>;

/// Outcomes of a finished run.
pub const OUTCOMES: [&str; 3] = ["completed", "stopped", "failed"];

/// `{scenario}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ScenarioLabels {
    /// Scenario name.
    pub scenario: String,
}

/// `{run,scenario}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RunLabels {
    /// Run id.
    pub run: String,
    /// Scenario name.
    pub scenario: String,
}

/// `{run,scenario,step,note}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StepLabels {
    /// Run id.
    pub run: String,
    /// Scenario name.
    pub scenario: String,
    /// 1-based step number.
    pub step: String,
    /// The step's note (empty when it has none).
    pub note: String,
}

/// `{scenario,outcome}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    /// Scenario name.
    pub scenario: String,
    /// completed | stopped | failed.
    pub outcome: String,
}

/// Every scenario family; cheap to clone.
#[derive(Clone, Default)]
pub struct ScenarioMetrics {
    /// `jolt_scenario_running{scenario}`: runs in state running (paused ones excluded).
    pub running: Family<ScenarioLabels, Gauge>,
    /// `jolt_scenario_progress_ratio{run,scenario}`, removed when the run ends.
    pub progress: Family<RunLabels, FGauge>,
    /// `jolt_scenario_step_info{run,scenario,step,note}`: 1 while the step is current.
    pub step_info: Family<StepLabels, Gauge>,
    /// `jolt_scenario_runs_total{scenario,outcome}`.
    pub runs: Family<OutcomeLabels, Counter>,
}

impl ScenarioMetrics {
    /// Creates and registers the families (prometheus-client ends each help with a period).
    pub fn new(r: &mut Registry) -> Self {
        let m = ScenarioMetrics::default();
        r.register(
            "jolt_scenario_running",
            "Scenario runs running now, by scenario",
            m.running.clone(),
        );
        r.register(
            "jolt_scenario_progress_ratio",
            "Progress of a scenario run, 0 to 1",
            m.progress.clone(),
        );
        r.register(
            "jolt_scenario_step_info",
            "1 while a step is the current one of its run (drawn as annotations)",
            m.step_info.clone(),
        );
        r.register(
            "jolt_scenario_runs",
            "Scenario runs ended, by scenario and outcome",
            m.runs.clone(),
        );
        m
    }

    /// Zero series for a scenario, so dashboards have data before its first run.
    pub fn precreate(&self, scenario: &str) {
        let _ = self.running.get_or_create(&ScenarioLabels {
            scenario: scenario.into(),
        });
        for outcome in OUTCOMES {
            let _ = self.runs.get_or_create(&OutcomeLabels {
                scenario: scenario.into(),
                outcome: outcome.into(),
            });
        }
    }
}
