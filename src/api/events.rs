//! `/events` routes.

use super::{ApiError, ControlState};
use crate::events::Event;
use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;

/// Query of `GET /events`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SinceQuery {
    /// Return events with an id greater than this.
    #[serde(default)]
    pub since: u64,
}

/// `GET /events?since=ID`: the retained events after ID, oldest first.
pub async fn list(
    State(st): State<ControlState>,
    query: Result<Query<SinceQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<Event>>, ApiError> {
    let Query(q) = query.map_err(|e| ApiError::bad_field("since", e.body_text()))?;
    Ok(Json(st.events.since(q.since)))
}
