//! The API's self-description for people: `GET /` (every endpoint with a curl example) and
//! `GET /healthz` (liveness, open even when a token is set).

use super::ControlState;
use super::routes::{HelpLine, Published, Route};
use axum::Extension;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use std::sync::Arc;
use utoipa_axum::routes;

/// This file's rows of the route table (they come first in `GET /`).
pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::new(routes!(help), "this help", "{addr}/"),
        Route::new(
            routes!(healthz),
            "200 when serving (no token needed)",
            "{addr}/healthz",
        ),
    ]
}

/// `GET /`.
#[utoipa::path(get, path = "/", tag = "meta",
    responses((status = 200, description = "Plain-text help: every endpoint with a curl example", content_type = "text/plain", body = String)))]
pub async fn help(
    State(st): State<ControlState>,
    Extension(published): Extension<Arc<Published>>,
    headers: HeaderMap,
) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1:9478");
    render(&published.help, host, st.security.auth.enabled())
}

/// `GET /healthz`.
#[utoipa::path(get, path = "/healthz", tag = "meta",
    responses((status = 200, description = "`ok`: the control API is serving", content_type = "text/plain", body = String)))]
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// The help text of `lines` for a client that reached us as `host`.
pub fn render(lines: &[HelpLine], host: &str, token: bool) -> String {
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
    let width = lines
        .iter()
        .map(|e| e.method.len() + e.path.len() + 1)
        .max()
        .unwrap_or(0);
    for e in lines {
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
        let lines = super::super::routes::help(&super::super::table());
        let text = render(&lines, "10.0.0.1:1234", false);
        for e in &lines {
            assert!(
                text.contains(&format!("{} {}", e.method, e.path)),
                "{}",
                e.path
            );
        }
        assert_eq!(text.matches("curl ").count(), lines.len());
        assert!(lines.len() >= 21, "{} lines", lines.len());
        assert!(text.contains("curl -X POST 10.0.0.1:1234/actions/cpu"));
        assert!(render(&lines, "h", true).contains("Authorization: Bearer"));
    }
}
