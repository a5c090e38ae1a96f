//! The control router in-process: the daemon's own wiring (`server::wire`) and router, called
//! with `tower::ServiceExt::oneshot` (no socket, no process). Every route × bad inputs answers
//! its status and the JSON error shape `{error, message, field}`; every route of the table is
//! served, documented and listed. Listener limits and the browser guard over TCP stay in
//! tests/it (listener_limits.rs, browser_chromium.rs, api.rs).

use crate::config::Config;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, Request, StatusCode};
use serde_json::Value;
use std::net::SocketAddr;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// A wired control router; its background tasks stop when it is dropped.
struct App {
    /// The router as the daemon serves it.
    router: Router,
    /// Cancels the engines' and samplers' tasks on drop.
    root: CancellationToken,
    /// The state directory (scenarios, scratch files).
    _dir: tempfile::TempDir,
}

impl Drop for App {
    fn drop(&mut self) {
        self.root.cancel();
    }
}

/// The address the requests name in `Host`, as a client of the default listener would.
const HOST: &str = "127.0.0.1:9478";

/// The daemon's control router with the default config, changed by `tune`.
fn app(tune: impl FnOnce(&mut Config)) -> App {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config {
        state_dir: dir.path().to_owned(),
        ..Config::default()
    };
    // The table sends many requests from one (absent) peer; the limit has its own test.
    config.control.rate_limit = 0.0;
    tune(&mut config);
    let root = CancellationToken::new();
    let control: SocketAddr = HOST.parse().unwrap();
    let services: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let wired = crate::server::wire(&config, control, services, &root, &TaskTracker::new())
        .expect("wiring the daemon");
    App {
        router: super::router(wired.control),
        root,
        _dir: dir,
    }
}

/// One answer: status, headers and the body (JSON when it parses, else a string).
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Value,
}

async fn call(app: &App, method: &str, uri: &str, body: &str, headers: &[(&str, &str)]) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    if !headers.iter().any(|(k, _)| *k == "host") {
        req = req.header("host", HOST);
    }
    if !body.is_empty() {
        req = req.header("content-type", "application/json");
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Body::from(body.to_owned())).unwrap();
    let resp = app.router.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = to_bytes(resp.into_body(), 1 << 20).await.unwrap();
    let body = serde_json::from_slice(&bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Answer {
        status,
        headers,
        body,
    }
}

/// Asserts the JSON error shape: `error` is `code`, `message` a non-empty sentence, `field`
/// the named field or null; and the content type is JSON.
fn assert_error(what: &str, a: &Answer, status: u16, code: &str, field: Option<&str>) {
    assert_eq!(a.status.as_u16(), status, "{what}: {}", a.body);
    assert_eq!(a.body["error"], code, "{what}: {}", a.body);
    let message = a.body["message"].as_str().unwrap_or("");
    assert!(!message.is_empty(), "{what}: no message in {}", a.body);
    match field {
        Some(f) => assert_eq!(a.body["field"], f, "{what}: {}", a.body),
        None => assert!(a.body["field"].is_null(), "{what}: {}", a.body),
    }
    let ct = a.headers.get("content-type").and_then(|v| v.to_str().ok());
    assert_eq!(ct, Some("application/json"), "{what}");
}

/// One bad request and its answer: (method, path, body, status, error code, field).
type Case = (
    &'static str,
    &'static str,
    &'static str,
    u16,
    &'static str,
    Option<&'static str>,
);

