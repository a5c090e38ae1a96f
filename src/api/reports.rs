//! Run report routes: `GET /runs/{id}/report` (html, md, json, csv, junit, promtool; by
//! `?format=` or `Accept`), `GET /runs/{id}/compare/{other}`, `GET /runs/{id}/promtool-test`
//! and `POST /runs/record` (a plain time window). Rendering runs on the blocking pool.

use super::routes::Route;
use super::{ApiError, ControlState};
use crate::reports::render::{self, Format};
use crate::reports::{Bundle, Error, WindowRequest};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use utoipa_axum::routes;

/// Error body, for the OpenAPI document.
type ErrorBody = crate::api::error::ErrorBody;

/// The schemas of this file, for the OpenAPI document (merged into the API's; the paths come
/// from [`routes`]).
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(RecordParams)))]
pub struct ReportsDoc;

/// This file's rows of the route table.
pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::new(
            routes!(report),
            "a recorded run's report: ?format=html|md|json|csv|junit|promtool (or Accept); 409 while it runs",
            "{addr}/runs/run-1/report?format=md",
        ),
        Route::new(
            routes!(compare),
            "two runs aligned by scenario time: deltas of checks, detection delays, peaks (?format=html|md|json)",
            "{addr}/runs/run-1/compare/run-2?format=md",
        ),
        Route::new(
            routes!(promtool_test),
            "the recording as a `promtool test rules` file expecting the alerts that fired",
            "{addr}/runs/run-1/promtool-test -o run-1.test.yml",
        ),
        Route::new(
            routes!(record),
            "record a plain time window (single actions) as window-N -> 201",
            "-X POST {addr}/runs/record -d '{\"name\": \"game day\", \"from\": \"2026-01-31T10:00:00Z\"}'",
        ),
    ]
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let message = e.to_string();
        match e {
            Error::Unknown(_) => ApiError::NotFound(message),
            Error::NoBundle(_) | Error::Running(_) | Error::Recording(_) => {
                ApiError::Conflict(message)
            }
            Error::Format(_) => ApiError::bad_field("format", message),
            Error::Invalid { field, .. } => ApiError::unprocessable(field, message),
            Error::Io { .. } | Error::Corrupt(_) | Error::Render(_) => ApiError::Internal(message),
        }
    }
}

/// The bundle of `id`: 404 for an unknown id, 409 while the run plays or is being recorded.
async fn bundle(st: &ControlState, id: &str) -> Result<Bundle, ApiError> {
    if let Ok(live) = st.scenarios.runs.get(id) {
        use crate::scenarios::RunState;
        if matches!(live.state, RunState::Running | RunState::Paused) {
            return Err(Error::Running(id.into()).into());
        }
        if !st.reports.store.has(id) {
            return Err(if st.reports.is_recording(id) {
                Error::Recording(id.into())
            } else {
                Error::NoBundle(id.into())
            }
            .into());
        }
    }
    if !st.reports.store.has(id) {
        return Err(Error::Unknown(id.into()).into());
    }
    Ok(st.reports.load(id).await?)
}

/// `format=` from the query, else the `Accept` header, else `fallback`.
fn format(query: Option<&str>, headers: &HeaderMap, fallback: Format) -> Result<Format, ApiError> {
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.unwrap_or("")).map_err(|e| ApiError::BadRequest {
            message: format!("query: {e}"),
            field: None,
        })?;
    if let Some((_, f)) = pairs.iter().find(|(k, _)| k == "format") {
        return Ok(Format::parse(f)?);
    }
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    Ok(Format::from_accept(accept).unwrap_or(fallback))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, Error> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(ApiError::from)
}

fn answer(format: Format, body: String) -> Response {
    ([(header::CONTENT_TYPE, format.content_type())], body).into_response()
}

/// `GET /runs/{id}/report`.
#[utoipa::path(get, path = "/runs/{id}/report", tag = "reports",
    params(
        ("id" = String, Path, description = "Run id (a live run that ended, or a recorded past run)"),
        ("format" = Option<String>, Query, description = "html | md | json | csv | junit | promtool; default from Accept (text/html, text/markdown, application/json, text/csv, application/xml, application/yaml), else html"),
    ),
    responses(
        (status = 200, description = "The report: one self-contained HTML page, Markdown, JSON (manifest, figures, series), CSV (one row per timestamp), JUnit XML or a promtool rule test"),
        (status = 400, description = "Unknown format", body = ErrorBody),
        (status = 404, description = "No run or recorded run with this id", body = ErrorBody),
        (status = 409, description = "The run is still running, or being recorded", body = ErrorBody),
        (status = 422, description = "promtool format of a run recorded without series", body = ErrorBody),
    ))]
pub async fn report(
    State(st): State<ControlState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let format = format(query.as_deref(), &headers, Format::Html)?;
    let b = bundle(&st, &id).await?;
    let body = blocking(move || render::render(&b, format)).await?;
    Ok(answer(format, body))
}

