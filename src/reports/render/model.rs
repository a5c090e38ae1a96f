//! What the HTML and Markdown reports show, as plain strings ready for a template.

use super::chart::fmt_value;
use crate::reports::bundle::Bundle;
use crate::reports::stats;
use serde::Serialize;
use serde_json::Value;

/// One step of the story.
#[derive(Serialize)]
pub struct StepRow {
    at: String,
    kind: String,
    note: String,
    state: String,
    action: String,
    error: String,
}

/// One check: expected vs observed.
#[derive(Serialize)]
pub struct CheckRow {
    name: String,
    kind: String,
    result: String,
    expected: String,
    observed: String,
    delay: String,
}

/// One alert's timeline.
#[derive(Serialize)]
pub struct AlertView {
    alertname: String,
    labels: String,
    pending: String,
    firing: String,
    notified: String,
    resolved: String,
}

/// One headline figure.
#[derive(Serialize)]
pub struct StatRow {
    group: String,
    name: String,
    labels: String,
    peak: String,
    peak_at: String,
    mean: String,
}

/// One action: target vs achieved.
#[derive(Serialize)]
pub struct ActionRow {
    id: String,
    kind: String,
    state: String,
    target: String,
    achieved: String,
}

/// One event.
#[derive(Serialize)]
pub struct EventRow {
    at: String,
    kind: String,
    message: String,
}

/// Everything the report templates show.
#[derive(Serialize)]
pub struct Model {
    /// Run or window id.
    pub id: String,
    /// `run` or `window`.
    pub kind: String,
    /// Scenario name.
    pub name: String,
    /// Scenario title.
    pub title: String,
    /// Final state.
    pub state: String,
    /// PASS / FAIL / … or `no checks`.
    pub verdict: String,
    /// `pass`, `fail`, … for CSS.
    pub verdict_class: String,
    /// 0–100 or empty.
    pub score: String,
    /// Start, RFC 3339.
    pub started_at: String,
    /// End, RFC 3339.
    pub ended_at: String,
    /// Length.
    pub duration: String,
    /// Timeline speed.
    pub speed: String,
    /// When recorded.
    pub recorded_at: String,
    /// Load Control dashboard link.
    pub grafana: Option<String>,
    /// Why series are missing.
    pub series_missing: Option<String>,
    /// Queries that failed.
    pub errors: Vec<String>,
    steps: Vec<StepRow>,
    checks: Vec<CheckRow>,
    alerts: Vec<AlertView>,
    stats: Vec<StatRow>,
    actions: Vec<ActionRow>,
    events: Vec<EventRow>,
}

/// `12.3 s` or `—`.
pub fn secs(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{v:.1} s"))
}

/// `M:SS`.
pub fn clock(v: f64) -> String {
    let s = v.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `k=v, k=v`.
pub fn labels_text(labels: &std::collections::BTreeMap<String, String>) -> String {
    labels
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "job"))
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Model {
    /// The report of `b`.
    pub fn of(b: &Bundle) -> Model {
        let m = &b.manifest;
        let run = &m.run;
        let verdict = run["verdict"].as_str().map(str::to_string);
        let w = m.window;
        let steps = run["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| StepRow {
                at: clock(s["at_seconds"].as_f64().unwrap_or(0.0)),
                kind: text(&s["kind"]),
                note: text(&s["note"]),
                state: text(&s["state"]),
                action: text(&s["action"]),
                error: text(&s["error"]),
            })
            .collect();
        let checks = run["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| CheckRow {
                name: text(&c["name"]),
                kind: text(&c["type"]),
                result: text(&c["result"]),
                expected: text(&c["expected"]),
                observed: text(&c["observed"]),
                delay: c["delay_seconds"]
                    .as_f64()
                    .map_or(String::new(), |d| format!("{d:.1} s")),
            })
            .collect();
        let alerts = stats::alert_rows(b)
            .into_iter()
            .map(|r| AlertView {
                labels: labels_text(&r.labels),
                alertname: r.alertname,
                pending: secs(r.pending_at),
                firing: secs(r.firing_at),
                notified: secs(r.notified_at),
                resolved: secs(r.resolved_at),
            })
            .collect();
        let stats = stats::all_stats(b)
            .into_iter()
            .map(|s| StatRow {
                group: s.group.clone(),
                name: s.name.clone(),
                labels: labels_text(&s.labels),
                peak: fmt_value(s.peak, &s.unit),
                peak_at: format!("{:.1} s", s.peak_at),
                mean: fmt_value(s.mean, &s.unit),
            })
            .collect();
        let actions = m
            .actions
            .iter()
            .map(|a| ActionRow {
                id: text(&a["id"]),
                kind: text(&a["kind"]),
                state: text(&a["state"]),
                target: text(&a["params"]),
                achieved: text(&a["achieved"]),
            })
            .collect();
        let events = b
            .events
            .iter()
            .map(|e| EventRow {
                at: format!("{:.1} s", e["time"].as_f64().unwrap_or(0.0) - w.start),
                kind: text(&e["type"]),
                message: text(&e["message"]),
            })
            .collect();
        Model {
            id: m.id.clone(),
            kind: m.kind.clone(),
            name: m.name.clone(),
            title: m.title.clone(),
            state: text(&run["state"]),
            verdict_class: verdict.clone().unwrap_or_else(|| "none".into()),
            verdict: verdict.map_or("no checks".into(), |v| v.to_uppercase()),
            score: text(&run["score"]),
            started_at: text(&run["started_at"]),
            ended_at: text(&run["ended_at"]),
            duration: format!("{:.1} s", w.end - w.start),
            speed: text(&run["speed"]),
            recorded_at: m.recorded_at.clone(),
            grafana: m.grafana.clone(),
            series_missing: m.series_missing.clone(),
            errors: m.errors.clone(),
            steps,
            checks,
            alerts,
            stats,
            actions,
            events,
        }
    }
}
