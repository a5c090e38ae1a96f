//! A small client of the Prometheus and Alertmanager HTTP APIs, for verified scenarios:
//! alert states (`/api/v1/alerts`), loaded rules (`/api/v1/rules`), the running configuration
//! (`/api/v1/status/config`), instant and range queries, and Alertmanager's configuration
//! (`/api/v2/status`). Works with Prometheus 2.x and 3.x (the v1 API is the same).
//!
//! Every call has a timeout and runs on the blocking pool (`spawn_blocking`), so a slow or
//! dead Prometheus never holds a runtime thread, let alone the scrape or control paths.

mod config;
mod cpu;

pub use config::{PromArgs, PromConfig};
pub use cpu::thread_cpu;

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// CPU time spent in Prometheus and Alertmanager calls (nanoseconds), for
/// `jolt_scenario_verify_cpu_seconds_total`.
static CPU_NANOS: AtomicU64 = AtomicU64::new(0);

/// CPU seconds spent in calls so far, on every thread.
pub fn cpu_seconds() -> f64 {
    CPU_NANOS.load(Ordering::Relaxed) as f64 / 1e9
}

/// Longest wait for one answer.
const TIMEOUT: Duration = Duration::from_secs(3);

/// What can go wrong talking to Prometheus or Alertmanager.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Error {
    /// No answer: refused, timed out, not HTTP.
    #[error("{url} is unreachable: {reason}")]
    Unreachable { url: String, reason: String },
    /// An answer that says the request was wrong (e.g. a query that does not parse).
    #[error("{0}")]
    Rejected(String),
    /// An answer jolt cannot read.
    #[error("unexpected answer from {url}: {reason}")]
    Malformed { url: String, reason: String },
}

/// An alerting rule Prometheus has loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertRule {
    /// `alert:` name.
    pub name: String,
    /// Its `for`, in seconds.
    pub for_secs: f64,
    /// Its group's evaluation interval, in seconds.
    pub interval_secs: f64,
    /// Its static labels.
    pub labels: BTreeMap<String, String>,
}

/// An alert Prometheus reports: its labels and state (`pending` or `firing`).
pub type ActiveAlert = (BTreeMap<String, String>, String);

/// One range-query series: labels and (unix seconds, value) samples.
pub type RangeSeries = (BTreeMap<String, String>, Vec<(f64, f64)>);

/// A client of one Prometheus and, optionally, one Alertmanager; cheap to clone.
#[derive(Clone)]
pub struct Prom {
    agent: ureq::Agent,
    /// Prometheus base URL, without a trailing slash.
    pub url: String,
    /// Alertmanager base URL, when configured.
    pub alertmanager: Option<String>,
}

