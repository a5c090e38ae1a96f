//! `/scenarios` and `/runs` routes: the catalog (list, get, put, schema) and runs (start, list,
//! get, pause, resume, stop).

use super::routes::Route;
use super::scenario_views::{RunView, ScenarioView};
use super::{ApiError, ControlState};
use crate::scenarios::{MAX_BODY, Schedule, check_run_id, parse_start_at, schema};
use axum::Json;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::router::UtoipaMethodRouterExt;
use utoipa_axum::routes;

/// Error body, for the OpenAPI document.
type ErrorBody = crate::api::error::ErrorBody;

/// The schemas of this file's views, for the OpenAPI document (merged into the API's; the
/// paths come from [`routes`]).
#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    ScenarioView,
    super::scenario_views::StepView,
    RunView,
    super::scenario_views::StepRunView,
    super::scenario_views::RunState,
    super::scenario_views::StepState,
    StartParams,
    super::scenario_views::CheckView,
    super::scenario_views::RunVerdict,
    super::scenario_views::Verdict,
)))]
pub struct ScenariosDoc;

/// `GET /scenarios`.
#[utoipa::path(get, path = "/scenarios", tag = "scenarios",
    responses((status = 200, description = "Built-in scenarios, then custom ones, with their steps", body = Vec<ScenarioView>)))]
pub async fn list(State(st): State<ControlState>) -> Json<Vec<ScenarioView>> {
    Json(
        st.scenarios
            .catalog
            .list()
            .iter()
            .map(|s| ScenarioView::from(&**s))
            .collect(),
    )
}

/// `GET /scenarios/schema.json`: the JSON Schema of the scenario file format.
#[utoipa::path(get, path = "/scenarios/schema.json", tag = "scenarios",
    responses((status = 200, description = "JSON Schema of scenario files", content_type = "application/json")))]
pub async fn schema_json() -> Json<Value> {
    Json(schema::scenario_schema())
}

/// `GET /scenarios/{name}`.
#[utoipa::path(get, path = "/scenarios/{name}", tag = "scenarios",
    params(("name" = String, Path, description = "Scenario name, e.g. ddos-attack")),
    responses(
        (status = 200, description = "The scenario", body = ScenarioView),
        (status = 400, description = "Not a valid name", body = ErrorBody),
        (status = 404, description = "Unknown scenario", body = ErrorBody),
    ))]
pub async fn get(
    State(st): State<ControlState>,
    Path(name): Path<String>,
) -> Result<Json<ScenarioView>, ApiError> {
    Ok(Json(ScenarioView::from(&*st.scenarios.catalog.get(&name)?)))
}

/// `PUT /scenarios/{name}`: a YAML or JSON scenario file; validated before anything changes.
#[utoipa::path(put, path = "/scenarios/{name}", tag = "scenarios",
    params(("name" = String, Path, description = "[a-z0-9-]{1,64}")),
    request_body(content = String, description = "A scenario file (YAML or JSON; see /scenarios/schema.json)", content_type = "application/yaml"),
    responses(
        (status = 201, description = "Added", body = ScenarioView),
        (status = 200, description = "Replaced", body = ScenarioView),
        (status = 400, description = "Bad name, malformed file, unknown kind or parameter (with line and column)", body = ErrorBody),
        (status = 409, description = "A built-in scenario has that name", body = ErrorBody),
        (status = 413, description = "Larger than 256 KiB", body = ErrorBody),
        (status = 422, description = "Steps out of range: past the end, over the action cap", body = ErrorBody),
    ))]
pub async fn put(
    State(st): State<ControlState>,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<ScenarioView>), ApiError> {
    crate::scenarios::check_name(&name)?;
    let body = body.map_err(|e| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(format!(
            "a scenario file may be at most {} KiB",
            MAX_BODY / 1024
        )),
        _ => ApiError::BadRequest {
            message: e.body_text(),
            field: None,
        },
    })?;
    let (scenario, created) = st.scenarios.catalog.put(&name, &body)?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(ScenarioView::from(&*scenario))))
}

/// Options of a run, as a JSON body or query parameters.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StartParams {
    /// Timeline compression: 10 plays the scenario (and every step's duration and ramp) ten
    /// times faster. Default 1.
    pub speed: Option<f64>,
    /// RFC 3339 wall-clock time the timeline begins, a few seconds ahead (at most 600 s), so
    /// runs started on many hosts line up. Default: now.
    pub start_at: Option<String>,
    /// Run id to use instead of the next `run-N` (a-z, 0-9, -), e.g. one id across a fleet.
    pub id: Option<String>,
    /// Judge the scenario's `expect:` checks (default true); false runs without them.
    pub verify: Option<bool>,
}

