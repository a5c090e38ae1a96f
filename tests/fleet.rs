//! Fleet control over real sockets: three jolt daemons on loopback behind one token, a
//! Prometheus file_sd file naming them, and the `jolt` CLI acting on all, some or a sample of
//! them; a dead instance is reported and fails the command; a scheduled scenario start begins
//! everywhere at its `start_at` under one run id.

mod common;

use common::{Daemon, agent, wait_for};
use serde_json::{Value, json};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

const TOKEN: &str = "fleet-test-token-0123456789";

/// Three daemons sharing a token file, and a file_sd file: a and b `role: web`, c `role: db`.
struct Lab {
    daemons: Vec<Daemon>,
    dir: tempfile::TempDir,
}

impl Lab {
    fn start() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let token = dir.path().join("token");
        std::fs::write(&token, TOKEN).unwrap();
        let daemons: Vec<Daemon> = (0..3)
            .map(|_| Daemon::start(&["--control-token-file", token.to_str().unwrap()]))
            .collect();
        let lab = Lab { daemons, dir };
        lab.write_sd("fleet.json", &[]);
        lab
    }

    /// The instance name of daemon `i` (its metrics address, as Prometheus would scrape it).
    fn instance(&self, i: usize) -> String {
        self.daemons[i].metrics.to_string()
    }

    /// Writes a file_sd file of the three daemons plus `extra` (instance, control) targets.
    fn write_sd(&self, name: &str, extra: &[(&str, &str)]) -> String {
        let mut groups: Vec<Value> = self
            .daemons
            .iter()
            .enumerate()
            .map(|(i, d)| {
                json!({"targets": [d.metrics.to_string()], "labels": {
                    "role": if i < 2 { "web" } else { "db" },
                    "jolt_control": d.control.to_string()}})
            })
            .collect();
        for (instance, control) in extra {
            groups.push(
                json!({"targets": [instance], "labels": {"role": "web", "jolt_control": control}}),
            );
        }
        let path = self.dir.path().join(name);
        std::fs::write(&path, serde_json::to_string_pretty(&groups).unwrap()).unwrap();
        path.to_str().unwrap().to_string()
    }

    /// `jolt <args>` with the token from the environment.
    fn jolt(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_jolt"))
            .args(args)
            .env("JOLT_CONTROL_TOKEN", TOKEN)
            .env_remove("JOLT_CONTROL_TOKEN_FILE")
            .env_remove("JOLT_CONTROL_ADDR")
            .env_remove("JOLT_FLEET")
            .output()
            .expect("running jolt")
    }

    fn sd(&self) -> String {
        self.dir
            .path()
            .join("fleet.json")
            .to_str()
            .unwrap()
            .to_string()
    }

    /// An authenticated API call to daemon `i`.
    fn api(&self, i: usize, method: &str, path: &str) -> (u16, Value) {
        api(&self.daemons[i], method, path, None)
    }

    /// The ids of the running actions of daemon `i`.
    fn running(&self, i: usize) -> Vec<String> {
        let (status, list) = self.api(i, "GET", "/actions");
        assert_eq!(status, 200, "{list}");
        list.as_array()
            .unwrap()
            .iter()
            .filter(|a| a["state"] == "running")
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect()
    }

    fn stop_all(&self) {
        for i in 0..3 {
            assert_eq!(self.api(i, "DELETE", "/actions").0, 200);
        }
    }
}

