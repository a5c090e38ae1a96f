//! Browser safety of the control listener over real HTTP: the requests a hostile page can make
//! without a preflight are refused, a rebinding `Host` is refused, allowed origins get CORS
//! (with and without a token), and callers that are not browsers work as before.

use crate::common;
use crate::control;

use common::Daemon;
use control::{Resp, call, get, raw};
use std::time::Duration;

const EVIL: &str = "http://evil.example";
const GRAFANA: &str = "http://localhost:3000";

/// Nothing was started: no action and no run.
fn assert_nothing_started(d: &Daemon) {
    assert_eq!(
        get(&d.control_url("/actions")).json(),
        serde_json::json!([])
    );
    assert_eq!(get(&d.control_url("/runs")).json(), serde_json::json!([]));
}

/// A request as a page sends it: method, URL, body, headers.
type PageRequest<'a> = (&'a str, String, Option<&'a [u8]>, Vec<(&'a str, &'a str)>);

fn assert_forbidden(r: &Resp, hint: &str) {
    let msg = r.assert_error(403, "forbidden");
    assert!(msg.contains(hint), "{msg}");
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[test]
fn requests_a_page_can_send_without_preflight_start_nothing() {
    let d = Daemon::start(&["--control-allow-origin", GRAFANA]);
    let form = ("Content-Type", "application/x-www-form-urlencoded");
    let plain = ("Content-Type", "text/plain");
    let json = br#"{"percent": 50, "duration": "2s"}"#.as_slice();
    let cases: Vec<PageRequest> = vec![
        (
            "POST",
            d.control_url("/actions/cpu"),
            Some(json),
            vec![plain],
        ),
        (
            "POST",
            d.control_url("/actions/cpu"),
            Some(b"percent=50".as_slice()),
            vec![form],
        ),
        (
            "POST",
            d.control_url("/actions/memory?size=10MB"),
            None,
            vec![],
        ),
        (
            "POST",
            d.control_url("/scenarios/ddos-attack/start"),
            None,
            vec![],
        ),
        (
            "POST",
            d.control_url("/alerts"),
            Some(b"{}".as_slice()),
            vec![plain],
        ),
        ("DELETE", d.control_url("/actions"), None, vec![]),
        ("GET", d.control_url("/actions"), None, vec![]),
    ];
    for (method, url, body, headers) in &cases {
        // A page's Origin, with or without the Fetch Metadata a modern browser adds.
        for extra in [
            vec![("Origin", EVIL)],
            vec![("Origin", EVIL), ("Sec-Fetch-Site", "cross-site")],
            vec![("Origin", "null")],
        ] {
            let mut h = headers.clone();
            h.extend(extra);
            let r = call(method, url, *body, &h);
            assert_forbidden(&r, "--control-allow-origin");
        }
        // A browser that withholds Origin still says the request is cross-site.
        let mut h = headers.clone();
        h.push(("Sec-Fetch-Site", "same-site"));
        assert_forbidden(&call(method, url, *body, &h), "--control-allow-origin");
    }
    let r = call(
        "POST",
        &d.control_url("/actions/cpu"),
        None,
        &[("Origin", EVIL)],
    );
    assert!(r.assert_error(403, "forbidden").contains(EVIL));
    assert_nothing_started(&d);
    // A preflight from that page is refused too, and carries no CORS grant.
    let r = call(
        "OPTIONS",
        &d.control_url("/actions/cpu"),
        None,
        &[("Origin", EVIL), ("Access-Control-Request-Method", "POST")],
    );
    assert_forbidden(&r, "--control-allow-origin");
}

#[test]
fn a_rebinding_host_is_refused_and_own_names_are_not() {
    let d = Daemon::start(&["--control-allowed-host", "jolt"]);
    for host in [
        "rebind.example:9478",
        "rebind.example",
        "localhost.rebind.example:9478",
    ] {
        let (status, out) = raw(d.control, "POST", "/actions/cpu", host, "");
        assert_eq!(status, 403, "{host}: {out}");
        assert!(out.contains("--control-allowed-host"), "{out}");
        let (status, _) = raw(d.control, "GET", "/actions", host, "");
        assert_eq!(status, 403, "{host}");
    }
    assert_nothing_started(&d);
    for host in [
        "localhost:9478".to_string(),
        d.control.to_string(),
        "[::1]:9478".to_string(),
        "10.42.0.7:9478".to_string(),
        "jolt:9478".to_string(),
    ] {
        let (status, out) = raw(d.control, "GET", "/actions", &host, "");
        assert_eq!(status, 200, "{host}: {out}");
    }
}

#[test]
fn allowed_origins_get_cors_and_nothing_else_does() {
    let d = Daemon::start(&["--control-allow-origin", GRAFANA]);
    let r = call(
        "OPTIONS",
        &d.control_url("/actions/cpu"),
        None,
        &[
            ("Origin", GRAFANA),
            ("Access-Control-Request-Method", "POST"),
            (
                "Access-Control-Request-Headers",
                "content-type,authorization",
            ),
            ("Sec-Fetch-Site", "same-site"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("access-control-allow-origin"), Some(GRAFANA));
    let methods = r
        .header("access-control-allow-methods")
        .unwrap()
        .to_string();
    for m in ["GET", "POST", "PUT", "DELETE"] {
        assert!(methods.contains(m), "{methods}");
    }
    let allowed = r
        .header("access-control-allow-headers")
        .unwrap()
        .to_lowercase();
    assert!(
        allowed.contains("authorization") && allowed.contains("content-type"),
        "{allowed}"
    );
    assert!(vary(&r).contains("origin"), "{:?}", r.headers);

    let r = call(
        "POST",
        &d.control_url("/actions/cpu"),
        Some(br#"{"percent": 20, "duration": "1s", "cores": 1}"#),
        &[
            ("Origin", GRAFANA),
            ("Content-Type", "application/json"),
            ("X-Grafana-Action", "1"),
        ],
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.header("access-control-allow-origin"), Some(GRAFANA));
    assert!(vary(&r).contains("origin"));
    let id = r.json()["id"].as_str().unwrap().to_string();
    common::wait_ended(&d, &id, Duration::from_secs(20));
    // Errors are readable by the allowed page too, and never carry `*`.
    let r = call(
        "DELETE",
        &d.control_url(&format!("/actions/{id}")),
        None,
        &[("Origin", GRAFANA)],
    );
    r.assert_error(409, "conflict");
    assert_eq!(r.header("access-control-allow-origin"), Some(GRAFANA));
    // Without Origin (curl): no CORS grant, Vary still set for caches.
    let r = get(&d.control_url("/actions"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("access-control-allow-origin"), None);
    assert!(vary(&r).contains("origin"));
}

fn vary(r: &Resp) -> String {
    r.headers
        .get_all("vary")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
        .to_lowercase()
}

#[test]
fn a_token_and_cors_work_together() {
    let d = Daemon::start_with_env(
        &[],
        &[
            ("JOLT_CONTROL_TOKEN", "s3cret"),
            ("JOLT_CONTROL_ALLOW_ORIGIN", GRAFANA),
            ("JOLT_CONTROL_ALLOWED_HOST", "jolt,jolt.example"),
        ],
    );
    // The host names come from the environment too (the Host check runs before the token).
    let (status, _) = raw(d.control, "GET", "/healthz", "jolt.example:9478", "");
    assert_eq!(status, 200);
    let (status, _) = raw(d.control, "GET", "/healthz", "rebind.example:9478", "");
    assert_eq!(status, 403);
    // The preflight carries no credentials: it must pass without the token.
    let r = call(
        "OPTIONS",
        &d.control_url("/actions/cpu"),
        None,
        &[
            ("Origin", GRAFANA),
            ("Access-Control-Request-Method", "POST"),
            ("Access-Control-Request-Headers", "authorization"),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("access-control-allow-origin"), Some(GRAFANA));
    // The request itself needs it, and the page can read the 401.
    let url = d.control_url("/actions/cpu?percent=20&duration=1s&cores=1");
    let r = call("POST", &url, None, &[("Origin", GRAFANA)]);
    r.assert_error(401, "unauthorized");
    assert_eq!(r.header("access-control-allow-origin"), Some(GRAFANA));
    let r = call(
        "POST",
        &url,
        None,
        &[("Origin", GRAFANA), ("Authorization", "Bearer s3cret")],
    );
    assert_eq!(r.status, 201, "{}", r.body);
    // A token does not let a foreign page in.
    let r = call(
        "POST",
        &url,
        None,
        &[("Origin", EVIL), ("Authorization", "Bearer s3cret")],
    );
    assert_forbidden(&r, "--control-allow-origin");
}

#[test]
fn metrics_and_services_stay_open_to_every_caller() {
    let d = Daemon::start(&[]);
    let (status, out) = raw(d.metrics, "GET", "/metrics", "rebind.example:9477", "");
    assert_eq!(status, 200, "{out}");
    let r = call(
        "GET",
        &d.metrics_url(),
        None,
        &[("Origin", EVIL), ("Sec-Fetch-Site", "cross-site")],
    );
    assert_eq!(r.status, 200);
    assert!(r.body.contains("jolt_build_info"));
    let r = call(
        "GET",
        &d.services_url("/auth/health"),
        None,
        &[("Origin", EVIL)],
    );
    assert_ne!(r.status, 403, "{}", r.body);
}

#[test]
fn the_event_stream_is_readable_cross_origin_only_by_allowed_origins() {
    let d = Daemon::start(&["--control-allow-origin", GRAFANA]);
    let r = call(
        "GET",
        &d.control_url("/events/stream"),
        None,
        &[("Origin", EVIL)],
    );
    assert_forbidden(&r, "--control-allow-origin");
    // An allowed origin gets the stream with a CORS grant (read the headers only).
    let req = ureq::http::Request::builder()
        .uri(d.control_url("/events/stream"))
        .header("Origin", GRAFANA)
        .body(())
        .unwrap();
    let resp = common::agent().run(req).unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers().get("access-control-allow-origin").unwrap(),
        GRAFANA
    );
}

#[test]
fn origins_and_hosts_come_from_flags_environment_and_config() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("jolt.yaml");
    std::fs::write(
        &cfg,
        "control:\n  allow_origin: [\"http://grafana.test:3000\"]\n  allowed_host: [jolt-demo]\n",
    )
    .unwrap();
    let d = Daemon::start(&["--config", cfg.to_str().unwrap()]);
    let r = call(
        "GET",
        &d.control_url("/actions"),
        None,
        &[("Origin", "http://grafana.test:3000")],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        raw(d.control, "GET", "/actions", "jolt-demo:9478", "").0,
        200
    );
    // `*` would let every page in: refused at start with the key named.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_jolt"))
        .args([
            "--control-listen",
            "127.0.0.1:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ])
        .args([
            "--services-listen",
            "127.0.0.1:0",
            "--control-allow-origin",
            "*",
        ])
        .arg("--state-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("control.allow_origin"), "{err}");
}
