//! Issue 12, findings 4 and 5 over real HTTP: exactly one JSON value per body, clear 400s for a
//! byte-order mark and `null`, exact error fields, the bearer scheme as RFC 7235 defines it,
//! and `/healthz` outside the rate limit.

use crate::common;

use common::{Daemon, agent, call};

fn post(d: &Daemon, path: &str, body: &str) -> (u16, serde_json::Value) {
    call("POST", &d.control_url(path), body)
}

#[test]
fn bodies_are_exactly_one_json_object() {
    let d = Daemon::start(&[]);
    let cases = [
        ("/actions/cpu", "{\"duration\":\"1s\"} xyz", "trailing data"),
        ("/actions/cpu", "{\"duration\":\"1s\"}{}", "trailing data"),
        (
            "/actions/cpu",
            "\u{feff}{\"duration\":\"1s\"}",
            "byte-order mark",
        ),
        ("/actions/cpu", "null", "null"),
        (
            "/scenarios/black-friday-rush/start",
            "{\"speed\":2} 1",
            "trailing data",
        ),
        (
            "/scenarios/black-friday-rush/start",
            "\u{feff}{\"speed\":2}",
            "byte-order mark",
        ),
        ("/scenarios/black-friday-rush/start", "null", "null"),
        (
            "/alerts",
            "{\"version\":\"4\",\"status\":\"firing\",\"alerts\":[]} x",
            "trailing data",
        ),
        ("/alerts", "null", "null"),
    ];
    for (path, body, says) in cases {
        let (status, e) = post(&d, path, body);
        assert_eq!(status, 400, "{path} {body:?}: {e}");
        assert_eq!(e["error"], "bad_request", "{e}");
        let msg = e["message"].as_str().unwrap();
        assert!(msg.contains(says), "{path} {body:?}: {msg}");
    }
    let (_, list) = call("GET", &d.control_url("/actions"), "");
    assert_eq!(list, serde_json::json!([]), "nothing started");
    let (_, runs) = call("GET", &d.control_url("/runs"), "");
    assert_eq!(runs, serde_json::json!([]), "nothing started");
}

#[test]
fn error_fields_are_exact_paths() {
    let d = Daemon::start(&[]);
    let (status, e) = post(&d, "/actions/cpu", r#"{"percent": "lots"}"#);
    assert_eq!((status, e["field"].as_str()), (400, Some("percent")), "{e}");
    let (status, e) = post(
        &d,
        "/alerts",
        r#"{"version":"4","status":"firing","alerts":[{"status":"firing","labels":7}]}"#,
    );
    assert_eq!(status, 400, "{e}");
    assert_eq!(e["field"], "alerts[0].labels", "{e}");
    // A scenario step's action: the message names the step without a trailing dot.
    let r = agent()
        .put(&d.control_url("/scenarios/strict-paths"))
        .header("Content-Type", "application/json")
        .send(r#"{"title":"t","duration":"10s","steps":[{"at":"0:00","action":{"kind":"cpu","percent":"x"}}]}"#)
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let e: serde_json::Value =
        serde_json::from_str(&r.into_body().read_to_string().unwrap()).unwrap();
    let msg = e["message"].as_str().unwrap();
    assert!(msg.starts_with("steps[0].action: "), "{msg}");
    assert_eq!(e["field"], "steps[0].action", "{e}");
    // YAML errors name the field exactly as well, and keep the line and column.
    let put_yaml = |body: &str| {
        let r = agent()
            .put(&d.control_url("/scenarios/strict-paths"))
            .header("Content-Type", "application/yaml")
            .send(body)
            .unwrap();
        let status = r.status().as_u16();
        let e: serde_json::Value =
            serde_json::from_str(&r.into_body().read_to_string().unwrap()).unwrap();
        (status, e)
    };
    let (status, e) = put_yaml("title: t\nduration: 1m\nsteps:\n  - at: 5\n    atx: 1\n");
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("steps[0].atx")),
        "{e}"
    );
    assert!(
        e["message"].as_str().unwrap().contains("line 5 column 5"),
        "{e}"
    );
    let (status, e) =
        put_yaml("title: t\nduration: 1m\nsteps:\n  - at: 5\n    action: {kind: cpuu}\n");
    assert_eq!(
        (status, e["field"].as_str()),
        (400, Some("steps[0].action")),
        "{e}"
    );
}

#[test]
fn the_bearer_scheme_is_case_insensitive() {
    const TOKEN: &str = "t0ken-for-strict-input";
    let d = Daemon::start_with_env(&[], &[("JOLT_CONTROL_TOKEN", TOKEN)]);
    let status = |auth: &str| {
        agent()
            .get(&d.control_url("/actions"))
            .header("Authorization", auth)
            .call()
            .unwrap()
            .status()
            .as_u16()
    };
    for ok in ["Bearer", "bearer", "BEARER", "Bearer "] {
        assert_eq!(status(&format!("{ok} {TOKEN}")), 200, "{ok:?}");
    }
    for bad in [
        format!("Bearer{TOKEN}"),
        format!("Bearer {TOKEN} x"),
        format!("Basic {TOKEN}"),
        format!("Bearer {TOKEN}x"),
    ] {
        assert_eq!(status(&bad), 401, "{bad:?}");
    }
}

#[test]
fn healthz_is_not_rate_limited() {
    let d = Daemon::start(&["--control-rate-limit", "0.5", "--control-rate-burst", "3"]);
    for _ in 0..5 {
        call("GET", &d.control_url("/actions"), "");
    }
    assert_eq!(call("GET", &d.control_url("/actions"), "").0, 429);
    for _ in 0..50 {
        let (status, _) = call("GET", &d.control_url("/healthz"), "");
        assert_eq!(status, 200);
    }
}
