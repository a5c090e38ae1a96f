//! The chart's DaemonSet run for real: the container args and environment the chart renders,
//! with the host paths, the pod IP and the ports mapped onto this machine, start the real jolt
//! binary; the kubelet's probes answer, the in-pod client (`kubectl exec … -- jolt action`)
//! finds its daemon and token from the rendered environment, and nothing works without it.
//! (`--control-allow-origin`/`--control-allowed-host` come from another change and are left
//! out here until the binary has them.)

mod common;
mod helm;
mod stack;

use helm::*;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::Duration;

/// Rewrites one rendered string for this machine.
fn localize(s: &str, map: &[(String, String)]) -> String {
    map.iter()
        .fold(s.to_string(), |acc, (from, to)| acc.replace(from, to))
}

#[test]
fn the_rendered_daemonset_runs_jolt_and_its_in_pod_client() {
    let docs = render("default");
    let c = &of_kind(&docs, "DaemonSet")[0]["spec"]["template"]["spec"]["containers"][0];
    let dir = tempfile::tempdir().unwrap();
    let token_dir = dir.path().join("token");
    std::fs::create_dir(&token_dir).unwrap();
    std::fs::write(token_dir.join("token"), "chart-token-0123456789abcdef").unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let ports: Vec<u16> = (0..3).map(|_| stack::free_port()).collect();
    let map: Vec<(String, String)> = vec![
        ("/host/proc".into(), "/proc".into()),
        ("/host/sys".into(), "/sys".into()),
        ("--rootfs=/host/root".into(), "--rootfs=/".into()),
        ("/var/lib/jolt".into(), state.display().to_string()),
        ("/etc/jolt/token".into(), token_dir.display().to_string()),
        ("$(POD_IP)".into(), "127.0.0.1".into()),
        (":9477".into(), format!(":{}", ports[0])),
        (":9478".into(), format!(":{}", ports[1])),
        (":9479".into(), format!(":{}", ports[2])),
    ];
    let args: Vec<String> = c["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| localize(a.as_str().unwrap(), &map))
        .filter(|a| {
            !a.starts_with("--control-allow-origin") && !a.starts_with("--control-allowed-host")
        })
        .collect();
    let env: BTreeMap<String, String> = c["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_string(),
                localize(e["value"].as_str()?, &map),
            ))
        })
        .collect();
    assert!(
        env.contains_key("JOLT_CONTROL_ADDR") && env.contains_key("JOLT_CONTROL_TOKEN_FILE"),
        "{env:?}"
    );

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jolt"));
    cmd.args(&args).envs(&env);
    let mut daemon = stack::Proc::spawn("jolt", cmd, dir.path().join("jolt.log"));

    // The kubelet's probes, as rendered.
    let probe = &c["readinessProbe"]["httpGet"];
    let port = match probe["port"].as_str().unwrap() {
        "control" => ports[1],
        _ => ports[0],
    };
    let probe_url = format!("http://127.0.0.1:{port}{}", probe["path"].as_str().unwrap());
    let ready = common::wait_for(Duration::from_secs(15), || {
        daemon.assert_running();
        ureq::get(&probe_url)
            .call()
            .ok()
            .map(|r| r.status().as_u16())
    });
    assert_eq!(ready, Some(200), "{}", daemon.log_tail());
    let scrape = ureq::get(&format!("http://127.0.0.1:{}/metrics", ports[0]))
        .call()
        .unwrap();
    assert_eq!(scrape.status(), 200);

    // The in-pod client, with the rendered environment only.
    let client = |args: &[&str], env: &BTreeMap<String, String>| {
        Command::new(env!("CARGO_BIN_EXE_jolt"))
            .args(args)
            .env_clear()
            .envs(env)
            .output()
            .unwrap()
    };
    let fault = [
        "action",
        "fault",
        "--service",
        "auth",
        "--latency",
        "1ms",
        "--duration",
        "5s",
    ];
    let out = client(&fault, &env);
    assert!(out.status.success(), "{}", stack::text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("started fault-"));
    let out = client(&["stop", "--all"], &env);
    assert!(out.status.success(), "{}", stack::text(&out));

    // Without the token, the control API refuses (401), whatever else is right.
    let mut no_token = env.clone();
    no_token.remove("JOLT_CONTROL_TOKEN_FILE");
    let out = client(&fault, &no_token);
    assert!(!out.status.success());
    assert!(stack::text(&out).contains("401"), "{}", stack::text(&out));
}
