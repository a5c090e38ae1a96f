//! A live stack on loopback with real processes: jolt, Prometheus with the shipped
//! prometheus.yml and rule files, Alertmanager with the shipped alertmanager.yml and templates,
//! and a fake Slack. Only addresses and ports are substituted (and the Slack URL file pointed at
//! the fake). Used by the stack tests that need live alerts.
#![allow(dead_code)]

use crate::common::{self, Daemon, agent, poll_every};
use crate::stack::*;
use serde_json::Value;
use std::process::Command;
use std::time::{Duration, Instant};

/// Prometheus and Alertmanager move in steps of a second or more; polling them faster only
/// adds load to the machine whose CPU alert is being measured.
pub fn wait_for_stack<T>(timeout: Duration, f: impl FnMut() -> Option<T>) -> Option<T> {
    poll_every(Duration::from_millis(250), timeout, f)
}

/// Scrape and evaluation interval of the shipped prometheus.yml (checked below).
pub const INTERVAL: Duration = Duration::from_secs(1);
/// The rate window of the CPU recording rule (`rate(...[3s])`).
pub const CPU_WINDOW: Duration = Duration::from_secs(3);
/// Room for a shared 2-core machine running jolt's load, Prometheus and Alertmanager at once.
pub const MARGIN: Duration = Duration::from_secs(20);

/// A running stack; every process is killed when it is dropped.
pub struct Stack {
    pub jolt: Daemon,
    /// `None` once [`Stack::stop_prometheus`] was called.
    pub prometheus: Option<Proc>,
    pub alertmanager: Proc,
    pub slack: FakeSlack,
    pub prom_url: String,
    pub am_url: String,
    pub instance: String,
    pub dir: tempfile::TempDir,
}

/// Where the stack's Prometheus and Alertmanager will listen, known before jolt starts.
pub struct Urls {
    /// `http://127.0.0.1:PORT` of Prometheus.
    pub prometheus: String,
    /// `http://127.0.0.1:PORT` of Alertmanager.
    pub alertmanager: String,
}

impl Stack {
    /// The stack with a jolt started with no extra flags.
    pub fn start() -> Stack {
        Stack::start_with(|_| Vec::new())
    }

