//! Recording: the range queries that turn a run's window into a bundle — the checks'
//! expressions, `ALERTS`, host headline utilisation, per-service rate / error ratio /
//! p50–p99, actions' target vs achieved, and (for `promtool-test`) the alert rules' inputs —
//! at a step that keeps a series under [`MAX_POINTS`]. Names are the recording rules that
//! `alerts/` and the dashboards already use.

use super::bundle::{Bundle, Manifest, Series, SeriesMeta, Window};
use super::rules;
use crate::prom::Prom;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Most samples per series.
pub const MAX_POINTS: f64 = 2000.0;

/// What to record: a finished run, or a plain time window.
pub struct Subject {
    /// Run id or window id.
    pub id: String,
    /// `run` or `window`.
    pub kind: &'static str,
    /// Scenario (or window) name.
    pub name: String,
    /// Scenario title (or the window's name).
    pub title: String,
    /// The run as the API shows it.
    pub run: Value,
    /// Unix seconds.
    pub start: f64,
    /// Unix seconds.
    pub end: f64,
    /// The run's actions as `GET /actions/{id}` shows them.
    pub actions: Vec<Value>,
    /// Events of the window.
    pub events: Vec<Value>,
}

/// Seconds recorded around the run: a fifth of its length, 15 s to a minute.
pub fn margin(start: f64, end: f64) -> f64 {
    ((end - start) * 0.2).clamp(15.0, 60.0)
}

/// Host headline figures: (name, expression, unit).
const HOST: &[(&str, &str, &str)] = &[
    ("host_cpu", "instance:node_cpu_utilisation:ratio", "ratio"),
    (
        "host_memory",
        "instance:node_memory_utilisation:ratio",
        "ratio",
    ),
    (
        "host_disk_io",
        "instance:node_disk_io_utilisation:max_ratio",
        "ratio",
    ),
    (
        "host_filesystem",
        "instance:node_filesystem_utilisation:max_ratio",
        "ratio",
    ),
    (
        "host_network_rx",
        "instance:node_network_receive_bytes:rate5s",
        "bytes/s",
    ),
    (
        "host_network_tx",
        "instance:node_network_transmit_bytes:rate5s",
        "bytes/s",
    ),
];

/// Per-service RED figures.
const SERVICE: &[(&str, &str, &str)] = &[
    (
        "service_rate",
        "instance_service:jolt_service_requests:rate15s",
        "req/s",
    ),
    (
        "service_error_ratio",
        "instance_service:jolt_service_errors:ratio_rate15s",
        "ratio",
    ),
    (
        "service_p50",
        "instance_service:jolt_service_request_duration_seconds:p50",
        "seconds",
    ),
    (
        "service_p95",
        "instance_service:jolt_service_request_duration_seconds:p95",
        "seconds",
    ),
    (
        "service_p99",
        "instance_service:jolt_service_request_duration_seconds:p99",
        "seconds",
    ),
];

/// Actions: what was asked (target) and what was measured (achieved).
const ACTION: &[(&str, &str, &str)] = &[
    ("cpu_target", "jolt_cpu_load_target_ratio", "ratio"),
    ("cpu_achieved", "jolt_cpu_load_achieved_ratio", "ratio"),
    ("memory_target", "jolt_memory_target_bytes", "bytes"),
    ("memory_held", "jolt_memory_held_bytes", "bytes"),
    (
        "traffic_target",
        "jolt_traffic_target_requests_per_second",
        "req/s",
    ),
    (
        "traffic_achieved",
        "sum by (instance, id, kind) (rate(jolt_traffic_requests_total[5s]))",
        "req/s",
    ),
    (
        "network_target",
        "jolt_network_target_bytes_per_second",
        "bytes/s",
    ),
    (
        "network_sent",
        "sum by (instance, id, kind) (rate(jolt_network_sent_bytes_total[5s]))",
        "bytes/s",
    ),
];

/// One range query to make.
struct Query {
    group: &'static str,
    name: String,
    expr: String,
    unit: &'static str,
    threshold: Option<f64>,
    check: Option<String>,
    /// Keep only series carrying these labels (an alert check's `labels:`).
    filter: BTreeMap<String, String>,
}

impl Query {
    fn new(group: &'static str, name: &str, expr: &str, unit: &'static str) -> Query {
        Query {
            group,
            name: name.into(),
            expr: expr.into(),
            unit,
            threshold: None,
            check: None,
            filter: BTreeMap::new(),
        }
    }
}

/// `{a="x",b="y"}` (empty for no labels).
pub fn label_text(labels: &BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let parts: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", parts.join(","))
}

/// The threshold of a query check's bound (`{"above": x}`, `{"below": x}`, the lower end of
/// `{"between": [a, b]}`).
fn bound_threshold(bound: &Value) -> Option<f64> {
    let obj = bound.as_object()?;
    let (_, v) = obj.iter().next()?;
    v.as_f64().or_else(|| v.get(0).and_then(Value::as_f64))
}

