//! The whole stack on loopback with real processes: jolt, Prometheus with the shipped
//! prometheus.yml and rule files, Alertmanager with the shipped alertmanager.yml and templates,
//! and a fake Slack. Only addresses and ports are substituted (and the Slack URL file pointed at
//! the fake). It proves that load triggered over HTTP becomes a firing alert, a Slack message and
//! then a resolved one; that a service fault does the same; that the inhibition rules hold in a
//! real Alertmanager; and that every query of every dashboard returns data while load runs.

mod common;
mod stack;

use common::{Daemon, agent, poll_every};
use serde_json::{Value, json};
use stack::*;
use std::collections::BTreeMap;
use std::process::Command;
use std::time::{Duration, Instant};

/// Prometheus and Alertmanager move in steps of a second or more; polling them faster only
/// adds load to the machine whose CPU alert is being measured.
fn wait_for_stack<T>(timeout: Duration, f: impl FnMut() -> Option<T>) -> Option<T> {
    poll_every(Duration::from_millis(250), timeout, f)
}

/// Scrape and evaluation interval of the shipped prometheus.yml (checked below).
const INTERVAL: Duration = Duration::from_secs(1);
/// The rate window of the CPU recording rule (`rate(...[3s])`).
const CPU_WINDOW: Duration = Duration::from_secs(3);
/// Room for a shared 2-core machine running jolt's load, Prometheus and Alertmanager at once.
const MARGIN: Duration = Duration::from_secs(20);

struct Stack {
    jolt: Daemon,
    prometheus: Proc,
    alertmanager: Proc,
    slack: FakeSlack,
    prom_url: String,
    am_url: String,
    instance: String,
    _dir: tempfile::TempDir,
}

