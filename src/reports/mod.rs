//! Run reports: every run recorded into a bundle under the state dir when it ends, and the
//! bundle turned into reports (HTML, Markdown, JSON, CSV, JUnit), compared with another run,
//! or made into a `promtool test rules` file. No HTTP here: the API maps [`Error`] to
//! statuses (docs/architecture.md).
//!
//! `record` queries Prometheus over the run's window, `bundle` reads and writes
//! `runs/<id>/` with retention, `recorder` hooks run ends (the event bus) and plain windows,
//! `render/` writes each format, `compare` aligns two runs, `promtool` writes the rule test.

pub mod bundle;
pub mod compare;
mod config;
mod gotmpl;
#[cfg(test)]
mod gotmpl_tests;
pub mod promtool;
pub mod record;
mod recorder;
pub mod render;
pub mod rules;
pub mod stats;

pub use bundle::{Bundle, Manifest, Store};
pub use config::{ReportsArgs, ReportsConfig};
pub use recorder::{Reports, ShowRun, WindowRequest, unix};

use std::path::Path;

/// What can go wrong with bundles and reports.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Neither a run nor a bundle has this id.
    #[error("no run or recorded run with id `{0}`; GET /runs lists them")]
    Unknown(String),
    /// The run exists but has no bundle (yet).
    #[error("run `{0}` has no recorded bundle yet")]
    NoBundle(String),
    /// The run is still playing.
    #[error("run `{0}` is still running; its report exists once it ends and is recorded")]
    Running(String),
    /// The run ended and its bundle is being written.
    #[error("run `{0}` ended and is being recorded; try again in a few seconds")]
    Recording(String),
    /// A format jolt does not write.
    #[error("unknown format `{0}`; one of html, md, json, csv, junit, promtool")]
    Format(String),
    /// A request that makes no sense (compare a run with itself, a window backwards).
    #[error("{message}")]
    Invalid {
        /// The offending field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The disk said no.
    #[error("cannot write or read {path}: {reason}")]
    Io {
        /// The file or directory.
        path: String,
        /// The OS error.
        reason: String,
    },
    /// A bundle jolt cannot read.
    #[error("a run bundle cannot be read: {0}")]
    Corrupt(String),
    /// Rendering failed (a template or chart error: a bug).
    #[error("cannot render the report: {0}")]
    Render(String),
}

impl Error {
    fn io(path: &Path, e: std::io::Error) -> Error {
        Error::Io {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    }
}

/// The Load Control dashboard (uid `jolt-load-control`, grafana/dashboards/load-control.json)
/// from `from` to `to` (unix seconds).
pub fn grafana_link(base: &str, from: f64, to: f64) -> String {
    format!(
        "{}/d/jolt-load-control/load-control?from={}&to={}",
        base.trim_end_matches('/'),
        (from * 1000.0) as i64,
        (to * 1000.0) as i64
    )
}

/// A sample value as Prometheus writes it (`NaN`, `+Inf`, `-Inf`, or the shortest decimal):
/// the CSV and the promtool file both carry recorded values this way.
pub(crate) fn float_text(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}
