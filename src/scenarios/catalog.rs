//! The scenarios jolt knows: the built-ins, plus custom ones from a directory (loaded at start,
//! reloaded on SIGHUP) and from `PUT /scenarios/{name}` (persisted into that directory).
//!
//! A custom scenario is stored as `<dir>/<name>.yaml` (or `.json`), so its name, checked
//! against `[a-z0-9-]{1,64}`, is the only part of a path a request controls. Writes go to a
//! temporary file in the same directory and are renamed into place: a reader never sees half
//! a file, and an invalid body never replaces a valid scenario.

use super::builtin;
use super::error::ScenarioError;
use super::format;
use super::model::{Scenario, check_name, compile};
use crate::actions::Env;
use crate::events::{Events, Severity};
use anyhow::Context;
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

/// File extensions read from the directory; the first is what YAML bodies are saved as.
const EXTENSIONS: [&str; 3] = ["yaml", "yml", "json"];

/// Built-in and custom scenarios.
pub struct Catalog {
    /// Name → scenario.
    map: RwLock<BTreeMap<String, Arc<Scenario>>>,
    /// Where custom scenarios live; `None` keeps PUT scenarios in memory only.
    dir: Option<PathBuf>,
    /// Validation needs the engine's limits and range checks.
    env: Arc<Env>,
    /// Reload outcomes and rejected files become events.
    events: Events,
    /// Serializes writers (PUT, reload) so the directory and the map agree.
    write: Mutex<()>,
}

/// What a reload did.
#[derive(Debug, Default)]
pub struct Reload {
    /// Custom scenarios loaded (new or changed).
    pub loaded: usize,
    /// Files refused, with the reason (their previous valid version, if any, is kept).
    pub errors: Vec<String>,
}

impl Catalog {
    /// The built-ins and, when `dir` is set (created if missing), its scenarios. A built-in
    /// that does not fit this daemon's configuration (a service renamed away, a lower action
    /// cap) is left out with a warning event rather than stopping the daemon.
    pub fn new(dir: Option<PathBuf>, env: Arc<Env>, events: Events) -> anyhow::Result<Catalog> {
        if let Some(d) = &dir {
            std::fs::create_dir_all(d)
                .with_context(|| format!("scenarios.dir: cannot create {}", d.display()))?;
        }
        let catalog = Catalog {
            map: RwLock::new(BTreeMap::new()),
            dir,
            env,
            events,
            write: Mutex::new(()),
        };
        for (name, text) in builtin::FILES {
            let built = format::parse(text)
                .map_err(|e| ScenarioError::Malformed {
                    message: e.message,
                    field: e.field,
                })
                .and_then(|file| catalog.compile(file, name));
            match built {
                Ok(mut s) => {
                    s.builtin = true;
                    catalog
                        .map
                        .write()
                        .expect("catalog poisoned")
                        .insert(name.into(), Arc::new(s));
                }
                Err(e) => {
                    catalog.events.emit(
                        "scenario_rejected",
                        Severity::Warning,
                        format!("built-in scenario {name} left out: {e}"),
                        json!({ "scenario": name, "error": e.to_string() }),
                    );
                }
            }
        }
        catalog.reload();
        Ok(catalog)
    }

    /// Every scenario, built-ins first, each group by name.
    pub fn list(&self) -> Vec<Arc<Scenario>> {
        let map = self.map.read().expect("catalog poisoned");
        let mut all: Vec<_> = map.values().cloned().collect();
        all.sort_by_key(|s| (!s.builtin, s.name.clone()));
        all
    }

    /// One scenario by name.
    pub fn get(&self, name: &str) -> Result<Arc<Scenario>, ScenarioError> {
        check_name(name)?;
        self.map
            .read()
            .expect("catalog poisoned")
            .get(name)
            .cloned()
            .ok_or_else(|| ScenarioError::UnknownScenario(name.to_string()))
    }

