//! The API's self-description for people: `GET /` (every endpoint with a curl example) and
//! `GET /healthz` (liveness, open even when a token is set).

use super::ControlState;
use axum::extract::State;
use axum::http::{HeaderMap, header};

/// One line of the help: method, path, what it does, and the curl arguments of an example
/// (`{addr}` is replaced by the address the client used).
pub struct Endpoint {
    /// HTTP method.
    pub method: &'static str,
    /// Path, with `{name}` placeholders as the router has them.
    pub path: &'static str,
    /// What it does.
    pub does: &'static str,
    /// curl arguments after `curl`.
    pub example: &'static str,
}

/// Every endpoint of the control API (docs/architecture.md), in the order `GET /` lists them.
/// Add new routes here too: the help and the OpenAPI tests read this list.
pub const ENDPOINTS: &[Endpoint] = &[
    ep("GET", "/", "this help", "{addr}/"),
    ep(
        "GET",
        "/healthz",
        "200 when serving (no token needed)",
        "{addr}/healthz",
    ),
    ep(
        "POST",
        "/actions/{kind}",
        "start an action (cpu, memory, disk, traffic, network, fault) -> 201",
        "-X POST {addr}/actions/cpu -d '{\"percent\": 90, \"duration\": \"10s\"}'",
    ),
    ep(
        "GET",
        "/actions",
        "active actions, then recently finished ones",
        "{addr}/actions",
    ),
    ep("GET", "/actions/{id}", "one action", "{addr}/actions/cpu-1"),
    ep(
        "DELETE",
        "/actions/{id}",
        "stop one (409 if it already ended)",
        "-X DELETE {addr}/actions/cpu-1",
    ),
    ep(
        "DELETE",
        "/actions",
        "stop all -> {\"stopped\": n}",
        "-X DELETE {addr}/actions",
    ),
    ep(
        "GET",
        "/scenarios",
        "built-in and custom scenarios with their steps",
        "{addr}/scenarios",
    ),
    ep(
        "GET",
        "/scenarios/schema.json",
        "the JSON Schema of scenario files",
        "{addr}/scenarios/schema.json",
    ),
    ep(
        "GET",
        "/scenarios/{name}",
        "one scenario",
        "{addr}/scenarios/black-friday-rush",
    ),
    ep(
        "PUT",
        "/scenarios/{name}",
        "add or replace a custom scenario (YAML or JSON body)",
        "-X PUT {addr}/scenarios/my-demo -H 'Content-Type: application/yaml' --data-binary @my-demo.yaml",
    ),
    ep(
        "POST",
        "/scenarios/{name}/start",
        "start a run -> 201 (optional: speed, start_at = RFC 3339 time to begin, id = your run id)",
        "-X POST {addr}/scenarios/black-friday-rush/start",
    ),
    ep(
        "GET",
        "/runs",
        "runs with progress, current step, elapsed and remaining time",
        "{addr}/runs",
    ),
    ep("GET", "/runs/{id}", "one run", "{addr}/runs/run-1"),
    ep(
        "POST",
        "/runs/{id}/pause",
        "pause a run",
        "-X POST {addr}/runs/run-1/pause",
    ),
    ep(
        "POST",
        "/runs/{id}/resume",
        "resume a paused run",
        "-X POST {addr}/runs/run-1/resume",
    ),
    ep(
        "DELETE",
        "/runs/{id}",
        "stop a run and its actions",
        "-X DELETE {addr}/runs/run-1",
    ),
    ep(
        "GET",
        "/events",
        "the event log (?since=ID for the ones after ID)",
        "{addr}/events?since=0",
    ),
    ep(
        "GET",
        "/events/stream",
        "the event log as server-sent events (Last-Event-ID or ?since=ID resumes)",
        "-N {addr}/events/stream",
    ),
    ep(
        "POST",
        "/alerts",
        "Alertmanager webhook receiver: notifications become events",
        "-X POST {addr}/alerts -d @notification.json",
    ),
    ep(
        "GET",
        "/openapi.json",
        "the OpenAPI document of this API",
        "{addr}/openapi.json",
    ),
];

const fn ep(
    method: &'static str,
    path: &'static str,
    does: &'static str,
    example: &'static str,
) -> Endpoint {
    Endpoint {
        method,
        path,
        does,
        example,
    }
}

/// `GET /`.
#[utoipa::path(get, path = "/", tag = "meta",
    responses((status = 200, description = "Plain-text help: every endpoint with a curl example", content_type = "text/plain", body = String)))]
pub async fn help(State(st): State<ControlState>, headers: HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:9478");
    render(host, st.security.auth.enabled())
}

/// `GET /healthz`.
#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, description = "`ok`: the control API is serving", content_type = "text/plain", body = String)))]
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// The help text for a client that reached us as `host`.
pub fn render(host: &str, token: bool) -> String {
    let auth = if token {
        "This daemon requires a bearer token on every request except /healthz:\n  \
         add -H \"Authorization: Bearer $JOLT_CONTROL_TOKEN\" to each curl below.\n"
    } else {
        "No token is configured (loopback only); /healthz never needs one.\n"
    };
    let mut out = format!(
        "jolt control API\n\n\
         Parameters come as a JSON body or as query parameters; an empty request uses the defaults.\n\
         Errors are JSON {{\"error\", \"message\", \"field\"}}. {auth}\n"
    );
    let width = ENDPOINTS
        .iter()
        .map(|e| e.method.len() + e.path.len() + 1)
        .max()
        .unwrap_or(0);
    for e in ENDPOINTS {
        let route = format!("{} {}", e.method, e.path);
        let example = e.example.replace("{addr}", host);
        out.push_str(&format!(
            "{route:<width$}  {}\n{:<width$}  curl {example}\n",
            e.does, ""
        ));
    }
    out.push_str(
        "\nThe same from the command line: jolt action cpu --percent 90 --duration 10s, jolt actions,\n\
         jolt stop ID|--all, jolt events --follow (see jolt --help).\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint_has_a_curl_example_for_this_host() {
        let text = render("10.0.0.1:1234", false);
        for e in ENDPOINTS {
            assert!(
                text.contains(&format!("{} {}", e.method, e.path)),
                "{}",
                e.path
            );
        }
        assert_eq!(text.matches("curl ").count(), ENDPOINTS.len());
        assert!(text.contains("curl -X POST 10.0.0.1:1234/actions/cpu"));
        assert!(render("h", true).contains("Authorization: Bearer"));
    }
}
