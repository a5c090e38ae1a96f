//! The control API's surface over real HTTP: bad inputs get the right status and the JSON
//! error and change nothing; every served route is in the OpenAPI document and the help.

use crate::common;
use crate::control;

use common::Daemon;
use control::{call, get, post_json};
use serde_json::Value;

fn actions(d: &Daemon) -> Value {
    let r = get(&d.control_url("/actions"));
    assert_eq!(r.status, 200);
    r.json()
}

#[test]
fn bad_inputs_get_json_errors_and_change_nothing() {
    let d = Daemon::start(&[]);
    let before = actions(&d);
    let events_before = get(&d.control_url("/events")).json();
    let cpu = d.control_url("/actions/cpu");

    // (request, status, code, field)
    let cases: Vec<(control::Resp, u16, &str, Option<&str>)> = vec![
        (post_json(&cpu, "{\"percent\": "), 400, "bad_request", None),
        (post_json(&cpu, "[1, 2]"), 400, "bad_request", None),
        (
            post_json(&cpu, r#"{"bogus": 1}"#),
            400,
            "bad_request",
            Some("bogus"),
        ),
        (
            post_json(&cpu, r#"{"percent": "lots"}"#),
            400,
            "bad_request",
            Some("percent"),
        ),
        (
            post_json(&cpu, r#"{"duration": true}"#),
            400,
            "bad_request",
            Some("duration"),
        ),
        (
            post_json(&cpu, r#"{"percent": -5}"#),
            422,
            "unprocessable",
            Some("percent"),
        ),
        (
            post_json(&cpu, r#"{"percent": 1e300}"#),
            422,
            "unprocessable",
            Some("percent"),
        ),
        (
            post_json(&cpu, r#"{"duration": -1}"#),
            422,
            "unprocessable",
            Some("duration"),
        ),
        (
            post_json(&cpu, r#"{"duration": 1e12}"#),
            422,
            "unprocessable",
            Some("duration"),
        ),
        (
            call("POST", &format!("{cpu}?percent=50"), Some(b"{}"), &[]),
            400,
            "bad_request",
            None,
        ),
        (
            post_json(&d.control_url("/actions/warp"), "{}"),
            404,
            "not_found",
            None,
        ),
        (
            get(&d.control_url("/actions/cpu-999")),
            404,
            "not_found",
            None,
        ),
        (
            call("DELETE", &d.control_url("/actions/cpu-999"), None, &[]),
            404,
            "not_found",
            None,
        ),
        (get(&d.control_url("/nope")), 404, "not_found", None),
        (
            call("PUT", &d.control_url("/actions"), None, &[]),
            405,
            "method_not_allowed",
            None,
        ),
        (
            call("PATCH", &d.control_url("/events"), None, &[]),
            405,
            "method_not_allowed",
            None,
        ),
        (
            get(&d.control_url("/events?since=abc")),
            400,
            "bad_request",
            Some("since"),
        ),
        (
            get(&d.control_url("/events/stream?since=-1")),
            400,
            "bad_request",
            Some("since"),
        ),
    ];
    for (i, (resp, status, code, field)) in cases.into_iter().enumerate() {
        let msg = resp.assert_error(status, code);
        if let Some(f) = field {
            assert_eq!(resp.json()["field"], f, "case {i}: {}", resp.body);
        }
        assert!(msg.len() > 10, "case {i}: message too terse: {msg}");
    }
    assert_eq!(actions(&d), before, "bad requests must not start anything");
    let events_after = get(&d.control_url("/events")).json();
    let new: Vec<&Value> = events_after
        .as_array()
        .unwrap()
        .iter()
        .skip(events_before.as_array().unwrap().len())
        .collect();
    assert!(
        new.iter().all(|e| e["type"] == "action_refused"),
        "only refusals may be recorded: {new:?}"
    );
}

#[test]
fn wrong_method_names_the_path() {
    let d = Daemon::start(&[]);
    let r = call("POST", &d.control_url("/events"), None, &[]);
    let msg = r.assert_error(405, "method_not_allowed");
    assert!(msg.contains("POST") && msg.contains("/events"), "{msg}");
    assert_eq!(r.header("allow"), Some("GET,HEAD"));
}

#[test]
fn help_lists_every_endpoint_with_curl() {
    let d = Daemon::start(&[]);
    let r = get(&d.control_url("/"));
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    for route in [
        "POST /actions/{kind}",
        "GET /events/stream",
        "POST /alerts",
        "GET /openapi.json",
        "POST /scenarios/{name}/start",
        "DELETE /runs/{id}",
    ] {
        assert!(
            r.body.contains(route),
            "{route} missing from help:\n{}",
            r.body
        );
    }
    let host = d.control.to_string();
    assert!(
        r.body.contains(&format!("curl -X POST {host}/actions/cpu")),
        "{}",
        r.body
    );
}

/// `(method, path)` of every line of `GET /` that starts with a method.
fn help_routes(help: &str) -> Vec<(String, String)> {
    help.lines()
        .filter_map(|l| {
            let mut parts = l.split_whitespace();
            let m = parts.next()?;
            let p = parts.next()?;
            ["GET", "POST", "PUT", "DELETE"]
                .contains(&m)
                .then(|| (m.to_string(), p.to_string()))
        })
        .collect()
}

/// A concrete path for a template: parameters get values no resource has, so probing them
/// starts nothing.
fn concrete(path: &str) -> String {
    path.replace("{kind}", "no-such-kind")
        .replace("{id}", "no-such-id")
        .replace("{name}", "no-such-name")
}

/// True when the router has a handler for this method and path (not the fallback, not 405).
fn served(d: &Daemon, method: &str, path: &str) -> bool {
    let url = d.control_url(&concrete(path));
    let mut req = ureq::http::Request::builder().method(method).uri(&url);
    if method != "GET" && method != "DELETE" {
        req = req.header("Content-Type", "application/json");
    }
    let body = if method == "POST" || method == "PUT" {
        "{}"
    } else {
        ""
    };
    let resp = common::agent()
        .run(req.body(body.to_string()).unwrap())
        .expect("request");
    let status = resp.status().as_u16();
    let streaming = resp
        .headers()
        .get("content-type")
        .is_some_and(|c| c.as_bytes().starts_with(b"text/event-stream"));
    if streaming {
        return status == 200;
    }
    let text = resp.into_body().read_to_string().unwrap_or_default();
    let fallback = status == 404 && text.contains("no such endpoint");
    !(fallback || status == 405)
}

#[test]
fn openapi_documents_every_served_route() {
    let d = Daemon::start(&[]);
    let r = get(&d.control_url("/openapi.json"));
    assert_eq!(r.status, 200);
    let doc = r.json();
    assert!(
        doc["openapi"].as_str().unwrap().starts_with('3'),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    let mut documented = Vec::new();
    // The document has one `POST /actions/<kind>` per kind (each with its own parameter
    // schema) where the help has `POST /actions/{kind}`.
    let kinds = ["cpu", "memory", "disk", "traffic", "network", "fault"];
    let per_kind = kinds
        .iter()
        .filter(|k| paths.contains_key(&format!("/actions/{k}")))
        .count();
    assert_eq!(per_kind, kinds.len(), "one POST per kind");
    for (path, item) in paths {
        let path = match path.strip_prefix("/actions/") {
            Some(k) if kinds.contains(&k) => "/actions/{kind}".to_string(),
            _ => path.clone(),
        };
        for method in ["get", "post", "put", "delete"] {
            let entry = (method.to_uppercase(), path.clone());
            if item.get(method).is_some() && !documented.contains(&entry) {
                documented.push(entry);
            }
        }
    }
    // Everything documented is really served...
    for (m, p) in &documented {
        assert!(served(&d, m, p), "{m} {p} is documented but not served");
    }
    // ...and everything the help lists that the router serves is documented.
    let help = get(&d.control_url("/")).body;
    let listed = help_routes(&help);
    assert!(listed.len() >= 12, "{listed:?}");
    for (m, p) in &listed {
        if served(&d, m, p) {
            assert!(
                documented.contains(&(m.clone(), p.clone())),
                "{m} {p} is served but missing from /openapi.json"
            );
        }
    }
    for (m, p) in &documented {
        assert!(
            listed.contains(&(m.clone(), p.clone())),
            "{m} {p} missing from GET / help"
        );
    }
    assert_eq!(
        actions(&d),
        serde_json::json!([]),
        "probing must start nothing"
    );
}
