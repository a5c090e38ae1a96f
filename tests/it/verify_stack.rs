//! Verified scenarios against the real stack on loopback: Prometheus with the shipped
//! prometheus.yml and rules, Alertmanager with the shipped alertmanager.yml, and jolt pointed
//! at both. A short custom scenario passes (`jolt verify` exits 0, JUnit read by junitparser
//! and xmllint); an unknown alert and an impossible budget are refused at start (422);
//! a `never` alert that fires fails with its time (exit 1) and aborts the run; Prometheus
//! stopped mid-run makes the verdict inconclusive (exit 2), never pass. The shortest built-in
//! (ddos-attack, 2 min) passes at speed 1.

use crate::common;
use crate::stack;
use crate::stack::verify_live;

use common::{call, metric};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};
use verify_live::Live;

/// `jolt verify FILE --junit JUNIT` against the stack's jolt.
/// The live stack, and the two JUnit readers (scripts/setup-junit installs junitparser).
const TOOLS: [&str; 4] = [
    stack::PROMETHEUS,
    stack::ALERTMANAGER,
    "xmllint",
    "python3:junitparser",
];

fn jolt_verify(live: &Live, file: &Path, junit: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_jolt"));
    cmd.args(["verify", "--control", &live.jolt.control.to_string()])
        .arg(file)
        .arg("--junit")
        .arg(junit);
    cmd
}

fn show(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Reads a JUnit file with xmllint (well-formed) and junitparser (as CI does): one JSON
/// object per test case.
fn read_junit(path: &Path) -> Vec<Value> {
    let lint = Command::new("xmllint")
        .arg("--noout")
        .arg(path)
        .output()
        .unwrap();
    assert!(lint.status.success(), "xmllint: {}", show(&lint));
    let reader = stack::repo().join("tests/junit/read.py");
    let out = Command::new("python3")
        .arg(reader)
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "junitparser (scripts/setup-junit installs it): {}",
        show(&out)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn run(live: &Live, id: &str) -> Value {
    call("GET", &live.jolt.control_url(&format!("/runs/{id}")), "").1
}

fn check<'a>(run: &'a Value, name: &str) -> &'a Value {
    run["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no check {name} in {run:#}"))
}

const PASSES: &str = r#"title: Payment outage, verified
duration: 40s
steps:
  - id: outage
    at: "0:05"
    note: Payment goes down
    action: {kind: fault, service: payment, down: true}
    duration: 15s
expect:
  - alert: ServiceDown
    labels: {service: payment}
    fires: {after: outage, within: 20s}
    notified: true
    resolves: {after: outage.end, within: 20s}
  - alert: HostOomKill
    never: true
  - name: payment up before the outage
    query: jolt_service_up{service="payment"}
    above: 0.5
    during: {from: "0:00", to: outage}
"#;

const FALSE_POSITIVE: &str = r#"title: A false positive
duration: 30s
steps:
  - id: load
    at: 0
    action: {kind: fault, service: search, latency: 1ms}
    duration: 30s
expect:
  - alert: LoadActionRunning
    never: true
    abort_on_fail: true
  - alert: ServiceDown
    labels: {service: search}
    never: true
"#;

const BLIND: &str = r#"title: Prometheus goes away
duration: 15s
steps:
  - {id: load, at: 0, action: {kind: fault, service: search, latency: 1ms}, duration: 15s}
expect:
  - alert: ServiceDown
    labels: {service: search}
    never: true
"#;

