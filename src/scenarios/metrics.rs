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

/// `{run,scenario,check,result}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CheckLabels {
    /// Run id.
    pub run: String,
    /// Scenario name.
    pub scenario: String,
    /// Check name.
    pub check: String,
    /// pending | pass | fail | inconclusive.
    pub result: String,
}

/// `{run,scenario,verdict}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct VerdictLabels {
    /// Run id.
    pub run: String,
    /// Scenario name.
    pub scenario: String,
    /// pending | pass | fail | inconclusive | unverified.
    pub verdict: String,
}

/// `{scenario,result}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ResultLabels {
    /// Scenario name.
    pub scenario: String,
    /// pass | fail | inconclusive.
    pub result: String,
}

/// A float counter.
pub type FCounter = Counter<f64, AtomicU64>;

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
    /// `jolt_scenario_check_result{run,scenario,check,result}`: 1 for a check's current result.
    pub check_result: Family<CheckLabels, Gauge>,
    /// `jolt_scenario_verdict{run,scenario,verdict}`: 1 for a verified run's verdict.
    pub verdict: Family<VerdictLabels, Gauge>,
    /// `jolt_scenario_checks_total{scenario,result}`: checks decided.
    pub checks_total: Family<ResultLabels, Counter>,
    /// `jolt_scenario_verify_cpu_seconds_total`: CPU spent following and judging checks.
    pub verify_cpu: FCounter,
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
        r.register(
            "jolt_scenario_check_result",
            "1 for the current result of each check of a verified run",
            m.check_result.clone(),
        );
        r.register(
            "jolt_scenario_verdict",
            "1 for the verdict of a verified run",
            m.verdict.clone(),
        );
        r.register(
            "jolt_scenario_checks",
            "Checks of verified runs decided, by scenario and result",
            m.checks_total.clone(),
        );
        r.register(
            "jolt_scenario_verify_cpu_seconds",
            "CPU time spent following and judging the checks of verified runs",
            m.verify_cpu.clone(),
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
