//! `POST /alerts`: the Alertmanager webhook receiver. Each alert of a notification becomes an
//! `alert_firing` or `alert_resolved` event and counts in
//! `jolt_alert_notifications_total{alertname,status}`, so the stack shows its own alerts with
//! no Slack configured.

use super::routes::Route;
use super::{ApiError, ControlState};
use crate::events::Severity;
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};
use utoipa_axum::routes;

/// Distinct `alertname` label values kept; later names are counted as `other`.
const MAX_ALERTNAMES: usize = 100;
/// Longest `alertname` label value kept verbatim.
const MAX_NAME_LEN: usize = 128;

/// Alertmanager's webhook payload, version 4 (fields jolt does not use are ignored).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// Payload version; jolt understands "4".
    pub version: String,
    /// firing or resolved: the group's status.
    pub status: String,
    /// The Alertmanager receiver that sent it.
    #[serde(default)]
    pub receiver: String,
    /// Labels the group was formed by.
    #[serde(default)]
    pub group_labels: BTreeMap<String, String>,
    /// Labels all alerts share.
    #[serde(default)]
    pub common_labels: BTreeMap<String, String>,
    /// Annotations all alerts share.
    #[serde(default)]
    pub common_annotations: BTreeMap<String, String>,
    /// Link back to the Alertmanager.
    #[serde(default, rename = "externalURL")]
    pub external_url: String,
    /// The alerts of the group.
    pub alerts: Vec<Alert>,
}

/// One alert of a notification.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Alert {
    /// firing or resolved.
    pub status: String,
    /// Its labels, among them `alertname` and `severity`.
    pub labels: BTreeMap<String, String>,
    /// Its annotations, among them `summary`.
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// RFC 3339.
    #[serde(default)]
    pub starts_at: String,
    /// RFC 3339; zero time while firing.
    #[serde(default)]
    pub ends_at: String,
    /// Alertmanager's id of the alert.
    #[serde(default)]
    pub fingerprint: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NotificationLabels {
    alertname: String,
    status: String,
}

/// `jolt_alert_notifications_total{alertname,status}` with a bounded set of alertnames.
#[derive(Clone)]
pub struct AlertMetrics {
    /// The counter family.
    counter: Family<NotificationLabels, Counter>,
    /// Alertnames seen so far, at most [`MAX_ALERTNAMES`].
    names: Arc<Mutex<HashSet<String>>>,
}

impl AlertMetrics {
    /// Registers the counter in `registry`.
    pub fn new(registry: &mut Registry) -> Self {
        let counter = Family::default();
        registry.register(
            "jolt_alert_notifications",
            "Alert notifications received from Alertmanager on POST /alerts, by alert and status",
            counter.clone(),
        );
        AlertMetrics {
            counter,
            names: Arc::default(),
        }
    }

    /// Counts one alert notification.
    fn inc(&self, alertname: &str, status: &str) {
        let alertname = self.bounded(alertname);
        let status = if status == "resolved" {
            "resolved"
        } else {
            "firing"
        };
        self.counter
            .get_or_create(&NotificationLabels {
                alertname,
                status: status.into(),
            })
            .inc();
    }

    /// The label value for `name`: itself while fewer than the cap are known, else `other`.
    fn bounded(&self, name: &str) -> String {
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return "other".into();
        }
        let mut names = self.names.lock().expect("alertnames poisoned");
        if names.contains(name) {
            return name.into();
        }
        if names.len() < MAX_ALERTNAMES {
            names.insert(name.into());
            return name.into();
        }
        "other".into()
    }
}

/// `POST /alerts`.
#[utoipa::path(
    post,
    path = "/alerts",
    tag = "alerts",
    request_body(content = Notification, description = "Alertmanager webhook payload (version 4)"),
    responses(
        (status = 200, description = "`{\"received\": n}`: the alerts recorded as events"),
        (status = 400, description = "Not an Alertmanager webhook payload", body = super::error::ErrorBody),
    )
)]
pub async fn receive(State(st): State<ControlState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let n = parse(&body)?;
    for a in &n.alerts {
        record(&st, &n, a);
    }
    Ok(Json(json!({ "received": n.alerts.len() })))
}

