//! `/actions` routes: start, list, get, stop one, stop all.

use super::{ApiError, ControlState};
use crate::actions::{ActionView, Kind, Params, Source};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

/// `POST /actions/{kind}`: parameters from a JSON body, a form body or the query string.
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
    Ok((StatusCode::CREATED, Json(view)))
}

/// `GET /actions`.
pub async fn list(State(st): State<ControlState>) -> Json<Vec<ActionView>> {
    Json(st.engine.list())
}

/// `GET /actions/{id}`.
pub async fn get(
    State(st): State<ControlState>,
    Path(id): Path<String>,
) -> Result<Json<ActionView>, ApiError> {
    st.engine.get(&id).map(Json)
}

/// `DELETE /actions/{id}`: 200 with the stopped action once it has cleaned up.
pub async fn stop(
    State(st): State<ControlState>,
    Path(id): Path<String>,
) -> Result<Json<ActionView>, ApiError> {
    st.engine.stop(&id).await.map(Json)
}

/// `DELETE /actions`: `{"stopped": n}`.
pub async fn stop_all(State(st): State<ControlState>) -> Json<Value> {
    Json(json!({ "stopped": st.engine.stop_all().await }))
}
