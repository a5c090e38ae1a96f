//! cpu actions over real HTTP: the closed loop reaches its target, workers are OS threads that
//! are gone once the action ends, and bad inputs change nothing.

use crate::common;

use common::{Daemon, call, cpu_seconds, get, parse_classic, stop_action, thread_names, wait_for};
use serde_json::Value;
use std::time::Duration;

fn cpu_threads(pid: u32) -> usize {
    thread_names(pid)
        .iter()
        .filter(|n| n.starts_with("jolt-cpu-"))
        .count()
}

/// Clock ticks (user + system) charged so far to the process's cpu worker threads.
fn worker_ticks(pid: u32) -> u64 {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).unwrap();
    tasks
        .flatten()
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.starts_with("jolt-cpu-"))
        })
        .filter_map(|t| std::fs::read_to_string(t.path().join("stat")).ok())
        .map(|stat| {
            let f: Vec<u64> = stat
                .rsplit_once(')')
                .unwrap()
                .1
                .split_whitespace()
                .map(|x| x.parse().unwrap_or(0))
                .collect();
            f[11] + f[12]
        })
        .sum()
}

fn metric(d: &Daemon, name: &str, label: Option<(&str, &str)>) -> Option<f64> {
    let (_, _, body) = get(&d.metrics_url(), None);
    parse_classic(&body)
        .samples
        .into_iter()
        .find(|s| s.metric == name && label.is_none_or(|(k, v)| s.labels.get(k) == Some(v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
}

#[test]
fn host_mode_reaches_the_target_and_stop_ends_the_workers() {
    let d = Daemon::start(&[]);
    assert_eq!(cpu_threads(d.pid()), 0);
    let (status, a) = call(
        "POST",
        &d.control_url("/actions/cpu"),
        r#"{"percent": 60, "duration": "30s"}"#,
    );
    assert_eq!(status, 201, "{a}");
    let id = a["id"].as_str().unwrap().to_string();
    let cores = a["params"]["cores"].as_u64().unwrap();
    assert!(cores >= 1, "cores resolved from 0: {a}");
    assert_eq!(a["params"]["mode"], "host");
    let pid = d.pid();
    wait_for(Duration::from_secs(10), || {
        (cpu_threads(pid) == cores as usize).then_some(())
    })
    .expect("one worker thread per core");

    // The series appear as soon as the action runs.
    assert_eq!(metric(&d, "jolt_action_info", Some(("id", &id))), Some(1.0));
    assert_eq!(metric(&d, "jolt_cpu_load_target_ratio", None), Some(0.6));

    // The loop is closed: achieved reports the measured host and the workers' duty. How busy
    // the host gets is a benchmark (bench/actions.sh), not a test: a shared machine decides it.
    let a = wait_for(Duration::from_secs(10), || {
        let (_, a) = call("GET", &d.control_url(&format!("/actions/{id}")), "");
        a["achieved"]["host_busy_percent"].is_number().then_some(a)
    })
    .expect("achieved shows the host's busy time");
    let busy = a["achieved"]["host_busy_percent"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&busy), "{a}");
    assert_eq!(a["achieved"]["workers"], cores);
    let progress = a["progress"].as_f64().unwrap();
    assert!(progress > 0.0 && progress < 1.0, "{a}");

    stop_action(&d, &id);
    assert_eq!(cpu_threads(d.pid()), 0, "{:?}", thread_names(d.pid()));
    assert_eq!(metric(&d, "jolt_action_info", Some(("id", &id))), None);
    assert_eq!(metric(&d, "jolt_cpu_load_target_ratio", None), Some(0.0));

    let (status, e) = call("DELETE", &d.control_url(&format!("/actions/{id}")), "");
    assert_eq!(status, 409, "{e}");
}

#[test]
fn add_mode_sets_its_duty_and_completes() {
    let d = Daemon::start(&[]);
    let before = cpu_seconds(d.pid());
    let (status, a) = call(
        "POST",
        &d.control_url("/actions/cpu"),
        "mode=add&percent=40&cores=1&duration=1.5",
    );
    assert_eq!(status, 201, "{a}");
    let id = a["id"].as_str().unwrap().to_string();
    let done = wait_for(Duration::from_secs(5), || {
        let (_, a) = call("GET", &d.control_url(&format!("/actions/{id}")), "");
        (a["state"] != "running").then_some(a)
    })
    .expect("the action ends");
    assert_eq!(done["state"], "completed", "{done}");
    assert_eq!(done["progress"], 1.0);
    assert_eq!(done["achieved"]["worker_duty_percent"], 40.0, "{done}");
    assert_eq!(cpu_threads(d.pid()), 0);
    // The worker really ran; how much it got of a shared core is bench/actions.sh's business.
    let used = cpu_seconds(d.pid()) - before;
    assert!(used > 0.0, "{used} CPU seconds");
}

#[test]
fn ramp_climbs_linearly() {
    let d = Daemon::start(&[]);
    let (status, a) = call(
        "POST",
        &d.control_url("/actions/cpu"),
        r#"{"percent": 80, "duration": "10s", "ramp": "4s"}"#,
    );
    assert_eq!(status, 201, "{a}");
    let id = a["id"].as_str().unwrap().to_string();
    std::thread::sleep(Duration::from_secs(1));
    let (_, a) = call("GET", &d.control_url(&format!("/actions/{id}")), "");
    let target = a["achieved"]["target_percent"].as_f64().unwrap();
    assert!(
        (10.0..35.0).contains(&target),
        "a quarter into the ramp: {a}"
    );
    call("DELETE", &d.control_url(&format!("/actions/{id}")), "");
}

#[test]
fn pausing_the_run_idles_the_workers() {
    let d = Daemon::start(&[]);
    let (run, id) = common::start_one_step_run(
        &d,
        r#"{"kind": "cpu", "mode": "add", "percent": 80, "cores": 1, "duration": "30s"}"#,
        "30s",
    );
    let (status, _) = call("POST", &d.control_url(&format!("/runs/{run}/pause")), "");
    assert_eq!(status, 200);
    std::thread::sleep(Duration::from_millis(300));
    let (_, a) = call("GET", &d.control_url(&format!("/actions/{id}")), "");
    assert_eq!(a["paused"], true);
    assert_eq!(a["achieved"]["worker_duty_percent"], 0.0, "{a}");
    // Idle workers: a duty of 0 sleeps whole slices, so over a second the worker threads are
    // charged at most a stray clock tick or two (an 80 % worker would be charged tens).
    let before = worker_ticks(d.pid());
    std::thread::sleep(Duration::from_secs(1));
    let used = worker_ticks(d.pid()) - before;
    assert!(used <= 5, "{used} clock ticks charged to paused workers");
    let (status, _) = call("POST", &d.control_url(&format!("/runs/{run}/resume")), "");
    assert_eq!(status, 200);
    std::thread::sleep(Duration::from_millis(300));
    let (_, a) = call("GET", &d.control_url(&format!("/actions/{id}")), "");
    assert_eq!(a["achieved"]["worker_duty_percent"], 80.0, "{a}");
    call("DELETE", &d.control_url(&format!("/runs/{run}")), "");
    let pid = d.pid();
    wait_for(Duration::from_secs(10), || {
        (cpu_threads(pid) == 0).then_some(())
    })
    .expect("stopping the run ends the workers");
}

#[test]
fn bad_inputs_are_refused_and_change_nothing() {
    let d = Daemon::start(&[]);
    let url = d.control_url("/actions/cpu");
    let cases: &[(&str, u16, Option<&str>)] = &[
        (r#"{"percent": 0}"#, 422, Some("percent")),
        (r#"{"percent": 150}"#, 422, Some("percent")),
        (r#"{"percent": -5}"#, 422, Some("percent")),
        (r#"{"percent": "lots"}"#, 400, Some("percent")),
        (r#"{"cores": 100000}"#, 422, Some("cores")),
        (r#"{"mode": "sideways"}"#, 400, Some("mode")),
        (r#"{"duration": -1}"#, 422, Some("duration")),
        (r#"{"duration": 0}"#, 422, Some("duration")),
        (r#"{"duration": "5s", "ramp": "10s"}"#, 422, Some("ramp")),
        (r#"{"percnt": 50}"#, 400, Some("percnt")),
        (r#"{"percent": 50"#, 400, None),
    ];
    for (body, want, field) in cases {
        let (status, e) = call("POST", &url, body);
        assert_eq!(status, *want, "{body}: {e}");
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
        if let Some(f) = field {
            assert_eq!(e["field"], *f, "{body}: {e}");
        }
    }
    let (status, list) = call("GET", &d.control_url("/actions"), "");
    assert_eq!(status, 200);
    assert_eq!(list, Value::Array(vec![]));
    assert_eq!(cpu_threads(d.pid()), 0);
}

#[test]
fn sigterm_with_cpu_load_running_exits_cleanly() {
    let mut d = Daemon::start(&[]);
    let (status, _) = call(
        "POST",
        &d.control_url("/actions/cpu"),
        r#"{"percent": 100, "duration": "60s"}"#,
    );
    assert_eq!(status, 201);
    std::thread::sleep(Duration::from_millis(300));
    let exit = d.terminate(Duration::from_secs(15)).expect("exits");
    assert!(exit.success(), "{exit:?}");
}
