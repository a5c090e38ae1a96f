//! Where Prometheus and Alertmanager are (flags, `JOLT_*`, config keys), and the bits of
//! their configuration files that verified scenarios need (intervals, group_wait).

use crate::merge::Invalid;
use clap::Args;
use serde::Deserialize;
use serde_yaml_ng::Value;

/// The `prometheus:` section of the config file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PromConfig {
    /// Prometheus base URL, e.g. `http://prometheus:9090`; unset: scenarios with checks run
    /// with verdict `unverified`.
    pub prometheus_url: Option<String>,
    /// Alertmanager base URL, for the `group_wait` of `notified` budgets.
    pub alertmanager_url: Option<String>,
}

impl PromConfig {
    /// Checks the URLs are http(s).
    pub fn validate(&self) -> Result<(), Invalid> {
        for (key, url) in [
            ("prometheus_url", &self.prometheus_url),
            ("alertmanager_url", &self.alertmanager_url),
        ] {
            if let Some(u) = url
                && !(u.starts_with("http://") || u.starts_with("https://"))
            {
                return Err(Invalid::new(
                    key,
                    format!("`{u}` is not an http:// or https:// URL"),
                ));
            }
        }
        Ok(())
    }
}

/// Flags of the Prometheus client.
#[derive(Debug, Clone, Default, Args)]
pub struct PromArgs {
    /// Prometheus base URL for verified scenarios, e.g. http://localhost:9090
    #[arg(long, env = "JOLT_PROMETHEUS_URL", value_name = "URL")]
    pub prometheus_url: Option<String>,
    /// Alertmanager base URL (its group_wait counts in `notified` budgets)
    #[arg(long, env = "JOLT_ALERTMANAGER_URL", value_name = "URL")]
    pub alertmanager_url: Option<String>,
}

impl PromArgs {
    /// Overrides the file's values with the flags that were given.
    pub fn apply(&self, cfg: &mut PromConfig) {
        crate::merge::set(
            &mut cfg.prometheus_url,
            self.prometheus_url.clone().map(Some),
        );
        crate::merge::set(
            &mut cfg.alertmanager_url,
            self.alertmanager_url.clone().map(Some),
        );
    }
}

fn secs(v: &Value, default: f64) -> Result<f64, String> {
    match v.as_str() {
        None => Ok(default),
        Some(s) => humantime::parse_duration(s)
            .map(|d| d.as_secs_f64())
            .map_err(|e| format!("`{s}`: {e}")),
    }
}

/// (scrape interval of job `jolt` or the global one, global evaluation interval) in seconds.
pub fn intervals(yaml: &str) -> Result<(f64, f64), String> {
    let doc: Value = serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())?;
    let global_scrape = secs(&doc["global"]["scrape_interval"], 60.0)?;
    let eval = secs(&doc["global"]["evaluation_interval"], 60.0)?;
    let jolt = doc["scrape_configs"]
        .as_sequence()
        .into_iter()
        .flatten()
        .find(|c| c["job_name"].as_str() == Some("jolt"));
    let scrape = match jolt {
        Some(c) => secs(&c["scrape_interval"], global_scrape)?,
        None => global_scrape,
    };
    Ok((scrape, eval))
}

/// The root route's `group_wait` in seconds (Alertmanager's default is 30 s).
pub fn group_wait(yaml: &str) -> Result<f64, String> {
    let doc: Value = serde_yaml_ng::from_str(yaml).map_err(|e| e.to_string())?;
    secs(&doc["route"]["group_wait"], 30.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_prefer_the_jolt_job() {
        let y = "global: {scrape_interval: 15s, evaluation_interval: 30s}\nscrape_configs:\n- job_name: jolt\n  scrape_interval: 1s\n";
        assert_eq!(intervals(y).unwrap(), (1.0, 30.0));
        assert_eq!(intervals("global: {}\n").unwrap(), (60.0, 60.0));
        assert_eq!(group_wait("route: {group_wait: 1s}\n").unwrap(), 1.0);
        assert_eq!(group_wait("route: {}\n").unwrap(), 30.0);
    }
}
