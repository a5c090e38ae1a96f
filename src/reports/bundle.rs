//! A run's bundle on disk, `<state_dir>/runs/<id>/`: `manifest.json` (what jolt knows of the
//! run: scenario, steps, timings, actions, checks, verdict, and what each series is),
//! `events.ndjson` (the run's events) and `series.csv` (one row per timestamp, one column per
//! series). Written into a temporary directory and renamed into place, so a reader never
//! sees half a bundle; [`Store`] keeps an index in memory and bounds count and bytes.

use super::Error;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Bumped when the manifest changes shape incompatibly.
pub const FORMAT: u32 = 1;

/// The window a bundle covers, in unix seconds.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Window {
    /// When the run (or window) began.
    pub start: f64,
    /// When it ended.
    pub end: f64,
    /// Seconds recorded before `start` and after `end`, so onsets and resolutions show.
    pub margin: f64,
    /// Seconds between samples (the evaluation interval, or coarser for long runs).
    pub step: f64,
}

/// What one column of `series.csv` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SeriesMeta {
    /// The CSV column name: `<name>{labels}`.
    pub column: String,
    /// `check`, `alerts`, `host`, `service`, `action` or `input` (the alert rules' inputs).
    pub group: String,
    /// Short name: `host_cpu`, `service_p99`, a check's name, or the metric name.
    pub name: String,
    /// The PromQL that produced it.
    pub expr: String,
    /// Its labels.
    pub labels: BTreeMap<String, String>,
    /// `ratio`, `seconds`, `bytes/s`, `req/s`, `bytes` or empty.
    pub unit: String,
    /// The check's or rule's threshold, drawn as a line.
    pub threshold: Option<f64>,
    /// The check this series belongs to.
    pub check: Option<String>,
}

/// A series with its samples: (unix seconds, value).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Series {
    /// What it is.
    #[serde(flatten)]
    pub meta: SeriesMeta,
    /// Samples in time order.
    pub points: Vec<(f64, f64)>,
}

/// An alerting rule as Prometheus loaded it, for the promtool test.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rule {
    /// `alert:`.
    pub name: String,
    /// `expr:`.
    pub expr: String,
    /// `for:` in seconds.
    pub for_secs: f64,
    /// Static labels.
    pub labels: BTreeMap<String, String>,
    /// Annotation templates, unrendered.
    pub annotations: BTreeMap<String, String>,
    /// The rule file, as Prometheus names it.
    pub file: String,
}

/// `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: u32,
    /// The run's id (`run-3`) or the window's (`window-2`).
    pub id: String,
    /// `run` or `window`.
    pub kind: String,
    /// Scenario name, or the window's name.
    pub name: String,
    /// Scenario title, or the window's name.
    pub title: String,
    /// RFC 3339 time the bundle was written.
    pub recorded_at: String,
    /// What was recorded.
    pub window: Window,
    /// The run as `GET /runs/{id}` showed it at the end (steps, checks, verdict, alerts).
    pub run: Value,
    /// The actions of the run (or window): resolved parameters (the target) and `achieved`.
    pub actions: Vec<Value>,
    /// What each column of `series.csv` is.
    pub series: Vec<SeriesMeta>,
    /// Why there are no series (no `--prometheus-url`, Prometheus unreachable), else null.
    pub series_missing: Option<String>,
    /// Queries that failed; the rest was recorded.
    pub errors: Vec<String>,
    /// Prometheus's (scrape, evaluation) intervals in seconds, when known.
    pub intervals: Option<(f64, f64)>,
    /// The alerting rules whose alerts were observed, for `promtool-test`.
    pub rules: Vec<Rule>,
    /// The Load Control dashboard over the window, when `--grafana-url` is set.
    pub grafana: Option<String>,
}

/// A whole bundle in memory.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// `manifest.json`.
    pub manifest: Manifest,
    /// `events.ndjson`.
    pub events: Vec<Value>,
    /// `series.csv`, column by column.
    pub series: Vec<Series>,
}

impl Bundle {
    /// Series of one group.
    pub fn group<'a>(&'a self, group: &'a str) -> impl Iterator<Item = &'a Series> + 'a {
        self.series.iter().filter(move |s| s.meta.group == group)
    }
}

/// The bundles under `<state_dir>/runs`, indexed in memory; cheap to clone.
#[derive(Clone)]
pub struct Store {
    dir: PathBuf,
    keep: usize,
    max_bytes: u64,
    /// Manifest and size of each bundle on disk, oldest first.
    index: Arc<Mutex<Vec<(Manifest, u64)>>>,
}