/// `GET /runs/{id}/compare/{other}`.
#[utoipa::path(get, path = "/runs/{id}/compare/{other}", tag = "reports",
    params(
        ("id" = String, Path, description = "Run A"),
        ("other" = String, Path, description = "Run B"),
        ("format" = Option<String>, Query, description = "html | md | json; default from Accept, else html"),
    ),
    responses(
        (status = 200, description = "A's report with B overlaid (aligned by scenario time) and a delta table of checks, detection delays and headline peaks"),
        (status = 400, description = "Unknown format", body = ErrorBody),
        (status = 404, description = "Unknown run", body = ErrorBody),
        (status = 409, description = "A run is still running or has no bundle", body = ErrorBody),
        (status = 422, description = "A run compared with itself, or a format a comparison has not", body = ErrorBody),
    ))]
pub async fn compare(
    State(st): State<ControlState>,
    Path((id, other)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let format = format(query.as_deref(), &headers, Format::Html)?;
    if id == other {
        return Err(ApiError::unprocessable(
            "other",
            format!("compare {id} with another run, not with itself"),
        ));
    }
    let a = bundle(&st, &id).await?;
    let b = bundle(&st, &other).await?;
    let body = blocking(move || render::render_compare(&a, &b, format)).await?;
    Ok(answer(format, body))
}

/// `GET /runs/{id}/promtool-test`.
#[utoipa::path(get, path = "/runs/{id}/promtool-test", tag = "reports",
    params(("id" = String, Path, description = "Run id")),
    responses(
        (status = 200, description = "A `promtool test rules` file: the recording as input_series, the alerts observed firing as alert_rule_test", content_type = "application/yaml"),
        (status = 404, description = "Unknown run", body = ErrorBody),
        (status = 409, description = "The run is still running or being recorded", body = ErrorBody),
        (status = 422, description = "The run was recorded without series", body = ErrorBody),
    ))]
pub async fn promtool_test(
    State(st): State<ControlState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let b = bundle(&st, &id).await?;
    let body = blocking(move || render::render(&b, Format::Promtool)).await?;
    Ok(answer(Format::Promtool, body))
}

/// A plain time window to record.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordParams {
    /// The report's title, e.g. "game day 3".
    pub name: String,
    /// Start: RFC 3339 time, or unix seconds.
    #[schema(value_type = String)]
    pub from: serde_json::Value,
    /// End: RFC 3339 time, or unix seconds; default now.
    #[schema(value_type = Option<String>)]
    pub to: Option<serde_json::Value>,
}

fn instant(v: &serde_json::Value, field: &str) -> Result<f64, ApiError> {
    match v {
        serde_json::Value::Number(n) => n.as_f64(),
        serde_json::Value::String(s) => crate::reports::unix(s),
        _ => None,
    }
    .ok_or_else(|| {
        ApiError::bad_field(
            field,
            format!("`{field}` must be an RFC 3339 time (2026-01-31T10:00:00Z) or unix seconds"),
        )
    })
}

/// `POST /runs/record` → 201 with the bundle's manifest.
#[utoipa::path(post, path = "/runs/record", tag = "reports",
    request_body(content = RecordParams, description = "{\"name\": \"game day\", \"from\": \"2026-01-31T10:00:00Z\", \"to\": \"2026-01-31T10:05:00Z\"}"),
    responses(
        (status = 201, description = "Recorded as `window-N`: GET /runs/window-N/report"),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 422, description = "`to` before `from`, in the future, or a window over 24 h", body = ErrorBody),
    ))]
pub async fn record(State(st): State<ControlState>, body: Bytes) -> Result<Response, ApiError> {
    let text = std::str::from_utf8(&body).unwrap_or("\u{fffd}");
    let p: RecordParams = crate::strict_json::from_str(text).map_err(|e| ApiError::BadRequest {
        message: format!("body: {e} (expected e.g. {{\"name\": \"game day\", \"from\": \"2026-01-31T10:00:00Z\"}})"),
        field: e.field().map(str::to_string),
    })?;
    if p.name.trim().is_empty() || p.name.len() > 200 {
        return Err(ApiError::bad_field(
            "name",
            "`name` must be 1 to 200 characters",
        ));
    }
    let from = instant(&p.from, "from")?;
    let to = match &p.to {
        Some(v) => instant(v, "to")?,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64()),
    };
    let req = WindowRequest {
        name: p.name,
        from,
        to,
    };
    let manifest = st
        .reports
        .record_window(req, &st.engine, &st.events)
        .await?;
    let mut view = manifest.run.clone();
    view["recorded"] = true.into();
    view["past"] = true.into();
    Ok((StatusCode::CREATED, axum::Json(view)).into_response())
}

/// Past runs (recorded, not in memory) for `GET /runs`, marked `recorded` and `past`.
pub fn past_runs(st: &ControlState, live: &[String]) -> Vec<serde_json::Value> {
    st.reports
        .store
        .list()
        .into_iter()
        .filter(|m| !live.contains(&m.id))
        .map(|m| {
            let mut v = m.run;
            v["recorded"] = true.into();
            v["past"] = true.into();
            v
        })
        .collect()
}
