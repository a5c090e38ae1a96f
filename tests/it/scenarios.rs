//! Scenarios over real HTTP: the catalog, custom scenarios (PUT, directory, SIGHUP), runs at a
//! compressed time scale with pause, resume and stop, and bad input.

use crate::common;

use common::{Daemon, agent, get, parse_classic, wait_for};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// Sends a request with a text body; returns (status, JSON body or Null).
fn send(method: &str, url: &str, body: &str) -> (u16, Value) {
    let a = agent();
    let mut resp = match method {
        "GET" => a.get(url).call(),
        "DELETE" => a.delete(url).call(),
        "POST" => a.post(url).send(body),
        "PUT" => a
            .put(url)
            .header("Content-Type", "application/yaml")
            .send(body),
        m => panic!("unsupported method {m}"),
    }
    .expect("request");
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn metrics(d: &Daemon) -> prometheus_parse::Scrape {
    parse_classic(&get(&d.metrics_url(), None).2)
}

/// The value of the sample of `name` whose labels include all of `labels`.
fn sample(scrape: &prometheus_parse::Scrape, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .samples
        .iter()
        .find(|s| s.metric == name && labels.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
        .map(|s| match s.value {
            prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => f64::NAN,
        })
}

fn actions_of(d: &Daemon, run: &str) -> Vec<Value> {
    let (_, all) = send("GET", &d.control_url("/actions"), "");
    all.as_array()
        .unwrap()
        .iter()
        .filter(|a| a["run"] == run)
        .cloned()
        .collect()
}

fn wait_run_state(d: &Daemon, run: &str, state: &str, within: Duration) -> Value {
    wait_for(within, || {
        let (_, v) = send("GET", &d.control_url(&format!("/runs/{run}")), "");
        (v["state"] == state).then_some(v)
    })
    .unwrap_or_else(|| panic!("{run} did not reach {state}"))
}

/// Resident bytes of a process, from /proc.
fn rss(pid: u64) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn built_ins_are_listed_with_their_schema_and_zero_series() {
    let d = Daemon::start(&[]);
    let (status, list) = send("GET", &d.control_url("/scenarios"), "");
    assert_eq!(status, 200);
    let list = list.as_array().unwrap();
    for (name, title, secs) in [
        ("startup-launch-day", "Startup Launch Day", 180.0),
        ("black-friday-rush", "Black Friday Rush", 300.0),
        ("ddos-attack", "DDoS Attack Simulation", 120.0),
        ("memory-leak", "Memory Leak Detection", 300.0),
        ("morning-rush-hour", "Morning Rush Hour", 180.0),
    ] {
        let s = list.iter().find(|s| s["name"] == name).expect(name);
        assert_eq!(s["title"], title);
        assert_eq!(s["duration_seconds"], secs);
        assert_eq!(s["builtin"], true);
        assert!(!s["steps"].as_array().unwrap().is_empty());
    }
    let (status, one) = send("GET", &d.control_url("/scenarios/ddos-attack"), "");
    assert_eq!(status, 200);
    assert_eq!(one["steps"][1]["at"], "0:20");
    assert!(one["steps"][1]["note"].as_str().unwrap().contains("Attack"));

    let (status, schema) = send("GET", &d.control_url("/scenarios/schema.json"), "");
    assert_eq!(status, 200);
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/scenario.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(schema, committed);

    let m = metrics(&d);
    let running = sample(&m, "jolt_scenario_running", &[("scenario", "ddos-attack")]);
    assert_eq!(running, Some(0.0));
    let runs = sample(
        &m,
        "jolt_scenario_runs_total",
        &[("scenario", "black-friday-rush"), ("outcome", "completed")],
    );
    assert_eq!(runs, Some(0.0));
}

/// 20 s of timeline at speed 5 (4 s of wall time): cpu and fault from 0:00, memory and disk
/// from 0:10.
const TIMELINE: &str = "\
title: Timeline test
description: every kind the runner drives, briefly
duration: 20s
steps:
  - at: 0:00
    note: cpu and a fault
    action: {kind: cpu, mode: add, percent: 20, cores: 1}
    duration: 10s
  - at: \"0s\"
    action: {kind: fault, service: payment, error_rate: 0.5}
    duration: 10s
  - at: 0:10
    note: memory and disk
    action: {kind: memory, size: 16MiB}
  - at: 10
    action: {kind: disk, operations: 100000, block_size: 4KiB, write_ratio: 1}
";

#[test]
fn a_custom_scenario_runs_its_steps_at_compressed_offsets() {
    let d = Daemon::start(&[]);
    let (status, s) = send("PUT", &d.control_url("/scenarios/timeline"), TIMELINE);
    assert_eq!(status, 201, "{s}");
    assert_eq!(s["steps"][2]["duration_seconds"], 10.0);
    let (status, run) = send(
        "POST",
        &d.control_url("/scenarios/timeline/start?speed=5"),
        "",
    );
    assert_eq!(status, 201, "{run}");
    let id = run["id"].as_str().unwrap().to_string();
    assert_eq!(run["state"], "running");
    assert_eq!(run["speed"], 5.0);

    // First half: cpu and fault run, tagged with the run, durations compressed (10 s / 5).
    let first = wait_for(Duration::from_secs(5), || {
        let a = actions_of(&d, &id);
        (a.len() == 2).then_some(a)
    })
    .expect("two actions in the first half");
    let cpu = first.iter().find(|a| a["kind"] == "cpu").unwrap();
    assert_eq!(cpu["params"]["duration"], "2s");
    assert!(first.iter().any(|a| a["kind"] == "fault"));
    let m = metrics(&d);
    assert_eq!(
        sample(&m, "jolt_action_info", &[("run", &id), ("kind", "cpu")]),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &m,
            "jolt_scenario_step_info",
            &[("run", &id), ("step", "1"), ("note", "cpu and a fault")]
        ),
        Some(1.0)
    );
    assert!(sample(&m, "jolt_scenario_progress_ratio", &[("run", &id)]).is_some());
    assert_eq!(
        sample(&m, "jolt_scenario_running", &[("scenario", "timeline")]),
        Some(1.0)
    );

    let done = wait_run_state(&d, &id, "completed", Duration::from_secs(20));
    let actions = actions_of(&d, &id);
    assert_eq!(actions.len(), 4, "{actions:?}");
    let started = |kind: &str| -> f64 {
        let a = actions.iter().find(|a| a["kind"] == kind).unwrap();
        let t = humantime::parse_rfc3339(a["started_at"].as_str().unwrap()).unwrap();
        t.duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64()
    };
    // 0:10 at speed 5 is 2 s after 0:00.
    let gap = started("memory") - started("cpu");
    assert!(
        (1.8..4.0).contains(&gap),
        "memory started {gap} s after cpu"
    );
    for a in &actions {
        assert_ne!(a["state"], "running", "{a}");
        assert_ne!(a["state"], "failed", "{a}");
    }
    // The disk step has no duration of its own: the run stopped it at the step's end.
    let disk = actions.iter().find(|a| a["kind"] == "disk").unwrap();
    assert!(
        disk["state"] == "stopped" || disk["state"] == "completed",
        "{disk}"
    );
    let states: Vec<_> = done["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["state"].clone())
        .collect();
    assert_eq!(states, vec![json!("done"); 4]);
    assert_eq!(done["progress"], 1.0);
    assert_eq!(done["current_step"]["note"], "memory and disk");

    let m = metrics(&d);
    assert!(sample(&m, "jolt_scenario_step_info", &[("run", &id)]).is_none());
    assert!(sample(&m, "jolt_scenario_progress_ratio", &[("run", &id)]).is_none());
    assert!(sample(&m, "jolt_action_info", &[("run", &id)]).is_none());
    assert_eq!(
        sample(
            &m,
            "jolt_scenario_runs_total",
            &[("scenario", "timeline"), ("outcome", "completed")]
        ),
        Some(1.0)
    );
    let (_, events) = send("GET", &d.control_url("/events"), "");
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["data"]["run"] == id.as_str())
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert!(kinds.contains(&"run_started"), "{kinds:?}");
    assert!(kinds.contains(&"run_step"), "{kinds:?}");
    assert!(kinds.contains(&"run_completed"), "{kinds:?}");
    let notes: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"] == "run_step" && e["data"]["run"] == id.as_str())
        .filter_map(|e| e["data"]["note"].as_str())
        .collect();
    assert!(notes.contains(&"memory and disk"), "{notes:?}");
}

const HOLD: &str = "\
title: Hold memory
duration: 60s
steps:
  - at: 0:00
    note: hold 32 MiB
    action: {kind: memory, size: 32MiB}
  - at: 0:00
    action: {kind: cpu, mode: add, percent: 10, cores: 1}
  - at: 0:50
    note: never reached in this test
    action: {kind: cpu, mode: add, percent: 10, cores: 1}
";

#[test]
fn pause_removes_the_load_resume_restores_it_and_stop_leaves_nothing() {
    let d = Daemon::start(&[]);
    assert_eq!(send("PUT", &d.control_url("/scenarios/hold"), HOLD).0, 201);
    let (status, run) = send(
        "POST",
        &d.control_url("/scenarios/hold/start"),
        "{\"speed\": 1}",
    );
    assert_eq!(status, 201, "{run}");
    let id = run["id"].as_str().unwrap().to_string();

    // The worker process's own footprint comes on top of the 32 MiB it holds.
    let (worker, base) = wait_for(Duration::from_secs(10), || {
        let a = actions_of(&d, &id);
        let mem = a.iter().find(|a| a["kind"] == "memory")?;
        let pid = mem["achieved"]["worker_pid"].as_u64()?;
        let held = mem["achieved"]["resident_bytes"].as_u64()?;
        let rss = rss(pid)?;
        (held >= 32 << 20 && rss > 32 << 20).then_some((pid, rss - held))
    })
    .expect("the memory step holds 32 MiB");

    let (status, paused) = send("POST", &d.control_url(&format!("/runs/{id}/pause")), "");
    assert_eq!(status, 200, "{paused}");
    assert_eq!(paused["state"], "paused");
    for a in actions_of(&d, &id) {
        assert_eq!(a["state"], "running", "{a}");
        assert_eq!(a["paused"], true, "{a}");
    }
    wait_for(Duration::from_secs(5), || {
        (rss(worker)? < base + (4 << 20)).then_some(())
    })
    .unwrap_or_else(|| {
        panic!(
            "a paused memory step gives its memory back: {:?}",
            rss(worker)
        )
    });
    let m = metrics(&d);
    assert_eq!(
        sample(&m, "jolt_action_info", &[("run", &id), ("kind", "memory")]),
        Some(1.0)
    );
    assert_eq!(
        sample(&m, "jolt_scenario_running", &[("scenario", "hold")]),
        Some(0.0)
    );
    let at_pause = paused["elapsed_seconds"].as_f64().unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let (_, still) = send("GET", &d.control_url(&format!("/runs/{id}")), "");
    assert_eq!(still["elapsed_seconds"].as_f64().unwrap(), at_pause);
    let (status, _) = send("POST", &d.control_url(&format!("/runs/{id}/pause")), "");
    assert_eq!(status, 409);

    let (status, resumed) = send("POST", &d.control_url(&format!("/runs/{id}/resume")), "");
    assert_eq!(status, 200, "{resumed}");
    assert_eq!(resumed["state"], "running");
    wait_for(Duration::from_secs(5), || {
        (rss(worker)? >= base + (32 << 20)).then_some(())
    })
    .expect("resume restores the memory");
    assert!(actions_of(&d, &id).iter().all(|a| a["paused"] == false));

    let (status, stopped) = send("DELETE", &d.control_url(&format!("/runs/{id}")), "");
    assert_eq!(status, 200, "{stopped}");
    assert_eq!(stopped["state"], "stopped");
    assert_eq!(stopped["steps"][2]["state"], "skipped");
    let left: Vec<_> = actions_of(&d, &id)
        .into_iter()
        .filter(|a| a["state"] == "running")
        .collect();
    assert!(left.is_empty(), "{left:?}");
    wait_for(Duration::from_secs(5), || {
        rss(worker).is_none().then_some(())
    })
    .expect("the memory worker exits");
    assert!(sample(&metrics(&d), "jolt_action_info", &[("run", &id)]).is_none());
    assert_eq!(
        send("DELETE", &d.control_url(&format!("/runs/{id}")), "").0,
        409
    );
}

#[test]
fn bad_scenarios_are_refused_with_where_and_what_and_change_nothing() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("scenarios");
    let d = Daemon::start(&["--scenarios-dir", dir.to_str().unwrap()]);
    let url = |name: &str| d.control_url(&format!("/scenarios/{name}"));
    let good = "title: Good\nduration: 30s\nsteps:\n  - {at: 0, action: {kind: cpu, percent: 5}}\n";
    assert_eq!(send("PUT", &url("mine"), good).0, 201);
    assert_eq!(
        send("PUT", &url("mine"), good).0,
        200,
        "replacing answers 200"
    );

    let cases: [(&str, u16, &[&str]); 7] = [
        ("title: [unclosed\n", 400, &["line 1"]),
        (
            "title: t\nduration: 30s\nsteps:\n  - at: 0\n    action: {kind: gpu}\n",
            400,
            &["unknown action kind `gpu`", "line 4"],
        ),
        (
            "title: t\nduration: 30s\nsteps:\n  - at: 0\n    action: {kind: cpu, prcent: 5}\n",
            400,
            &["prcent", "line 4"],
        ),
        (
            "title: t\nduration: 30s\nsteps:\n  - at: \"-0:05\"\n    action: {kind: cpu}\n",
            400,
            &["negative offset", "line 4"],
        ),
        (
            "title: t\nduration: 30s\nsteps:\n  - {at: 0:20, action: {kind: cpu}, duration: 20s}\n",
            422,
            &["steps[0]", "past the scenario's end"],
        ),
        (
            "title: t\nduration: 30s\nbogus: 1\nsteps: []\n",
            400,
            &["bogus"],
        ),
        (
            "title: t\nduration: 30s\nsteps:\n  - {at: 0, action: {kind: fault, service: nope}}\n",
            422,
            &["steps[0].action", "nope"],
        ),
    ];
    for (body, status, needles) in cases {
        let (got, err) = send("PUT", &url("mine"), body);
        assert_eq!(got, status, "{body}: {err}");
        let msg = err["message"].as_str().unwrap_or_default();
        for n in needles {
            assert!(msg.contains(n), "{body}: `{msg}` lacks `{n}`");
        }
    }
    let (_, mine) = send("GET", &url("mine"), "");
    assert_eq!(
        mine["title"], "Good",
        "an invalid body never replaces a valid one"
    );

    let huge = format!("title: t\ndescription: \"{}\"\n", "x".repeat(300 * 1024));
    let (status, err) = send("PUT", &url("huge"), &huge);
    assert_eq!(status, 413, "{err}");
    assert_eq!(err["error"], "payload_too_large");

    for bad in ["..%2Fetc", "..%2F..%2Fescape", "UPPER", "a.yaml"] {
        let (status, err) = send("PUT", &url(bad), good);
        assert_eq!(status, 400, "{bad}: {err}");
        assert_eq!(err["field"], "name", "{bad}");
    }
    let (status, err) = send("PUT", &url("ddos-attack"), good);
    assert_eq!(status, 409, "{err}");

    assert_eq!(files_in(&dir), ["mine.yaml"]);
    assert_eq!(
        files_in(root.path()),
        ["scenarios"],
        "nothing written outside the dir"
    );
    assert_eq!(
        std::fs::read_to_string(dir.join("mine.yaml")).unwrap(),
        good
    );

    let start = |q: &str| {
        send(
            "POST",
            &d.control_url(&format!("/scenarios/mine/start{q}")),
            "",
        )
    };
    assert_eq!(start("?speed=0").0, 422);
    assert_eq!(start("?speed=-3").0, 422);
    assert_eq!(start("?sped=3").0, 400);
    assert_eq!(
        send("POST", &d.control_url("/scenarios/none/start"), "").0,
        404
    );
    assert_eq!(send("GET", &d.control_url("/runs/run-99"), "").0, 404);
    let (_, runs) = send("GET", &d.control_url("/runs"), "");
    assert_eq!(runs, json!([]), "refused starts create no run");
}

