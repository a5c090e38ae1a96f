//! The control API listener: routes only; handlers call into the action and scenario engines.

mod actions;
mod alerts;
mod auth;
mod browser;
mod error;
mod events;
mod help;
mod limits;
pub mod openapi;
mod openapi_exact;
mod reports;
#[cfg(test)]
mod router_tests;
mod routes;
mod scenario_views;
mod scenarios;
mod schema;
pub mod scrape;
mod security;
mod stream;

pub use crate::control::{ControlArgs, ControlConfig, ControlConfigError};
pub use alerts::AlertMetrics;
pub use error::ApiError;
pub use scenario_views::run_json;
pub use scenarios::ScenariosDoc;
pub use security::Security;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use routes::Route;

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
    /// Run bundles and their reports.
    pub reports: crate::reports::Reports,
}

/// Every route of the control API, in the order `GET /` lists them: each route file owns its
/// rows (`routes.rs` says what a row holds); a new route file adds its `routes()` here.
fn table() -> Vec<Route> {
    [
        help::routes(),
        actions::routes(),
        scenarios::routes(),
        reports::routes(),
        events::routes(),
        stream::routes(),
        alerts::routes(),
        openapi::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Builds the control router from [`table`]; the OpenAPI document and `GET /` come from the
/// same rows.
pub fn router(state: ControlState) -> Router {
    let sec = state.security.clone();
    let rows = table();
    let env = state.engine.env();
    let published = std::sync::Arc::new(routes::Published {
        help: routes::help(&rows),
        document: openapi::served(&rows, &env.services.names(), &env.config),
    });
    routes::router(&rows)
        .layer(axum::Extension(published))
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
