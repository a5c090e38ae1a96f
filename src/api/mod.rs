//! The control API listener: routes only; handlers call into the action and scenario engines.

mod actions;
mod alerts;
mod auth;
mod browser;
mod config;
mod error;
mod events;
mod help;
mod limits;
pub mod openapi;
mod openapi_exact;
mod scenarios;
mod security;
mod stream;

pub use alerts::AlertMetrics;
pub use config::{ControlArgs, ControlConfig};
pub use error::ApiError;
pub use scenarios::ScenariosDoc;
pub use security::Security;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};

/// Shared state of the control API handlers.
#[derive(Clone)]
pub struct ControlState {
    /// The action engine.
    pub engine: crate::actions::Engine,
    /// The event log.
    pub events: crate::events::Events,
    /// `jolt_alert_notifications_total`, fed by `POST /alerts`.
    pub alerts: AlertMetrics,
    /// Token, rate and body limits.
    pub security: Security,
    /// The daemon's root token: cancelling it ends open event streams so shutdown is prompt.
    pub shutdown: tokio_util::sync::CancellationToken,
    /// Scenario catalog and runs.
    pub scenarios: crate::scenarios::Scenarios,
}

/// Builds the control router. Every route here must be in `openapi::ApiDoc` and
/// `help::ENDPOINTS` (tests check both).
pub fn router(state: ControlState) -> Router {
    let sec = state.security.clone();
    Router::new()
        .route("/", get(help::help))
        .route("/healthz", get(help::healthz))
        .route("/actions", get(actions::list).delete(actions::stop_all))
        .route(
            "/actions/{kind_or_id}",
            post(actions::start).get(actions::get).delete(actions::stop),
        )
        .route("/events", get(events::list))
        .route("/events/stream", get(stream::stream))
        .route("/alerts", post(alerts::receive))
        .route("/openapi.json", get(openapi::document))
        .route("/scenarios", get(scenarios::list))
        .route("/scenarios/schema.json", get(scenarios::schema_json))
        .route(
            "/scenarios/{name}",
            get(scenarios::get)
                .put(scenarios::put)
                .layer(DefaultBodyLimit::max(crate::scenarios::MAX_BODY)),
        )
        .route("/scenarios/{name}/start", post(scenarios::start))
        .route("/runs", get(scenarios::runs))
        .route("/runs/{id}", get(scenarios::run).delete(scenarios::stop))
        .route("/runs/{id}/pause", post(scenarios::pause))
        .route("/runs/{id}/resume", post(scenarios::resume))
        .fallback(|| async { ApiError::NotFound("no such endpoint; GET / lists them".into()) })
        // Outermost last: browser rules (Host, Origin), CORS (answers preflights, so they need
        // no token; outside the JSON rewrite so rewritten errors keep their CORS headers),
        // errors → JSON, then rate limit, then token, then body size.
        .layer(DefaultBodyLimit::max(sec.body_limit))
        .layer(from_fn_with_state(sec.auth, auth::require_token))
        .layer(from_fn_with_state(sec.rate, limits::per_client))
        .layer(from_fn(error::json_errors))
        .layer(browser::cors(&sec.browser))
        .layer(from_fn_with_state(sec.browser, browser::guard))
        .with_state(state)
}
