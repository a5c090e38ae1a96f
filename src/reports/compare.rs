//! Two runs side by side, aligned by scenario time (wall seconds × speed): check outcomes,
//! detection delays, first-firing times and headline peaks, with sentences such as
//! "HostHighCpu fired 4.1 s later" and "payment p99 peak 812 → 430 ms".

use super::bundle::{Bundle, Series};
use super::render::chart::fmt_value;
use super::render::model::labels_text;
use super::stats;
use serde::Serialize;
use std::collections::BTreeMap;

/// One side of a comparison.
#[derive(Debug, Serialize)]
pub struct Side {
    /// Run id.
    pub id: String,
    /// Scenario.
    pub name: String,
    /// Verdict or `none`.
    pub verdict: String,
    /// Score or empty.
    pub score: String,
    /// Seconds.
    pub duration: String,
}

/// A check in both runs.
#[derive(Debug, Serialize)]
pub struct CheckDelta {
    /// Check name.
    pub name: String,
    /// Result in A.
    pub a_result: String,
    /// Result in B.
    pub b_result: String,
    /// Detection delay in A (seconds).
    pub a_delay: Option<f64>,
    /// Detection delay in B.
    pub b_delay: Option<f64>,
    /// B − A.
    pub delta: Option<f64>,
    /// For people.
    pub a_delay_text: String,
    /// For people.
    pub b_delay_text: String,
}

/// An alert's first firing in each run (scenario seconds from the start).
#[derive(Debug, Serialize)]
pub struct AlertDelta {
    /// `alertname`.
    pub alertname: String,
    /// Its labels (instance and job left out).
    pub labels: BTreeMap<String, String>,
    /// For people.
    pub labels_text: String,
    /// First firing in A.
    pub a: Option<f64>,
    /// First firing in B.
    pub b: Option<f64>,
    /// B − A.
    pub delta: Option<f64>,
    /// For people.
    pub a_text: String,
    /// For people.
    pub b_text: String,
}

/// A headline series' peak in each run.
#[derive(Debug, Serialize)]
pub struct FigureDelta {
    /// What matches series across runs: group, name, labels without instance and job.
    pub key: String,
    /// Short name.
    pub name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// For people.
    pub labels_text: String,
    /// Unit.
    pub unit: String,
    /// Peak in A.
    pub a_peak: Option<f64>,
    /// Peak in B.
    pub b_peak: Option<f64>,
    /// For people.
    pub a_text: String,
    /// For people.
    pub b_text: String,
    /// Drawn as an overlaid chart.
    pub chart: bool,
}

/// Alerts of a run: key → (alertname, labels, first firing).
type Firing = BTreeMap<String, (String, BTreeMap<String, String>, Option<f64>)>;
/// Peaks of a run: key → (name, labels, unit, group, peak).
type Peaks = BTreeMap<String, (String, BTreeMap<String, String>, String, String, f64)>;

/// A comparison of two bundles.
#[derive(Debug, Serialize)]
pub struct Comparison {
    /// Run A.
    pub a: Side,
    /// Run B.
    pub b: Side,
    /// The differences that matter, in sentences.
    pub sentences: Vec<String>,
    /// Checks by name.
    pub checks: Vec<CheckDelta>,
    /// Alerts by labels.
    pub alerts: Vec<AlertDelta>,
    /// Headline peaks.
    pub figures: Vec<FigureDelta>,
}