impl Stack {
    fn start() -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let jolt = Daemon::start(&[]);
        let slack = FakeSlack::start();
        let (prom_port, am_port) = (free_port(), free_port());
        let am_addr = format!("127.0.0.1:{am_port}");
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
            prometheus,
            alertmanager,
            slack,
            prom_url: format!("http://127.0.0.1:{prom_port}"),
            am_url: format!("http://{am_addr}"),
            instance,
            _dir: dir,
        };
        for (url, name) in [
            (format!("{}/-/ready", stack.prom_url), "prometheus"),
            (format!("{}/-/ready", stack.am_url), "alertmanager"),
        ] {
            let ready = wait_for_stack(Duration::from_secs(30), || {
                agent().get(&url).call().ok().filter(|r| r.status() == 200)
            });
            if ready.is_none() {
                stack.prometheus.assert_running();
                stack.alertmanager.assert_running();
                panic!("{name} not ready: {}", stack.logs());
            }
        }
        // Prometheus scrapes jolt and knows the Alertmanager.
        let up = wait_for_stack(Duration::from_secs(20), || {
            let v = stack.query(&format!(
                "up{{job=\"jolt\",instance=\"{}\"}} == 1",
                stack.instance
            ));
            (!v.is_empty()).then_some(())
        });
        assert!(up.is_some(), "jolt never scraped: {}", stack.logs());
        stack
    }

    fn logs(&self) -> String {
        format!(
            "\n--- prometheus:\n{}\n--- alertmanager:\n{}",
            self.prometheus.log_tail(),
            self.alertmanager.log_tail()
        )
    }

    fn get_json(&self, url: &str) -> Value {
        let mut r = agent()
            .get(url)
            .call()
            .unwrap_or_else(|e| panic!("{url}: {e}"));
        let body = r.body_mut().read_to_string().unwrap();
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("{url}: {e}: {body}"))
    }

    /// An instant query; panics on a query error.
    fn query(&self, expr: &str) -> Vec<Value> {
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
    fn alerts(&self, name: &str) -> Vec<Value> {
        let v = self.get_json(&format!("{}/api/v1/alerts", self.prom_url));
        v["data"]["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["labels"]["alertname"] == name)
            .cloned()
            .collect()
    }

    fn firing(&self, name: &str) -> Vec<Value> {
        self.alerts(name)
            .into_iter()
            .filter(|a| a["state"] == "firing")
            .collect()
    }

    /// Slack messages about `alertname` whose title starts with `prefix`.
    fn slack_about(&self, alertname: &str, prefix: &str) -> Vec<(Instant, Value)> {
        self.slack
            .received()
            .into_iter()
            .filter(|(_, m)| {
                let title = m["attachments"][0]["title"].as_str().unwrap_or("");
                title.starts_with(prefix) && title.contains(&format!(" {alertname}"))
            })
            .collect()
    }

    fn post(&self, path: &str, body: Value) -> Value {
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
    fn assert_running(&self, id: &str) {
        let a = self.get_json(&self.jolt.control_url(&format!("/actions/{id}")));
        assert_eq!(a["state"], "running", "action {id}: {a}");
    }

    fn delete(&self, path: &str) -> u16 {
        let mut r = agent().delete(&self.jolt.control_url(path)).call().unwrap();
        let s = r.status().as_u16();
        let _ = r.body_mut().read_to_string();
        s
    }

    /// A sample of jolt's own /metrics, summed over series whose labels contain every `want`.
    fn jolt_metric(&self, name: &str, want: &[(&str, &str)]) -> f64 {
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
fn post_json(url: &str, body: &Value) -> ureq::http::Response<ureq::Body> {
    agent()
        .post(url)
        .header("content-type", "application/json")
        .send(body.to_string())
        .unwrap_or_else(|e| panic!("POST {url}: {e}"))
}

/// The `for` of a shipped alert.
fn alert_for(name: &str) -> Duration {
    let r = alert_rules().into_iter().find(|r| r.name == name).unwrap();
    prom_duration(r.for_.as_deref().unwrap_or("0s"))
}

/// Alertmanager's group_wait and group_interval of the shipped route.
fn am_timers() -> (Duration, Duration) {
    let doc = yaml("alerts/alertmanager.yml");
    (
        prom_duration(doc["route"]["group_wait"].as_str().unwrap()),
        prom_duration(doc["route"]["group_interval"].as_str().unwrap()),
    )
}

/// Checks a Slack message: channel, colour, and the template's severity, summary, description,
/// instance and runbook for `alertname`.
fn assert_slack_message(m: &Value, alertname: &str, channel: &str, severity: &str, resolved: bool) {
    assert_eq!(m["channel"], channel, "{m:#}");
    assert_eq!(m["username"], "jolt");
    let att = &m["attachments"][0];
    let title = att["title"].as_str().unwrap();
    let body = att["text"].as_str().unwrap();
    let rule = alert_rules()
        .into_iter()
        .find(|r| r.name == alertname && r.labels["severity"] == severity)
        .unwrap();
    if resolved {
        assert!(title.starts_with("[RESOLVED] "), "{title}");
        assert_eq!(att["color"], "good");
        assert!(body.starts_with("*Resolved:*"), "{body}");
    } else {
        assert!(title.starts_with("[FIRING:1] "), "{title}");
        assert_eq!(
            att["color"],
            if severity == "critical" {
                "danger"
            } else {
                "warning"
            }
        );
        assert!(
            body.starts_with(&format!("*{}:*", severity.to_uppercase())),
            "{body}"
        );
    }
    assert!(body.contains(&format!("*severity:* {severity}")), "{body}");
    assert!(body.contains("*instance:* 127.0.0.1:"), "{body}");
    assert!(
        body.contains(&format!("*runbook:* {}", rule.annotations["runbook_url"])),
        "{body}"
    );
    // The summary and the start of the description, rendered (no template braces left).
    assert!(!body.contains("{{"), "{body}");
    let summary_start = rule.annotations["summary"].split("{{").next().unwrap();
    assert!(body.contains(summary_start.trim()), "{body}");
    let description_start = rule.annotations["description"].split("{{").next().unwrap();
    assert!(body.contains(description_start.trim()), "{body}");
}

#[test]
fn load_raises_alerts_to_slack_and_dashboards_show_it() {
    let stack = Stack::start();
    let (group_wait, group_interval) = am_timers();
    let t_start = Instant::now();
    let mut timings = Vec::new();

    // ---- CPU: 100 % of the host → HostHighCpu firing → Slack (#jolt-alerts) → stop → resolved.
    let action = stack.post("/actions/cpu", json!({"percent": 100, "duration": "40s"}));
    let id = action["id"].as_str().expect("action id").to_string();
    let t0 = Instant::now();
    stack.assert_running(&id);
    // The 5 s rate window fills, then `for`, plus a scrape and an evaluation each side.
    let fire_bound = CPU_WINDOW + alert_for("HostHighCpu") + 2 * INTERVAL * 2 + MARGIN;
    let fired = wait_for_stack(fire_bound, || {
        stack
            .firing("HostHighCpu")
            .into_iter()
            .find(|a| a["labels"]["instance"] == stack.instance.as_str())
    });
    let fired = fired.unwrap_or_else(|| {
        panic!(
            "HostHighCpu not firing {fire_bound:?} after a 100 % cpu action; cpu ratio {:?}{}",
            stack.query("instance:node_cpu_utilisation:ratio"),
            stack.logs()
        )
    });
    timings.push(("HostHighCpu firing in Prometheus", t0.elapsed()));
    assert_eq!(fired["labels"]["severity"], "warning");
    assert_eq!(fired["labels"]["job"], "jolt");
    assert_eq!(
        fired["annotations"]["summary"],
        format!("CPU above 90 % on {}", stack.instance)
    );
    assert_eq!(
        fired["annotations"]["runbook_url"],
        "docs/runbooks.md#hosthighcpu"
    );
    let slack_bound = group_wait + 2 * INTERVAL + MARGIN;
    let msg = wait_for_stack(slack_bound, || {
        stack.slack_about("HostHighCpu", "[FIRING").pop()
    })
    .unwrap_or_else(|| panic!("no Slack message for HostHighCpu{}", stack.logs()));
    timings.push(("HostHighCpu Slack message", msg.0 - t0));
    assert_slack_message(&msg.1, "HostHighCpu", "#jolt-alerts", "warning", false);
    assert!(
        msg.0 - t0 < Duration::from_secs(40),
        "alerted after the action's end"
    );

    assert_eq!(stack.delete(&format!("/actions/{id}")), 200);
    let t1 = Instant::now();
    // The rate window drains, an evaluation resolves, Alertmanager flushes the group.
    let resolve_bound = CPU_WINDOW + 2 * INTERVAL + group_interval + MARGIN;
    let resolved = wait_for_stack(resolve_bound, || {
        stack.slack_about("HostHighCpu", "[RESOLVED]").pop()
    })
    .unwrap_or_else(|| {
        // Other load on the host (a shared machine) keeps the CPU above 90 %: say so.
        panic!(
            "no resolved Slack message for HostHighCpu; cpu ratio now {:?}{}",
            stack.query("instance:node_cpu_utilisation:ratio"),
            stack.logs()
        )
    });
    timings.push((
        "HostHighCpu resolved Slack message after stop",
        resolved.0 - t1,
    ));
    assert_slack_message(&resolved.1, "HostHighCpu", "#jolt-alerts", "warning", true);
    assert!(stack.firing("HostHighCpu").is_empty());

    // jolt's own webhook got both notifications too.
    let got = wait_for_stack(Duration::from_secs(10), || {
        let f = stack.jolt_metric(
            "jolt_alert_notifications_total",
            &[("alertname", "HostHighCpu"), ("status", "firing")],
        );
        let r = stack.jolt_metric(
            "jolt_alert_notifications_total",
            &[("alertname", "HostHighCpu"), ("status", "resolved")],
        );
        (f >= 1.0 && r >= 1.0).then_some(())
    });
    assert!(
        got.is_some(),
        "jolt's POST /alerts did not count HostHighCpu firing and resolved"
    );

    // ---- A service down → ServiceDown firing → Slack (#jolt-critical) → stop → resolved.
    let action = stack.post(
        "/actions/fault",
        json!({"service": "payment", "down": true, "duration": "60s"}),
    );
    let id = action["id"].as_str().expect("action id").to_string();
    let t0 = Instant::now();
    stack.assert_running(&id);
    let fire_bound = alert_for("ServiceDown") + 2 * INTERVAL * 2 + MARGIN;
    let fired = wait_for_stack(fire_bound, || {
        stack
            .firing("ServiceDown")
            .into_iter()
            .find(|a| a["labels"]["service"] == "payment")
    })
    .unwrap_or_else(|| {
        panic!(
            "ServiceDown not firing; status {:?}{}",
            stack.query("instance_service:jolt_service_status:code"),
            stack.logs()
        )
    });
    timings.push(("ServiceDown firing in Prometheus", t0.elapsed()));
    assert_eq!(fired["labels"]["severity"], "critical");
    assert_eq!(fired["labels"]["instance"], stack.instance.as_str());
    // Only payment is down.
    assert_eq!(stack.firing("ServiceDown").len(), 1);
    let msg = wait_for_stack(slack_bound, || {
        stack.slack_about("ServiceDown", "[FIRING").pop()
    })
    .unwrap_or_else(|| panic!("no Slack message for ServiceDown{}", stack.logs()));
    timings.push(("ServiceDown Slack message", msg.0 - t0));
    assert_slack_message(&msg.1, "ServiceDown", "#jolt-critical", "critical", false);
    assert!(
        msg.1["attachments"][0]["text"]
            .as_str()
            .unwrap()
            .contains("*service:* payment")
    );

    assert_eq!(stack.delete(&format!("/actions/{id}")), 200);
    let t1 = Instant::now();
    let resolve_bound = 2 * INTERVAL * 2 + group_interval + MARGIN;
    let resolved = wait_for_stack(resolve_bound, || {
        stack.slack_about("ServiceDown", "[RESOLVED]").pop()
    })
    .unwrap_or_else(|| panic!("no resolved Slack message for ServiceDown{}", stack.logs()));
    timings.push((
        "ServiceDown resolved Slack message after stop",
        resolved.0 - t1,
    ));
    assert_slack_message(
        &resolved.1,
        "ServiceDown",
        "#jolt-critical",
        "critical",
        true,
    );

    // ---- The inhibition rules, in the real Alertmanager.
    check_inhibitions(&stack);

    // ---- Every dashboard query returns data while load of every kind runs.
    check_dashboards(&stack);

    for (what, t) in &timings {
        eprintln!("stack timing: {what}: {:.1} s", t.as_secs_f64());
    }
    eprintln!(
        "stack timing: whole test {:.1} s",
        t_start.elapsed().as_secs_f64()
    );
    assert_eq!(stack.delete("/actions"), 200);
}

/// Posts synthetic alerts straight to Alertmanager and reads which ones it inhibits.
fn check_inhibitions(stack: &Stack) {
    let inst = "inhibit-test:9477";
    let alert = |name: &str, sev: &str, extra: &[(&str, &str)]| {
        let mut labels = BTreeMap::from([
            ("alertname".to_string(), name.to_string()),
            ("severity".to_string(), sev.to_string()),
            ("instance".to_string(), inst.to_string()),
            ("job".to_string(), "jolt".to_string()),
        ]);
        for (k, v) in extra {
            labels.insert(k.to_string(), v.to_string());
        }
        json!({"labels": labels, "annotations": {"summary": "inhibition test"}})
    };
    let batch = json!([
        alert("ServiceDown", "critical", &[("service", "search")]),
        alert("ServiceHighErrorRate", "warning", &[("service", "search")]),
        alert("ServiceHighLatency", "warning", &[("service", "search")]),
        alert("ServiceHighLatency", "warning", &[("service", "auth")]),
        alert("HostHighMemory", "critical", &[]),
        alert("HostHighMemory", "warning", &[]),
        alert("HostHighCpu", "warning", &[]),
    ]);
    let mut r = post_json(&format!("{}/api/v2/alerts", stack.am_url), &batch);
    assert_eq!(
        r.status(),
        200,
        "{}",
        r.body_mut().read_to_string().unwrap()
    );
    let key = |a: &Value| {
        format!(
            "{}/{}/{}",
            a["labels"]["alertname"].as_str().unwrap(),
            a["labels"]["severity"].as_str().unwrap(),
            a["labels"]["service"].as_str().unwrap_or("-")
        )
    };
    let state = |want: usize| {
        wait_for_stack(Duration::from_secs(10), || {
            let v = stack.get_json(&format!(
                "{}/api/v2/alerts?filter=instance%3D%22{inst}%22",
                stack.am_url
            ));
            let m: BTreeMap<String, bool> = v
                .as_array()
                .unwrap()
                .iter()
                .map(|a| (key(a), a["status"]["state"] == "suppressed"))
                .collect();
            (m.len() == want).then_some(m)
        })
        .expect("alerts posted to Alertmanager")
    };
    let m = state(7);
    let expect = BTreeMap::from([
        ("ServiceDown/critical/search".to_string(), false),
        ("ServiceHighErrorRate/warning/search".to_string(), true),
        ("ServiceHighLatency/warning/search".to_string(), true),
        ("ServiceHighLatency/warning/auth".to_string(), false),
        ("HostHighMemory/critical/-".to_string(), false),
        ("HostHighMemory/warning/-".to_string(), true),
        ("HostHighCpu/warning/-".to_string(), false),
    ]);
    assert_eq!(m, expect, "suppressed states");

    // JoltDown silences everything else of its instance.
    let mut r = post_json(
        &format!("{}/api/v2/alerts", stack.am_url),
        &json!([alert("JoltDown", "critical", &[])]),
    );
    assert_eq!(
        r.status(),
        200,
        "{}",
        r.body_mut().read_to_string().unwrap()
    );
    let all = wait_for_stack(Duration::from_secs(10), || {
        let m = state(8);
        let others_suppressed = m
            .iter()
            .filter(|(k, _)| !k.starts_with("JoltDown/"))
            .all(|(_, s)| *s);
        (others_suppressed && !m["JoltDown/critical/-"]).then_some(())
    });
    assert!(
        all.is_some(),
        "JoltDown did not inhibit the instance's alerts"
    );
}

/// Starts load of every kind (and a scenario when jolt has them), then runs every panel and
/// annotation query of every dashboard, variables substituted, against Prometheus.
fn check_dashboards(stack: &Stack) {
    let loads = [
        (
            "cpu",
            json!({"percent": 30, "mode": "add", "cores": 1, "duration": "90s"}),
        ),
        ("memory", json!({"size": "64MB", "duration": "90s"})),
        ("disk", json!({"operations": 20000, "block_size": "4KiB"})),
        (
            "traffic",
            json!({"rps": 50, "duration": "90s", "target": "search"}),
        ),
        ("network", json!({"mbps": 5, "duration": "90s"})),
        (
            "fault",
            json!({"service": "search", "error_rate": 0.5, "latency": "50ms", "duration": "90s"}),
        ),
    ];
    for (kind, body) in loads {
        stack.post(&format!("/actions/{kind}"), body);
    }
    let scenarios = stack.get_json(&stack.jolt.control_url("/scenarios"));
    let list = scenarios
        .as_array()
        .or(scenarios["scenarios"].as_array())
        .cloned()
        .unwrap_or_default();
    let name = list
        .iter()
        .filter_map(|s| s["name"].as_str())
        .next()
        .unwrap_or_else(|| panic!("jolt lists no scenario: {scenarios}"))
        .to_string();
    stack.post(&format!("/scenarios/{name}/start"), json!({}));

    let dashes = dashboards();
    let vars = vec![
        ("instance", stack.instance.replace('.', "\\\\.")),
        ("service", ".+".to_string()),
        ("shift", first_option(&dashes, "shift")),
        ("__rate_interval", "4s".to_string()),
        ("__interval", "1s".to_string()),
        ("__range", "5m".to_string()),
    ];
    // The variables' own queries find the jolt instance and the services.
    let up = stack.query("group by (instance) (up{job=\"jolt\"})");
    assert!(
        up.iter()
            .any(|s| s["metric"]["instance"] == stack.instance.as_str())
    );
    let services = stack.query(&format!(
        "group by (service) (jolt_service_up{{instance=~\"{}\"}})",
        vars[0].1
    ));
    let names: Vec<&str> = services
        .iter()
        .filter_map(|s| s["metric"]["service"].as_str())
        .collect();
    for s in ["auth", "payment", "reporting", "search"] {
        assert!(names.contains(&s), "service {s} missing: {names:?}");
    }

    // Rate windows fill (15 s for services) while every load runs.
    let mut pending: Vec<(String, String, String)> = Vec::new();
    for (file, d) in &dashes {
        for (place, expr) in dashboard_queries(d) {
            pending.push((file.clone(), place, grafana_substitute(&expr, &vars)));
        }
    }
    let total = pending.len();
    let deadline = Instant::now() + Duration::from_secs(45);
    loop {
        pending.retain(|(_, _, expr)| stack.query(expr).is_empty());
        if pending.is_empty() || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_secs(2));
    }
    assert!(total > 60, "only {total} queries");
    let report: Vec<String> = pending
        .iter()
        .map(|(f, p, e)| format!("{f}: {p}: {e}"))
        .collect();
    assert!(
        report.is_empty(),
        "{} of {total} dashboard queries returned no data:\n{}",
        report.len(),
        report.join("\n")
    );
}

/// The first option of a custom variable in any dashboard.
fn first_option(dashes: &[(String, Value)], name: &str) -> String {
    dashes
        .iter()
        .flat_map(|(_, d)| d["templating"]["list"].as_array().unwrap().iter())
        .find(|v| v["name"] == name)
        .and_then(|v| v["query"].as_str())
        .map(|q| q.split(',').next().unwrap().trim().to_string())
        .unwrap_or_else(|| panic!("no variable {name}"))
}
