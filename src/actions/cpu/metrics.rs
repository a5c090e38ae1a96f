//! The cpu kind's series: what the controller aims for and what it measures.

use crate::telemetry::FGauge;
use prometheus_client::registry::Registry;

/// The cpu actions' series; cheap to clone.
#[derive(Clone, Default)]
pub struct CpuMetrics {
    /// `jolt_cpu_load_target_ratio`: the host busy ratio cpu actions aim for (0 when none).
    pub target: FGauge,
    /// `jolt_cpu_load_achieved_ratio`: host busy ratio measured by the cpu controller.
    pub achieved: FGauge,
}

impl CpuMetrics {
    /// Creates and registers them.
    pub fn register(r: &mut Registry) -> Self {
        let m = CpuMetrics::default();
        r.register(
            "jolt_cpu_load_target_ratio",
            "Host busy ratio the cpu actions aim for",
            m.target.clone(),
        );
        r.register(
            "jolt_cpu_load_achieved_ratio",
            "Host busy ratio measured by the cpu controller",
            m.achieved.clone(),
        );
        m
    }
}