#[test]
fn verified_scenarios_against_the_real_stack() {
    if !crate::common::require_tools(&TOOLS) {
        return;
    }
    let mut live = verify_live::start();
    let dir = tempfile::tempdir().unwrap();

    // A short verified scenario passes: exit 0, every check passes, JUnit all green.
    let file = write(dir.path(), "outage-check.yaml", PASSES);
    let junit = dir.path().join("pass.xml");
    let out = jolt_verify(&live, &file, &junit).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}{}", show(&out), live.logs());
    let r = run(&live, "run-1");
    assert_eq!(r["verdict"], "pass", "{r:#}");
    let fires = check(&r, "ServiceDown{service=payment} fires");
    assert!(
        fires["observed"]
            .as_str()
            .unwrap()
            .contains("after outage, budget 20.0 s"),
        "{fires}"
    );
    println!("detection delays: {}", r["checks"]);
    let cases = read_junit(&junit);
    assert_eq!(cases.len(), 5, "{cases:?}");
    assert!(cases.iter().all(|c| c["result"] == "passed"), "{cases:?}");
    let body = live.jolt.scrape();
    let verdict = [
        ("run", "run-1"),
        ("scenario", "outage-check"),
        ("verdict", "pass"),
    ];
    assert_eq!(metric(&body, "jolt_scenario_verdict", &verdict), Some(1.0));
    let result = [
        ("check", "payment up before the outage"),
        ("result", "pass"),
    ];
    assert_eq!(
        metric(&body, "jolt_scenario_check_result", &result),
        Some(1.0)
    );
    let total = [("scenario", "outage-check"), ("result", "pass")];
    assert_eq!(
        metric(&body, "jolt_scenario_checks_total", &total),
        Some(5.0)
    );
    let (_, events) = call("GET", &live.jolt.control_url("/events"), "");
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(
        kinds.iter().filter(|k| **k == "check_passed").count(),
        5,
        "{kinds:?}"
    );
    assert!(kinds.contains(&"run_verdict"), "{kinds:?}");

    // An alert Prometheus does not have, and budgets below the pipeline's minimum: 422 at
    // start, naming the check and the minimum; nothing starts.
    let start = |name: &str, query: &str| {
        call(
            "POST",
            &live
                .jolt
                .control_url(&format!("/scenarios/{name}/start{query}")),
            "",
        )
    };
    let put = |name: &str, text: &str| {
        let (s, body) = common::put_scenario(&live.jolt, name, text);
        assert_eq!(s, 201, "PUT {name}: {body}");
    };
    put(
        "no-such-alert",
        &PASSES.replace("alert: ServiceDown", "alert: NoSuchAlert"),
    );
    let (s, e) = start("no-such-alert", "");
    assert_eq!(s, 422, "{e}");
    assert_eq!(e["field"], "expect[0].alert", "{e}");
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("no alerting rule `NoSuchAlert`"),
        "{e}"
    );
    put(
        "too-fast",
        &PASSES.replace("within: 20s}\n    notified", "within: 3s}\n    notified"),
    );
    let (s, e) = start("too-fast", "");
    assert_eq!(s, 422, "{e}");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains(
            "a budget of 3s cannot be met; the minimum is 7s (scrape 1s + evaluation 1s + for 5s)"
        ),
        "{e}"
    );
    let (s, e) = start("outage-check", "?speed=10");
    assert_eq!(s, 422, "{e}");
    assert!(
        e["message"].as_str().unwrap().contains("lower the speed"),
        "{e}"
    );
    let (_, runs) = call("GET", &live.jolt.control_url("/runs"), "");
    assert_eq!(
        runs.as_array().unwrap().len(),
        1,
        "nothing else started: {runs}"
    );

    // A `never` alert fires: fail with the time it fired (exit 1), and abort_on_fail stops
    // the run.
    let file = write(dir.path(), "false-positive.yaml", FALSE_POSITIVE);
    let junit = dir.path().join("fail.xml");
    let out = jolt_verify(&live, &file, &junit).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}{}", show(&out), live.logs());
    let r = run(&live, "run-2");
    assert_eq!(r["verdict"], "fail", "{r:#}");
    assert_eq!(r["state"], "stopped", "abort_on_fail stopped it: {r:#}");
    let never = check(&r, "LoadActionRunning never");
    assert_eq!(never["result"], "fail");
    assert!(
        never["observed"]
            .as_str()
            .unwrap()
            .starts_with("fired at 0:0"),
        "{never}"
    );
    assert!(never["decided_at"].as_f64().unwrap() < 30.0, "{never}");
    let cases = read_junit(&junit);
    let failed: Vec<&Value> = cases.iter().filter(|c| c["result"] == "failure").collect();
    assert_eq!(failed.len(), 1, "{cases:?}");
    let m = failed[0]["message"].as_str().unwrap();
    assert!(
        m.contains("expected: LoadActionRunning never fires") && m.contains("observed: fired at"),
        "{m}"
    );

    // Prometheus stopped mid-run: inconclusive (exit 2), never pass.
    let file = write(dir.path(), "blind.yaml", BLIND);
    let junit = dir.path().join("blind.xml");
    let mut child = jolt_verify(&live, &file, &junit)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(4));
    live.stop_prometheus();
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("jolt verify did not end after Prometheus stopped");
        }
        std::thread::sleep(Duration::from_millis(250));
    };
    assert_eq!(status.code(), Some(2));
    let r = run(&live, "run-3");
    assert_eq!(r["verdict"], "inconclusive", "{r:#}");
    let c = check(&r, "ServiceDown{service=search} never");
    assert!(
        c["observed"]
            .as_str()
            .unwrap()
            .contains("no data from Prometheus"),
        "{c}"
    );
    let cases = read_junit(&junit);
    assert_eq!(cases[0]["result"], "error", "{cases:?}");
}