/// Decodes and checks a payload; errors name the field at fault.
fn parse(body: &[u8]) -> Result<Notification, ApiError> {
    let n: Notification =
        crate::strict_json::from_slice(body).map_err(|e| ApiError::BadRequest {
            message: format!("not an Alertmanager webhook payload: {e}"),
            field: e.field().map(str::to_string),
        })?;
    if n.version != "4" {
        return Err(ApiError::bad_field(
            "version",
            format!(
                "webhook payload version {} is not supported (expected 4)",
                n.version
            ),
        ));
    }
    for (i, a) in n.alerts.iter().enumerate() {
        if a.status != "firing" && a.status != "resolved" {
            return Err(ApiError::bad_field(
                format!("alerts[{i}].status"),
                format!(
                    "alert status must be firing or resolved, not {:?}",
                    a.status
                ),
            ));
        }
    }
    Ok(n)
}

/// One alert → one event and one count.
fn record(st: &ControlState, n: &Notification, a: &Alert) {
    let name = a.labels.get("alertname").map_or("unnamed", String::as_str);
    let severity = match a
        .labels
        .get("severity")
        .map(|s| s.to_lowercase())
        .as_deref()
    {
        Some("critical" | "page" | "error") => Severity::Critical,
        Some("warning" | "warn") => Severity::Warning,
        _ => Severity::Info,
    };
    let (kind, verb) = match a.status.as_str() {
        "resolved" => ("alert_resolved", "resolved"),
        _ => ("alert_firing", "firing"),
    };
    let summary = a
        .annotations
        .get("summary")
        .or_else(|| n.common_annotations.get("summary"))
        .cloned()
        .unwrap_or_default();
    let instance = a
        .labels
        .get("instance")
        .map(|i| format!(" on {i}"))
        .unwrap_or_default();
    let message = match summary.is_empty() {
        true => format!("{name} {verb}{instance}"),
        false => format!("{name} {verb}: {summary}"),
    };
    st.alerts.inc(name, &a.status);
    st.events.emit(
        kind,
        // A resolved alert is good news whatever its severity was.
        if verb == "resolved" {
            Severity::Info
        } else {
            severity
        },
        message,
        json!({
            "alertname": name,
            "status": a.status,
            "severity": a.labels.get("severity"),
            "labels": a.labels,
            "annotations": a.annotations,
            "starts_at": a.starts_at,
            "ends_at": a.ends_at,
            "fingerprint": a.fingerprint,
            "receiver": n.receiver,
            "group_status": n.status,
            "group_labels": n.group_labels,
            "common_labels": n.common_labels,
            "external_url": n.external_url,
        }),
    );
}

/// This file's rows of the route table.
pub(super) fn routes() -> Vec<Route> {
    vec![Route::new(
        routes!(receive),
        "Alertmanager webhook receiver: notifications become events",
        "-X POST {addr}/alerts -d @notification.json",
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alertnames_are_capped() {
        let m = AlertMetrics::new(&mut Registry::default());
        for i in 0..MAX_ALERTNAMES {
            assert_eq!(m.bounded(&format!("A{i}")), format!("A{i}"));
        }
        assert_eq!(m.bounded("OneTooMany"), "other");
        assert_eq!(m.bounded("A7"), "A7", "known names keep their label");
        assert_eq!(m.bounded(&"x".repeat(MAX_NAME_LEN + 1)), "other");
    }

    #[test]
    fn payload_errors_name_the_field() {
        let err = parse(br#"{"version":"4","status":"firing","alerts":[{"status":"firing"}]}"#)
            .unwrap_err();
        assert!(err.to_string().contains("labels"), "{err}");
        let err = parse(br#"{"version":"3","status":"firing","alerts":[]}"#).unwrap_err();
        assert!(err.to_string().contains("version"), "{err}");
        let err =
            parse(br#"{"version":"4","status":"firing","alerts":[{"status":"x","labels":{}}]}"#)
                .unwrap_err();
        assert!(
            matches!(err, ApiError::BadRequest { field: Some(f), .. } if f == "alerts[0].status")
        );
    }
}