    /// Re-reads the directory. Valid files replace their scenario; invalid ones are reported
    /// and leave the previous version in place; scenarios whose file is gone are dropped.
    pub fn reload(&self) -> Reload {
        let Some(dir) = &self.dir else {
            return Reload::default();
        };
        let _w = self.write.lock().expect("catalog writer poisoned");
        let mut report = Reload::default();
        let entries = match std::fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) => {
                report
                    .errors
                    .push(format!("cannot read {}: {e}", dir.display()));
                self.report(&report);
                return report;
            }
        };
        let mut seen = BTreeSet::new();
        let mut fresh = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            let (Some(stem), Some(ext)) = (
                path.file_stem().and_then(|s| s.to_str()),
                path.extension().and_then(|s| s.to_str()),
            ) else {
                continue;
            };
            if stem.starts_with('.') || !EXTENSIONS.contains(&ext) || !path.is_file() {
                continue;
            }
            seen.insert(stem.to_string());
            match self.load_file(&path, stem) {
                Ok(s) => fresh.push(s),
                Err(e) => report.errors.push(format!("{}: {e}", path.display())),
            }
        }
        let mut map = self.map.write().expect("catalog poisoned");
        map.retain(|name, s| s.builtin || seen.contains(name));
        for s in fresh {
            report.loaded += 1;
            map.insert(s.name.clone(), Arc::new(s));
        }
        drop(map);
        self.report(&report);
        report
    }

    fn load_file(&self, path: &Path, name: &str) -> Result<Scenario, String> {
        check_name(name).map_err(|e| e.to_string())?;
        if self.is_builtin(name) {
            return Err(format!(
                "`{name}` is a built-in scenario; pick another file name"
            ));
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read: {e}"))?;
        let file = format::parse(&text).map_err(|e| e.to_string())?;
        self.compile(file, name).map_err(|e| e.to_string())
    }

    fn compile(&self, file: format::ScenarioFile, name: &str) -> Result<Scenario, ScenarioError> {
        let env = &self.env;
        compile(file, name, env.config.max_active, &|p| {
            p.validate(env).map_err(Into::into)
        })
    }

    /// Built-in names stay reserved even when a built-in was left out.
    fn is_builtin(&self, name: &str) -> bool {
        builtin::FILES.iter().any(|(n, _)| *n == name)
    }

    fn report(&self, r: &Reload) {
        for e in &r.errors {
            self.events.emit(
                "scenario_rejected",
                Severity::Warning,
                format!("scenario file rejected: {e}"),
                json!({ "error": e }),
            );
        }
        self.events.emit(
            "scenarios_loaded",
            if r.errors.is_empty() {
                Severity::Info
            } else {
                Severity::Warning
            },
            format!(
                "custom scenarios loaded: {} valid, {} rejected",
                r.loaded,
                r.errors.len()
            ),
            json!({ "loaded": r.loaded, "rejected": r.errors.len() }),
        );
    }

    /// Adds or replaces a custom scenario from a YAML or JSON body; true when it is new.
    /// Validated first: an invalid body changes nothing, on disk or in memory.
    pub fn put(&self, name: &str, body: &[u8]) -> Result<(Arc<Scenario>, bool), ScenarioError> {
        check_name(name)?;
        if self.is_builtin(name) {
            return Err(ScenarioError::Builtin(name.to_string()));
        }
        let text = std::str::from_utf8(body).map_err(|_| ScenarioError::Malformed {
            message: "the body is not UTF-8 text".into(),
            field: None,
        })?;
        let file = format::parse(text).map_err(|e| ScenarioError::Malformed {
            message: e.message,
            field: e.field,
        })?;
        let scenario = Arc::new(self.compile(file, name)?);
        let _w = self.write.lock().expect("catalog writer poisoned");
        if let Some(dir) = &self.dir {
            let json = text.trim_start().starts_with('{');
            persist(dir, name, text, if json { "json" } else { "yaml" }).map_err(|e| {
                ScenarioError::Save {
                    name: name.to_string(),
                    message: format!("{e:#}"),
                }
            })?;
        }
        let created = self
            .map
            .write()
            .expect("catalog poisoned")
            .insert(name.to_string(), scenario.clone())
            .is_none();
        drop(_w);
        self.events.emit(
            "scenario_saved",
            Severity::Info,
            format!(
                "custom scenario {name} {}",
                if created { "added" } else { "replaced" }
            ),
            json!({ "scenario": name }),
        );
        Ok((scenario, created))
    }
}

/// Writes `<dir>/<name>.<ext>` atomically and removes the scenario's files with other
/// extensions, so each name has one file.
fn persist(dir: &Path, name: &str, text: &str, ext: &str) -> anyhow::Result<()> {
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    tmp.as_file().sync_all()?;
    let target = dir.join(format!("{name}.{ext}"));
    tmp.persist(&target)?;
    for other in EXTENSIONS.iter().filter(|e| **e != ext) {
        let p = dir.join(format!("{name}.{other}"));
        if p.exists() {
            std::fs::remove_file(&p).with_context(|| format!("removing {}", p.display()))?;
        }
    }
    Ok(())
}