fn api(d: &Daemon, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
    let req = ureq::http::Request::builder()
        .method(method)
        .uri(d.control_url(path))
        .header("Authorization", format!("Bearer {TOKEN}"))
        .header("Content-Type", "application/json");
    let resp = agent()
        .run(
            req.body(body.map(Value::to_string).unwrap_or_default())
                .unwrap(),
        )
        .expect("request");
    let status = resp.status().as_u16();
    let text = resp.into_body().read_to_string().unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "jolt failed: {}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A harmless action: 5 ms more latency on the `auth` service for 30 s (no CPU, no memory).
const FAULT: [&str; 7] = [
    "fault",
    "--service",
    "auth",
    "--latency",
    "5ms",
    "--duration",
    "30s",
];

fn action_args<'a>(fleet: &'a [&'a str]) -> Vec<&'a str> {
    let mut args = vec!["action"];
    args.extend_from_slice(fleet);
    args.extend_from_slice(&FAULT);
    args
}

#[test]
fn an_action_starts_lists_and_stops_on_every_instance() {
    let lab = Lab::start();
    let sd = lab.sd();
    let out = ok(&lab.jolt(&action_args(&["--fleet", &sd])));
    for i in 0..3 {
        assert_eq!(lab.running(i).len(), 1, "instance {i}: {out}");
        assert!(out.contains(&lab.instance(i)), "{out}");
    }
    assert!(out.starts_with("INSTANCE"), "{out}");

    let table = ok(&lab.jolt(&["actions", "--fleet", &sd]));
    for i in 0..3 {
        let line = table
            .lines()
            .find(|l| l.starts_with(&lab.instance(i)))
            .unwrap_or_else(|| panic!("no row for instance {i}: {table}"));
        assert!(line.contains("fault") && line.contains("running"), "{line}");
    }
    let json: Value =
        serde_json::from_str(&ok(&lab.jolt(&["actions", "--fleet", &sd, "--json"]))).unwrap();
    assert_eq!(json.as_array().unwrap().len(), 3, "{json}");

    let stopped = ok(&lab.jolt(&["stop", "--all", "--fleet", &sd]));
    assert_eq!(stopped.lines().count(), 4, "{stopped}");
    for i in 0..3 {
        assert!(
            lab.running(i).is_empty(),
            "instance {i} still runs: {stopped}"
        );
    }
}

#[test]
fn select_and_sample_pick_the_right_instances() {
    let lab = Lab::start();
    let sd = lab.sd();
    ok(&lab.jolt(&action_args(&["--fleet", &sd, "--select", "role=web"])));
    let counts: Vec<usize> = (0..3).map(|i| lab.running(i).len()).collect();
    assert_eq!(counts, [1, 1, 0]);
    lab.stop_all();

    ok(&lab.jolt(&action_args(&["--fleet", &sd, "--select", "role!=web"])));
    let counts: Vec<usize> = (0..3).map(|i| lab.running(i).len()).collect();
    assert_eq!(counts, [0, 0, 1]);
    lab.stop_all();

    for (spec, want) in [("2", 2), ("33%", 1), ("100%", 3)] {
        let out = ok(&lab.jolt(&action_args(&["--fleet", &sd, "--sample", spec])));
        let counts: Vec<usize> = (0..3).map(|i| lab.running(i).len()).collect();
        assert_eq!(counts.iter().sum::<usize>(), want, "--sample {spec}: {out}");
        assert!(
            counts.iter().all(|c| *c <= 1),
            "--sample {spec}: {counts:?}"
        );
        assert_eq!(out.lines().count(), want + 1, "{out}");
        lab.stop_all();
    }

    let none = lab.jolt(&action_args(&["--fleet", &sd, "--select", "role=cache"]));
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("no instance"));
    let no_fleet = lab.jolt(&action_args(&["--select", "role=web"]));
    assert!(!no_fleet.status.success());
    assert!(String::from_utf8_lossy(&no_fleet.stderr).contains("--fleet"));
}

/// A loopback address nothing listens on.
fn dead_address() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

#[test]
fn a_dead_instance_is_reported_and_fails_the_command() {
    let lab = Lab::start();
    let dead = dead_address();
    let sd = lab.write_sd("with-dead.json", &[("dead-host:9477", &dead)]);
    let out = lab.jolt(&action_args(&["--fleet", &sd, "--fleet-timeout", "3s"]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stderr.contains("failed on 1 of 4 instance(s): dead-host:9477"),
        "{stderr}"
    );
    assert!(stderr.contains("runs on 3 of 4 instances"), "{stderr}");
    let row = stdout
        .lines()
        .find(|l| l.starts_with("dead-host:9477"))
        .expect(&stdout);
    assert!(row.contains("cannot reach"), "{row}");
    for i in 0..3 {
        assert_eq!(
            lab.running(i).len(),
            1,
            "the others are still acted on: {stdout}"
        );
    }
    let listed = lab.jolt(&["actions", "--fleet", &sd]);
    assert!(!listed.status.success());
    assert_eq!(
        String::from_utf8_lossy(&listed.stdout)
            .matches("running")
            .count(),
        3
    );
    lab.stop_all();

    // --all-or-nothing: the start is undone where it had worked.
    let out = lab.jolt(&action_args(&["--fleet", &sd, "--all-or-nothing"]));
    assert!(!out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(stdout.matches("stopped").count(), 3, "{stdout}");
    for i in 0..3 {
        assert!(lab.running(i).is_empty(), "instance {i} kept a half-start");
    }
}

/// Milliseconds from `a` to `b`, two RFC 3339 times.
fn ms_between(a: &str, b: &str) -> i64 {
    let t = |s: &str| humantime::parse_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    match t(b).duration_since(t(a)) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}

#[test]
fn a_scheduled_scenario_starts_everywhere_at_start_at_under_one_id() {
    let lab = Lab::start();
    let scenario = json!({"title": "fleet sync", "duration": "20s", "steps": [
        {"at": "0:00", "action": {"kind": "fault", "service": "auth", "latency": "5ms"}, "duration": "20s"}]});
    for d in &lab.daemons {
        assert_eq!(
            api(d, "PUT", "/scenarios/fleet-sync", Some(&scenario)).0,
            201
        );
    }
    let sd = lab.sd();
    let out = ok(&lab.jolt(&[
        "scenario",
        "start",
        "fleet-sync",
        "--fleet",
        &sd,
        "--start-in",
        "2s",
    ]));
    let first = out.lines().next().unwrap();
    let id = first.split_whitespace().nth(1).unwrap().to_string();
    assert!(id.starts_with("fleet-"), "{out}");

    // Before start_at: scheduled, nothing started yet.
    for i in 0..3 {
        let (_, run) = lab.api(i, "GET", &format!("/runs/{id}"));
        assert_eq!(run["steps"][0]["state"], "pending", "instance {i}: {run}");
        assert_eq!(lab.running(i).len(), 0);
        let (status, err) = lab.api(i, "POST", &format!("/runs/{id}/pause"));
        assert_eq!(status, 409, "{err}");
    }
    let mut lateness = Vec::new();
    for (i, d) in lab.daemons.iter().enumerate() {
        let run = wait_for(Duration::from_secs(10), || {
            let (_, run) = api(d, "GET", &format!("/runs/{id}"), None);
            run["steps"][0]["action"].is_string().then_some(run)
        })
        .unwrap_or_else(|| panic!("instance {i}: the run's first step never started"));
        let start_at = run["start_at"].as_str().unwrap();
        let began = ms_between(start_at, run["started_at"].as_str().unwrap());
        let action = run["steps"][0]["action"].as_str().unwrap();
        let (_, a) = lab.api(i, "GET", &format!("/actions/{action}"));
        let step = ms_between(start_at, a["started_at"].as_str().unwrap());
        // Never early: the timeline and its first action wait for start_at.
        assert!(
            began >= 0 && step >= 0,
            "instance {i} began {began} ms / step {step} ms after start_at"
        );
        lateness.push((began, step));
    }
    // Timings are printed, not asserted (a loaded machine must not fail CI).
    eprintln!(
        "fleet start: (run began, first action started) ms after start_at per instance: {lateness:?}"
    );

    let runs = ok(&lab.jolt(&["runs", "--fleet", &sd]));
    let rows: Vec<&str> = runs.lines().filter(|l| l.contains(&id)).collect();
    assert_eq!(rows.len(), 3, "one row per host: {runs}");
    for i in 0..3 {
        assert_eq!(lab.api(i, "DELETE", &format!("/runs/{id}")).0, 200);
        assert!(lab.running(i).is_empty());
    }
}

#[test]
fn start_at_and_run_ids_are_checked() {
    let lab = Lab::start();
    let d = &lab.daemons[0];
    let fmt = |t: SystemTime| humantime::format_rfc3339_millis(t).to_string();
    let past = fmt(SystemTime::now() - Duration::from_secs(5));
    let (status, err) = api(
        d,
        "POST",
        "/scenarios/black-friday-rush/start",
        Some(&json!({"start_at": past})),
    );
    assert_eq!(
        (status, err["field"].as_str()),
        (422, Some("start_at")),
        "{err}"
    );
    let far = fmt(SystemTime::now() + Duration::from_secs(3600));
    let (status, err) = api(
        d,
        "POST",
        "/scenarios/black-friday-rush/start",
        Some(&json!({"start_at": far})),
    );
    assert_eq!(status, 422, "{err}");
    let (status, err) = api(
        d,
        "POST",
        "/scenarios/black-friday-rush/start",
        Some(&json!({"start_at": "soon"})),
    );
    assert_eq!(status, 400, "{err}");
    let (status, err) = api(
        d,
        "POST",
        "/scenarios/black-friday-rush/start",
        Some(&json!({"id": "run-3"})),
    );
    assert_eq!(status, 400, "{err}");
    assert!(
        lab.running(0).is_empty(),
        "nothing started by refused requests"
    );
    assert_eq!(api(d, "GET", "/runs", None).1, json!([]));

    let soon = fmt(SystemTime::now() + Duration::from_secs(30));
    let body = json!({"start_at": soon, "id": "shared-1"});
    let (status, run) = api(d, "POST", "/scenarios/black-friday-rush/start", Some(&body));
    assert_eq!(status, 201, "{run}");
    assert_eq!(
        (run["id"].as_str(), run["start_at"].as_str()),
        (Some("shared-1"), Some(soon.as_str()))
    );
    let (status, err) = api(d, "POST", "/scenarios/black-friday-rush/start", Some(&body));
    assert_eq!(status, 409, "{err}");
    // Stopping a run that has not begun ends it with nothing started.
    let (status, run) = api(d, "DELETE", "/runs/shared-1", None);
    assert_eq!(
        (status, run["state"].as_str()),
        (200, Some("stopped")),
        "{run}"
    );
    assert!(lab.running(0).is_empty());
}
