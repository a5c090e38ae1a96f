//! The routes of the services listener: `/svc/{name}/...` (any method, any path below it),
//! a cheap `/echo` for raw traffic benchmarks, and `/healthz`.

use super::Services;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};

/// Builds the services router.
pub fn router(services: Services) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/echo", get(echo).post(echo_body))
        .route("/svc/{name}", any(service))
        .route("/svc/{name}/", any(service))
        .route("/svc/{name}/{*rest}", any(service_rest))
        .fallback(|| async {
            not_found(
                "no such route on the services listener; try /svc/{name}/..., /echo or /healthz",
            )
        })
        .with_state(services)
}

/// As cheap as a route gets: a static body, nothing read.
async fn echo() -> &'static str {
    "ok\n"
}

/// Sends the request body back.
async fn echo_body(body: Bytes) -> Bytes {
    body
}

async fn service(State(s): State<Services>, Path(name): Path<String>) -> Response {
    answer(&s, &name).await
}

async fn service_rest(
    State(s): State<Services>,
    Path((name, _rest)): Path<(String, String)>,
) -> Response {
    answer(&s, &name).await
}

async fn answer(services: &Services, name: &str) -> Response {
    let Some(svc) = services.get(name) else {
        return not_found(&format!(
            "no simulated service `{name}` (known: {})",
            services.names().join(", ")
        ));
    };
    let (status, body): (StatusCode, Bytes) = svc.serve().await;
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// A 404 in the same JSON shape as the control API's errors, so one client parses both.
fn not_found(message: &str) -> Response {
    let body = serde_json::json!({ "error": "not_found", "message": message, "field": null });
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}
