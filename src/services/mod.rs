//! The simulated services listener that traffic actions hit.

use axum::Router;
use axum::http::StatusCode;
use axum::routing::get;

/// Builds the services router.
pub fn router() -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .fallback(|| async { (StatusCode::NOT_FOUND, "unknown service\n") })
}