#[test]
fn sighup_reloads_the_directory_and_keeps_invalid_files_out() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("custom");
    std::fs::create_dir(&dir).unwrap();
    let valid = |title: &str| {
        format!("title: {title}\nduration: 1m\nsteps:\n  - {{at: 0:10, action: {{kind: cpu}}}}\n")
    };
    std::fs::write(dir.join("one.yaml"), valid("One")).unwrap();
    std::fs::write(
        dir.join("broken.yaml"),
        "title: Broken\nduration: 1m\nsteps: [{at: 0}]\n",
    )
    .unwrap();
    let d = Daemon::start(&["--scenarios-dir", dir.to_str().unwrap()]);
    let names = || -> Vec<String> {
        let (_, list) = send("GET", &d.control_url("/scenarios"), "");
        list.as_array()
            .unwrap()
            .iter()
            .filter(|s| s["builtin"] == false)
            .map(|s| s["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(), ["one"]);
    let (_, events) = send("GET", &d.control_url("/events"), "");
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "scenario_rejected"
                && e["message"].as_str().unwrap().contains("broken.yaml")),
        "{events}"
    );

    // Break `one`, add `two`, then SIGHUP: `two` appears, `one` keeps its valid version.
    std::fs::write(dir.join("one.yaml"), "title: One v2\nduration: nope\n").unwrap();
    std::fs::write(
        dir.join("two.json"),
        r#"{"title": "Two", "duration": 30, "steps": [{"at": "0:05", "action": {"kind": "cpu"}}]}"#,
    )
    .unwrap();
    unsafe { libc::kill(d.pid() as i32, libc::SIGHUP) };
    wait_for(Duration::from_secs(5), || {
        (names() == ["one", "two"]).then_some(())
    })
    .unwrap_or_else(|| panic!("after SIGHUP: {:?}", names()));
    let (_, one) = send("GET", &d.control_url("/scenarios/one"), "");
    assert_eq!(one["title"], "One");

    // A file removed from the directory is gone after the next reload.
    std::fs::remove_file(dir.join("two.json")).unwrap();
    unsafe { libc::kill(d.pid() as i32, libc::SIGHUP) };
    wait_for(Duration::from_secs(5), || {
        (names() == ["one"]).then_some(())
    })
    .unwrap_or_else(|| panic!("after removal: {:?}", names()));
}