impl Store {
    /// Opens (creates) `<state_dir>/runs`, removes half-written bundles and indexes the rest.
    pub fn open(state_dir: &Path, keep: usize, max_bytes: u64) -> Result<Store, Error> {
        let dir = state_dir.join("runs");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let mut index = Vec::new();
        for entry in std::fs::read_dir(&dir)
            .map_err(|e| Error::io(&dir, e))?
            .flatten()
        {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().to_string();
            if name.starts_with(".tmp-") {
                let _ = std::fs::remove_dir_all(&path);
                continue;
            }
            match read_manifest(&path) {
                Ok(m) => index.push((m, dir_bytes(&path))),
                Err(e) => tracing::warn!(bundle = %path.display(), "skipping a bundle: {e}"),
            }
        }
        index.sort_by(|a, b| a.0.recorded_at.cmp(&b.0.recorded_at));
        let store = Store {
            dir,
            keep,
            max_bytes,
            index: Arc::new(Mutex::new(index)),
        };
        store.enforce();
        Ok(store)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(Manifest, u64)>> {
        self.index.lock().expect("bundle index poisoned")
    }

    /// Manifests of every bundle, newest first.
    pub fn list(&self) -> Vec<Manifest> {
        self.lock().iter().rev().map(|(m, _)| m.clone()).collect()
    }

    /// True when a bundle of `id` exists.
    pub fn has(&self, id: &str) -> bool {
        self.lock().iter().any(|(m, _)| m.id == id)
    }

    /// The manifest of `id`.
    pub fn manifest(&self, id: &str) -> Option<Manifest> {
        self.lock()
            .iter()
            .find(|(m, _)| m.id == id)
            .map(|(m, _)| m.clone())
    }

    /// Reads the whole bundle of `id` (blocking: call it on the blocking pool).
    pub fn load(&self, id: &str) -> Result<Bundle, Error> {
        let manifest = self
            .manifest(id)
            .ok_or_else(|| Error::NoBundle(id.to_string()))?;
        let path = self.dir.join(id);
        let events_path = path.join("events.ndjson");
        let events = std::fs::read_to_string(&events_path)
            .map_err(|e| Error::io(&events_path, e))?
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect();
        let csv_path = path.join("series.csv");
        let csv = std::fs::read_to_string(&csv_path).map_err(|e| Error::io(&csv_path, e))?;
        let series = super::render::csv::parse(&csv, &manifest.series)?;
        Ok(Bundle {
            manifest,
            events,
            series,
        })
    }

    /// Writes `bundle` atomically (a temporary directory renamed into place), replacing an
    /// older bundle of the same id, then drops the oldest over the caps.
    pub fn write(&self, bundle: &Bundle) -> Result<(), Error> {
        let id = &bundle.manifest.id;
        let tmp = self.dir.join(format!(".tmp-{id}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|e| Error::io(&tmp, e))?;
        let manifest = serde_json::to_string_pretty(&bundle.manifest).unwrap_or_default();
        let mut events = String::new();
        for e in &bundle.events {
            events.push_str(&e.to_string());
            events.push('\n');
        }
        let csv = super::render::csv::write(&bundle.series);
        for (name, text) in [
            ("manifest.json", manifest),
            ("events.ndjson", events),
            ("series.csv", csv),
        ] {
            let p = tmp.join(name);
            std::fs::write(&p, text).map_err(|e| Error::io(&p, e))?;
        }
        let dest = self.dir.join(id);
        let mut index = self.lock();
        if dest.exists() {
            let _ = std::fs::remove_dir_all(&dest);
        }
        std::fs::rename(&tmp, &dest).map_err(|e| Error::io(&dest, e))?;
        index.retain(|(m, _)| &m.id != id);
        index.push((bundle.manifest.clone(), dir_bytes(&dest)));
        drop(index);
        self.enforce();
        Ok(())
    }

    /// Removes the oldest bundles while there are more than `keep` or they take more than
    /// `max_bytes` (the newest is always kept).
    fn enforce(&self) {
        let mut index = self.lock();
        loop {
            let bytes: u64 = index.iter().map(|(_, b)| b).sum();
            if index.len() <= 1 || (index.len() <= self.keep && bytes <= self.max_bytes) {
                break;
            }
            let (gone, _) = index.remove(0);
            let path = self.dir.join(&gone.id);
            if let Err(e) = std::fs::remove_dir_all(&path) {
                tracing::warn!(bundle = %path.display(), "cannot remove an old bundle: {e}");
            } else {
                tracing::info!(run = %gone.id, "removed the oldest run bundle (retention)");
            }
        }
    }
}

fn read_manifest(dir: &Path) -> Result<Manifest, Error> {
    let p = dir.join("manifest.json");
    let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
    let m: Manifest = serde_json::from_str(&text).map_err(|e| Error::Corrupt(e.to_string()))?;
    if m.format != FORMAT {
        return Err(Error::Corrupt(format!(
            "format {} (expected {FORMAT})",
            m.format
        )));
    }
    Ok(m)
}

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.metadata().ok())
        .map(|m| m.len())
        .sum()
}
