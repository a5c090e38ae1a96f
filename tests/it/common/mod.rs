//! Shared harness: starts the real `jolt` binary on loopback port 0 and talks HTTP to it.
#![allow(dead_code)]

mod tools;
pub use tools::{on_path, require_tools};

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A running daemon; killed on drop if the test did not stop it.
pub struct Daemon {
    child: Option<Child>,
    /// `/metrics` address.
    pub metrics: SocketAddr,
    /// Control API address.
    pub control: SocketAddr,
    /// Simulated services address.
    pub services: SocketAddr,
    /// Every log line so far (JSON objects).
    pub logs: Arc<Mutex<Vec<String>>>,
    /// The daemon's private state directory.
    pub state_dir: tempfile::TempDir,
}

impl Daemon {
    /// Starts jolt with all listeners on 127.0.0.1:0, a private state dir and `extra` flags.
    pub fn start(extra: &[&str]) -> Daemon {
        Self::start_with_env(extra, &[])
    }

    /// Like [`start`](Self::start) with extra environment variables.
    pub fn start_with_env(extra: &[&str], env: &[(&str, &str)]) -> Daemon {
        Self::start_in(tempfile::tempdir().expect("tempdir"), extra, env)
    }

    /// Like [`start_with_env`](Self::start_with_env) with a given state directory.
    pub fn start_in(state_dir: tempfile::TempDir, extra: &[&str], env: &[(&str, &str)]) -> Daemon {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_jolt"));
        cmd.args([
            "--metrics-listen",
            "127.0.0.1:0",
            "--control-listen",
            "127.0.0.1:0",
        ])
        .args(["--services-listen", "127.0.0.1:0", "--log-format", "json"])
        .arg("--state-dir")
        .arg(state_dir.path())
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawning jolt");
        let stderr = child.stderr.take().unwrap();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line)
                    && let (Some(l), Some(a)) = (v["listener"].as_str(), v["addr"].as_str())
                {
                    let _ = tx.send((l.to_string(), a.parse::<SocketAddr>().unwrap()));
                }
                sink.lock().unwrap().push(line);
            }
        });
        let mut found = std::collections::HashMap::new();
        let deadline = Instant::now() + Duration::from_secs(15);
        while found.len() < 3 {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok((l, a)) => {
                    found.insert(l, a);
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!(
                        "jolt did not report its listeners; logs: {:?}",
                        logs.lock().unwrap()
                    );
                }
            }
        }
        Daemon {
            child: Some(child),
            metrics: found["metrics"],
            control: found["control"],
            services: found["services"],
            logs,
            state_dir,
        }
    }

    /// The daemon's pid.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// `http://<control>/<path>`.
    pub fn control_url(&self, path: &str) -> String {
        format!("http://{}{}", self.control, path)
    }

    /// `http://<metrics>/metrics`.
    pub fn metrics_url(&self) -> String {
        format!("http://{}/metrics", self.metrics)
    }

    /// A classic-format scrape of `/metrics`.
    pub fn scrape(&self) -> String {
        get(&self.metrics_url(), None).2
    }

    /// `http://<services>/<path>`.
    pub fn services_url(&self, path: &str) -> String {
        format!("http://{}{}", self.services, path)
    }

    /// Sends SIGTERM and waits up to `timeout` for exit.
    pub fn terminate(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let child = self.child.as_mut()?;
        unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                self.child = None;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A blocking HTTP agent that returns non-2xx responses instead of erroring.
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// GET returning (status, content-type, body).
pub fn get(url: &str, accept: Option<&str>) -> (u16, String, String) {
    let mut req = agent().get(url);
    if let Some(a) = accept {
        req = req.header("Accept", a);
    }
    let mut resp = req.call().expect("request");
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = resp.body_mut().read_to_string().expect("body");
    (status, ct, body)
}

/// Parses a classic exposition with a real parser.
pub fn parse_classic(body: &str) -> prometheus_parse::Scrape {
    prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string())))
        .expect("parsable exposition")
}

/// Sends `method` with a JSON (or empty) body; returns (status, parsed JSON body or Null).
pub fn call(method: &str, url: &str, body: &str) -> (u16, serde_json::Value) {
    let agent = agent();
    let mut resp = match method {
        "GET" => agent.get(url).call(),
        "DELETE" => agent.delete(url).call(),
        "POST" => agent
            .post(url)
            .header("Content-Type", "application/json")
            .send(body),
        other => panic!("unsupported method {other}"),
    }
    .expect("request");
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null),
    )
}

/// Polls `f` every 20 ms until it returns `Some` or `timeout` passes.
pub fn wait_for<T>(timeout: Duration, f: impl FnMut() -> Option<T>) -> Option<T> {
    poll_every(Duration::from_millis(20), timeout, f)
}

