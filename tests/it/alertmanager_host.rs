//! A real Alertmanager delivers to jolt the way compose wires it: the shipped alertmanager.yml's
//! webhook URL `http://jolt:9478/alerts` unchanged (an HTTP proxy pointed at jolt's loopback port
//! stands in for compose's DNS, so the request carries `Host: jolt:9478` exactly as in compose),
//! and jolt started with compose's browser flags. Without `--control-allowed-host jolt` the
//! delivery is refused as a DNS-rebinding attempt would be. Kubernetes' service names and pod IPs
//! are checked with hand-written requests.

use crate::common;
use crate::control;
use crate::stack;

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
    if !crate::common::require_tools(&[crate::stack::ALERTMANAGER]) {
        return;
    }
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
    if !crate::common::require_tools(&[crate::stack::ALERTMANAGER]) {
        return;
    }
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

/// Alertmanager reaches jolt as `jolt:9478` in compose (which passes
/// `--control-allowed-host jolt`) and by pod IP or service name in Kubernetes, with no Origin.
#[test]
fn alertmanager_deliveries_by_service_name_or_ip_keep_working() {
    let notification = serde_json::json!({
        "version": "4", "groupKey": "{}:{alertname=\"HostHighCpu\"}", "truncatedAlerts": 0,
        "status": "firing", "receiver": "jolt", "groupLabels": {"alertname": "HostHighCpu"},
        "commonLabels": {"alertname": "HostHighCpu"}, "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [{"status": "firing", "labels": {"alertname": "HostHighCpu", "severity": "critical"},
            "annotations": {}, "startsAt": "2026-01-01T10:00:00Z", "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph", "fingerprint": "1a2b3c4d5e6f7a8b"}]
    })
    .to_string();
    let d = Daemon::start(&["--control-allowed-host", "jolt,.svc.cluster.local"]);
    for host in [
        "jolt:9478",
        "jolt.monitoring.svc.cluster.local:9478",
        "10.42.0.7:9478",
    ] {
        let (status, out) = control::raw(d.control, "POST", "/alerts", host, &notification);
        assert_eq!(status, 200, "{host}: {out}");
    }
    let events = control::get(&d.control_url("/events")).json();
    let alerts = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e.to_string().contains("HostHighCpu"))
        .count();
    assert!(alerts >= 3, "{events}");
    // Without the name configured, the service-name delivery is refused (and says how to fix).
    let bare = Daemon::start(&[]);
    let (status, out) = control::raw(bare.control, "POST", "/alerts", "jolt:9478", &notification);
    assert_eq!(status, 403, "{out}");
    assert!(out.contains("--control-allowed-host jolt"), "{out}");
}
