//! The metrics listener's HTTP side: `GET /metrics`, encoded as OpenMetrics or classic text
//! as the scraper's `Accept` header asks (the registry and encoders are `metrics`).

use crate::metrics::{Exposition, OPENMETRICS_CONTENT_TYPE, classic};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// True when the `Accept` header lists OpenMetrics with a non-zero quality.
pub fn wants_openmetrics(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|accept| {
            accept.split(',').any(|range| {
                let mut parts = range.split(';').map(str::trim);
                let media = parts.next().unwrap_or("");
                let q_zero = parts
                    .any(|p| p.strip_prefix("q=").and_then(|q| q.parse::<f64>().ok()) == Some(0.0));
                media.eq_ignore_ascii_case("application/openmetrics-text") && !q_zero
            })
        })
}

/// The router of the metrics listener: `GET /metrics`, nothing else.
pub fn router(exposition: Exposition) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .fallback(|| async {
            (
                StatusCode::NOT_FOUND,
                "jolt serves only GET /metrics here\n",
            )
        })
        .with_state(exposition)
}

/// Encodes where the async runtime allows blocking: collectors read files and may wait on a
/// slow `statfs` (at most its timeout). On the multi-threaded runtime `block_in_place` hands
/// this worker's other tasks to another thread and encodes right here, so the scrape does not
/// wait for a blocking-pool thread to be scheduled (on a busy host, that wait made the p99).
async fn scrape(State(exp): State<Exposition>, headers: HeaderMap) -> Response {
    use tokio::runtime::{Handle, RuntimeFlavor};
    let om = wants_openmetrics(&headers);
    let encode = move || if om { exp.openmetrics() } else { exp.classic() };
    let body = match Handle::current().runtime_flavor() {
        RuntimeFlavor::MultiThread => Ok(tokio::task::block_in_place(encode)),
        _ => tokio::task::spawn_blocking(encode).await,
    };
    match body {
        Ok(body) => {
            let ct = if om {
                OPENMETRICS_CONTENT_TYPE
            } else {
                classic::CONTENT_TYPE
            };
            ([(header::CONTENT_TYPE, ct)], body).into_response()
        }
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("scrape failed: {e}\n"),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn accept(v: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT, HeaderValue::from_static(v));
        h
    }

    #[test]
    fn negotiation_follows_accept() {
        assert!(wants_openmetrics(&accept(
            "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
        )));
        assert!(!wants_openmetrics(&accept("*/*")));
        assert!(!wants_openmetrics(&accept(
            "application/openmetrics-text;q=0"
        )));
        assert!(!wants_openmetrics(&HeaderMap::new()));
    }
}
