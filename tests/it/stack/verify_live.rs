//! The live stack for verified-scenario tests: [`Stack`] with a jolt pointed at its real
//! Prometheus and Alertmanager (`--prometheus-url`, `--alertmanager-url`).

pub use super::live::Stack as Live;

/// Starts Prometheus, Alertmanager and a jolt that knows both, and waits until Prometheus has
/// scraped jolt.
pub fn start() -> Live {
    Live::start_with(|urls| {
        vec![
            "--prometheus-url".into(),
            urls.prometheus.clone(),
            "--alertmanager-url".into(),
            urls.alertmanager.clone(),
        ]
    })
}