#[test]
fn the_readme_example_scenario_is_accepted() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let start = readme
        .find("```yaml\n# checkout-outage.yaml")
        .expect("the README has the example");
    let body = &readme[start + "```yaml\n".len()..];
    let body = &body[..body.find("```").unwrap()];
    let d = Daemon::start(&[]);
    let (status, s) = send("PUT", &d.control_url("/scenarios/checkout-outage"), body);
    assert_eq!(status, 201, "{s}");
    assert_eq!(s["steps"].as_array().unwrap().len(), 5);
}

/// Runs the `jolt` client against the daemon; (success, stdout).
fn jolt(d: &Daemon, args: &[&str]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_jolt"))
        .args(args)
        .args(["--control", &d.control.to_string()])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("running jolt");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    (out.status.success(), format!("{stdout}{stderr}"))
}

#[test]
fn the_cli_lists_starts_follows_pauses_and_stops_runs() {
    let d = Daemon::start(&[]);
    let (ok, out) = jolt(&d, &["scenarios"]);
    assert!(
        ok && out.contains("ddos-attack") && out.contains("DDoS Attack Simulation"),
        "{out}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("timeline.yaml");
    std::fs::write(&file, TIMELINE).unwrap();
    let (ok, out) = jolt(&d, &["scenario", "put", "timeline", file.to_str().unwrap()]);
    assert!(ok && out.contains("saved timeline"), "{out}");
    let (ok, out) = jolt(&d, &["scenario", "show", "timeline"]);
    assert!(ok && out.contains("memory and disk"), "{out}");

    let (ok, out) = jolt(
        &d,
        &["scenario", "start", "timeline", "--speed", "10", "--follow"],
    );
    assert!(ok, "{out}");
    assert!(out.contains("started run-1"), "{out}");
    assert!(out.contains("0:00 cpu and a fault"), "{out}");
    assert!(out.contains("0:10 memory and disk"), "{out}");
    assert!(out.contains("run-1 completed"), "{out}");

    let (ok, out) = jolt(&d, &["scenario", "start", "hold"]);
    assert!(!ok && out.contains("no scenario named `hold`"), "{out}");
    assert_eq!(send("PUT", &d.control_url("/scenarios/hold"), HOLD).0, 201);
    let (ok, out) = jolt(&d, &["scenario", "start", "hold"]);
    assert!(ok && out.contains("started run-2"), "{out}");
    let (ok, out) = jolt(&d, &["run", "pause", "run-2"]);
    assert!(ok && out.contains("run-2 paused"), "{out}");
    let (ok, out) = jolt(&d, &["runs"]);
    assert!(
        ok && out.contains("run-1") && out.contains("completed"),
        "{out}"
    );
    assert!(
        out.contains("paused") && out.contains("hold 32 MiB"),
        "{out}"
    );
    let (ok, out) = jolt(&d, &["run", "resume", "run-2"]);
    assert!(ok && out.contains("run-2 running"), "{out}");
    let (ok, out) = jolt(&d, &["run", "stop", "run-2"]);
    assert!(ok && out.contains("run-2 stopped"), "{out}");
    let (ok, out) = jolt(&d, &["run", "stop", "run-2"]);
    assert!(!ok && out.contains("already ended"), "{out}");
}

/// Every built-in, played 120 times faster (1 to 2.5 s each) against the real engine: every
/// step's action is accepted and none fails.
#[test]
fn every_built_in_plays_with_no_failed_step() {
    let d = Daemon::start(&[]);
    for name in [
        "ddos-attack",
        "morning-rush-hour",
        "startup-launch-day",
        "black-friday-rush",
        "memory-leak",
    ] {
        let (status, run) = send(
            "POST",
            &d.control_url(&format!("/scenarios/{name}/start?speed=120")),
            "",
        );
        assert_eq!(status, 201, "{name}: {run}");
        let id = run["id"].as_str().unwrap();
        let end = wait_for(Duration::from_secs(30), || {
            let (_, v) = send("GET", &d.control_url(&format!("/runs/{id}")), "");
            let state = v["state"].as_str()?.to_string();
            (state != "running").then_some(v)
        })
        .unwrap_or_else(|| panic!("{name} did not end"));
        let failed: Vec<_> = end["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["state"] != "done")
            .collect();
        assert!(failed.is_empty(), "{name}: {failed:?}");
        assert_eq!(end["state"], "completed", "{name}");
        let running: Vec<_> = actions_of(&d, id)
            .into_iter()
            .filter(|a| a["state"] == "running" || a["state"] == "failed")
            .collect();
        assert!(running.is_empty(), "{name}: {running:?}");
    }
}

/// `--follow` traps Ctrl-C and asks; answering y stops the run.
#[test]
fn ctrl_c_while_following_asks_and_stops_the_run() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let d = Daemon::start(&[]);
    assert_eq!(send("PUT", &d.control_url("/scenarios/hold"), HOLD).0, 201);
    let mut child = Command::new(env!("CARGO_BIN_EXE_jolt"))
        .args(["scenario", "start", "hold", "--follow"])
        .args(["--control", &d.control.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert!(first.starts_with("started run-1"), "{first}");
    let note = lines.next().unwrap().unwrap();
    assert_eq!(note, "0:00 hold 32 MiB");
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    child.stdin.take().unwrap().write_all(b"y\n").unwrap();
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(status.success(), "{rest:?} {err}");
    assert!(err.contains("stop run-1? [y/N]"), "{err}");
    assert!(rest.iter().any(|l| l == "run-1 stopped"), "{rest:?}");
    let (_, run) = send("GET", &d.control_url("/runs/run-1"), "");
    assert_eq!(run["state"], "stopped");
    assert!(
        actions_of(&d, "run-1")
            .iter()
            .all(|a| a["state"] != "running")
    );
}

#[test]
fn built_ins_that_exceed_a_lower_action_cap_are_left_out_not_fatal() {
    let d = Daemon::start(&["--max-active-actions", "3"]);
    let (_, list) = send("GET", &d.control_url("/scenarios"), "");
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"morning-rush-hour"), "{names:?}");
    assert!(!names.contains(&"black-friday-rush"), "{names:?}");
    let (_, events) = send("GET", &d.control_url("/events"), "");
    let why = events
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["data"]["scenario"] == "black-friday-rush")
        .expect("an event says why");
    assert!(
        why["message"]
            .as_str()
            .unwrap()
            .contains("actions.max_active (3)"),
        "{why}"
    );
    let good = "title: t\nduration: 30s\nsteps:\n  - {at: 0, action: {kind: cpu}}\n";
    let (status, _) = send("PUT", &d.control_url("/scenarios/black-friday-rush"), good);
    assert_eq!(status, 409, "built-in names stay reserved");
}