/// Polls `f` every `period` until it returns `Some` or `timeout` passes.
pub fn poll_every<T>(
    period: Duration,
    timeout: Duration,
    mut f: impl FnMut() -> Option<T>,
) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(period);
    }
}

/// Names of the threads of process `pid` (`/proc/<pid>/task/*/comm`).
pub fn thread_names(pid: u32) -> Vec<String> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("comm")).ok())
        .map(|c| c.trim().to_string())
        .collect()
}

/// Pids of the children of `pid` whose command line contains `needle`.
pub fn children_matching(pid: u32, needle: &str) -> Vec<u32> {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    procs
        .flatten()
        .filter_map(|p| p.file_name().to_str()?.parse::<u32>().ok())
        .filter(|child| {
            let stat = std::fs::read_to_string(format!("/proc/{child}/stat")).unwrap_or_default();
            // Field 4, after the parenthesised command name, is the parent pid.
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            let cmdline = std::fs::read(format!("/proc/{child}/cmdline")).unwrap_or_default();
            ppid == Some(pid) && String::from_utf8_lossy(&cmdline).contains(needle)
        })
        .collect()
}

/// CPU seconds process `pid` has used (utime + stime of `/proc/<pid>/stat`).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("process stat");
    let after_name = stat.rsplit_once(')').expect("stat format").1;
    let f: Vec<f64> = after_name
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // After the name: state(0) ppid(1) ... utime(11) stime(12), in clock ticks.
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    (f[11] + f[12]) / hz
}

/// `PUT /scenarios/{name}` with `text` (YAML, or JSON, which is YAML too); returns the
/// status and the JSON body (null when there is none).
pub fn put_scenario(d: &Daemon, name: &str, text: &str) -> (u16, serde_json::Value) {
    let mut r = agent()
        .put(&d.control_url(&format!("/scenarios/{name}")))
        .header("Content-Type", "application/yaml")
        .send(text)
        .expect("PUT scenario");
    let status = r.status().as_u16();
    let body = r.body_mut().read_to_string().unwrap_or_default();
    (status, serde_json::from_str(&body).unwrap_or_default())
}

/// Starts a scenario run of one step, `action` (a JSON object with `kind`), at 0:00 and
/// lasting `duration`; returns (run id, the step's action id).
pub fn start_one_step_run(d: &Daemon, action: &str, duration: &str) -> (String, String) {
    let name = format!("one-step-{}", std::process::id());
    let body = format!(
        r#"{{"title": "one step", "duration": "{duration}", "steps": [{{"at": "0:00", "action": {action}}}]}}"#
    );
    let (status, put) = put_scenario(d, &name, &body);
    assert!((200..300).contains(&status), "PUT scenario: {status} {put}");
    let (status, run) = call(
        "POST",
        &d.control_url(&format!("/scenarios/{name}/start")),
        "",
    );
    assert_eq!(status, 201, "{run}");
    let run = run["id"].as_str().expect("run id").to_string();
    let id = wait_for(Duration::from_secs(3), || {
        let (_, list) = call("GET", &d.control_url("/actions"), "");
        list.as_array()?
            .iter()
            .find(|a| a["run"] == run.as_str())
            .and_then(|a| a["id"].as_str().map(str::to_string))
    })
    .expect("the step's action starts");
    (run, id)
}

/// The value of the first sample of `name` whose labels include all of `labels`, read from a
/// classic exposition line by line (so `_bucket`, `_sum` and `_count` series can be asked for).
pub fn metric(body: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    body.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        let (series, value) = l.rsplit_once(' ')?;
        let bare = series.split('{').next()?;
        let all = labels
            .iter()
            .all(|(k, v)| series.contains(&format!("{k}=\"{v}\"")));
        (bare == name && all).then(|| value.parse().ok())?
    })
}

/// Starts an action of `kind` with a JSON `body`, asserts 201 and returns its id.
pub fn start_action(d: &Daemon, kind: &str, body: &str) -> String {
    let (status, a) = call("POST", &d.control_url(&format!("/actions/{kind}")), body);
    assert_eq!(status, 201, "{a}");
    a["id"].as_str().unwrap().to_string()
}

/// Stops an action with `DELETE /actions/{id}`, asserts 200 and `stopped`, returns the object.
pub fn stop_action(d: &Daemon, id: &str) -> serde_json::Value {
    let (status, a) = call("DELETE", &d.control_url(&format!("/actions/{id}")), "");
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["state"], "stopped");
    a
}

/// Waits up to `timeout` for an action to leave `running`; returns its final object.
pub fn wait_ended(d: &Daemon, id: &str, timeout: Duration) -> serde_json::Value {
    wait_for(timeout, || {
        let (_, a) = call("GET", &d.control_url(&format!("/actions/{id}")), "");
        (a["state"] != "running").then_some(a)
    })
    .expect("the action ends")
}

/// Open file descriptors of a process (sockets included).
pub fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count()
}