/// `POST /scenarios/{name}/start` → 201 with the run.
#[utoipa::path(post, path = "/scenarios/{name}/start", tag = "runs",
    params(
        ("name" = String, Path, description = "Scenario name"),
        ("speed" = Option<f64>, Query, description = "Timeline compression factor (or {\"speed\": 10} as the body)"),
        ("start_at" = Option<String>, Query, description = "RFC 3339 time to begin, at most 600 s ahead"),
        ("id" = Option<String>, Query, description = "Run id to use instead of run-N"),
        ("verify" = Option<bool>, Query, description = "false: run without the scenario's checks"),
    ),
    request_body(content = Option<StartParams>),
    responses(
        (status = 201, description = "Started", body = RunView),
        (status = 400, description = "Malformed options", body = ErrorBody),
        (status = 404, description = "Unknown scenario", body = ErrorBody),
        (status = 409, description = "A run already has that id", body = ErrorBody),
        (status = 422, description = "Speed out of range, start_at in the past or too far ahead; a check Prometheus cannot meet (unknown alert, bad query, budget below its minimum)", body = ErrorBody),
        (status = 503, description = "Prometheus did not answer the preflight of a verified scenario", body = ErrorBody),
    ))]
pub async fn start(
    State(st): State<ControlState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<(StatusCode, Json<RunView>), ApiError> {
    let scenario = st.scenarios.catalog.get(&name)?;
    let opts = start_params(query.as_deref().unwrap_or(""), &body)?;
    let schedule = Schedule {
        start_at: opts
            .start_at
            .as_deref()
            .map(|t| parse_start_at(t, std::time::SystemTime::now()))
            .transpose()?,
        id: opts
            .id
            .map(|id| check_run_id(&id).map(|()| id))
            .transpose()?,
    };
    let speed = opts.speed.unwrap_or(1.0);
    let verify = st
        .scenarios
        .prepare(&scenario, speed, opts.verify.unwrap_or(true))
        .await?;
    let run = st
        .scenarios
        .runs
        .start_verified(scenario, speed, schedule, verify)?;
    Ok((StatusCode::CREATED, Json(run.into())))
}

fn start_params(query: &str, body: &[u8]) -> Result<StartParams, ApiError> {
    let body = std::str::from_utf8(body).unwrap_or("\u{fffd}");
    // Only whitespace is trimmed: a byte-order mark stays, for the JSON decoder to name.
    let body = if body.trim().is_empty() { "" } else { body };
    let bad = |m: String| ApiError::BadRequest {
        message: m,
        field: None,
    };
    match (query.is_empty(), body.is_empty()) {
        (true, true) => Ok(StartParams::default()),
        (false, true) => serde_urlencoded::from_str(query).map_err(|e| bad(format!("query: {e}"))),
        (true, false) => crate::strict_json::from_str(body).map_err(|e| ApiError::BadRequest {
            message: format!("body: {e} (expected e.g. {{\"speed\": 10}})"),
            field: e.field().map(str::to_string),
        }),
        (false, false) => Err(bad(
            "give options either as a body or as query parameters, not both".into(),
        )),
    }
}

/// `GET /runs`.
#[utoipa::path(get, path = "/runs", tag = "runs",
    responses((status = 200, description = "Runs, newest first, then past runs recorded under the state dir (`recorded: true, past: true`; GET /runs/{id}/report)", body = Vec<RunView>)))]
pub async fn runs(State(st): State<ControlState>) -> Json<Vec<Value>> {
    let live = st.scenarios.runs.list();
    let ids: Vec<String> = live.iter().map(|r| r.id.clone()).collect();
    let mut out: Vec<Value> = live
        .into_iter()
        .map(|r| {
            let recorded = st.reports.store.has(&r.id);
            let mut v = serde_json::to_value(RunView::from(r)).unwrap_or_default();
            v["recorded"] = recorded.into();
            v
        })
        .collect();
    out.extend(super::reports::past_runs(&st, &ids));
    Json(out)
}

