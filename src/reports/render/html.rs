//! The HTML page and the Markdown text, from templates (minijinja) and the charts.

use super::chart::{self, Chart, Line};
use super::model::{Model, labels_text};
use crate::reports::Error;
use crate::reports::bundle::{Bundle, Series};
use crate::reports::compare::Comparison;
use crate::reports::stats;
use minijinja::{Environment, context};
use serde::Serialize;
use std::collections::BTreeMap;

const PAGE: &str = include_str!("report.html");
const MARKDOWN: &str = include_str!("report.md");
const COMPARE_MARKDOWN: &str = include_str!("compare.md");

/// One chart of the page.
#[derive(Serialize)]
struct ChartView {
    section: &'static str,
    id: String,
    title: String,
    svg: String,
}

fn env() -> Environment<'static> {
    let mut env = Environment::new();
    // A Markdown table cell: no pipes or line breaks.
    env.add_filter("cell", |s: String| s.replace('|', "\\|").replace('\n', " "));
    env
}

fn template_err(e: minijinja::Error) -> Error {
    Error::Render(format!("{e:#}"))
}

/// The alert spans matching an alert check's alert and labels.
fn check_strip(b: &Bundle, spec: &serde_json::Value) -> Option<Vec<(f64, f64, String)>> {
    let name = spec["alert"]["name"].as_str()?;
    let want: BTreeMap<String, String> =
        serde_json::from_value(spec["alert"]["labels"].clone()).unwrap_or_default();
    let mut spans = Vec::new();
    for r in stats::alert_rows(b) {
        if r.alertname == name
            && want
                .iter()
                .all(|(k, v)| r.labels.get(k).is_none_or(|x| x == v))
        {
            spans.extend(r.spans.clone());
            if let Some(n) = r.notified_at {
                spans.push((n, n + 1.0, "notified".into()));
            }
        }
    }
    Some(spans)
}

fn lines_of<'a>(
    series: impl Iterator<Item = &'a Series>,
    start: f64,
    label: impl Fn(&Series) -> String,
) -> Vec<Line> {
    series
        .map(|s| Line {
            label: label(s),
            points: s.points.iter().map(|p| (p.0 - start, p.1)).collect(),
        })
        .collect()
}

fn service_label(s: &Series) -> String {
    s.meta
        .labels
        .get("service")
        .cloned()
        .unwrap_or_else(|| labels_text(&s.meta.labels))
}