/// Records `subject` from `prom` (or, without it, what jolt knows itself).
pub async fn record(prom: Option<&Prom>, s: Subject, grafana: Option<&str>) -> Bundle {
    let margin = margin(s.start, s.end);
    let mut manifest = Manifest {
        format: super::bundle::FORMAT,
        id: s.id.clone(),
        kind: s.kind.into(),
        name: s.name.clone(),
        title: s.title.clone(),
        recorded_at: humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string(),
        window: Window {
            start: s.start,
            end: s.end,
            margin,
            step: 0.0,
        },
        run: s.run.clone(),
        actions: s.actions.clone(),
        series: Vec::new(),
        series_missing: None,
        errors: Vec::new(),
        intervals: None,
        rules: Vec::new(),
        grafana: grafana.map(|g| super::grafana_link(g, s.start - margin, s.end + margin)),
    };
    let Some(prom) = prom else {
        manifest.series_missing = Some("series missing: jolt runs without --prometheus-url".into());
        return Bundle {
            manifest,
            events: s.events,
            series: Vec::new(),
        };
    };
    let (scrape, eval) = match prom.intervals().await {
        Ok(i) => i,
        Err(e) => {
            manifest.errors.push(format!("intervals: {e}"));
            (15.0, 15.0)
        }
    };
    manifest.intervals = Some((scrape, eval));
    let from = s.start - margin;
    let to = s.end + margin;
    let mut step = eval.max(1.0);
    while (to - from) / step > MAX_POINTS {
        step += eval.max(1.0);
    }
    let from = (from / step).floor() * step;
    let to = (to / step).ceil() * step;
    manifest.window.step = step;

    let groups = match prom.rule_groups().await {
        Ok(g) => g,
        Err(e) => {
            manifest.series_missing = Some(format!("series missing: Prometheus: {e}"));
            return Bundle {
                manifest,
                events: s.events,
                series: Vec::new(),
            };
        }
    };
    let all_rules = rules::parse_groups(&groups);

    let mut queries = vec![Query::new("alerts", "ALERTS", "ALERTS", "")];
    for c in s.run["checks"].as_array().into_iter().flatten() {
        let name = c["name"].as_str().unwrap_or("check").to_string();
        let spec = &c["spec"];
        if let Some(expr) = spec["expr"].as_str() {
            let mut q = Query::new("check", &name, expr, "");
            q.threshold = bound_threshold(&spec["bound"]);
            q.check = Some(name.clone());
            queries.push(q);
        } else if let Some(alert) = spec["alert"]["name"].as_str() {
            // The alert's rule: chart its left side, with the number it is compared to.
            for r in all_rules.iter().filter(|r| r.name == alert).take(1) {
                let (left, threshold) = rules::split_comparison(&r.expr);
                let mut q = Query::new("check", &name, &left, "");
                q.threshold = threshold;
                q.check = Some(name.clone());
                q.filter =
                    serde_json::from_value(spec["alert"]["labels"].clone()).unwrap_or_default();
                queries.push(q);
            }
        }
    }
    for (group, list) in [("host", HOST), ("service", SERVICE), ("action", ACTION)] {
        for (name, expr, unit) in list {
            queries.push(Query::new(group, name, expr, unit));
        }
    }
    let mut series = run_queries(prom, &queries, from, to, step, &mut manifest.errors).await;

    // The alert rules' inputs and values, for a promtool test of what fired.
    let fired: BTreeSet<String> = series
        .iter()
        .filter(|x| {
            x.meta.group == "alerts"
                && x.meta.labels.get("alertstate").map(String::as_str) == Some("firing")
        })
        .filter_map(|x| x.meta.labels.get("alertname").cloned())
        .collect();
    let mut inputs = Vec::new();
    let mut names = BTreeSet::new();
    for (i, r) in all_rules.iter().enumerate() {
        if !fired.contains(&r.name) {
            continue;
        }
        manifest.rules.push(r.clone());
        let mut q = Query::new("rule", &format!("rule{i}"), &r.expr, "");
        q.check = Some(r.name.clone());
        inputs.push(q);
        names.extend(rules::metric_names(&r.expr));
        for a in r.annotations.values() {
            names.extend(rules::query_names(a));
        }
    }
    for n in names {
        inputs.push(Query::new(
            "input",
            &n,
            &format!("{{__name__=\"{n}\"}}"),
            "",
        ));
    }
    series.extend(run_queries(prom, &inputs, from, to, step, &mut manifest.errors).await);
    manifest.series = series.iter().map(|x| x.meta.clone()).collect();
    Bundle {
        manifest,
        events: s.events,
        series,
    }
}

/// Runs `queries` concurrently; failures are noted in `errors`, the rest recorded.
async fn run_queries(
    prom: &Prom,
    queries: &[Query],
    from: f64,
    to: f64,
    step: f64,
    errors: &mut Vec<String>,
) -> Vec<Series> {
    let answers = futures_util::future::join_all(
        queries
            .iter()
            .map(|q| prom.query_range(&q.expr, from, to, step)),
    )
    .await;
    let mut out = Vec::new();
    for (q, answer) in queries.iter().zip(answers) {
        let list = match answer {
            Ok(l) => l,
            Err(e) => {
                errors.push(format!("{} ({}): {e}", q.name, q.expr));
                continue;
            }
        };
        for (labels, points) in list {
            if q.filter
                .iter()
                .any(|(k, v)| labels.get(k).is_some_and(|x| x != v))
            {
                continue;
            }
            let shown = match q.group {
                "input" | "alerts" => labels.get("__name__").cloned().unwrap_or(q.name.clone()),
                _ => q.name.clone(),
            };
            let mut labels = labels;
            labels.remove("__name__");
            let column = format!("{}:{shown}{}", q.group, label_text(&labels));
            out.push(Series {
                meta: SeriesMeta {
                    column,
                    group: q.group.into(),
                    name: shown,
                    expr: q.expr.clone(),
                    labels,
                    unit: q.unit.into(),
                    threshold: q.threshold,
                    check: q.check.clone(),
                },
                points,
            });
        }
    }
    out
}
