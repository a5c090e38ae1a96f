//! When to record: a task on the event bus records each run once it has ended (any outcome)
//! and its checks are judged, on its own task and the blocking pool — never on the scrape
//! or control path. Also records a plain time window on request.

use super::bundle::{Bundle, Store};
use super::record::{Subject, margin, record};
use super::{Error, ReportsConfig};
use crate::actions::Engine;
use crate::events::Events;
use crate::prom::Prom;
use crate::scenarios::Runs;
use serde_json::{Value, json};
use std::collections::HashSet;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Longest a recording waits for a run's checks to be judged.
const VERDICT_WAIT: Duration = Duration::from_secs(15 * 60);
/// Seconds after the window's end before recording: a scrape and a rule evaluation.
const SETTLE: f64 = 3.0;
/// Longest window `POST /runs/record` records.
const MAX_WINDOW: f64 = 24.0 * 3600.0;

/// How a run is shown (the run object of `GET /runs/{id}`): given by the API, which owns
/// that shape, so the bundle keeps the run exactly as it was served.
pub type ShowRun = fn(crate::scenarios::RunSnapshot) -> Value;

/// Recording and the bundles; cheap to clone.
#[derive(Clone)]
pub struct Reports {
    /// The bundles on disk.
    pub store: Store,
    /// Where series come from; None: bundles say the series are missing.
    pub prom: Option<Prom>,
    /// `--grafana-url`.
    pub grafana: Option<String>,
    /// Runs that ended and are being recorded.
    recording: Arc<Mutex<HashSet<String>>>,
}

/// A plain time window to record (`POST /runs/record`).
#[derive(Debug, Clone)]
pub struct WindowRequest {
    /// Shown as the report's title.
    pub name: String,
    /// Unix seconds.
    pub from: f64,
    /// Unix seconds.
    pub to: f64,
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// RFC 3339 → unix seconds.
pub fn unix(rfc3339: &str) -> Option<f64> {
    humantime::parse_rfc3339_weak(rfc3339)
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs_f64())
}

impl Reports {
    /// Opens `<state_dir>/runs` (loading past bundles) with the configured retention.
    pub fn open(
        cfg: &ReportsConfig,
        state_dir: &Path,
        prom: Option<Prom>,
    ) -> Result<Reports, Error> {
        Ok(Reports {
            store: Store::open(state_dir, cfg.keep, cfg.max_bytes)?,
            prom,
            grafana: cfg.grafana_url.clone(),
            recording: Arc::default(),
        })
    }

    /// True while `id` ended and its bundle is being written.
    pub fn is_recording(&self, id: &str) -> bool {
        self.recording.lock().expect("poisoned").contains(id)
    }

    /// The highest `N` of recorded `run-N` ids, so new runs do not reuse a past run's id.
    pub fn highest_run_number(&self) -> u64 {
        self.store
            .list()
            .iter()
            .filter_map(|m| m.id.strip_prefix("run-")?.parse().ok())
            .max()
            .unwrap_or(0)
    }

    /// Reads a bundle on the blocking pool.
    pub async fn load(&self, id: &str) -> Result<Bundle, Error> {
        let store = self.store.clone();
        let id = id.to_string();
        tokio::task::spawn_blocking(move || store.load(&id))
            .await
            .map_err(|e| Error::Render(e.to_string()))?
    }

    async fn save(&self, bundle: Bundle) -> Result<(), Error> {
        let store = self.store.clone();
        tokio::task::spawn_blocking(move || store.write(&bundle))
            .await
            .map_err(|e| Error::Render(e.to_string()))?
    }

