//! Security of the control listener over real HTTP: token, body limit, rate limit, and the
//! refusal to serve off loopback without a token.

use crate::common;
use crate::control;

use common::Daemon;
use control::{call, get};
use std::io::Write;

const TOKEN: &str = "correct-horse-battery-staple";

#[test]
fn a_token_is_required_when_set() {
    let d = Daemon::start_with_env(&[], &[("JOLT_CONTROL_TOKEN", TOKEN)]);
    let good = format!("Bearer {TOKEN}");
    let cpu = d.control_url("/actions/cpu");
    for headers in [
        vec![],
        vec![("Authorization", "Bearer nope")],
        vec![("Authorization", TOKEN)],
    ] {
        for (method, url) in [
            ("GET", d.control_url("/actions")),
            ("POST", cpu.clone()),
            ("GET", d.control_url("/")),
            ("GET", d.control_url("/no-such-route")),
        ] {
            let r = call(method, &url, None, &headers);
            r.assert_error(401, "unauthorized");
            assert_eq!(r.header("www-authenticate"), Some("Bearer"));
        }
    }
    // Nothing was started by the rejected POSTs; the right token works.
    let r = call(
        "GET",
        &d.control_url("/actions"),
        None,
        &[("Authorization", &good)],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), serde_json::json!([]));
    let r = call(
        "GET",
        &d.control_url("/"),
        None,
        &[("Authorization", &good)],
    );
    assert!(r.body.contains("Authorization: Bearer"), "{}", r.body);
    // Liveness probes need no secret.
    assert_eq!(get(&d.control_url("/healthz")).status, 200);
}

#[test]
fn the_token_file_works_too() {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    writeln!(f, "{TOKEN}").unwrap();
    let d = Daemon::start(&["--control-token-file", f.path().to_str().unwrap()]);
    get(&d.control_url("/actions")).assert_error(401, "unauthorized");
    let good = format!("Bearer {TOKEN}");
    let r = call(
        "GET",
        &d.control_url("/actions"),
        None,
        &[("Authorization", &good)],
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn bodies_over_the_limit_get_413_json() {
    let d = Daemon::start(&["--control-body-limit", "2KiB"]);
    let big = format!("{{\"percent\": 50, \"pad\": \"{}\"}}", "x".repeat(4096));
    for path in ["/actions/cpu", "/alerts"] {
        let r = call(
            "POST",
            &d.control_url(path),
            Some(big.as_bytes()),
            &[("Content-Type", "application/json")],
        );
        let msg = r.assert_error(413, "payload_too_large");
        assert!(msg.contains("body_limit"), "{msg}");
    }
    assert_eq!(
        get(&d.control_url("/actions")).json(),
        serde_json::json!([])
    );
    // Just under the limit is parsed (and rejected for its unknown parameter, not its size).
    let small = format!("{{\"pad\": \"{}\"}}", "x".repeat(1000));
    call(
        "POST",
        &d.control_url("/actions/cpu"),
        Some(small.as_bytes()),
        &[],
    )
    .assert_error(400, "bad_request");
}

#[test]
fn too_many_requests_get_429_with_retry_after() {
    let d = Daemon::start(&["--control-rate-limit", "0.5", "--control-rate-burst", "3"]);
    for _ in 0..3 {
        assert_eq!(get(&d.control_url("/actions")).status, 200);
    }
    let r = get(&d.control_url("/actions"));
    let msg = r.assert_error(429, "too_many_requests");
    assert!(msg.contains("rate_limit"), "{msg}");
    let retry: u64 = r
        .header("retry-after")
        .expect("Retry-After")
        .parse()
        .unwrap();
    assert!((1..=2).contains(&retry), "Retry-After {retry}");
}

#[test]
fn a_non_loopback_address_without_a_token_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_jolt"))
        .args([
            "--metrics-listen",
            "127.0.0.1:0",
            "--services-listen",
            "127.0.0.1:0",
        ])
        .args(["--control-listen", "0.0.0.0:0", "--state-dir"])
        .arg(dir.path())
        .env_remove("JOLT_CONTROL_TOKEN")
        .env_remove("JOLT_CONTROL_INSECURE")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a loopback address") && err.contains("--control-insecure"),
        "{err}"
    );
}

#[test]
fn bad_limit_settings_are_refused_at_start() {
    for args in [
        ["--control-rate-limit=-1", "--control-rate-burst=5"],
        ["--control-body-limit=10", "--control-rate-burst=5"],
        ["--control-rate-burst=0", "--control-rate-limit=5"],
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_jolt"))
            .args([
                "--metrics-listen",
                "127.0.0.1:0",
                "--control-listen",
                "127.0.0.1:0",
            ])
            .args(["--services-listen", "127.0.0.1:0"])
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("control."), "{args:?}: {err}");
    }
}
