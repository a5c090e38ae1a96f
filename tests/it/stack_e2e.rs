//! The whole stack on loopback with real processes: jolt, Prometheus with the shipped
//! prometheus.yml and rule files, Alertmanager with the shipped alertmanager.yml and templates,
//! and a fake Slack. Only addresses and ports are substituted (and the Slack URL file pointed at
//! the fake). It proves that load triggered over HTTP becomes a firing alert, a Slack message and
//! then a resolved one; that a service fault does the same; that the inhibition rules hold in a
//! real Alertmanager; and that every query of every dashboard returns data while load runs.

use crate::stack;
use crate::stack::live;

use live::*;
use serde_json::{Value, json};
use stack::*;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

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
    if !crate::common::require_tools(crate::stack::LIVE_STACK) {
        return;
    }
    let stack = Stack::start();
    let (group_wait, group_interval) = am_timers();
    let t_start = Instant::now();
    // Printed as they are measured (never asserted: the machine is shared and noisy), with the
    // goal of issue 14: Slack within the alert's `for` + 5 s of the cause, the resolution within
    // 5 s of its end.
    let timing = |what: &str, took: Duration, goal: Option<Duration>| {
        let goal = goal.map_or(String::new(), |g| format!(" (goal {} s)", g.as_secs()));
        eprintln!("stack timing: {what}: {:.1} s{goal}", took.as_secs_f64());
    };
    let five = Duration::from_secs(5);

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
    timing("HostHighCpu firing in Prometheus", t0.elapsed(), None);
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
    timing(
        "HostHighCpu Slack message",
        msg.0 - t0,
        Some(alert_for("HostHighCpu") + five),
    );
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
    timing(
        "HostHighCpu resolved Slack message after stop",
        resolved.0 - t1,
        Some(five),
    );
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
    timing("ServiceDown firing in Prometheus", t0.elapsed(), None);
    assert_eq!(fired["labels"]["severity"], "critical");
    assert_eq!(fired["labels"]["instance"], stack.instance.as_str());
    // Only payment is down.
    assert_eq!(stack.firing("ServiceDown").len(), 1);
    let msg = wait_for_stack(slack_bound, || {
        stack.slack_about("ServiceDown", "[FIRING").pop()
    })
    .unwrap_or_else(|| panic!("no Slack message for ServiceDown{}", stack.logs()));
    timing(
        "ServiceDown Slack message",
        msg.0 - t0,
        Some(alert_for("ServiceDown") + five),
    );
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
    timing(
        "ServiceDown resolved Slack message after stop",
        resolved.0 - t1,
        Some(five),
    );
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
