//! The chart's DaemonSet run for real: the container args and environment the chart renders,
//! with the host paths, the pod IP and the ports mapped onto this machine, start the real jolt
//! binary; the kubelet's probes answer, the in-pod client (`kubectl exec … -- jolt action`)
//! finds its daemon and token from the rendered environment, nothing works without it, the
//! Service's DNS names (how Alertmanager reaches jolt) pass the Host check while others do not,
//! and Grafana's origin from the values gets CORS answers.

use crate::common;
use crate::helm;
use crate::stack;

use helm::*;
use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use std::process::{Command, Output};
use std::time::Duration;

const TOKEN: &str = "chart-token-0123456789abcdef";

/// One pod of the rendered DaemonSet, running on loopback.
struct Pod {
    container: Value,
    /// metrics, control, services.
    ports: Vec<u16>,
    /// The container's environment, mapped.
    env: BTreeMap<String, String>,
    daemon: stack::Proc,
    _dir: tempfile::TempDir,
}

impl Pod {
    /// Renders `case`, writes the token under the Secret's `key`, starts jolt with the
    /// container's args and env, and waits for its readiness probe.
    fn start(case: &str, key: &str) -> Pod {
        let docs = render(case);
        let container =
            of_kind(&docs, "DaemonSet")[0]["spec"]["template"]["spec"]["containers"][0].clone();
        let dir = tempfile::tempdir().unwrap();
        let token_dir = dir.path().join("token");
        std::fs::create_dir(&token_dir).unwrap();
        std::fs::write(token_dir.join(key), TOKEN).unwrap();
        let state = dir.path().join("state");
        std::fs::create_dir(&state).unwrap();
        let ports: [u16; 3] = stack::free_ports();
        let map: Vec<(String, String)> = vec![
            ("/host/proc".into(), "/proc".into()),
            ("/host/sys".into(), "/sys".into()),
            ("--rootfs=/host/root".into(), "--rootfs=/".into()),
            ("/var/lib/jolt".into(), state.display().to_string()),
            ("/etc/jolt/token".into(), token_dir.display().to_string()),
            ("$(POD_IP)".into(), "127.0.0.1".into()),
            ("0.0.0.0:".into(), "127.0.0.1:".into()),
            (":9477".into(), format!(":{}", ports[0])),
            (":9478".into(), format!(":{}", ports[1])),
            (":9479".into(), format!(":{}", ports[2])),
        ];
        let localize = |s: &str| {
            map.iter()
                .fold(s.to_string(), |acc, (from, to)| acc.replace(from, to))
        };
        let args: Vec<String> = container["args"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|a| localize(a.as_str().unwrap()))
            .collect();
        let env: BTreeMap<String, String> = container["env"]
            .as_sequence()
            .unwrap()
            .iter()
            .filter_map(|e| {
                Some((
                    e["name"].as_str()?.to_string(),
                    localize(e["value"].as_str()?),
                ))
            })
            .collect();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_jolt"));
        cmd.args(&args).envs(&env);
        let mut daemon = stack::Proc::spawn("jolt", cmd, dir.path().join("jolt.log"));
        // The kubelet's readiness probe, as rendered.
        let probe = &container["readinessProbe"]["httpGet"];
        let port = match probe["port"].as_str().unwrap() {
            "control" => ports[1],
            _ => ports[0],
        };
        let url = format!("http://127.0.0.1:{port}{}", probe["path"].as_str().unwrap());
        let ready = common::wait_for(Duration::from_secs(15), || {
            daemon.assert_running();
            ureq::get(&url).call().ok().map(|r| r.status().as_u16())
        });
        assert_eq!(ready, Some(200), "{case}: {}", daemon.log_tail());
        Pod {
            container,
            ports: ports.to_vec(),
            env,
            daemon,
            _dir: dir,
        }
    }

