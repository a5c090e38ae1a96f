//! The daemon's lifecycle over real sockets: listeners, negotiation, shutdown, bad config.

use crate::common;

use common::{Daemon, get, parse_classic};
use std::time::Duration;

#[test]
fn serves_classic_text_by_default_and_openmetrics_on_request() {
    let d = Daemon::start(&[]);
    let (status, ct, body) = get(&d.metrics_url(), None);
    assert_eq!(status, 200);
    assert_eq!(ct, "text/plain; version=0.0.4; charset=utf-8");
    assert!(!body.contains("# EOF"));
    let scrape = parse_classic(&body);
    assert!(scrape.samples.iter().any(|s| s.metric == "jolt_build_info"));
    assert!(
        scrape
            .samples
            .iter()
            .any(|s| s.metric == "process_cpu_seconds_total")
    );

    // prometheus-client appends a period to registered help texts; ours must not add a second.
    let doubled: Vec<_> = body
        .lines()
        .filter(|l| l.starts_with("# HELP ") && l.ends_with(".."))
        .collect();
    assert!(doubled.is_empty(), "help texts ending in '..': {doubled:?}");

    let (status, ct, body) = get(
        &d.metrics_url(),
        Some("application/openmetrics-text;version=1.0.0"),
    );
    assert_eq!(status, 200);
    assert!(
        ct.starts_with("application/openmetrics-text; version=1.0.0"),
        "{ct}"
    );
    assert!(body.ends_with("# EOF\n"));
    assert!(body.contains("# TYPE process_cpu_seconds counter"));
}

#[test]
fn healthz_answers_on_control_and_services() {
    let d = Daemon::start(&[]);
    assert_eq!(get(&d.control_url("/healthz"), None).0, 200);
    assert_eq!(get(&d.services_url("/healthz"), None).0, 200);
    assert_eq!(get(&format!("http://{}/nope", d.metrics), None).0, 404);
}

#[test]
fn sigterm_exits_zero() {
    let mut d = Daemon::start(&[]);
    let status = d
        .terminate(Duration::from_secs(15))
        .expect("exited after SIGTERM");
    assert!(status.success(), "{status:?}");
}

#[test]
fn a_busy_port_is_a_one_line_error_naming_the_address() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_jolt"))
        .args([
            "--metrics-listen",
            &addr,
            "--control-listen",
            "127.0.0.1:0",
            "--services-listen",
            "127.0.0.1:0",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    let last = err.lines().last().unwrap_or("");
    assert!(last.contains(&addr) && last.contains("metrics"), "{err}");
}

#[test]
fn an_unknown_config_key_fails_before_binding() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jolt.yaml");
    std::fs::write(&path, "metrics_listen: 127.0.0.1:0\nmetric_listen: 1\n").unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_jolt"))
        .arg("--config")
        .arg(&path)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("metric_listen"), "{err}");
    assert!(!err.contains("listening"), "bound before failing: {err}");
}

#[test]
fn non_loopback_control_needs_a_token() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_jolt"))
        .args([
            "--control-listen",
            "0.0.0.0:0",
            "--metrics-listen",
            "127.0.0.1:0",
        ])
        .env_remove("JOLT_CONTROL_TOKEN")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--control-insecure"));
}

#[test]
fn the_open_files_soft_limit_is_raised_to_the_hard_one() {
    // Start through a shell that lowers the soft limit, then execs jolt in place.
    let state = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new("sh")
        .args(["-c", "ulimit -Sn 256 && exec \"$0\" \"$@\""])
        .arg(env!("CARGO_BIN_EXE_jolt"))
        .args([
            "--metrics-listen",
            "127.0.0.1:0",
            "--control-listen",
            "127.0.0.1:0",
        ])
        .args(["--services-listen", "127.0.0.1:0", "--state-dir"])
        .arg(state.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let limits = |pid: u32| {
        let text = std::fs::read_to_string(format!("/proc/{pid}/limits")).ok()?;
        let line = text.lines().find(|l| l.starts_with("Max open files"))?;
        let mut nums = line.split_whitespace().skip(3);
        Some((nums.next()?.to_string(), nums.next()?.to_string()))
    };
    let raised = common::wait_for(Duration::from_secs(10), || {
        limits(child.id()).filter(|(soft, hard)| soft == hard && soft != "256")
    });
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        raised.is_some(),
        "soft limit not raised: {:?}",
        limits(child.id())
    );
}
