//! `/actions` routes: start, list, get, stop one, stop all.

use super::routes::Route;
use super::{ApiError, ControlState};
use crate::actions::{ActionView, Kind, Params, Source};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use utoipa_axum::routes;

/// `POST /actions/{kind}`: parameters from a JSON body, a form body or the query string.
#[utoipa::path(post, path = "/actions/{kind}", tag = "actions",
    params(("kind" = String, Path, description = "cpu, memory, disk, traffic, network or fault")),
    request_body(content = Object, description = "The kind's parameters (see the per-kind operations); omitted ones take their defaults. Query parameters work too."),
    responses(
        (status = 201, description = "Started", body = super::schema::ActionView),
        (status = 400, description = "Malformed body, unknown parameter or wrong type", body = crate::api::error::ErrorBody),
        (status = 404, description = "Unknown kind", body = crate::api::error::ErrorBody),
        (status = 422, description = "Out of range or unsafe", body = crate::api::error::ErrorBody),
        (status = 429, description = "Too many active actions", body = crate::api::error::ErrorBody),
    ))]
pub async fn start(
    State(st): State<ControlState>,
    Path(kind): Path<String>,
    RawQuery(query): RawQuery,
    body: Bytes,
) -> Result<(StatusCode, Json<ActionView>), ApiError> {
    let kind = Kind::parse(&kind).map_err(ApiError::NotFound)?;
    let query = query.unwrap_or_default();
    let src = match (query.is_empty(), body.iter().all(u8::is_ascii_whitespace)) {
        (false, false) => {
            return Err(ApiError::BadRequest {
                message: "give parameters either as a body or as query parameters, not both".into(),
                field: None,
            });
        }
        (false, true) => Source::Query(&query),
        _ => Source::Body(&body),
    };
    let params = Params::parse(kind, src)?;
    let view = st.engine.start(params, None, None)?;
    st.engine.begun(&view.id).await;
    Ok((StatusCode::CREATED, Json(view)))
}

/// `GET /actions`.
#[utoipa::path(get, path = "/actions", tag = "actions",
    responses((status = 200, description = "Active actions first, then recently finished ones", body = Vec<super::schema::ActionView>)))]
pub async fn list(State(st): State<ControlState>) -> Json<Vec<ActionView>> {
    Json(st.engine.list())
}

/// `GET /actions/{id}`.
#[utoipa::path(get, path = "/actions/{id}", tag = "actions",
    params(("id" = String, Path, description = "Action id, e.g. cpu-1")),
    responses(
        (status = 200, description = "The action", body = super::schema::ActionView),
        (status = 404, description = "Unknown id", body = crate::api::error::ErrorBody),
    ))]
pub async fn get(
    State(st): State<ControlState>,
    Path(id): Path<String>,
) -> Result<Json<ActionView>, ApiError> {
    Ok(Json(st.engine.get(&id)?))
}

/// `DELETE /actions/{id}`: 200 with the stopped action once it has cleaned up.
#[utoipa::path(delete, path = "/actions/{id}", tag = "actions",
    params(("id" = String, Path, description = "Action id, e.g. cpu-1")),
    responses(
        (status = 200, description = "Stopped and cleaned up", body = super::schema::ActionView),
        (status = 404, description = "Unknown id", body = crate::api::error::ErrorBody),
        (status = 409, description = "Already ended", body = crate::api::error::ErrorBody),
    ))]
pub async fn stop(
    State(st): State<ControlState>,
    Path(id): Path<String>,
) -> Result<Json<ActionView>, ApiError> {
    Ok(Json(st.engine.stop(&id).await?))
}

/// `DELETE /actions`: `{"stopped": n}`.
#[utoipa::path(delete, path = "/actions", tag = "actions",
    responses((status = 200, description = "`{\"stopped\": n}`")))]
pub async fn stop_all(State(st): State<ControlState>) -> Json<Value> {
    Json(json!({ "stopped": st.engine.stop_all().await }))
}

/// This file's rows of the route table, in the order `GET /` lists them.
pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::new(
            routes!(start),
            "start an action (cpu, memory, disk, traffic, network, fault) -> 201",
            "-X POST {addr}/actions/cpu -d '{\"percent\": 90, \"duration\": \"10s\"}'",
        ),
        Route::new(
            routes!(list),
            "active actions, then recently finished ones",
            "{addr}/actions",
        ),
        Route::new(routes!(get), "one action", "{addr}/actions/cpu-1"),
        Route::new(
            routes!(stop),
            "stop one (409 if it already ended)",
            "-X DELETE {addr}/actions/cpu-1",
        ),
        Route::new(
            routes!(stop_all),
            "stop all -> {\"stopped\": n}",
            "-X DELETE {addr}/actions",
        ),
    ]
}
