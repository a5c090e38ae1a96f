//! Quiet at rest: jolt on its defaults (baseline traffic on), Prometheus and Alertmanager with
//! the shipped files, and nothing triggered for three minutes. No warning or critical alert may
//! go pending, let alone fire: a presenter must not be paged before the demo starts, and every
//! verified scenario relies on a silent start. Three minutes is the cost of proving "quiet"; the
//! test runs alone (.config/nextest.toml) so that other tests' load is not mistaken for jolt's.
//! Host alerts raised by other programs on a shared machine are excused only while jolt itself
//! provably did nothing (no action, a small CPU share): they are true alerts, not jolt's noise.

use crate::stack;
use crate::stack::live;

use live::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// How long jolt idles under watch.
const IDLE: Duration = Duration::from_secs(180);
/// The built-in catalog.
const SERVICES: [&str; 4] = ["auth", "payment", "reporting", "search"];

/// The largest value of `expr` over the idle window, per `service` label (or "-").
fn peaks(stack: &Stack, expr: &str, window: Duration) -> BTreeMap<String, f64> {
    stack
        .query(&format!(
            "max_over_time(({expr})[{}s:1s])",
            window.as_secs()
        ))
        .iter()
        .map(|s| {
            let service = s["metric"]["service"].as_str().unwrap_or("-").to_string();
            let v: f64 = s["value"][1].as_str().unwrap().parse().unwrap();
            (service, v)
        })
        .collect()
}

