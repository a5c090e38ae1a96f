//! Where run bundles live and how many are kept (flags, `JOLT_*`, the `reports:` config key),
//! and the Grafana the HTML report links to.

use clap::Args;
use serde::Deserialize;

/// The `reports:` section of the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportsConfig {
    /// Most bundles kept under `<state_dir>/runs`; the oldest go first.
    pub keep: usize,
    /// Most bytes all bundles may take together; the oldest go first.
    pub max_bytes: u64,
    /// Grafana base URL: reports link to the Load Control dashboard over the run's window.
    pub grafana_url: Option<String>,
}

impl Default for ReportsConfig {
    fn default() -> Self {
        ReportsConfig {
            keep: 50,
            max_bytes: 256 * 1024 * 1024,
            grafana_url: None,
        }
    }
}

impl ReportsConfig {
    /// A cap of zero would delete each bundle as it is written; URLs must be http(s).
    pub fn validate(&self) -> Result<(), crate::merge::Invalid> {
        if self.keep == 0 {
            return Err(crate::merge::Invalid::new(
                "reports.keep",
                "must be at least 1",
            ));
        }
        if self.max_bytes < 64 * 1024 {
            return Err(crate::merge::Invalid::new(
                "reports.max_bytes",
                "must be at least 64 KiB",
            ));
        }
        if let Some(u) = &self.grafana_url
            && !(u.starts_with("http://") || u.starts_with("https://"))
        {
            return Err(crate::merge::Invalid::new(
                "grafana_url",
                format!("`{u}` is not an http:// or https:// URL"),
            ));
        }
        Ok(())
    }
}

/// Flags of run recording and reports.
#[derive(Debug, Clone, Default, Args)]
pub struct ReportsArgs {
    /// Most run bundles kept under <state-dir>/runs [default: 50]
    #[arg(long, env = "JOLT_REPORTS_KEEP", value_name = "N")]
    pub reports_keep: Option<usize>,
    /// Most bytes all run bundles may take, e.g. 256MiB [default: 256MiB]
    #[arg(long, env = "JOLT_REPORTS_MAX_BYTES", value_name = "SIZE", value_parser = parse_size)]
    pub reports_max_bytes: Option<u64>,
    /// Grafana base URL; reports link to the Load Control dashboard, e.g. http://localhost:3000
    #[arg(long, env = "JOLT_GRAFANA_URL", value_name = "URL")]
    pub grafana_url: Option<String>,
}

fn parse_size(s: &str) -> Result<u64, String> {
    s.parse::<bytesize::ByteSize>().map(|b| b.as_u64())
}

impl ReportsArgs {
    /// Overrides the file's values with the flags that were given.
    pub fn apply(&self, cfg: &mut ReportsConfig) {
        crate::merge::set(&mut cfg.keep, self.reports_keep);
        crate::merge::set(&mut cfg.max_bytes, self.reports_max_bytes);
        crate::merge::set(&mut cfg.grafana_url, self.grafana_url.clone().map(Some));
    }
}