/// Every chart of a report.
fn charts(b: &Bundle) -> Result<Vec<ChartView>, Error> {
    let m = &b.manifest;
    let w = m.window;
    let x = (-w.margin, w.end - w.start + w.margin);
    let bands = stats::step_bands(&m.run);
    let mut out = Vec::new();
    let rows: Vec<chart::Row> = bands
        .iter()
        .map(|(a, z, label)| (label.clone(), vec![(*a, *z, "step".to_string())]))
        .collect();
    out.push(ChartView {
        section: "story",
        id: "story".into(),
        title: "Steps on the timeline".into(),
        svg: chart::gantt(&rows, x)?,
    });
    let alerts = stats::alert_rows(b);
    let rows: Vec<chart::Row> = alerts
        .iter()
        .map(|r| {
            let mut spans = r.spans.clone();
            if let Some(n) = r.notified_at {
                spans.push((n, n + 1.0, "notified".into()));
            }
            (format!("{} {}", r.alertname, labels_text(&r.labels)), spans)
        })
        .collect();
    out.push(ChartView {
        section: "alerts",
        id: "alerts".into(),
        title: "Alert states (pending, firing, notified)".into(),
        svg: chart::gantt(&rows, x)?,
    });
    for c in m.run["checks"].as_array().into_iter().flatten() {
        let name = c["name"].as_str().unwrap_or_default();
        let series: Vec<&Series> = b
            .group("check")
            .filter(|s| s.meta.check.as_deref() == Some(name))
            .collect();
        let threshold = series.iter().find_map(|s| s.meta.threshold);
        let expr = series
            .first()
            .map_or(String::new(), |s| s.meta.expr.clone());
        let lines = lines_of(series.into_iter(), w.start, |s| {
            let l = labels_text(&s.meta.labels);
            if l.is_empty() { s.meta.name.clone() } else { l }
        });
        out.push(ChartView {
            section: "check",
            id: format!("check-{name}"),
            title: if expr.is_empty() {
                format!("{name} (no series)")
            } else {
                format!("{name}: {expr}")
            },
            svg: chart::svg(&Chart {
                unit: "",
                lines,
                threshold,
                bands: &bands,
                strip: check_strip(b, &c["spec"]).or(Some(Vec::new())),
                x,
            })?,
        });
    }
    let groups: [(&'static str, &str, &str, &[&str]); 7] = [
        (
            "host",
            "host-utilisation",
            "Host utilisation: CPU, memory, disk I/O, fullest filesystem",
            &["host_cpu", "host_memory", "host_disk_io", "host_filesystem"],
        ),
        (
            "host",
            "host-network",
            "Host network: received and sent",
            &["host_network_rx", "host_network_tx"],
        ),
        (
            "service",
            "service-rate",
            "Requests per second by service",
            &["service_rate"],
        ),
        (
            "service",
            "service-errors",
            "Error ratio by service",
            &["service_error_ratio"],
        ),
        (
            "service",
            "service-p50",
            "Latency p50 by service",
            &["service_p50"],
        ),
        (
            "service",
            "service-p95",
            "Latency p95 by service",
            &["service_p95"],
        ),
        (
            "service",
            "service-p99",
            "Latency p99 by service",
            &["service_p99"],
        ),
    ];
    // A chart of `lines` over the run, with the steps as bands (no threshold, no alert strip).
    let plain = |section, id: String, title: String, unit: &str, lines| {
        Ok::<_, Error>(ChartView {
            section,
            id,
            title,
            svg: chart::svg(&Chart {
                unit,
                lines,
                threshold: None,
                bands: &bands,
                strip: None,
                x,
            })?,
        })
    };
    for (section, id, title, names) in groups {
        let series: Vec<&Series> = b
            .group(section)
            .filter(|s| names.contains(&s.meta.name.as_str()))
            .collect();
        if series.is_empty() {
            continue;
        }
        let unit = series[0].meta.unit.clone();
        let lines = lines_of(series.into_iter(), w.start, |s| {
            if section == "host" {
                s.meta.name.trim_start_matches("host_").to_string()
            } else {
                service_label(s)
            }
        });
        out.push(plain(section, id.into(), title.into(), &unit, lines)?);
    }
    for (kind, target, achieved) in [
        ("cpu", "cpu_target", "cpu_achieved"),
        ("memory", "memory_target", "memory_held"),
        ("traffic", "traffic_target", "traffic_achieved"),
        ("network", "network_target", "network_sent"),
    ] {
        let series: Vec<&Series> = b
            .group("action")
            .filter(|s| s.meta.name == target || s.meta.name == achieved)
            .collect();
        // A kind that did not run has only its pre-created zero series: no chart.
        if series.iter().all(|s| s.points.iter().all(|p| p.1 == 0.0)) {
            continue;
        }
        let unit = series[0].meta.unit.clone();
        let lines = lines_of(series.into_iter(), w.start, |s| {
            let id = s.meta.labels.get("id").cloned().unwrap_or_default();
            format!("{} {id}", s.meta.name.rsplit('_').next().unwrap_or(""))
        });
        out.push(plain(
            "action",
            format!("action-{kind}"),
            format!("{kind}: target vs achieved"),
            &unit,
            lines,
        )?);
    }
    Ok(out)
}

/// Charts of two runs overlaid, aligned by scenario time.
fn overlay(a: &Bundle, cmp: &Comparison, b: &Bundle) -> Result<Vec<ChartView>, Error> {
    let mut out = Vec::new();
    let (sa, sb) = (speed(a), speed(b));
    let len = |x: &Bundle, s: f64| (x.manifest.window.end - x.manifest.window.start) * s;
    let x = (0.0, len(a, sa).max(len(b, sb)));
    for (i, f) in cmp.figures.iter().enumerate().filter(|(_, f)| f.chart) {
        let pick = |x: &Bundle, speed: f64, who: &str| {
            x.series
                .iter()
                .filter(|s| super::super::compare::key(s) == f.key)
                .map(|s| Line {
                    label: format!("{who} {}", x.manifest.id),
                    points: s
                        .points
                        .iter()
                        .map(|p| ((p.0 - x.manifest.window.start) * speed, p.1))
                        .collect(),
                })
                .collect::<Vec<_>>()
        };
        let mut lines = pick(a, sa, "A");
        lines.extend(pick(b, sb, "B"));
        out.push(ChartView {
            section: "compare",
            id: format!("compare-{i}"),
            title: format!("{} {} (scenario seconds)", f.name, f.labels_text),
            svg: chart::svg(&Chart {
                unit: &f.unit,
                lines,
                threshold: None,
                bands: &[],
                strip: None,
                x,
            })?,
        });
    }
    Ok(out)
}

fn speed(b: &Bundle) -> f64 {
    b.manifest.run["speed"]
        .as_f64()
        .filter(|s| *s > 0.0)
        .unwrap_or(1.0)
}

/// The HTML page of `b` (with a comparison to another run when given).
pub fn page(m: &Model, b: &Bundle, cmp: Option<(&Bundle, &Comparison)>) -> Result<String, Error> {
    let env = env();
    let tmpl = env
        .template_from_named_str("report.html", PAGE)
        .map_err(template_err)?;
    let overlay = match cmp {
        Some((other, c)) => overlay(b, c, other)?,
        None => Vec::new(),
    };
    tmpl.render(
        context! { m => m, charts => charts(b)?, cmp => cmp.map(|c| c.1), overlay => overlay },
    )
    .map_err(template_err)
}

/// The Markdown text of `m`.
pub fn markdown(m: &Model) -> Result<String, Error> {
    let env = env();
    let tmpl = env
        .template_from_named_str("report.md", MARKDOWN)
        .map_err(template_err)?;
    tmpl.render(context! { m => m }).map_err(template_err)
}

/// The Markdown of a comparison.
pub fn compare_markdown(cmp: &Comparison) -> Result<String, Error> {
    let env = env();
    let tmpl = env
        .template_from_named_str("compare.md", COMPARE_MARKDOWN)
        .map_err(template_err)?;
    tmpl.render(context! { cmp => cmp }).map_err(template_err)
}