impl Prom {
    /// A client; `None` when no Prometheus URL is configured.
    pub fn new(cfg: &PromConfig) -> Option<Prom> {
        let url = cfg
            .prometheus_url
            .as_deref()?
            .trim_end_matches('/')
            .to_string();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(TIMEOUT))
            .build()
            .into();
        Some(Prom {
            agent,
            url,
            alertmanager: cfg
                .alertmanager_url
                .as_deref()
                .map(|u| u.trim_end_matches('/').to_string()),
        })
    }

    /// `GET base+path?params` → the JSON answer, on the blocking pool.
    async fn get(
        &self,
        base: &str,
        path: &str,
        params: Vec<(&'static str, String)>,
    ) -> Result<Value, Error> {
        let agent = self.agent.clone();
        let url = format!("{base}{path}");
        let task = tokio::task::spawn_blocking(move || {
            let cpu0 = thread_cpu();
            let out = call(&agent, &url, &params);
            let spent = thread_cpu() - cpu0;
            CPU_NANOS.fetch_add((spent.max(0.0) * 1e9) as u64, Ordering::Relaxed);
            out
        });
        task.await.map_err(|e| Error::Unreachable {
            url: format!("{base}{path}"),
            reason: e.to_string(),
        })?
    }

    fn malformed(&self, path: &str, reason: impl Into<String>) -> Error {
        Error::Malformed {
            url: format!("{}{path}", self.url),
            reason: reason.into(),
        }
    }

    /// Alerts pending or firing now.
    pub async fn alerts(&self) -> Result<Vec<ActiveAlert>, Error> {
        let v = self.get(&self.url, "/api/v1/alerts", vec![]).await?;
        #[derive(Deserialize)]
        struct A {
            labels: BTreeMap<String, String>,
            state: String,
        }
        let list: Vec<A> = serde_json::from_value(v["data"]["alerts"].clone())
            .map_err(|e| self.malformed("/api/v1/alerts", e.to_string()))?;
        Ok(list.into_iter().map(|a| (a.labels, a.state)).collect())
    }

    /// Every alerting rule loaded.
    pub async fn alert_rules(&self) -> Result<Vec<AlertRule>, Error> {
        let v = self
            .get(&self.url, "/api/v1/rules", vec![("type", "alert".into())])
            .await?;
        let groups = v["data"]["groups"]
            .as_array()
            .ok_or_else(|| self.malformed("/api/v1/rules", "no data.groups"))?;
        let mut out = Vec::new();
        for g in groups {
            let interval = g["interval"].as_f64().unwrap_or(0.0);
            for r in g["rules"].as_array().into_iter().flatten() {
                if r["type"] != "alerting" {
                    continue;
                }
                out.push(AlertRule {
                    name: r["name"].as_str().unwrap_or_default().to_string(),
                    for_secs: r["duration"].as_f64().unwrap_or(0.0),
                    interval_secs: interval,
                    labels: serde_json::from_value(r["labels"].clone()).unwrap_or_default(),
                });
            }
        }
        Ok(out)
    }

    /// The loaded alerting rules in full (expression, `for`, labels, unrendered annotations,
    /// file): the `data.groups` array of `/api/v1/rules?type=alert`, for run reports.
    pub async fn rule_groups(&self) -> Result<Value, Error> {
        let v = self
            .get(&self.url, "/api/v1/rules", vec![("type", "alert".into())])
            .await?;
        Ok(v["data"]["groups"].clone())
    }

    /// The scrape interval for jolt (the `jolt` job's, else the global one) and the global
    /// evaluation interval, in seconds, from the running configuration.
    pub async fn intervals(&self) -> Result<(f64, f64), Error> {
        let v = self.get(&self.url, "/api/v1/status/config", vec![]).await?;
        let yaml = v["data"]["yaml"]
            .as_str()
            .ok_or_else(|| self.malformed("/api/v1/status/config", "no data.yaml"))?;
        config::intervals(yaml).map_err(|e| self.malformed("/api/v1/status/config", e))
    }

    /// Checks that `expr` parses (and runs) with an instant query.
    pub async fn check_query(&self, expr: &str) -> Result<(), Error> {
        self.get(
            &self.url,
            "/api/v1/query",
            vec![("query", expr.to_string())],
        )
        .await
        .map(|_| ())
    }

    /// A range query from `start` to `end` (unix seconds) every `step` seconds.
    pub async fn query_range(
        &self,
        expr: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> Result<Vec<RangeSeries>, Error> {
        let v = self
            .get(
                &self.url,
                "/api/v1/query_range",
                vec![
                    ("query", expr.to_string()),
                    ("start", format!("{start:.3}")),
                    ("end", format!("{end:.3}")),
                    ("step", format!("{step}")),
                ],
            )
            .await?;
        let mut out = Vec::new();
        for s in v["data"]["result"].as_array().into_iter().flatten() {
            let labels = serde_json::from_value(s["metric"].clone()).unwrap_or_default();
            let samples = s["values"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|p| {
                    let t = p[0].as_f64()?;
                    let v = p[1].as_str()?.parse::<f64>().ok()?;
                    Some((t, v))
                })
                .collect();
            out.push((labels, samples));
        }
        Ok(out)
    }

    /// Alertmanager's top-level `group_wait` in seconds (its default, 30 s, when unset);
    /// `None` without an Alertmanager URL.
    pub async fn group_wait(&self) -> Result<Option<f64>, Error> {
        let Some(am) = &self.alertmanager else {
            return Ok(None);
        };
        let v = self.get(am, "/api/v2/status", vec![]).await?;
        let yaml = v["config"]["original"]
            .as_str()
            .ok_or_else(|| Error::Malformed {
                url: format!("{am}/api/v2/status"),
                reason: "no config.original".into(),
            })?;
        config::group_wait(yaml)
            .map(Some)
            .map_err(|e| Error::Malformed {
                url: format!("{am}/api/v2/status"),
                reason: e,
            })
    }
}

/// One blocking `GET` → the JSON answer; Prometheus's `status: error` becomes `Rejected`.
fn call(agent: &ureq::Agent, url: &str, params: &[(&'static str, String)]) -> Result<Value, Error> {
    let mut req = agent.get(url);
    for (k, v) in params {
        req = req.query(*k, v);
    }
    let unreachable = |reason: String| Error::Unreachable {
        url: url.to_string(),
        reason,
    };
    let resp = req.call().map_err(|e| unreachable(e.to_string()))?;
    let status = resp.status();
    let text = resp
        .into_body()
        .read_to_string()
        .map_err(|e| unreachable(e.to_string()))?;
    let json: Value = serde_json::from_str(&text).map_err(|e| Error::Malformed {
        url: url.to_string(),
        reason: format!("HTTP {status}, not JSON ({e})"),
    })?;
    if json["status"] == "error" || status.is_client_error() {
        let msg = json["error"].as_str().unwrap_or(text.trim());
        return Err(Error::Rejected(msg.to_string()));
    }
    if !status.is_success() {
        return Err(unreachable(format!("HTTP {status}")));
    }
    Ok(json)
}
