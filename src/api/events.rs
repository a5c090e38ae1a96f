//! `/events` routes.

use super::routes::Route;
use super::{ApiError, ControlState};
use crate::events::Event;
use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;
use utoipa_axum::routes;

/// Query of `GET /events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinceQuery {
    /// Return events with an id greater than this.
    #[serde(default)]
    pub since: u64,
}

/// `GET /events?since=ID`: the retained events after ID, oldest first.
#[utoipa::path(get, path = "/events", tag = "events",
    params(("since" = Option<u64>, Query, description = "Only events with a greater id")),
    responses(
        (status = 200, description = "Retained events (the last 500), oldest first", body = Vec<super::schema::Event>),
        (status = 400, description = "since is not a number", body = crate::api::error::ErrorBody),
    ))]
pub async fn list(
    State(st): State<ControlState>,
    query: Result<Query<SinceQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<Event>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_field("since", e.body_text()))?;
    Ok(Json(st.events.since(q.since)))
}

/// This file's rows of the route table.
pub(super) fn routes() -> Vec<Route> {
    vec![Route::new(
        routes!(list),
        "the event log (?since=ID for the ones after ID)",
        "{addr}/events?since=0",
    )]
}