fn without_target(labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    labels
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "instance" | "job" | "id" | "run"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// What matches a series across two runs.
pub fn key(s: &Series) -> String {
    format!(
        "{}/{}{:?}",
        s.meta.group,
        s.meta.name,
        without_target(&s.meta.labels)
    )
}

fn side(b: &Bundle) -> Side {
    let run = &b.manifest.run;
    Side {
        id: b.manifest.id.clone(),
        name: b.manifest.name.clone(),
        verdict: run["verdict"].as_str().unwrap_or("none").into(),
        score: run["score"]
            .as_u64()
            .map_or(String::new(), |s| s.to_string()),
        duration: format!("{:.1}", b.manifest.window.end - b.manifest.window.start),
    }
}

fn speed(b: &Bundle) -> f64 {
    b.manifest.run["speed"]
        .as_f64()
        .filter(|s| *s > 0.0)
        .unwrap_or(1.0)
}

fn later(delta: f64) -> String {
    if delta >= 0.0 {
        format!("{delta:.1} s later")
    } else {
        format!("{:.1} s earlier", -delta)
    }
}

/// Compares `a` with `b`.
pub fn compare(a: &Bundle, b: &Bundle) -> Comparison {
    let mut sentences = Vec::new();
    let checks_of = |x: &Bundle| -> BTreeMap<String, (String, Option<f64>)> {
        x.manifest.run["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                (
                    c["name"].as_str().unwrap_or_default().to_string(),
                    (
                        c["result"].as_str().unwrap_or_default().to_string(),
                        c["delay_seconds"].as_f64(),
                    ),
                )
            })
            .collect()
    };
    let (ca, cb) = (checks_of(a), checks_of(b));
    let mut checks = Vec::new();
    for (name, (ra, da)) in &ca {
        let Some((rb, db)) = cb.get(name) else {
            continue;
        };
        let delta = da.zip(*db).map(|(x, y)| y - x);
        if ra != rb {
            sentences.push(format!("check {name}: {ra} → {rb}"));
        }
        if let Some(d) = delta.filter(|d| d.abs() >= 0.05) {
            sentences.push(format!("check {name} was decided {}", later(d)));
        }
        let t = |d: &Option<f64>| d.map_or(String::new(), |d| format!("{d:.1} s"));
        checks.push(CheckDelta {
            name: name.clone(),
            a_result: ra.clone(),
            b_result: rb.clone(),
            a_delay: *da,
            b_delay: *db,
            delta,
            a_delay_text: t(da),
            b_delay_text: t(db),
        });
    }
    let firing = |x: &Bundle| -> Firing {
        let s = speed(x);
        stats::alert_rows(x)
            .into_iter()
            .map(|r| {
                let labels = without_target(&r.labels);
                (
                    format!("{}{labels:?}", r.alertname),
                    (r.alertname, labels, r.firing_at.map(|t| t * s)),
                )
            })
            .collect()
    };
    let (fa, fb) = (firing(a), firing(b));
    let mut alerts = Vec::new();
    let keys: std::collections::BTreeSet<&String> = fa.keys().chain(fb.keys()).collect();
    for k in keys {
        let ta = fa.get(k).and_then(|x| x.2);
        let tb = fb.get(k).and_then(|x| x.2);
        let (name, labels) = fa
            .get(k)
            .or(fb.get(k))
            .map(|x| (x.0.clone(), x.1.clone()))
            .unwrap_or_default();
        let delta = ta.zip(tb).map(|(x, y)| y - x);
        let who = if labels.is_empty() {
            name.clone()
        } else {
            format!("{name} ({})", labels_text(&labels))
        };
        match (ta, tb) {
            (Some(_), Some(_)) => {
                if let Some(d) = delta.filter(|d| d.abs() >= 0.05) {
                    sentences.push(format!("{who} fired {}", later(d)));
                }
            }
            (Some(_), None) => sentences.push(format!("{who} fired in {} only", a.manifest.id)),
            (None, Some(_)) => sentences.push(format!("{who} fired in {} only", b.manifest.id)),
            _ => {}
        }
        let t = |v: Option<f64>| v.map_or("—".into(), |v| format!("{v:.1} s"));
        alerts.push(AlertDelta {
            labels_text: labels_text(&labels),
            alertname: name,
            labels,
            a: ta,
            b: tb,
            delta,
            a_text: t(ta),
            b_text: t(tb),
        });
    }
    let peaks = |x: &Bundle| -> Peaks {
        x.series
            .iter()
            .filter(|s| matches!(s.meta.group.as_str(), "check" | "host" | "service"))
            .filter_map(|s| {
                let st = stats::series_stats(x, s)?;
                Some((
                    key(s),
                    (
                        s.meta.name.clone(),
                        without_target(&s.meta.labels),
                        s.meta.unit.clone(),
                        s.meta.group.clone(),
                        st.peak,
                    ),
                ))
            })
            .collect()
    };
    let (pa, pb) = (peaks(a), peaks(b));
    let mut figures = Vec::new();
    for (k, (name, labels, unit, group, va)) in &pa {
        let Some((_, _, _, _, vb)) = pb.get(k) else {
            continue;
        };
        let chart = group == "check"
            || group == "host"
            || matches!(name.as_str(), "service_p99" | "service_error_ratio");
        let who = match labels.get("service") {
            Some(svc) => format!("{svc} {}", name.trim_start_matches("service_")),
            None => name.clone(),
        };
        if (va - vb).abs() > va.abs().max(vb.abs()) * 0.1
            && matches!(
                name.as_str(),
                "service_p99" | "host_cpu" | "host_memory" | "service_error_ratio"
            )
            || group == "check" && (va - vb).abs() > 1e-9
        {
            sentences.push(format!(
                "{who} peak {} → {}",
                fmt_value(*va, unit),
                fmt_value(*vb, unit)
            ));
        }
        figures.push(FigureDelta {
            key: k.clone(),
            name: name.clone(),
            labels_text: labels_text(labels),
            labels: labels.clone(),
            unit: unit.clone(),
            a_peak: Some(*va),
            b_peak: Some(*vb),
            a_text: fmt_value(*va, unit),
            b_text: fmt_value(*vb, unit),
            chart,
        });
    }
    Comparison {
        a: side(a),
        b: side(b),
        sentences,
        checks,
        alerts,
        figures,
    }
}