#[test]
fn the_ddos_attack_built_in_passes_at_speed_1() {
    if !crate::common::require_tools(&TOOLS) {
        return;
    }
    let live = verify_live::start();
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("ddos.xml");
    let out = Command::new(env!("CARGO_BIN_EXE_jolt"))
        .args(["scenario", "start", "ddos-attack", "--verify", "--control"])
        .arg(live.jolt.control.to_string())
        .arg("--junit")
        .arg(&junit)
        .output()
        .unwrap();
    let r = run(&live, "run-1");
    // The detection delays, for the report (bench/verify.sh prints them too).
    for c in r["checks"].as_array().into_iter().flatten() {
        println!("{}: {} — {}", c["name"], c["result"], c["observed"]);
    }
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{r:#}{}",
        show(&out),
        live.logs()
    );
    assert_eq!(r["verdict"], "pass");
    let cases = read_junit(&junit);
    assert_eq!(cases.len(), r["checks"].as_array().unwrap().len());
    assert!(cases.iter().all(|c| c["result"] == "passed"), "{cases:?}");
}

const PAUSED: &str = r#"title: A paused outage
duration: 40s
steps:
  - id: outage
    at: "0:02"
    note: Payment goes down
    action: {kind: fault, service: payment, down: true}
    duration: 25s
expect:
  - alert: ServiceDown
    labels: {service: payment}
    fires: {after: outage, within: 15s}
"#;

/// Pause stops every pending check's clock: the run is paused as the outage begins (which
/// heals the fault, so the alert cannot fire) for longer than the budget, and the check is
/// still pending; after resume the outage comes back and the alert fires within the budget
/// counted in active time only. Were wall time counted, the check would fail.
#[test]
fn pausing_a_run_stops_the_check_clock() {
    if !crate::common::require_tools(&TOOLS) {
        return;
    }
    let live = verify_live::start();
    let url = |p: &str| live.jolt.control_url(p);
    let s = common::agent()
        .put(&url("/scenarios/paused-outage"))
        .header("Content-Type", "application/yaml")
        .send(PAUSED)
        .unwrap()
        .status()
        .as_u16();
    assert_eq!(s, 201);
    let (s, r) = call("POST", &url("/scenarios/paused-outage/start"), "");
    assert_eq!(s, 201, "{r}");
    let id = r["id"].as_str().unwrap().to_string();
    // Pause as soon as the outage step has started.
    let deadline = Instant::now() + Duration::from_secs(30);
    while run(&live, &id)["elapsed_seconds"].as_f64().unwrap_or(0.0) < 2.5 {
        assert!(
            Instant::now() < deadline,
            "the run never reached its outage"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let (s, r) = call("POST", &url(&format!("/runs/{id}/pause")), "");
    assert_eq!(s, 200, "{r}");
    // Longer than the budget, in wall time.
    std::thread::sleep(Duration::from_secs(20));
    let r = run(&live, &id);
    assert_eq!(r["state"], "paused", "{r:#}");
    let c = check(&r, "ServiceDown{service=payment} fires");
    assert_eq!(c["result"], "pending", "the budget ran while paused: {c}");
    let (s, r) = call("POST", &url(&format!("/runs/{id}/resume")), "");
    assert_eq!(s, 200, "{r}");
    let deadline = Instant::now() + Duration::from_secs(90);
    let r = loop {
        let r = run(&live, &id);
        if r["verdict"] != "pending" && r["verdict"] != Value::Null {
            break r;
        }
        assert!(
            Instant::now() < deadline,
            "no verdict: {r:#}{}",
            live.logs()
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let c = check(&r, "ServiceDown{service=payment} fires");
    println!("paused outage: {}", c["observed"]);
    assert_eq!(c["result"], "pass", "{r:#}{}", live.logs());
    assert_eq!(r["verdict"], "pass", "{r:#}");
}
