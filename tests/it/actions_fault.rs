//! fault actions over real HTTP: a service taken down answers 503, reports `jolt_service_up`
//! 0 and stops its heartbeat, and heals when the fault ends or is stopped; latency and error
//! faults show in its RED metrics; bad inputs are refused and change nothing.

use crate::common;

use common::{Daemon, call, get, metric, start_action, stop_action, wait_for};
use serde_json::Value;
use std::io::Write;
use std::time::{Duration, Instant};

/// `cart` is fast and never fails on its own, so every change is the fault's doing. The
/// default names stay because the built-in scenarios refer to them.
fn daemon() -> (Daemon, tempfile::NamedTempFile) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    write!(
        f,
        "services:\n  catalog:\n    cart: {{latency: 1ms, spread: 0, error_ratio: 0, capacity: 8}}\n    \
         auth: {{}}\n    payment: {{}}\n    reporting: {{}}\n    search: {{}}\n"
    )
    .unwrap();
    let d = Daemon::start(&[
        "--config",
        f.path().to_str().unwrap(),
        "--baseline-rps",
        "0",
    ]);
    (d, f)
}

fn cart(d: &Daemon, name: &str) -> f64 {
    metric(&get(&d.metrics_url(), None).2, name, &[("service", "cart")]).expect(name)
}

fn action(d: &Daemon, id: &str) -> Value {
    call("GET", &d.control_url(&format!("/actions/{id}")), "").1
}

fn status_of(d: &Daemon, path: &str) -> u16 {
    call("GET", &d.services_url(path), "").0
}

#[test]
fn down_refuses_requests_stops_the_heartbeat_and_heals_at_the_end() {
    let (d, _cfg) = daemon();
    assert_eq!(status_of(&d, "/svc/cart/x"), 200);
    let id = start_action(
        &d,
        "fault",
        r#"{"service": "cart", "down": true, "duration": "2s"}"#,
    );
    let started = Instant::now();
    assert_eq!(cart(&d, "jolt_service_up"), 0.0);
    let (status, body) = call("POST", &d.services_url("/svc/cart/pay"), "{}");
    assert_eq!(status, 503);
    assert_eq!(body["error"], "unavailable");
    let beat = cart(&d, "jolt_service_heartbeat_timestamp_seconds");
    std::thread::sleep(Duration::from_millis(1200));
    if started.elapsed() < Duration::from_millis(1900) {
        assert_eq!(
            cart(&d, "jolt_service_heartbeat_timestamp_seconds"),
            beat,
            "no heartbeat while down"
        );
    }
    let a = wait_for(Duration::from_secs(10), || {
        let a = action(&d, &id);
        (a["state"] != "running").then_some(a)
    })
    .unwrap();
    assert_eq!(a["state"], "completed", "{a}");
    assert_eq!(a["achieved"]["errors"], 1, "{a}");
    assert_eq!(cart(&d, "jolt_service_up"), 1.0);
    assert!(cart(&d, "jolt_service_heartbeat_timestamp_seconds") > beat);
    assert_eq!(status_of(&d, "/svc/cart/x"), 200);
    let m = get(&d.metrics_url(), None).2;
    let code = |c| {
        metric(
            &m,
            "jolt_service_requests_total",
            &[("service", "cart"), ("code", c)],
        )
    };
    assert_eq!(code("503"), Some(1.0));
    assert_eq!(code("200"), Some(2.0));
}

#[test]
fn stopping_a_fault_heals_at_once() {
    let (d, _cfg) = daemon();
    let id = start_action(
        &d,
        "fault",
        r#"{"service": "cart", "down": true, "duration": "60s"}"#,
    );
    assert_eq!(status_of(&d, "/svc/cart"), 503);
    stop_action(&d, &id);
    assert_eq!(cart(&d, "jolt_service_up"), 1.0);
    assert_eq!(status_of(&d, "/svc/cart"), 200);
}

