//! The event log over real HTTP: the server-sent events stream (live, replay, shutdown) and
//! the Alertmanager webhook receiver.

use crate::common;
use crate::control;

use common::{Daemon, parse_classic};
use control::{call, get, post_json};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::Duration;

/// One parsed SSE event.
#[derive(Debug)]
struct Sse {
    id: u64,
    event: String,
    data: Value,
}

/// Opens the stream with `headers` and forwards each event on a channel from a thread; the
/// channel closes when the stream ends.
fn subscribe(d: &Daemon, query: &str, headers: &[(&str, &str)]) -> mpsc::Receiver<Sse> {
    let mut req = ureq::http::Request::builder()
        .uri(d.control_url(&format!("/events/stream{query}")))
        .header("Accept", "text/event-stream");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into();
    let resp = agent.run(req.body(()).unwrap()).expect("stream");
    assert_eq!(resp.status(), 200);
    let ct = resp.headers()["content-type"].to_str().unwrap().to_string();
    assert!(ct.starts_with("text/event-stream"), "{ct}");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let reader = BufReader::new(resp.into_body().into_reader());
        let (mut id, mut event, mut data) = (None, None, String::new());
        for line in reader.lines() {
            let Ok(line) = line else { return };
            if let Some(v) = line.strip_prefix("id:") {
                id = v.trim().parse().ok();
            } else if let Some(v) = line.strip_prefix("event:") {
                event = Some(v.trim().to_string());
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim_start());
            } else if line.is_empty() && !data.is_empty() {
                let sse = Sse {
                    id: id.take().expect("id line"),
                    event: event.take().expect("event line"),
                    data: serde_json::from_str(&std::mem::take(&mut data)).expect("JSON data"),
                };
                if tx.send(sse).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

fn next(rx: &mpsc::Receiver<Sse>) -> Sse {
    rx.recv_timeout(Duration::from_secs(10))
        .expect("an event within 10 s")
}

/// The next event about action `id` (other parts of the daemon may emit events meanwhile).
fn next_about(rx: &mpsc::Receiver<Sse>, id: &str) -> Sse {
    loop {
        let e = next(rx);
        if e.data["data"]["id"] == id {
            return e;
        }
    }
}

/// The id of the newest retained event, 0 when there is none.
fn last_id(d: &Daemon) -> u64 {
    let all = get(&d.control_url("/events")).json();
    all.as_array()
        .unwrap()
        .last()
        .map_or(0, |e| e["id"].as_u64().unwrap())
}

#[test]
fn the_stream_delivers_events_emitted_after_connecting() {
    let d = Daemon::start(&[]);
    let rx = subscribe(&d, "", &[]);
    let r = post_json(
        &d.control_url("/actions/cpu"),
        r#"{"percent": 20, "duration": "1s", "cores": 1}"#,
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let first = next_about(&rx, &id);
    assert_eq!(first.event, "action_started");
    assert_eq!(first.data["type"], "action_started");
    assert_eq!(first.data["id"], first.id);
    assert_eq!(first.data["data"]["id"], id, "{:?}", first.data);
    // The action ends one way or another; its end is streamed too, with a later id.
    let end = next_about(&rx, &id);
    assert!(end.id > first.id);
    assert!(
        ["action_completed", "action_failed", "action_stopped"].contains(&end.event.as_str()),
        "{end:?}"
    );
    assert_eq!(end.data["data"]["id"], id);
}

#[test]
fn the_stream_replays_from_last_event_id_or_since() {
    let d = Daemon::start(&[]);
    let start = last_id(&d);
    // Three refusals make three events without loading the host.
    for _ in 0..3 {
        post_json(&d.control_url("/actions/cpu"), r#"{"percent": 500}"#)
            .assert_error(422, "unprocessable");
    }
    let all = get(&d.control_url(&format!("/events?since={start}"))).json();
    let ids: Vec<u64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), 3, "{all}");

    let rx = subscribe(&d, &format!("?since={start}"), &[]);
    let replayed: Vec<u64> = (0..3).map(|_| next(&rx).id).collect();
    assert_eq!(replayed, ids);

    // Last-Event-ID (what a browser sends on reconnect) wins over ?since.
    let rx = subscribe(&d, "?since=0", &[("Last-Event-ID", &ids[1].to_string())]);
    let e = next(&rx);
    assert_eq!(e.id, ids[2]);
    assert_eq!(e.event, "action_refused");
    // Then live events follow without repeating.
    post_json(&d.control_url("/actions/cpu"), r#"{"percent": 0}"#)
        .assert_error(422, "unprocessable");
    let live = next(&rx);
    assert!(live.id > ids[2], "{live:?}");
}

#[test]
fn sigterm_ends_open_streams_and_exits_promptly() {
    let mut d = Daemon::start(&[]);
    let rx1 = subscribe(&d, "", &[]);
    let rx2 = subscribe(&d, "?since=0", &[]);
    let status = d
        .terminate(Duration::from_secs(15))
        .expect("exited with streams open");
    assert!(status.success(), "{status:?}");
    for rx in [rx1, rx2] {
        assert!(
            matches!(
                rx.recv_timeout(Duration::from_secs(5)),
                Err(mpsc::RecvTimeoutError::Disconnected)
            ),
            "the stream ended"
        );
    }
}

/// A notification as Alertmanager 0.27 sends it (webhook payload version 4).
fn notification() -> Value {
    json!({
        "version": "4",
        "groupKey": "{}:{alertname=\"HostHighCpu\"}",
        "truncatedAlerts": 0,
        "status": "firing",
        "receiver": "jolt",
        "groupLabels": {"alertname": "HostHighCpu"},
        "commonLabels": {"alertname": "HostHighCpu", "job": "jolt"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [
            {
                "status": "firing",
                "labels": {"alertname": "HostHighCpu", "instance": "host-a:9477", "severity": "critical"},
                "annotations": {"summary": "CPU above 90% on host-a:9477", "runbook_url": "docs/runbooks.md#hosthighcpu"},
                "startsAt": "2024-05-01T10:00:00.000Z",
                "endsAt": "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus:9090/graph",
                "fingerprint": "1a2b3c4d5e6f7a8b"
            },
            {
                "status": "resolved",
                "labels": {"alertname": "HostHighCpu", "instance": "host-b:9477", "severity": "warning"},
                "annotations": {},
                "startsAt": "2024-05-01T09:50:00.000Z",
                "endsAt": "2024-05-01T09:59:00.000Z",
                "generatorURL": "http://prometheus:9090/graph",
                "fingerprint": "8b7a6f5e4d3c2b1a"
            }
        ]
    })
}

fn notification_count(d: &Daemon, status: &str) -> f64 {
    let (_, _, body) = common::get(&d.metrics_url(), None);
    parse_classic(&body)
        .samples
        .iter()
        .filter(|s| {
            s.metric == "jolt_alert_notifications_total"
                && s.labels.get("alertname") == Some("HostHighCpu")
                && s.labels.get("status") == Some(status)
        })
        .map(|s| match s.value {
            prometheus_parse::Value::Counter(v) | prometheus_parse::Value::Untyped(v) => v,
            ref other => panic!("{other:?}"),
        })
        .sum()
}

#[test]
fn alertmanager_notifications_become_events_and_counts() {
    let d = Daemon::start(&[]);
    let start = last_id(&d);
    let since = format!("/events?since={start}");
    let r = post_json(&d.control_url("/alerts"), &notification().to_string());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({"received": 2}));
    let events = get(&d.control_url(&since)).json();
    let events: Vec<&Value> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_str().unwrap().starts_with("alert_"))
        .collect();
    assert_eq!(events.len(), 2, "{events:?}");
    assert_eq!(events[0]["type"], "alert_firing");
    assert_eq!(events[0]["severity"], "critical");
    assert_eq!(
        events[0]["message"],
        "HostHighCpu firing: CPU above 90% on host-a:9477"
    );
    assert_eq!(events[0]["data"]["labels"]["instance"], "host-a:9477");
    assert_eq!(events[0]["data"]["fingerprint"], "1a2b3c4d5e6f7a8b");
    assert_eq!(events[1]["type"], "alert_resolved");
    assert_eq!(events[1]["severity"], "info");
    assert_eq!(events[1]["message"], "HostHighCpu resolved on host-b:9477");
    assert_eq!(notification_count(&d, "firing"), 1.0);
    assert_eq!(notification_count(&d, "resolved"), 1.0);

    // Malformed payloads are 400 JSON and record nothing.
    let mut missing_labels = notification();
    missing_labels["alerts"][0]
        .as_object_mut()
        .unwrap()
        .remove("labels");
    let mut bad_status = notification();
    bad_status["alerts"][1]["status"] = json!("exploded");
    for body in [
        "{",
        "[]",
        r#"{"version": "4"}"#,
        &missing_labels.to_string(),
        &bad_status.to_string(),
    ] {
        let r = call(
            "POST",
            &d.control_url("/alerts"),
            Some(body.as_bytes()),
            &[],
        );
        r.assert_error(400, "bad_request");
    }
    let after = get(&d.control_url(&since)).json();
    let alerts = after
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_str().unwrap().starts_with("alert_"));
    assert_eq!(alerts.count(), 2, "{after}");
    assert_eq!(notification_count(&d, "firing"), 1.0);
}

/// An alert name holding `" # "` (the classic encoder's exemplar separator), braces and an
/// escaped quote still yields one whole sample in both formats, and promtool accepts the
/// classic one.
#[test]
fn an_alertname_with_a_hash_survives_both_encoders() {
    if !crate::common::require_tools(&["promtool"]) {
        return;
    }
    let d = Daemon::start(&[]);
    let odd = r#"Disk # 1 {"full"}"#;
    let mut n = notification();
    n["alerts"][0]["labels"]["alertname"] = json!(odd);
    let r = post_json(&d.control_url("/alerts"), &n.to_string());
    assert_eq!(r.status, 200, "{}", r.body);

    let escaped = r#"alertname="Disk # 1 {\"full\"}""#;
    let (_, _, classic) = common::get(&d.metrics_url(), None);
    let line = classic
        .lines()
        .find(|l| l.contains(escaped))
        .unwrap_or_else(|| panic!("no sample for {odd}:\n{classic}"));
    assert!(line.ends_with(" 1"), "{line}");
    let (_, _, om) = common::get(
        &d.metrics_url(),
        Some("application/openmetrics-text; version=1.0.0"),
    );
    assert!(
        om.lines().any(|l| l.contains(escaped) && l.ends_with(" 1")),
        "{om}"
    );

    let mut check = std::process::Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (scripts/test installs it)");
    use std::io::Write;
    check
        .stdin
        .take()
        .unwrap()
        .write_all(classic.as_bytes())
        .unwrap();
    let out = check.wait_with_output().unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        !said.contains("error") && !said.contains("jolt_alert_notifications"),
        "promtool: {said}"
    );
}
