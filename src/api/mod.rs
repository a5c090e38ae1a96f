//! The control API listener: routes only; handlers call into the action and scenario engines.

mod config;
mod error;

pub use config::{ControlArgs, ControlConfig};
pub use error::ApiError;

use axum::Router;
use axum::routing::get;

/// Shared state of the control API handlers.
#[derive(Clone)]
pub struct ControlState {}

/// Builds the control router.
pub fn router(state: ControlState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .fallback(|| async { ApiError::NotFound("no such endpoint; GET / lists them".into()) })
        .with_state(state)
}
