//! Verified scenarios without a Prometheus: malformed `expect:` entries are refused with their
//! place and nothing starts; a jolt without --prometheus-url runs checks as `unverified` (and
//! `jolt verify` exits 2); `verify=false` runs without checks; a dead Prometheus makes the
//! preflight answer 503.

use crate::common;

use common::{Daemon, call, put_scenario as put, wait_for};
use serde_json::Value;
use std::process::Command;
use std::time::Duration;

const STEPS: &str = "title: t\nduration: 4s\nsteps:\n  - id: load\n    at: 0\n    action: {kind: fault, service: search, latency: 1ms}\n    duration: 3s\n";

#[test]
fn malformed_expectations_are_refused_with_their_place_and_nothing_starts() {
    let d = Daemon::start(&[]);
    let cases = [
        (
            "expect:\n  - alert: A\n    fires: {after: nope, within: 40s}\n",
            422,
            "expect[0].fires.after",
        ),
        (
            "expect:\n  - alert: A\n    fires: {after: load, within: 40s, extra: 1}\n",
            400,
            "line 10",
        ),
        (
            "expect:\n  - query: up\n    between: [3, 1]\n",
            422,
            "expect[0].between",
        ),
        (
            "expect:\n  - query: up\n    below: 1\n    during: {from: load.end, to: load}\n",
            422,
            "expect[0].during",
        ),
        (
            "expect:\n  - alert: A\n    never: true\n    notified: true\n",
            422,
            "expect[0].never",
        ),
        (
            "expect:\n  - alert: A\n    fires: {after: load, within: soon}\n",
            400,
            "expect[0].fires: `soon` is not a duration",
        ),
    ];
    for (expect, status, place) in cases {
        let (s, body) = put(&d, "bad", &format!("{STEPS}{expect}"));
        assert_eq!(s, status, "{expect}: {body}");
        let text = format!("{} {}", body["message"], body["field"]);
        assert!(text.contains(place), "{expect}: {body}");
    }
    let (_, runs) = call("GET", &d.control_url("/runs"), "");
    assert_eq!(runs, serde_json::json!([]));
    let (s, _) = call("GET", &d.control_url("/scenarios/bad"), "");
    assert_eq!(s, 404, "nothing was stored");
}

#[test]
fn without_prometheus_checks_run_unverified_and_verify_exits_2() {
    let d = Daemon::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("quick-check.yaml");
    std::fs::write(
        &file,
        format!("{STEPS}expect:\n  - alert: ServiceDown\n    never: true\n"),
    )
    .unwrap();
    let junit = dir.path().join("junit.xml");
    let out = Command::new(env!("CARGO_BIN_EXE_jolt"))
        .args(["verify", "--control", &d.control.to_string()])
        .arg(&file)
        .arg("--junit")
        .arg(&junit)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("UNVERIFIED"), "{text}");
    let (_, run) = call("GET", &d.control_url("/runs/run-1"), "");
    assert_eq!(run["verdict"], "unverified", "{run}");
    assert_eq!(run["checks"][0]["result"], "inconclusive", "{run}");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(r#"errors="1""#), "{xml}");
    let events = wait_for(Duration::from_secs(3), || {
        let (_, e) = call("GET", &d.control_url("/events"), "");
        let e = e.as_array()?.clone();
        e.iter().any(|e| e["type"] == "run_unverified").then_some(e)
    });
    assert!(events.is_some(), "a run_unverified event says so");
    assert!(d.scrape().contains(
        r#"jolt_scenario_verdict{run="run-1",scenario="quick-check",verdict="unverified"} 1"#
    ));
    assert!(
        d.scrape().contains(r#"jolt_scenario_check_result{run="run-1",scenario="quick-check",check="ServiceDown never",result="inconclusive"} 1"#),
        "unverified checks show on /metrics as inconclusive"
    );

    // verify=false: no checks at all.
    let (s, run) = call(
        "POST",
        &d.control_url("/scenarios/quick-check/start?verify=false"),
        "",
    );
    assert_eq!(s, 201, "{run}");
    assert_eq!(run["verdict"], Value::Null, "{run}");
    assert_eq!(run["checks"], serde_json::json!([]), "{run}");
}

#[test]
fn an_unreachable_prometheus_refuses_the_start_with_503() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let d = Daemon::start(&["--prometheus-url", &url]);
    let (s, _) = put(
        &d,
        "quick",
        &format!("{STEPS}expect:\n  - alert: ServiceDown\n    never: true\n"),
    );
    assert_eq!(s, 201);
    let (s, body) = call("POST", &d.control_url("/scenarios/quick/start"), "");
    assert_eq!(s, 503, "{body}");
    assert!(
        body["message"].as_str().unwrap().contains("verify=false"),
        "{body}"
    );
    let (_, actions) = call("GET", &d.control_url("/actions"), "");
    assert_eq!(actions, serde_json::json!([]), "nothing started");
    let (s, _) = call(
        "POST",
        &d.control_url("/scenarios/quick/start?verify=false"),
        "",
    );
    assert_eq!(s, 201);
}

#[test]
fn the_readme_verified_example_is_accepted() {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let start = readme
        .find("# payment-outage.yaml\n")
        .expect("the README example");
    let block = &readme[start..];
    let block = &block[..block.find("```").unwrap()];
    let d = Daemon::start(&[]);
    let (s, body) = put(&d, "payment-outage", block);
    assert_eq!(s, 201, "{body}");
    let (_, run) = call(
        "POST",
        &d.control_url("/scenarios/payment-outage/start"),
        "",
    );
    let names: Vec<&str> = run["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["name"].as_str())
        .collect();
    assert_eq!(names.len(), 5, "{names:?}");
    let (s, _) = call(
        "DELETE",
        &d.control_url(&format!("/runs/{}", run["id"].as_str().unwrap())),
        "",
    );
    assert_eq!(s, 200);
}
