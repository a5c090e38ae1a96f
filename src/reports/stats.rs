//! Figures every format shows: each series' peak and mean, each alert's timeline (pending,
//! firing, notified, resolved) and the steps as bands, in seconds from the run's start.

use super::bundle::{Bundle, Series};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// One series summed up.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesStats {
    /// The CSV column.
    pub column: String,
    /// Group (check, host, service, action).
    pub group: String,
    /// Short name.
    pub name: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// Unit.
    pub unit: String,
    /// Highest value.
    pub peak: f64,
    /// Seconds from the run's start to the peak.
    pub peak_at: f64,
    /// Mean over the run's window (margins excluded), or over all samples without any.
    pub mean: f64,
    /// The check's or rule's threshold.
    pub threshold: Option<f64>,
}

/// Peak and mean of a series (None without samples).
pub fn series_stats(b: &Bundle, s: &Series) -> Option<SeriesStats> {
    let w = b.manifest.window;
    let (peak_t, peak) = s.points.iter().copied().filter(|p| p.1.is_finite()).fold(
        None,
        |best: Option<(f64, f64)>, p| match best {
            Some(b) if b.1 >= p.1 => Some(b),
            _ => Some(p),
        },
    )?;
    let inside: Vec<f64> = s
        .points
        .iter()
        .filter(|p| p.0 >= w.start && p.0 <= w.end && p.1.is_finite())
        .map(|p| p.1)
        .collect();
    let all: Vec<f64> = s
        .points
        .iter()
        .map(|p| p.1)
        .filter(|v| v.is_finite())
        .collect();
    let pool = if inside.is_empty() { &all } else { &inside };
    Some(SeriesStats {
        column: s.meta.column.clone(),
        group: s.meta.group.clone(),
        name: s.meta.name.clone(),
        labels: s.meta.labels.clone(),
        unit: s.meta.unit.clone(),
        peak,
        peak_at: peak_t - w.start,
        mean: pool.iter().sum::<f64>() / pool.len().max(1) as f64,
        threshold: s.meta.threshold,
    })
}

/// Stats of every charted series (not the rules' inputs).
pub fn all_stats(b: &Bundle) -> Vec<SeriesStats> {
    b.series
        .iter()
        .filter(|s| {
            matches!(
                s.meta.group.as_str(),
                "check" | "host" | "service" | "action"
            )
        })
        .filter_map(|s| series_stats(b, s))
        .collect()
}

/// One alert's life during the run, in seconds from the run's start.
#[derive(Debug, Clone, Serialize)]
pub struct AlertRow {
    /// `alertname`.
    pub alertname: String,
    /// Its other labels.
    pub labels: BTreeMap<String, String>,
    /// First seen pending.
    pub pending_at: Option<f64>,
    /// First seen firing.
    pub firing_at: Option<f64>,
    /// First notification jolt received (`POST /alerts`).
    pub notified_at: Option<f64>,
    /// When it stopped firing (null: still firing at the end of the recording).
    pub resolved_at: Option<f64>,
    /// (from, to, state) spans for the state strip.
    pub spans: Vec<(f64, f64, String)>,
}

/// The alerts seen in `ALERTS` (or, without series, the run's recorded transitions), with
/// jolt's notifications.
pub fn alert_rows(b: &Bundle) -> Vec<AlertRow> {
    let w = b.manifest.window;
    let step = if w.step > 0.0 { w.step } else { 1.0 };
    let mut rows: BTreeMap<String, AlertRow> = BTreeMap::new();
    let row = |rows: &mut BTreeMap<String, AlertRow>, labels: &BTreeMap<String, String>| {
        let mut labels = labels.clone();
        labels.remove("alertstate");
        let alertname = labels.remove("alertname").unwrap_or_default();
        let key = format!("{alertname}{labels:?}");
        rows.entry(key)
            .or_insert_with(|| AlertRow {
                alertname,
                labels,
                pending_at: None,
                firing_at: None,
                notified_at: None,
                resolved_at: None,
                spans: Vec::new(),
            })
            .clone()
    };
    for s in b.group("alerts") {
        let state = s.meta.labels.get("alertstate").cloned().unwrap_or_default();
        let mut r = row(&mut rows, &s.meta.labels);
        let Some(first) = s.points.first() else {
            continue;
        };
        // Contiguous spans of samples.
        let mut from = first.0;
        let mut last = first.0;
        for p in s.points.iter().skip(1) {
            if p.0 - last > step * 1.5 {
                r.spans
                    .push((from - w.start, last + step - w.start, state.clone()));
                from = p.0;
            }
            last = p.0;
        }
        r.spans
            .push((from - w.start, last + step - w.start, state.clone()));
        match state.as_str() {
            "pending" => r.pending_at = Some(first.0 - w.start),
            "firing" => {
                r.firing_at = Some(first.0 - w.start);
                r.resolved_at =
                    (last + step < w.end + w.margin - step / 2.0).then_some(last + step - w.start);
            }
            _ => {}
        }
        let key = format!("{}{:?}", r.alertname, r.labels);
        rows.insert(key, r);
    }
    if b.series.is_empty() {
        // What the run's follower saw: `{t, state, labels}`, t in seconds from the start.
        for t in b.manifest.run["alerts"].as_array().into_iter().flatten() {
            let labels: BTreeMap<String, String> =
                serde_json::from_value(t["labels"].clone()).unwrap_or_default();
            let mut r = row(&mut rows, &labels);
            let at = t["t"].as_f64().unwrap_or(0.0);
            match t["state"].as_str() {
                Some("pending") => r.pending_at = r.pending_at.or(Some(at)),
                Some("firing") => r.firing_at = r.firing_at.or(Some(at)),
                Some("inactive") if r.firing_at.is_some() => r.resolved_at = Some(at),
                _ => {}
            }
            let key = format!("{}{:?}", r.alertname, r.labels);
            rows.insert(key, r);
        }
    }
    for e in &b.events {
        if e["type"] != "alert_firing" {
            continue;
        }
        let labels: BTreeMap<String, String> =
            serde_json::from_value(e["data"]["labels"].clone()).unwrap_or_default();
        let at = e["time"].as_f64().unwrap_or(0.0) - w.start;
        for r in rows.values_mut() {
            let same = labels.get("alertname") == Some(&r.alertname)
                && r.labels
                    .iter()
                    .all(|(k, v)| labels.get(k).is_none_or(|x| x == v));
            if same && r.notified_at.is_none_or(|n| at < n) {
                r.notified_at = Some(at);
            }
        }
    }
    let mut out: Vec<AlertRow> = rows.into_values().collect();
    out.sort_by(|a, b| {
        let t = |r: &AlertRow| r.pending_at.or(r.firing_at).unwrap_or(f64::MAX);
        t(a).total_cmp(&t(b))
    });
    out
}

/// A step as a band: (from, to, label), seconds from the run's start (wall: divided by the
/// run's speed).
pub fn step_bands(run: &Value) -> Vec<(f64, f64, String)> {
    let speed = run["speed"].as_f64().filter(|s| *s > 0.0).unwrap_or(1.0);
    run["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| {
            let at = s["at_seconds"].as_f64().unwrap_or(0.0) / speed;
            let d = s["duration_seconds"].as_f64().unwrap_or(0.0) / speed;
            let label = match s["note"].as_str() {
                Some(n) => format!("{} {}: {n}", s["step"], s["kind"].as_str().unwrap_or("")),
                None => format!("{} {}", s["step"], s["kind"].as_str().unwrap_or("")),
            };
            (at, at + d, label)
        })
        .collect()
}