/// Bad requests to every route that takes input.
#[rustfmt::skip]
const ERROR_TABLE: &[Case] = &[
    // POST /actions/{kind}: shape errors are 400, range errors 422, unknown kinds 404.
    ("POST", "/actions/cpu", "{\"percent\": ", 400, "bad_request", None),
    ("POST", "/actions/cpu", "[1, 2]", 400, "bad_request", None),
    ("POST", "/actions/cpu", r#"{"bogus": 1}"#, 400, "bad_request", Some("bogus")),
    ("POST", "/actions/cpu", r#"{"percent": "lots"}"#, 400, "bad_request", Some("percent")),
    ("POST", "/actions/cpu", r#"{"duration": true}"#, 400, "bad_request", Some("duration")),
    ("POST", "/actions/cpu", r#"{"percent": -5}"#, 422, "unprocessable", Some("percent")),
    ("POST", "/actions/cpu", r#"{"percent": 1e300}"#, 422, "unprocessable", Some("percent")),
    ("POST", "/actions/cpu", r#"{"duration": -1}"#, 422, "unprocessable", Some("duration")),
    ("POST", "/actions/cpu", r#"{"duration": 1e12}"#, 422, "unprocessable", Some("duration")),
    ("POST", "/actions/cpu?percent=50", "{}", 400, "bad_request", None),
    ("POST", "/actions/memory", r#"{"size": "lots"}"#, 400, "bad_request", Some("size")),
    ("POST", "/actions/fault", r#"{"service": "nope"}"#, 422, "unprocessable", Some("service")),
    ("POST", "/actions/warp", "{}", 404, "not_found", None),
    // /actions/{id}
    ("GET", "/actions/cpu-999", "", 404, "not_found", None),
    ("DELETE", "/actions/cpu-999", "", 404, "not_found", None),
    ("PUT", "/actions", "", 405, "method_not_allowed", None),
    ("PATCH", "/actions/cpu-1", "", 405, "method_not_allowed", None),
    // events
    ("GET", "/events?since=abc", "", 400, "bad_request", Some("since")),
    ("GET", "/events/stream?since=-1", "", 400, "bad_request", Some("since")),
    ("PATCH", "/events", "", 405, "method_not_allowed", None),
    // the webhook
    ("POST", "/alerts", "not json", 400, "bad_request", None),
    ("POST", "/alerts", r#"{"version": "4"}"#, 400, "bad_request", None),
    ("GET", "/alerts", "", 405, "method_not_allowed", None),
    // scenarios and runs
    ("GET", "/scenarios/no-such-scenario", "", 404, "not_found", None),
    ("POST", "/scenarios/no-such-scenario/start", "", 404, "not_found", None),
    ("PUT", "/scenarios/my-demo", "steps: [", 400, "bad_request", Some("steps")),
    ("DELETE", "/scenarios/my-demo", "", 405, "method_not_allowed", None),
    ("GET", "/runs/run-999", "", 404, "not_found", None),
    ("POST", "/runs/run-999/pause", "", 404, "not_found", None),
    ("POST", "/runs/run-999/resume", "", 404, "not_found", None),
    ("DELETE", "/runs/run-999", "", 404, "not_found", None),
    // anything else
    ("GET", "/nope", "", 404, "not_found", None),
    ("POST", "/openapi.json", "", 405, "method_not_allowed", None),
];

#[tokio::test]
async fn every_route_answers_bad_input_with_its_status_and_a_json_error() {
    let app = app(|_| {});
    for (method, path, body, status, code, field) in ERROR_TABLE {
        let a = call(&app, method, path, body, &[]).await;
        assert_error(
            &format!("{method} {path} {body}"),
            &a,
            *status,
            code,
            *field,
        );
    }
    // Nothing was started by any of them.
    let actions = call(&app, "GET", "/actions", "", &[]).await;
    assert_eq!(actions.body, serde_json::json!([]));
    let runs = call(&app, "GET", "/runs", "", &[]).await;
    assert_eq!(runs.body, serde_json::json!([]));
}

#[tokio::test]
async fn a_wrong_method_lists_the_allowed_ones() {
    let app = app(|_| {});
    let a = call(&app, "PUT", "/actions", "", &[]).await;
    let allow = a.headers.get("allow").and_then(|v| v.to_str().ok());
    let allow = allow.unwrap_or("");
    assert!(
        allow.contains("GET") && allow.contains("DELETE"),
        "{allow:?}"
    );
    assert!(
        a.body["message"].as_str().unwrap().contains("/actions"),
        "{}",
        a.body
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let app = app(|c| c.control.body_limit = crate::units::SizeSpec::Bytes(1024));
    let big = format!("{{\"percent\": 50, \"pad\": \"{}\"}}", "x".repeat(4096));
    let a = call(&app, "POST", "/actions/cpu", &big, &[]).await;
    assert_error("big body", &a, 413, "payload_too_large", None);
    // A scenario may be larger than the general limit (its own cap applies).
    let scenario = format!("# {}\nsteps: [", "x".repeat(4096));
    let a = call(&app, "PUT", "/scenarios/my-demo", &scenario, &[]).await;
    assert_error("scenario body", &a, 400, "bad_request", Some("steps"));
}

#[tokio::test]
async fn with_a_token_every_route_but_healthz_needs_it() {
    let app = app(|c| c.control.token = Some("s3cret".into()));
    let a = call(&app, "GET", "/actions", "", &[]).await;
    assert_error("no token", &a, 401, "unauthorized", None);
    assert!(a.headers.contains_key("www-authenticate"));
    let wrong = [("authorization", "Bearer nope")];
    let a = call(&app, "POST", "/actions/cpu", "{}", &wrong).await;
    assert_error("wrong token", &a, 401, "unauthorized", None);
    let right = [("authorization", "Bearer s3cret")];
    let a = call(&app, "GET", "/actions", "", &right).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    let a = call(&app, "GET", "/healthz", "", &[]).await;
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn over_the_rate_a_client_gets_429_with_retry_after() {
    let app = app(|c| {
        c.control.rate_limit = 0.001;
        c.control.rate_burst = 2;
    });
    for _ in 0..2 {
        let a = call(&app, "GET", "/actions", "", &[]).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.body);
    }
    let a = call(&app, "GET", "/actions", "", &[]).await;
    assert_error("third request", &a, 429, "too_many_requests", None);
    let retry: u64 = a.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1);
    // The liveness probe is exempt.
    let a = call(&app, "GET", "/healthz", "", &[]).await;
    assert_eq!(a.status, StatusCode::OK);
}

#[tokio::test]
async fn a_page_from_another_origin_is_refused_with_403() {
    let app = app(|_| {});
    let evil = [("origin", "http://evil.example")];
    let a = call(&app, "POST", "/actions/cpu", "{}", &evil).await;
    assert_error("foreign origin", &a, 403, "forbidden", None);
    let a = call(
        &app,
        "GET",
        "/actions",
        "",
        &[("host", "rebind.example:9478")],
    )
    .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN, "{}", a.body);
    let a = call(&app, "GET", "/actions", "", &[]).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.body);
}

/// Every row of the route table is served (no 404/405 from the router), documented in the
/// served OpenAPI document and listed by `GET /`.
#[tokio::test]
async fn every_route_of_the_table_is_served_documented_and_listed() {
    let app = app(|_| {});
    let doc = call(&app, "GET", "/openapi.json", "", &[]).await.body;
    let help = call(&app, "GET", "/", "", &[]).await.body;
    let help = help.as_str().unwrap_or_default().to_owned();
    let lines = super::routes::help(&super::table());
    assert!(lines.len() >= 21, "{} routes", lines.len());
    for line in &lines {
        let route = format!("{} {}", line.method, line.path);
        assert!(help.contains(&route), "{route} missing from GET /");
        let method = line.method.to_lowercase();
        if line.path == "/actions/{kind}" {
            // The served document has one operation per kind instead.
            for kind in crate::actions::Kind::ALL {
                let op = &doc["paths"][format!("/actions/{kind}")][&method];
                assert!(op.is_object(), "{route}: {kind} missing from /openapi.json");
            }
        } else {
            let op = &doc["paths"][&line.path][&method];
            assert!(op.is_object(), "{route} missing from /openapi.json");
        }
        // A concrete request the router matches: any answer but the fallback's 404 or 405.
        let path = line
            .path
            .replace("{kind}", "cpu")
            .replace('{', "x")
            .replace('}', "");
        let body = if line.method == "POST" || line.method == "PUT" {
            "not json"
        } else {
            ""
        };
        if path == "/events/stream" {
            continue; // an endless stream; its 400 is in the error table
        }
        let a = call(&app, line.method, &path, body, &[]).await;
        let fallback = a.status == StatusCode::METHOD_NOT_ALLOWED
            || (a.status == StatusCode::NOT_FOUND
                && a.body["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("no such endpoint"));
        assert!(!fallback, "{route}: {} {}", a.status, a.body);
    }
}
