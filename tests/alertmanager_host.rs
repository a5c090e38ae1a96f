//! A real Alertmanager delivers to jolt the way compose wires it: the shipped alertmanager.yml's
//! webhook URL `http://jolt:9478/alerts` unchanged (an HTTP proxy pointed at jolt's loopback port
//! stands in for compose's DNS, so the request carries `Host: jolt:9478` exactly as in compose),
//! and jolt started with compose's browser flags. Without `--control-allowed-host jolt` the
//! delivery is refused as a DNS-rebinding attempt would be.

mod common;
mod stack;

use common::Daemon;
use serde_yaml_ng::Value;
use stack::{Proc, binary, compose_layout, free_port, yaml};
use std::process::Command;
use std::time::Duration;

/// jolt's browser flags as compose.yaml passes them.
fn compose_browser_flags() -> Vec<String> {
    let compose = yaml("compose.yaml");
    compose["services"]["jolt"]["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .filter(|c| {
            c.starts_with("--control-allowed-host=") || c.starts_with("--control-allow-origin=")
        })
        .map(str::to_string)
        .collect()
}

/// Starts Alertmanager with the shipped config, its webhooks sent through a proxy at `jolt`,
/// and fires one info alert (routed to jolt's webhook only).
fn alertmanager_delivering_to(jolt: std::net::SocketAddr, dir: &std::path::Path) -> Proc {
    let shipped = compose_layout("alertmanager", "/etc/alertmanager", "alertmanager.yml", dir);
    let mut cfg: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(shipped).unwrap()).unwrap();
    let nowhere = dir.join("slack_webhook_url");
    std::fs::write(&nowhere, "http://127.0.0.1:9/nowhere\n").unwrap();
    cfg["global"]["slack_api_url_file"] = nowhere.to_str().unwrap().into();
    let mut hooks = 0;
    for r in cfg["receivers"].as_sequence_mut().unwrap() {
        for w in r["webhook_configs"].as_sequence_mut().into_iter().flatten() {
            assert_eq!(w["url"].as_str(), Some("http://jolt:9478/alerts"));
            let mut http = serde_yaml_ng::Mapping::new();
            http.insert("proxy_url".into(), format!("http://{jolt}").into());
            w["http_config"] = Value::Mapping(http);
            hooks += 1;
        }
    }
    assert!(hooks >= 1);
    let file = dir.join("alertmanager.yml");
    std::fs::write(&file, serde_yaml_ng::to_string(&cfg).unwrap()).unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let mut cmd = Command::new(binary(&["alertmanager", "prometheus-alertmanager"]));
    cmd.arg(format!("--config.file={}", file.display()))
        .arg(format!("--storage.path={}", dir.join("data").display()))
        .arg(format!("--web.listen-address={addr}"))
        .arg("--cluster.listen-address=");
    let mut am = Proc::spawn("alertmanager", cmd, dir.join("alertmanager.log"));
    let url = format!("http://{addr}/api/v2/alerts");
    let alert = serde_json::json!([{
        "labels": {"alertname": "JoltHostCheck", "severity": "info", "instance": "demo:9477"},
        "annotations": {"summary": "delivered by name"}
    }]);
    let posted = common::wait_for(Duration::from_secs(30), || {
        common::agent()
            .post(&url)
            .header("Content-Type", "application/json")
            .send(alert.to_string())
            .ok()
            .filter(|r| r.status() == 200)
    });
    if posted.is_none() {
        am.assert_running();
        panic!("alertmanager did not take the alert: {}", am.log_tail());
    }
    am
}

fn delivered(d: &Daemon) -> bool {
    let (_, events) = common::call("GET", &d.control_url("/events"), "");
    events.to_string().contains("JoltHostCheck")
}

#[test]
fn alertmanager_reaches_jolt_by_its_compose_name() {
    let flags = compose_browser_flags();
    assert!(
        flags.iter().any(|f| f == "--control-allowed-host=jolt"),
        "{flags:?}"
    );
    let args: Vec<&str> = flags.iter().map(String::as_str).collect();
    let d = Daemon::start(&args);
    let dir = tempfile::tempdir().unwrap();
    let am = alertmanager_delivering_to(d.control, dir.path());
    let ok = common::wait_for(Duration::from_secs(30), || delivered(&d).then_some(()));
    assert!(
        ok.is_some(),
        "no delivery; alertmanager log:\n{}",
        am.log_tail()
    );
}

#[test]
fn without_the_name_the_delivery_is_refused_like_a_rebinding_page() {
    let d = Daemon::start(&[]);
    let dir = tempfile::tempdir().unwrap();
    let am = alertmanager_delivering_to(d.control, dir.path());
    let refused = || {
        d.logs.lock().unwrap().iter().any(|l| {
            l.contains("refused a browser request")
                && l.contains("jolt:9478")
                && l.contains("/alerts")
        })
    };
    let seen = common::wait_for(Duration::from_secs(30), || refused().then_some(()));
    assert!(seen.is_some(), "alertmanager log:\n{}", am.log_tail());
    assert!(!delivered(&d));
}
