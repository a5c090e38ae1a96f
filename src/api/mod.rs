//! The control API listener: routes only; handlers call into the action and scenario engines.

mod actions;
mod config;
mod error;
mod events;

pub use config::{ControlArgs, ControlConfig};
pub use error::ApiError;

use axum::Router;
use axum::routing::{get, post};

/// Shared state of the control API handlers.
#[derive(Clone)]
pub struct ControlState {
    /// The action engine.
    pub engine: crate::actions::Engine,
    /// The event log.
    pub events: crate::events::Events,
}

/// Builds the control router.
pub fn router(state: ControlState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/actions", get(actions::list).delete(actions::stop_all))
        .route(
            "/actions/{kind_or_id}",
            post(actions::start).get(actions::get).delete(actions::stop),
        )
        .route("/events", get(events::list))
        .fallback(|| async { ApiError::NotFound("no such endpoint; GET / lists them".into()) })
        .with_state(state)
}