#[test]
fn latency_and_errors_show_in_the_red_metrics_and_combine() {
    let (d, _cfg) = daemon();
    let slow = start_action(
        &d,
        "fault",
        r#"{"service": "cart", "latency": "150ms", "duration": "30s"}"#,
    );
    let failing = start_action(
        &d,
        "fault",
        r#"{"service": "cart", "error_rate": 1.0, "duration": "30s"}"#,
    );
    for _ in 0..3 {
        assert_eq!(status_of(&d, "/svc/cart/q"), 500);
    }
    let m = get(&d.metrics_url(), None).2;
    let bucket = |le| {
        metric(
            &m,
            "jolt_service_request_duration_seconds_bucket",
            &[("service", "cart"), ("le", le)],
        )
    };
    // All three took the 150 ms: none is below 0.1 s.
    assert_eq!(bucket("0.1"), Some(0.0));
    assert_eq!(bucket("0.25"), Some(3.0));
    let a = action(&d, &failing);
    assert_eq!(a["achieved"]["error_ratio"], 1.0, "{a}");
    assert_eq!(a["achieved"]["added_latency_seconds"], 0.15, "{a}");

    // Ending one fault leaves the other.
    call("DELETE", &d.control_url(&format!("/actions/{failing}")), "");
    assert_eq!(status_of(&d, "/svc/cart/q"), 200);
    let m = get(&d.metrics_url(), None).2;
    let slow_count = metric(
        &m,
        "jolt_service_request_duration_seconds_bucket",
        &[("service", "cart"), ("le", "0.1")],
    );
    assert_eq!(slow_count, Some(0.0), "the latency fault still holds");
    call("DELETE", &d.control_url(&format!("/actions/{slow}")), "");
    status_of(&d, "/svc/cart/q");
    let m = get(&d.metrics_url(), None).2;
    let fast = metric(
        &m,
        "jolt_service_request_duration_seconds_bucket",
        &[("service", "cart"), ("le", "0.1")],
    );
    assert_eq!(fast, Some(1.0), "healed: back under 0.1 s");
}

#[test]
fn a_capacity_factor_scales_the_service() {
    let (d, _cfg) = daemon();
    assert_eq!(cart(&d, "jolt_service_capacity_requests"), 8.0);
    let id = start_action(
        &d,
        "fault",
        r#"{"service": "cart", "capacity": 2.5, "duration": "30s"}"#,
    );
    assert_eq!(cart(&d, "jolt_service_capacity_requests"), 20.0);
    call("DELETE", &d.control_url(&format!("/actions/{id}")), "");
    assert_eq!(cart(&d, "jolt_service_capacity_requests"), 8.0);
}

#[test]
fn bad_inputs_are_refused_and_change_nothing() {
    let (d, _cfg) = daemon();
    let cases: &[(&str, u16, Option<&str>)] = &[
        (r#"{"service": "nope", "down": true}"#, 422, Some("service")),
        (r#"{"down": true}"#, 422, Some("service")),
        (r#"{"service": "cart"}"#, 422, None),
        (
            r#"{"service": "cart", "error_rate": 1.5}"#,
            422,
            Some("error_rate"),
        ),
        (
            r#"{"service": "cart", "capacity": 0}"#,
            422,
            Some("capacity"),
        ),
        (
            r#"{"service": "cart", "latency": "2h"}"#,
            422,
            Some("latency"),
        ),
        (
            r#"{"service": "cart", "latency": -1}"#,
            422,
            Some("latency"),
        ),
        (r#"{"service": "cart", "down": "yes"}"#, 400, Some("down")),
        (
            r#"{"service": "cart", "down": true, "colour": 1}"#,
            400,
            Some("colour"),
        ),
        (r#"{"service": "cart", "#, 400, None),
    ];
    for (body, status, field) in cases {
        let (got, e) = call("POST", &d.control_url("/actions/fault"), body);
        assert_eq!(got, *status, "{body}: {e}");
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
        if let Some(f) = field {
            assert_eq!(e["field"], *f, "{body}: {e}");
        }
    }
    let (_, e) = call(
        "POST",
        &d.control_url("/actions/fault"),
        r#"{"service": "nope", "down": true}"#,
    );
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("cart") && msg.contains("payment"),
        "lists the services: {msg}"
    );
    let (_, list) = call("GET", &d.control_url("/actions"), "");
    assert_eq!(list.as_array().map(Vec::len), Some(0), "{list}");
    assert_eq!(cart(&d, "jolt_service_up"), 1.0);
    assert_eq!(status_of(&d, "/svc/cart"), 200);
}