    /// `jolt ARGS` inside the pod: the rendered environment and nothing else.
    fn client(&self, args: &[&str], env: &BTreeMap<String, String>) -> Output {
        Command::new(env!("CARGO_BIN_EXE_jolt"))
            .args(args)
            .env_clear()
            .envs(env)
            .output()
            .unwrap()
    }

    /// A control request with the token and extra headers → status and headers.
    fn control(&self, method: &str, headers: &[(&str, String)]) -> (u16, ureq::http::HeaderMap) {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(format!("http://127.0.0.1:{}/actions", self.ports[1]))
            .header("Authorization", format!("Bearer {TOKEN}"));
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let resp = common::agent().run(req.body(()).unwrap()).unwrap();
        (resp.status().as_u16(), resp.headers().clone())
    }
}

const FAULT: [&str; 8] = [
    "action",
    "fault",
    "--service",
    "auth",
    "--latency",
    "1ms",
    "--duration",
    "5s",
];

#[test]
fn the_rendered_daemonset_runs_jolt_and_its_in_pod_client() {
    if !crate::common::require_tools(&[crate::helm::HELM]) {
        return;
    }
    let mut pod = Pod::start("default", "token");
    pod.daemon.assert_running();
    let scrape = ureq::get(&format!("http://127.0.0.1:{}/metrics", pod.ports[0]))
        .call()
        .unwrap();
    assert_eq!(scrape.status(), 200);
    assert_eq!(
        pod.container["livenessProbe"]["httpGet"]["path"],
        "/healthz"
    );

    let env = &pod.env;
    assert!(
        env.contains_key("JOLT_CONTROL_ADDR") && env.contains_key("JOLT_CONTROL_TOKEN_FILE"),
        "{env:?}"
    );
    let out = pod.client(&FAULT, env);
    assert!(out.status.success(), "{}", stack::text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("started fault-"));
    let out = pod.client(&["stop", "--all"], env);
    assert!(out.status.success(), "{}", stack::text(&out));

    // Without the token, the control API refuses (401), whatever else is right.
    let mut no_token = env.clone();
    no_token.remove("JOLT_CONTROL_TOKEN_FILE");
    let out = pod.client(&FAULT, &no_token);
    assert!(!out.status.success());
    assert!(stack::text(&out).contains("401"), "{}", stack::text(&out));

    // Alertmanager calls jolt by the Service's name: allowed by --control-allowed-host; a name
    // jolt was not given is refused (DNS rebinding).
    let host = |name: &str| {
        pod.control("GET", &[("Host", format!("{name}:{}", pod.ports[1]))])
            .0
    };
    assert_eq!(host("jolt.monitoring.svc"), 200);
    assert_eq!(host("jolt.monitoring.svc.cluster.local"), 200);
    assert_eq!(host("rebound.example.com"), 403);
}

#[test]
fn grafanas_origin_from_the_values_gets_cors_answers() {
    if !crate::common::require_tools(&[crate::helm::HELM]) {
        return;
    }
    // full: an existing Secret with the key `bearer`, Grafana's origin, host network.
    let pod = Pod::start("full", "bearer");
    let preflight = |origin: &str| {
        pod.control(
            "OPTIONS",
            &[
                ("Origin", origin.to_string()),
                ("Access-Control-Request-Method", "POST".into()),
                ("Access-Control-Request-Headers", "authorization".into()),
            ],
        )
    };
    let (_, headers) = preflight("https://grafana.example.org");
    assert_eq!(
        headers
            .get("access-control-allow-origin")
            .and_then(|v| v.to_str().ok()),
        Some("https://grafana.example.org")
    );
    let (_, headers) = preflight("https://elsewhere.example.org");
    assert!(headers.get("access-control-allow-origin").is_none());
    let (status, _) = pod.control("GET", &[("Origin", "https://elsewhere.example.org".into())]);
    assert_eq!(status, 403);
    let (status, _) = pod.control("GET", &[("Origin", "https://grafana.example.org".into())]);
    assert_eq!(status, 200);
}
