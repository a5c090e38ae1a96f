//! Shared harness of the fleet tests: three jolt daemons on loopback behind one token, a
//! Prometheus file_sd file naming them, and the `jolt` CLI run against them.
#![allow(dead_code)]

use crate::common;

#[allow(unused_imports)]
pub use common::{Daemon, agent, wait_for};
use serde_json::{Value, json};
use std::process::{Command, Output};

pub const TOKEN: &str = "fleet-test-token-0123456789";

/// Three daemons sharing a token file, and a file_sd file: a and b `role: web`, c `role: db`.
pub struct Lab {
    pub daemons: Vec<Daemon>,
    pub dir: tempfile::TempDir,
}

impl Lab {
    pub fn start() -> Lab {
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
    pub fn instance(&self, i: usize) -> String {
        self.daemons[i].metrics.to_string()
    }

    /// Writes a file_sd file of the three daemons plus `extra` (instance, control) targets.
    pub fn write_sd(&self, name: &str, extra: &[(&str, &str)]) -> String {
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
    pub fn jolt(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_jolt"))
            .args(args)
            .env("JOLT_CONTROL_TOKEN", TOKEN)
            .env_remove("JOLT_CONTROL_TOKEN_FILE")
            .env_remove("JOLT_CONTROL_ADDR")
            .env_remove("JOLT_FLEET")
            .output()
            .expect("running jolt")
    }

    pub fn sd(&self) -> String {
        self.dir
            .path()
            .join("fleet.json")
            .to_str()
            .unwrap()
            .to_string()
    }

    /// An authenticated API call to daemon `i`.
    pub fn api(&self, i: usize, method: &str, path: &str) -> (u16, Value) {
        api(&self.daemons[i], method, path, None)
    }

    /// The ids of the running actions of daemon `i`.
    pub fn running(&self, i: usize) -> Vec<String> {
        let (status, list) = self.api(i, "GET", "/actions");
        assert_eq!(status, 200, "{list}");
        list.as_array()
            .unwrap()
            .iter()
            .filter(|a| a["state"] == "running")
            .map(|a| a["id"].as_str().unwrap().to_string())
            .collect()
    }

    pub fn stop_all(&self) {
        for i in 0..3 {
            assert_eq!(self.api(i, "DELETE", "/actions").0, 200);
        }
    }
}

pub fn api(d: &Daemon, method: &str, path: &str, body: Option<&Value>) -> (u16, Value) {
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

pub fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "jolt failed: {}\n{}",
        String::from_utf8_lossy(&o.stderr),
        String::from_utf8_lossy(&o.stdout)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A harmless action: 5 ms more latency on the `auth` service for 30 s (no CPU, no memory).
pub const FAULT: [&str; 7] = [
    "fault",
    "--service",
    "auth",
    "--latency",
    "5ms",
    "--duration",
    "30s",
];

pub fn action_args<'a>(fleet: &'a [&'a str]) -> Vec<&'a str> {
    let mut args = vec!["action"];
    args.extend_from_slice(fleet);
    args.extend_from_slice(&FAULT);
    args
}

/// A loopback address nothing listens on.
pub fn dead_address() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

/// Milliseconds from `a` to `b`, two RFC 3339 times.
pub fn ms_between(a: &str, b: &str) -> i64 {
    let t = |s: &str| humantime::parse_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}"));
    match t(b).duration_since(t(a)) {
        Ok(d) => d.as_millis() as i64,
        Err(e) => -(e.duration().as_millis() as i64),
    }
}