    /// Records every run that ends from now on (until `root` is cancelled).
    pub fn spawn_recorder(
        &self,
        events: Events,
        runs: Runs,
        engine: Engine,
        tasks: &TaskTracker,
        root: CancellationToken,
        show: ShowRun,
    ) {
        let mut rx = events.subscribe();
        let me = self.clone();
        let inner = tasks.clone();
        tasks.spawn(async move {
            loop {
                let ev = tokio::select! {
                    _ = root.cancelled() => break,
                    ev = rx.recv() => ev,
                };
                let ev = match ev {
                    Ok(ev) => ev,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "the run recorder missed events");
                        continue;
                    }
                    Err(_) => break,
                };
                if !matches!(
                    ev.kind.as_str(),
                    "run_completed" | "run_failed" | "run_stopped"
                ) {
                    continue;
                }
                let Some(id) = ev.data["run"].as_str().map(str::to_string) else {
                    continue;
                };
                me.recording.lock().expect("poisoned").insert(id.clone());
                let (me, runs, engine, events, root) = (
                    me.clone(),
                    runs.clone(),
                    engine.clone(),
                    events.clone(),
                    root.clone(),
                );
                inner.spawn(async move {
                    if let Err(e) = me
                        .record_run(&id, &runs, show, &engine, &events, &root)
                        .await
                    {
                        tracing::warn!(run = %id, "cannot record the run: {e}");
                    }
                    me.recording.lock().expect("poisoned").remove(&id);
                });
            }
        });
    }

    /// Waits for the run's verdict and the margin after its end, then records it.
    async fn record_run(
        &self,
        id: &str,
        runs: &Runs,
        show: ShowRun,
        engine: &Engine,
        events: &Events,
        root: &CancellationToken,
    ) -> Result<(), Error> {
        let waited = tokio::time::Instant::now();
        let view = loop {
            let view = show(runs.get(id).map_err(|_| Error::Unknown(id.into()))?);
            if view["verdict"] != "pending" || waited.elapsed() > VERDICT_WAIT {
                break view;
            }
            tokio::select! {
                _ = root.cancelled() => break view,
                _ = tokio::time::sleep(Duration::from_millis(500)) => {}
            }
        };
        let start = view["started_at"]
            .as_str()
            .and_then(unix)
            .unwrap_or_else(now);
        let end = view["ended_at"].as_str().and_then(unix).unwrap_or_else(now);
        if self.prom.is_some() {
            // The margin after the end (and a few seconds for the last scrape and rule
            // evaluation), so resolutions are in Prometheus before recording.
            let wait = (end + margin(start, end) + SETTLE - now()).max(0.0);
            tokio::select! {
                _ = root.cancelled() => {}
                _ = tokio::time::sleep(Duration::from_secs_f64(wait)) => {}
            }
        }
        let actions = view["steps"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|s| s["action"].as_str())
            .filter_map(|a| engine.get(a).ok())
            .map(|a| serde_json::to_value(a).unwrap_or_default())
            .collect();
        let subject = Subject {
            id: id.to_string(),
            kind: "run",
            name: view["scenario"].as_str().unwrap_or_default().into(),
            title: view["title"].as_str().unwrap_or_default().into(),
            run: view,
            start,
            end,
            actions,
            events: window_events(events, start - margin(start, end), end + margin(start, end)),
        };
        let began = std::time::Instant::now();
        let bundle = record(self.prom.as_ref(), subject, self.grafana.as_deref()).await;
        let series = bundle.series.len();
        self.save(bundle).await?;
        tracing::info!(
            run = %id,
            series,
            recording_ms = began.elapsed().as_millis() as u64,
            "run recorded"
        );
        Ok(())
    }

    /// Records a plain time window: the actions that ran in it become its steps.
    pub async fn record_window(
        &self,
        req: WindowRequest,
        engine: &Engine,
        events: &Events,
    ) -> Result<super::Manifest, Error> {
        let invalid = |field: &str, message: String| Error::Invalid {
            field: field.into(),
            message,
        };
        if req.to <= req.from {
            return Err(invalid("to", "`to` must be after `from`".into()));
        }
        if req.to - req.from > MAX_WINDOW {
            return Err(invalid("from", "a window is at most 24 h long".into()));
        }
        if req.to > now() + 1.0 {
            return Err(invalid(
                "to",
                "`to` is in the future; record a window that has passed".into(),
            ));
        }
        let n = self
            .store
            .list()
            .iter()
            .filter_map(|m| m.id.strip_prefix("window-")?.parse::<u64>().ok())
            .max()
            .unwrap_or(0);
        let id = format!("window-{}", n + 1);
        let mut actions = Vec::new();
        let mut steps = Vec::new();
        for a in engine.list() {
            let a = serde_json::to_value(a).unwrap_or_default();
            let started = a["started_at"].as_str().and_then(unix).unwrap_or(0.0);
            let ended = a["ends_at"].as_str().and_then(unix).unwrap_or_else(now);
            if ended < req.from || started > req.to {
                continue;
            }
            steps.push(json!({
                "step": steps.len() + 1,
                "at_seconds": (started - req.from).max(0.0),
                "duration_seconds": ended.min(req.to) - started.max(req.from),
                "kind": a["kind"],
                "note": format!("action {}", a["id"].as_str().unwrap_or("")),
                "state": "done",
                "action": a["id"],
            }));
            actions.push(a);
        }
        let fmt = |t: f64| {
            humantime::format_rfc3339_millis(UNIX_EPOCH + Duration::from_secs_f64(t.max(0.0)))
                .to_string()
        };
        let run = json!({
            "id": id, "scenario": req.name, "title": req.name, "state": "completed",
            "speed": 1.0, "duration_seconds": req.to - req.from,
            "started_at": fmt(req.from), "ended_at": fmt(req.to),
            "steps": steps, "checks": [], "verdict": null, "score": null, "alerts": [],
        });
        let m = margin(req.from, req.to);
        let subject = Subject {
            id: id.clone(),
            kind: "window",
            name: req.name.clone(),
            title: req.name,
            run,
            start: req.from,
            end: req.to,
            actions,
            events: window_events(events, req.from - m, req.to + m),
        };
        let bundle = record(self.prom.as_ref(), subject, self.grafana.as_deref()).await;
        let manifest = bundle.manifest.clone();
        self.save(bundle).await?;
        Ok(manifest)
    }
}

/// Events of the ring between `from` and `to` (unix seconds).
fn window_events(events: &Events, from: f64, to: f64) -> Vec<Value> {
    events
        .since(0)
        .into_iter()
        .filter(|e| e.time >= from && e.time <= to)
        .map(|e| serde_json::to_value(e).unwrap_or_default())
        .collect()
}
