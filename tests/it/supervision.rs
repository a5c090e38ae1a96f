//! Issue 12, finding 1: a panicking task never wedges an action or a run. The panic is
//! injected with the `JOLT_TEST_PANIC` hook; the numbers that used to panic are now refused.

use crate::common;

use common::{Daemon, call, metric, start_one_step_run, wait_ended, wait_for};
use std::time::Duration;

#[test]
fn a_panicking_action_fails_frees_its_slot_and_ends_its_series() {
    let d = Daemon::start_with_env(
        &["--max-active-actions", "1"],
        &[("JOLT_TEST_PANIC", "action:network")],
    );
    // With a cap of one, three starts in a row only pass if every failure frees its slot.
    for _ in 0..3 {
        let (status, a) = call(
            "POST",
            &d.control_url("/actions/network"),
            r#"{"mbps": 1, "duration": "30s"}"#,
        );
        assert_eq!(status, 201, "{a}");
        let id = a["id"].as_str().unwrap().to_string();
        let a = wait_ended(&d, &id, Duration::from_secs(5));
        assert_eq!(a["state"], "failed", "{a}");
        let error = a["error"].as_str().unwrap();
        assert!(error.contains("panicked"), "{error}");
        let (status, e) = call("DELETE", &d.control_url(&format!("/actions/{id}")), "");
        assert_eq!(status, 409, "{e}");
        assert!(e["message"].as_str().unwrap().contains("failed"), "{e}");
    }
    let body = d.scrape();
    assert_eq!(
        metric(&body, "jolt_actions_active", &[("kind", "network")]),
        Some(0.0)
    );
    assert_eq!(
        metric(
            &body,
            "jolt_actions_finished_total",
            &[("kind", "network"), ("outcome", "failed")]
        ),
        Some(3.0)
    );
    assert!(!body.contains("jolt_action_info{"), "series left: {body}");
    let (_, events) = call("GET", &d.control_url("/events"), "");
    let failed = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "action_failed")
        .count();
    assert_eq!(failed, 3, "{events}");
    // Other kinds are unaffected by the hook and the freed slot takes them.
    let (status, a) = call(
        "POST",
        &d.control_url("/actions/cpu"),
        r#"{"percent": 5, "duration": "1s", "cores": 1, "mode": "add"}"#,
    );
    assert_eq!(status, 201, "{a}");
    let (status, stopped) = call("DELETE", &d.control_url("/actions"), "");
    assert_eq!((status, stopped["stopped"].as_u64()), (200, Some(1)));
}

#[test]
fn a_panicking_run_fails_stops_its_actions_and_clears_its_gauge() {
    let d = Daemon::start_with_env(&[], &[("JOLT_TEST_PANIC", "run")]);
    let (run, action) = start_one_step_run(
        &d,
        r#"{"kind": "cpu", "percent": 5, "cores": 1, "mode": "add"}"#,
        "30s",
    );
    let r = wait_for(Duration::from_secs(5), || {
        let (_, r) = call("GET", &d.control_url(&format!("/runs/{run}")), "");
        (r["state"] != "running").then_some(r)
    })
    .expect("the run ends");
    assert_eq!(r["state"], "failed", "{r}");
    assert!(r["error"].as_str().unwrap().contains("panicked"), "{r}");
    let a = wait_ended(&d, &action, Duration::from_secs(5));
    assert_eq!(a["state"], "stopped", "{a}");
    let (status, e) = call("DELETE", &d.control_url(&format!("/runs/{run}")), "");
    assert_eq!(status, 409, "{e}");
    let body = d.scrape();
    let scenario = r["scenario"].as_str().unwrap();
    assert_eq!(
        metric(&body, "jolt_scenario_running", &[("scenario", scenario)]),
        Some(0.0),
        "{body}"
    );
}

/// The inputs of the report: refused before anything starts, with the field and the range.
#[test]
fn absurd_rates_and_speeds_are_refused_with_field_and_range() {
    let d = Daemon::start(&[]);
    let cases = [
        (
            "/actions/network",
            r#"{"mbps": 1e-24, "duration": "1s"}"#,
            "mbps",
        ),
        (
            "/actions/traffic",
            r#"{"rps": 1e-300, "duration": "1s"}"#,
            "rps",
        ),
        (
            "/actions/traffic",
            r#"{"ramp_from": -1, "duration": "1s"}"#,
            "ramp_from",
        ),
        ("/actions/cpu", r#"{"percent": 1e-300}"#, "percent"),
        ("/actions/cpu", r#"{"duration": 1e-300}"#, "duration"),
        ("/actions/disk", r#"{"write_ratio": 1.5}"#, "write_ratio"),
        (
            "/actions/fault",
            r#"{"service": "auth", "capacity": 1e-9}"#,
            "capacity",
        ),
        (
            "/scenarios/black-friday-rush/start?speed=1e-308",
            "",
            "speed",
        ),
        (
            "/scenarios/black-friday-rush/start",
            r#"{"speed": 1e-300}"#,
            "speed",
        ),
    ];
    for (path, body, field) in cases {
        let (status, e) = call("POST", &d.control_url(path), body);
        assert_eq!(status, 422, "{path} {body}: {e}");
        assert_eq!(e["field"], field, "{path} {body}: {e}");
        assert!(e["message"].as_str().unwrap().contains("between"), "{e}");
    }
    let (_, list) = call("GET", &d.control_url("/actions"), "");
    assert_eq!(list, serde_json::json!([]));
    let (_, runs) = call("GET", &d.control_url("/runs"), "");
    assert_eq!(runs, serde_json::json!([]));
}

/// A sub-task's panic (a traffic worker) fails its action too, instead of leaving it running
/// short of workers.
#[test]
fn a_panicking_traffic_worker_fails_its_action() {
    let d = Daemon::start_with_env(&[], &[("JOLT_TEST_PANIC", "traffic:worker")]);
    let (status, a) = call(
        "POST",
        &d.control_url("/actions/traffic"),
        r#"{"rps": 20, "duration": "30s", "target": "echo"}"#,
    );
    assert_eq!(status, 201, "{a}");
    let id = a["id"].as_str().unwrap();
    let a = wait_ended(&d, id, Duration::from_secs(5));
    assert_eq!(a["state"], "failed", "{a}");
    assert!(
        a["error"]
            .as_str()
            .unwrap()
            .contains("traffic worker panicked"),
        "{a}"
    );
    let body = d.scrape();
    assert_eq!(
        metric(&body, "jolt_actions_active", &[("kind", "traffic")]),
        Some(0.0)
    );
    assert_eq!(
        metric(&body, "jolt_traffic_target_requests_per_second", &[]),
        Some(0.0)
    );
}