    /// The stack with a jolt started with `jolt_args(urls)`: the ports are picked first, so
    /// jolt can be pointed at its Prometheus and Alertmanager (`--prometheus-url …`). Waits
    /// until both are ready and Prometheus has scraped jolt.
    pub fn start_with(jolt_args: impl FnOnce(&Urls) -> Vec<String>) -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let slack = FakeSlack::start();
        let [prom_port, am_port] = free_ports();
        let am_addr = format!("127.0.0.1:{am_port}");
        let urls = Urls {
            prometheus: format!("http://127.0.0.1:{prom_port}"),
            alertmanager: format!("http://{am_addr}"),
        };
        let args = jolt_args(&urls);
        let jolt = Daemon::start(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let instance = jolt.metrics.to_string();

        // Prometheus: the compose layout (alerts/ and targets/ beside the config), the shipped
        // prometheus.yml with only the Alertmanager address changed, and the shipped targets file
        // with only jolt's address changed.
        let pdir = dir.path().join("prometheus");
        std::fs::create_dir_all(&pdir).unwrap();
        let shipped = compose_layout("prometheus", "/etc/prometheus", "prometheus.yml", &pdir);
        let cfg = std::fs::read_to_string(&shipped).unwrap();
        let p: serde_yaml_ng::Value = serde_yaml_ng::from_str(&cfg).unwrap();
        assert_eq!(
            prom_duration(p["global"]["scrape_interval"].as_str().unwrap()),
            INTERVAL
        );
        assert_eq!(
            prom_duration(p["global"]["evaluation_interval"].as_str().unwrap()),
            INTERVAL
        );
        std::fs::write(
            pdir.join("prometheus.yml"),
            substitute(&cfg, "alertmanager:9093", &am_addr),
        )
        .unwrap();
        let targets_dir = pdir.join("targets");
        let shipped_targets = std::fs::read_link(&targets_dir).unwrap();
        std::fs::remove_file(&targets_dir).unwrap();
        std::fs::create_dir(&targets_dir).unwrap();
        for f in std::fs::read_dir(&shipped_targets).unwrap() {
            let f = f.unwrap();
            let t = std::fs::read_to_string(f.path()).unwrap();
            std::fs::write(
                targets_dir.join(f.file_name()),
                substitute(&t, "jolt:9477", &instance),
            )
            .unwrap();
        }
        let mut cmd = Command::new(binary(&["prometheus"]));
        cmd.arg(format!(
            "--config.file={}",
            pdir.join("prometheus.yml").display()
        ))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"));
        let prometheus = Proc::spawn("prometheus", cmd, dir.path().join("prometheus.log"));

        // Alertmanager: the shipped alertmanager.yml and templates; the Slack URL file is ours
        // (pointing at the fake Slack) and jolt's webhook is jolt's real control address.
        let adir = dir.path().join("alertmanager");
        std::fs::create_dir_all(&adir).unwrap();
        let shipped = compose_layout(
            "alertmanager",
            "/etc/alertmanager",
            "alertmanager.yml",
            &adir,
        );
        let slack_file = adir.join("slack_webhook_url");
        std::fs::write(&slack_file, format!("{}\n", slack.url())).unwrap();
        let cfg = std::fs::read_to_string(&shipped).unwrap();
        let cfg = substitute(
            &cfg,
            "/run/secrets/slack_webhook_url",
            slack_file.to_str().unwrap(),
        );
        let cfg = substitute(
            &cfg,
            "http://jolt:9478",
            &format!("http://{}", jolt.control),
        );
        std::fs::write(adir.join("alertmanager.yml"), cfg).unwrap();
        let mut cmd = Command::new(binary(&["alertmanager", "prometheus-alertmanager"]));
        cmd.arg(format!(
            "--config.file={}",
            adir.join("alertmanager.yml").display()
        ))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("am-data").display()
        ))
        .arg(format!("--web.listen-address={am_addr}"))
        .arg("--cluster.listen-address=");
        let alertmanager = Proc::spawn("alertmanager", cmd, dir.path().join("alertmanager.log"));

        let mut stack = Stack {
            jolt,
            prometheus: Some(prometheus),
            alertmanager,
            slack,
            prom_url: urls.prometheus,
            am_url: urls.alertmanager,
            instance,
            dir,
        };
        for (url, name) in [
            (format!("{}/-/ready", stack.prom_url), "prometheus"),
            (format!("{}/-/ready", stack.am_url), "alertmanager"),
        ] {
            let ready = wait_for_stack(Duration::from_secs(30), || {
                agent().get(&url).call().ok().filter(|r| r.status() == 200)
            });
            if ready.is_none() {
                if let Some(p) = stack.prometheus.as_mut() {
                    p.assert_running();
                }
                stack.alertmanager.assert_running();
                panic!("{name} not ready: {}", stack.logs());
            }
        }
        // Prometheus scrapes jolt and knows the Alertmanager.
        let up = wait_for_stack(Duration::from_secs(30), || {
            let v = stack.query(&format!(
                "up{{job=\"jolt\",instance=\"{}\"}} == 1",
                stack.instance
            ));
            (!v.is_empty()).then_some(())
        });
        assert!(up.is_some(), "jolt never scraped: {}", stack.logs());
        stack
    }

    /// The end of Prometheus's and Alertmanager's logs, for failure messages.
    pub fn logs(&self) -> String {
        format!(
            "\n--- prometheus:\n{}\n--- alertmanager:\n{}",
            self.prometheus
                .as_ref()
                .map(|p| p.log_tail())
                .unwrap_or_default(),
            self.alertmanager.log_tail()
        )
    }

    /// Stops Prometheus (killed and reaped).
    pub fn stop_prometheus(&mut self) {
        self.prometheus.take();
    }

    pub fn get_json(&self, url: &str) -> Value {
        let mut r = agent()
            .get(url)
            .call()
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let body = r.body_mut().read_to_string().unwrap();
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"))
    }

    /// An instant query; panics on a query error.
    pub fn query(&self, expr: &str) -> Vec<Value> {
        let mut r = agent()
            .post(&format!("{}/api/v1/query", self.prom_url))
            .send_form([("query", expr)])
            .unwrap();
        let body = r.body_mut().read_to_string().unwrap();
        let v: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["status"], "success", "{expr}: {body}");
        match &v["data"]["result"] {
            Value::Array(a) => a.clone(),
            // scalar or string results count as one value
            other => vec![other.clone()],
        }
    }

    /// The alerts Prometheus has, with their state.
    pub fn alerts(&self, name: &str) -> Vec<Value> {
        let v = self.get_json(&format!("{}/api/v1/alerts", self.prom_url));
        v["data"]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["labels"]["alertname"] == name)
            .cloned()
            .collect()
    }

    pub fn firing(&self, name: &str) -> Vec<Value> {
        self.alerts(name)
            .into_iter()
            .filter(|a| a["state"] == "firing")
            .collect()
    }

    /// Slack messages about `alertname` whose title starts with `prefix`.
    pub fn slack_about(&self, alertname: &str, prefix: &str) -> Vec<(Instant, Value)> {
        self.slack
            .received()
            .into_iter()
            .filter(|(_, m)| {
                let title = m["attachments"][0]["title"].as_str().unwrap_or("");
                title.starts_with(prefix) && title.contains(&format!(" {alertname}"))
            })
            .collect()
    }

    pub fn post(&self, path: &str, body: Value) -> Value {
        let url = self.jolt.control_url(path);
        let mut r = post_json(&url, &body);
        let status = r.status().as_u16();
        let text = r.body_mut().read_to_string().unwrap();
        assert!(
            (200..300).contains(&status),
            "POST {path} {body}: {status} {text}"
        );
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// Asserts that action `id` is running (a failed start would make the alert meaningless).
    pub fn assert_running(&self, id: &str) {
        let a = self.get_json(&self.jolt.control_url(&format!("/actions/{id}")));
        assert_eq!(a["state"], "running", "action {id}: {a}");
    }

    pub fn delete(&self, path: &str) -> u16 {
        let mut r = agent().delete(&self.jolt.control_url(path)).call().unwrap();
        let s = r.status().as_u16();
        let _ = r.body_mut().read_to_string();
        s
    }

    /// A sample of jolt's own /metrics, summed over series whose labels contain every `want`.
    pub fn jolt_metric(&self, name: &str, want: &[(&str, &str)]) -> f64 {
        let (_, _, body) = common::get(&self.jolt.metrics_url(), None);
        common::parse_classic(&body)
            .samples
            .iter()
            .filter(|s| s.metric == name)
            .filter(|s| want.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(|s| match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => 0.0,
            })
            .sum()
    }
}

/// POSTs a JSON body.
pub fn post_json(url: &str, body: &Value) -> ureq::http::Response<ureq::Body> {
    agent()
        .post(url)
        .header("content-type", "application/json")
        .send(body.to_string())
        .unwrap_or_else(|e| panic!("POST {url}: {e}"))
}

/// The `for` of a shipped alert.
pub fn alert_for(name: &str) -> Duration {
    let r = alert_rules().into_iter().find(|r| r.name == name).unwrap();
    prom_duration(r.for_.as_deref().unwrap_or("0s"))
}

/// Alertmanager's group_wait and group_interval of the shipped route.
pub fn am_timers() -> (Duration, Duration) {
    let doc = yaml("alerts/alertmanager.yml");
    (
        prom_duration(doc["route"]["group_wait"].as_str().unwrap()),
        prom_duration(doc["route"]["group_interval"].as_str().unwrap()),
    )
}