/// `GET /runs/{id}`.
#[utoipa::path(get, path = "/runs/{id}", tag = "runs",
    params(("id" = String, Path, description = "Run id, e.g. run-1")),
    responses(
        (status = 200, description = "The run (a past run: as recorded, with `past: true`)", body = RunView),
        (status = 404, description = "Unknown run", body = ErrorBody),
    ))]
pub async fn run(
    State(st): State<ControlState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let recorded = st.reports.store.has(&id);
    match st.scenarios.runs.get(&id) {
        Ok(r) => {
            let mut v = serde_json::to_value(RunView::from(r)).unwrap_or_default();
            v["recorded"] = recorded.into();
            Ok(Json(v))
        }
        Err(e) => match super::reports::past_runs(&st, &[])
            .into_iter()
            .find(|v| v["id"] == id.as_str())
        {
            Some(v) => Ok(Json(v)),
            None => Err(e.into()),
        },
    }
}

/// `POST /runs/{id}/pause`: the timeline stops and the run's actions are paused.
#[utoipa::path(post, path = "/runs/{id}/pause", tag = "runs",
    params(("id" = String, Path, description = "Run id")),
    responses(
        (status = 200, description = "Paused", body = RunView),
        (status = 404, description = "Unknown run", body = ErrorBody),
        (status = 409, description = "Not running", body = ErrorBody),
    ))]
pub async fn pause(
    State(st): State<ControlState>,
    Path(id): Path<String>,
) -> Result<Json<RunView>, ApiError> {
    Ok(Json(st.scenarios.runs.pause(&id)?.into()))
}

/// `POST /runs/{id}/resume`.
#[utoipa::path(post, path = "/runs/{id}/resume", tag = "runs",
    params(("id" = String, Path, description = "Run id")),
    responses(
        (status = 200, description = "Resumed", body = RunView),
        (status = 404, description = "Unknown run", body = ErrorBody),
        (status = 409, description = "Not paused", body = ErrorBody),
    ))]
pub async fn resume(
    State(st): State<ControlState>,
    Path(id): Path<String>,
) -> Result<Json<RunView>, ApiError> {
    Ok(Json(st.scenarios.runs.resume(&id)?.into()))
}

/// `DELETE /runs/{id}`: stops the run and its actions; answers once they have cleaned up.
#[utoipa::path(delete, path = "/runs/{id}", tag = "runs",
    params(("id" = String, Path, description = "Run id")),
    responses(
        (status = 200, description = "Stopped", body = RunView),
        (status = 404, description = "Unknown run", body = ErrorBody),
        (status = 409, description = "Already ended", body = ErrorBody),
    ))]
pub async fn stop(
    State(st): State<ControlState>,
    Path(id): Path<String>,
) -> Result<Json<RunView>, ApiError> {
    Ok(Json(st.scenarios.runs.stop(&id).await?.into()))
}

/// This file's rows of the route table, in the order `GET /` lists them.
pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::new(
            routes!(list),
            "built-in and custom scenarios with their steps",
            "{addr}/scenarios",
        ),
        Route::new(
            routes!(schema_json),
            "the JSON Schema of scenario files",
            "{addr}/scenarios/schema.json",
        ),
        Route::new(
            routes!(get),
            "one scenario",
            "{addr}/scenarios/black-friday-rush",
        ),
        Route::new(
            routes!(put).layer(DefaultBodyLimit::max(MAX_BODY)),
            "add or replace a custom scenario (YAML or JSON body)",
            "-X PUT {addr}/scenarios/my-demo -H 'Content-Type: application/yaml' --data-binary @my-demo.yaml",
        ),
        Route::new(
            routes!(start),
            "start a run -> 201 (optional: speed, start_at = RFC 3339 time to begin, id = your run id)",
            "-X POST {addr}/scenarios/black-friday-rush/start",
        ),
        Route::new(
            routes!(runs),
            "runs with progress, current step, elapsed and remaining time",
            "{addr}/runs",
        ),
        Route::new(routes!(run), "one run", "{addr}/runs/run-1"),
        Route::new(
            routes!(pause),
            "pause a run",
            "-X POST {addr}/runs/run-1/pause",
        ),
        Route::new(
            routes!(resume),
            "resume a paused run",
            "-X POST {addr}/runs/run-1/resume",
        ),
        Route::new(
            routes!(stop),
            "stop a run and its actions",
            "-X DELETE {addr}/runs/run-1",
        ),
    ]
}
