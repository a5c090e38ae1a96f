//! A bundle as each format: `html` (one self-contained page with inline SVG charts), `md`,
//! `json` (manifest + series + figures), `csv` (the series), `junit` (one case per check) and
//! `promtool` (a rule test). `model` gathers what the HTML and Markdown templates show.

pub mod chart;
pub mod csv;
mod html;
pub mod junit;
pub mod model;

pub use model::Model;

use super::bundle::Bundle;
use super::{Error, stats};
use serde_json::json;

/// The formats of `GET /runs/{id}/report` and `jolt report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// One self-contained page.
    Html,
    /// Markdown for an issue or a pull request.
    Md,
    /// Manifest, figures and series.
    Json,
    /// The series, one row per timestamp.
    Csv,
    /// One test case per check.
    Junit,
    /// A `promtool test rules` file.
    Promtool,
}

impl Format {
    /// Every format's name, in the order help texts list them.
    pub const NAMES: &'static [&'static str] = &["html", "md", "json", "csv", "junit", "promtool"];

    /// `html`, `md` (`markdown`), `json`, `csv`, `junit` (`xml`), `promtool` (`yaml`).
    pub fn parse(s: &str) -> Result<Format, Error> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "html" => Format::Html,
            "md" | "markdown" => Format::Md,
            "json" => Format::Json,
            "csv" => Format::Csv,
            "junit" | "xml" => Format::Junit,
            "promtool" | "yaml" => Format::Promtool,
            _ => return Err(Error::Format(s.into())),
        })
    }

    /// The format an `Accept` header asks for, if it names one.
    pub fn from_accept(accept: &str) -> Option<Format> {
        accept
            .split(',')
            .find_map(|part| match part.split(';').next().unwrap_or("").trim() {
                "text/html" => Some(Format::Html),
                "text/markdown" => Some(Format::Md),
                "application/json" => Some(Format::Json),
                "text/csv" => Some(Format::Csv),
                "application/xml" | "text/xml" | "application/junit+xml" => Some(Format::Junit),
                "application/yaml" | "text/yaml" => Some(Format::Promtool),
                _ => None,
            })
    }

    /// The content type it is served as.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Html => "text/html; charset=utf-8",
            Format::Md => "text/markdown; charset=utf-8",
            Format::Json => "application/json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Junit => "application/xml",
            Format::Promtool => "application/yaml",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Html => "html",
            Format::Md => "md",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Junit => "xml",
            Format::Promtool => "test.yml",
        }
    }
}

/// `bundle` as `format`.
pub fn render(bundle: &Bundle, format: Format) -> Result<String, Error> {
    match format {
        Format::Html => html::page(&Model::of(bundle), bundle, None),
        Format::Md => html::markdown(&Model::of(bundle)),
        Format::Json => Ok(serde_json::to_string_pretty(&json_doc(bundle)).unwrap_or_default()),
        Format::Csv => Ok(csv::write_with_offset(
            &bundle.series,
            bundle.manifest.window.start,
        )),
        Format::Junit => junit::report(&bundle.manifest.run),
        Format::Promtool => super::promtool::test_file(bundle),
    }
}

/// Two bundles compared, as `format` (html, md or json).
pub fn render_compare(a: &Bundle, b: &Bundle, format: Format) -> Result<String, Error> {
    let cmp = super::compare::compare(a, b);
    match format {
        Format::Html => html::page(&Model::of(a), a, Some((b, &cmp))),
        Format::Md => html::compare_markdown(&cmp),
        Format::Json => Ok(serde_json::to_string_pretty(&cmp).unwrap_or_default()),
        other => Err(Error::Invalid {
            field: "format".into(),
            message: format!(
                "a comparison is html, md or json, not {}",
                Format::NAMES[other as usize]
            ),
        }),
    }
}

/// The JSON format: the manifest, the figures and every series.
pub fn json_doc(b: &Bundle) -> serde_json::Value {
    json!({
        "manifest": b.manifest,
        "stats": stats::all_stats(b),
        "alerts": stats::alert_rows(b),
        "events": b.events,
        "series": b.series,
    })
}
