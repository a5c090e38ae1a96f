//! The simulated services over real HTTP: they answer under /svc/{name}/..., count RED
//! metrics, beat every second, get background traffic when asked, and refuse unknown names
//! with a JSON 404.

use crate::common;

use common::{Daemon, agent, call, get, metric};
use std::io::Write;
use std::time::Duration;

/// A config with a fast, error-free service and an always-failing one, so assertions on
/// codes are exact. The default names stay because the built-in scenarios refer to them.
fn config(extra: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    write!(
        f,
        "services:\n  catalog:\n    cart: {{latency: 2ms, spread: 0, error_ratio: 0, capacity: 8}}\n    \
         flaky: {{latency: 1ms, error_ratio: 1}}\n    auth: {{}}\n    payment: {{}}\n    \
         reporting: {{}}\n    search: {{}}\n{extra}"
    )
    .unwrap();
    f
}

fn start(cfg: &tempfile::NamedTempFile, extra: &[&str]) -> Daemon {
    let mut args = vec!["--config", cfg.path().to_str().unwrap()];
    args.extend_from_slice(extra);
    Daemon::start(&args)
}

#[test]
fn services_answer_and_count_red_metrics() {
    let cfg = config("");
    let d = start(&cfg, &["--baseline-rps", "0"]);
    let before = d.scrape();
    assert_eq!(
        metric(
            &before,
            "jolt_service_requests_total",
            &[("service", "cart"), ("code", "200")]
        ),
        Some(0.0)
    );
    assert_eq!(
        metric(&before, "jolt_service_up", &[("service", "cart")]),
        Some(1.0)
    );
    for path in ["/svc/cart", "/svc/cart/checkout", "/svc/cart/a/b/c?x=1"] {
        let (status, body) = call("GET", &d.services_url(path), "");
        assert_eq!(status, 200, "{path}");
        assert_eq!(body["service"], "cart");
    }
    let (status, _) = call("POST", &d.services_url("/svc/cart/pay"), "{\"amount\": 3}");
    assert_eq!(status, 200);
    let (status, body) = call("DELETE", &d.services_url("/svc/flaky/x"), "");
    assert_eq!(status, 500);
    assert_eq!(body["error"], "internal");

    let after = d.scrape();
    let ok = [("service", "cart"), ("code", "200")];
    assert_eq!(
        metric(&after, "jolt_service_requests_total", &ok),
        Some(4.0)
    );
    let failed = [("service", "flaky"), ("code", "500")];
    assert_eq!(
        metric(&after, "jolt_service_requests_total", &failed),
        Some(1.0)
    );
    let cart = [("service", "cart")];
    assert_eq!(
        metric(&after, "jolt_service_request_duration_seconds_count", &cart),
        Some(4.0)
    );
    // Every request takes the 2 ms service time: none lands in the 1 ms bucket, all by 1 s.
    let bucket = |le: &str| {
        metric(
            &after,
            "jolt_service_request_duration_seconds_bucket",
            &[("service", "cart"), ("le", le)],
        )
    };
    assert_eq!(bucket("0.001"), Some(0.0));
    assert_eq!(bucket("1.0"), Some(4.0));
    assert_eq!(
        metric(&after, "jolt_service_capacity_requests", &cart),
        Some(8.0)
    );
    assert_eq!(
        metric(&after, "jolt_service_in_flight_requests", &cart),
        Some(0.0)
    );
}

#[test]
fn the_heartbeat_ticks_every_second() {
    let cfg = config("");
    let d = start(&cfg, &["--baseline-rps", "0"]);
    let beat = || {
        metric(
            &d.scrape(),
            "jolt_service_heartbeat_timestamp_seconds",
            &[("service", "cart")],
        )
        .unwrap()
    };
    let first = beat();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    assert!((now - first).abs() < 5.0, "heartbeat {first} vs now {now}");
    std::thread::sleep(Duration::from_millis(1300));
    assert!(beat() > first, "the heartbeat moved on");
}

#[test]
fn baseline_traffic_reaches_every_service_and_zero_turns_it_off() {
    let cfg = config("  baseline_rps: 40\n");
    let d = start(&cfg, &[]);
    let seen = common::wait_for(Duration::from_secs(10), || {
        let m = d.scrape();
        let count = |s| {
            metric(
                &m,
                "jolt_service_request_duration_seconds_count",
                &[("service", s)],
            )
        };
        (count("cart")? > 0.0 && count("flaky")? > 0.0).then_some(())
    });
    assert!(seen.is_some(), "baseline traffic shows in both services");

    // The flag overrides the file.
    let quiet = start(&cfg, &["--baseline-rps", "0"]);
    std::thread::sleep(Duration::from_millis(500));
    let m = quiet.scrape();
    let total = |s| {
        metric(
            &m,
            "jolt_service_request_duration_seconds_count",
            &[("service", s)],
        )
    };
    assert_eq!(total("cart"), Some(0.0));
    assert_eq!(total("flaky"), Some(0.0));
}

#[test]
fn the_default_catalog_has_the_four_services() {
    let d = Daemon::start(&["--baseline-rps", "0"]);
    for s in ["auth", "payment", "reporting", "search"] {
        let (status, body) = call("GET", &d.services_url(&format!("/svc/{s}/")), "");
        assert!(status == 200 || status == 500, "{s}: {status}");
        assert_eq!(body["service"].as_str().unwrap_or(s), s);
    }
}

#[test]
fn unknown_services_and_paths_are_json_404s() {
    let cfg = config("");
    let d = start(&cfg, &["--baseline-rps", "0"]);
    let (status, body) = call("GET", &d.services_url("/svc/nope/x"), "");
    assert_eq!(status, 404);
    assert_eq!(body["error"], "not_found");
    let msg = body["message"].as_str().unwrap();
    assert!(
        msg.contains("nope") && msg.contains("cart, flaky, payment"),
        "{msg}"
    );
    let (status, body) = call("GET", &d.services_url("/elsewhere"), "");
    assert_eq!(status, 404);
    assert_eq!(body["error"], "not_found");
    // Nothing was counted for the unknown name.
    assert!(!d.scrape().contains("service=\"nope\""));
}

#[test]
fn echo_answers_get_and_sends_post_bodies_back() {
    let cfg = config("");
    let d = start(&cfg, &["--baseline-rps", "0"]);
    let (status, _, body) = get(&d.services_url("/echo"), None);
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let mut resp = agent()
        .post(&d.services_url("/echo"))
        .send("ping 123")
        .unwrap();
    assert_eq!(resp.body_mut().read_to_string().unwrap(), "ping 123");
}

#[test]
fn a_bad_services_config_stops_the_start() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    write!(f, "services:\n  catalog:\n    cart: {{capacity: 0}}\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_jolt"))
        .args([
            "--config",
            f.path().to_str().unwrap(),
            "--metrics-listen",
            "127.0.0.1:0",
        ])
        .args([
            "--control-listen",
            "127.0.0.1:0",
            "--services-listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("services.catalog.cart.capacity"), "{err}");
}