#[test]
fn idle_default_jolt_raises_no_warning_or_critical_alert_in_three_minutes() {
    if !crate::common::require_tools(crate::stack::LIVE_STACK) {
        return;
    }
    let stack = Stack::start();

    // Quiet must mean "watched and healthy", not "nothing to judge": the baseline reaches every
    // service and the rules that would alert have their inputs.
    let ready = wait_for_stack(Duration::from_secs(40), || {
        let rates = stack.query("instance_service:jolt_service_requests:rate15s > 0");
        let status = stack.query("instance_service:jolt_service_status:code");
        let objectives = stack.query("jolt_service_objective_latency_seconds");
        (rates.len() == SERVICES.len()
            && status.len() == SERVICES.len()
            && objectives.len() == SERVICES.len())
        .then_some(())
    });
    assert!(
        ready.is_some(),
        "the services' rates, status and objectives never all showed: {:?} {:?}{}",
        stack.query("instance_service:jolt_service_requests:rate15s"),
        stack.query("jolt_service_objective_latency_seconds"),
        stack.logs()
    );

    // Every alert Prometheus holds, pending or firing, polled through the idle window.
    let t0 = Instant::now();
    let mut seen: BTreeMap<String, (String, f64)> = BTreeMap::new();
    let mut polls = 0;
    while t0.elapsed() < IDLE {
        let v = stack.get_json(&format!("{}/api/v1/alerts", stack.prom_url));
        for a in v["data"]["alerts"].as_array().unwrap() {
            let sev = a["labels"]["severity"].as_str().unwrap_or("");
            if sev == "warning" || sev == "critical" {
                let key = format!(
                    "{} {}",
                    a["labels"]["alertname"].as_str().unwrap(),
                    a["labels"]["service"].as_str().unwrap_or("")
                );
                seen.entry(key).or_insert((
                    a["state"].as_str().unwrap().to_string(),
                    t0.elapsed().as_secs_f64(),
                ));
            }
        }
        polls += 1;
        std::thread::sleep(Duration::from_secs(2));
    }
    let window = t0.elapsed() + Duration::from_secs(1);
    // Prometheus's own record of the window: ALERTS has a sample for every evaluation an alert
    // was pending or firing, so nothing slips between the polls.
    let recorded = stack.query(&format!(
        "max_over_time(ALERTS{{severity=~\"warning|critical\"}}[{}s])",
        window.as_secs()
    ));

    // What the idle services did, for the report: how close they came to their objectives.
    let slow = peaks(
        &stack,
        "instance_service:jolt_service_slow_requests:ratio_rate15s",
        window,
    );
    let errors = peaks(
        &stack,
        "instance_service:jolt_service_errors:ratio_rate15s",
        window,
    );
    let p99 = peaks(
        &stack,
        "instance_service:jolt_service_request_duration_seconds:p99",
        window,
    );
    let cpu = peaks(&stack, "instance:node_cpu_utilisation:ratio", window);
    // jolt's own share of the host, to tell its idle cost from other load on the machine.
    let own = peaks(
        &stack,
        "sum(rate(process_cpu_seconds_total{job=\"jolt\"}[15s])) / sum(instance:node_num_cpu:sum)",
        window,
    );
    for s in SERVICES {
        eprintln!(
            "quiet: {s}: peak p99 {:.3} s, peak share slower than objective {:.2} %, peak error ratio {:.2} %",
            p99.get(s).copied().unwrap_or(f64::NAN),
            100.0 * slow.get(s).copied().unwrap_or(0.0),
            100.0 * errors.get(s).copied().unwrap_or(0.0),
        );
    }
    let host_cpu = 100.0 * cpu.get("-").copied().unwrap_or(f64::NAN);
    let jolt_cpu = 100.0 * own.get("-").copied().unwrap_or(f64::NAN);
    eprintln!(
        "quiet: peak host CPU {host_cpu:.0} % (jolt's own peak {jolt_cpu:.1} % of the host), \
         {polls} polls over {:.0} s",
        window.as_secs_f64()
    );

    // Host alerts (alerts/host.rules.yml) judge the machine, not jolt: on a shared machine other
    // programs may really load its CPU or fill its disk. Such an alert is true, not a false
    // positive of jolt's, when jolt started no action and its own CPU stayed a small share of
    // the host; it is then reported and excused. Every other alert fails the test outright.
    let host_alerts: std::collections::BTreeSet<String> = stack::alert_rules()
        .into_iter()
        .filter(|r| r.file.ends_with("host.rules.yml"))
        .map(|r| r.name)
        .collect();
    let started = stack.query("sum(jolt_actions_started_total)");
    let actions: f64 = started
        .first()
        .map_or(0.0, |s| s["value"][1].as_str().unwrap().parse().unwrap());
    let jolt_idle = actions == 0.0 && jolt_cpu < 5.0;
    let excused = |name: &str| jolt_idle && host_alerts.contains(name);

    let recorded: Vec<(String, String)> = recorded
        .iter()
        .map(|s: &Value| {
            let m = &s["metric"];
            let name = m["alertname"].as_str().unwrap_or("").to_string();
            let what = format!(
                "{name} {} {}",
                m["service"].as_str().unwrap_or(""),
                m["alertstate"].as_str().unwrap_or("")
            );
            (name, what)
        })
        .collect();
    let polled_host: Vec<&String> = seen.keys().filter(|k| excused(alert_name(k))).collect();
    if !polled_host.is_empty() {
        eprintln!(
            "quiet: excused host alerts {polled_host:?}: jolt started no action and used \
             {jolt_cpu:.1} % of the host at most, so other load on the machine raised them"
        );
    }
    let polled: BTreeMap<&String, &(String, f64)> = seen
        .iter()
        .filter(|(k, _)| !excused(alert_name(k)))
        .collect();
    let recorded: Vec<&String> = recorded
        .iter()
        .filter(|(name, _)| !excused(name))
        .map(|(_, what)| what)
        .collect();
    assert!(
        polled.is_empty() && recorded.is_empty(),
        "warning/critical alerts on an idle jolt: polled {polled:?}, recorded by Prometheus \
         {recorded:?} (peak host CPU {host_cpu:.0} %, of which jolt {jolt_cpu:.1} %; {actions} \
         actions started){}",
        stack.logs()
    );
}

/// The alert name of a `"NAME SERVICE"` key.
fn alert_name(key: &str) -> &str {
    key.split(' ').next().unwrap_or(key)
}
