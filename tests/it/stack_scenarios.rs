//! The five built-in scenarios played verified at speed 1 against the live stack (the shipped
//! prometheus.yml, rules and alertmanager.yml), each on a fresh stack. About 20 minutes, so
//! `#[ignore]`d: bench/scenario-alerts.sh runs it (CI plays only ddos-attack, in
//! tests/verify_stack.rs).
//!
//! What a story names is what its own `expect:` names: a warning/critical alert that fired is
//! right when a `fires` check matches it, and a false positive otherwise (a `never` check on it
//! fails the run too). Precision = fired alerts a `fires` check names / alerts fired; recall =
//! `fires` checks whose alert fired / `fires` checks. Goal 100 % / 100 %.

use crate::common;
use crate::stack::verify_live;

use common::{agent, call};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use verify_live::Live;

const BUILTINS: [&str; 5] = [
    "black-friday-rush",
    "ddos-attack",
    "memory-leak",
    "morning-rush-hour",
    "startup-launch-day",
];

/// Labels that say where an alert came from, not which alert it is.
const PLUMBING: [&str; 3] = ["alertstate", "instance", "job"];

type Labels = BTreeMap<String, String>;

/// Warning and critical alerts firing at some evaluation since `since` (unix seconds; info
/// alerts are never paged), each as its identifying labels (`alertname`, `service`,
/// `severity`...) with the first and last second it was firing, counted from `since`.
fn fired(live: &Live, since: f64) -> BTreeMap<Labels, (f64, f64)> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let text = agent()
        .get(&format!("{}/api/v1/query_range", live.prom_url))
        .query(
            "query",
            "ALERTS{alertstate=\"firing\",severity=~\"warning|critical\"}",
        )
        .query("start", format!("{since:.3}"))
        .query("end", format!("{now:.3}"))
        .query("step", "1")
        .call()
        .expect("Prometheus query")
        .body_mut()
        .read_to_string()
        .unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["status"], "success", "{body}");
    let mut out = BTreeMap::new();
    for s in body["data"]["result"].as_array().unwrap() {
        let labels: Labels = s["metric"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(k, _)| !PLUMBING.contains(&k.as_str()) && *k != "__name__")
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
            .collect();
        let times: Vec<f64> = s["values"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v[0].as_f64().unwrap() - since)
            .collect();
        let (first, last) = (times[0], times[times.len() - 1]);
        let e = out.entry(labels).or_insert((first, last));
        e.0 = e.0.min(first);
        e.1 = e.1.max(last);
    }
    out
}

/// CPU seconds (user + system) a process has used so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<f64> = after
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the command.
    (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) / 100.0
}

/// `Name{k=v,...}` for reports.
fn show(l: &Labels) -> String {
    let rest: Vec<String> = l
        .iter()
        .filter(|(k, _)| *k != "alertname")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!("{}{{{}}}", l["alertname"], rest.join(","))
}

/// The alert a check names: (`alertname`, labels it requires).
fn check_alert(check: &Value) -> Option<(String, Labels)> {
    let a = check["spec"].get("alert")?;
    let labels = a["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect()
        })
        .unwrap_or_default();
    Some((a["name"].as_str()?.to_string(), labels))
}

fn show_check((name, labels): &(String, Labels)) -> String {
    let mut l = labels.clone();
    l.insert("alertname".into(), name.clone());
    show(&l)
}

fn matches((name, want): &(String, Labels), got: &Labels) -> bool {
    got.get("alertname") == Some(name) && want.iter().all(|(k, v)| got.get(k) == Some(v))
}

/// Seconds since the run started as `M:SS`.
fn clock(s: f64) -> String {
    let s = s.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Default)]
struct Tally {
    named: usize,
    fired: usize,
    expected: usize,
    found: usize,
    passed: usize,
    played: usize,
}

/// Plays one built-in verified on a fresh stack and prints its verdict, checks and alerts.
fn play(name: &str, tally: &mut Tally) {
    let live = verify_live::start();
    let load0 = load_average();
    let cpu0 = cpu_seconds(live.jolt.pid());
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let t0 = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_jolt"))
        .args(["scenario", "start", name, "--verify", "--control"])
        .arg(live.jolt.control.to_string())
        .output()
        .unwrap();
    // Late firings of the story's tail settle (the CLI returns once every check is decided).
    std::thread::sleep(Duration::from_secs(10));
    let wall = t0.elapsed();
    let (_, run) = call("GET", &live.jolt.control_url("/runs/run-1"), "");
    let jolt_cpu = cpu_seconds(live.jolt.pid()) - cpu0;
    let spans = fired(&live, since);
    let got: BTreeSet<Labels> = spans.keys().cloned().collect();
    let checks = run["checks"].as_array().cloned().unwrap_or_default();
    let fires: Vec<(String, Labels)> = checks
        .iter()
        .filter(|c| c["type"] == "fires")
        .filter_map(check_alert)
        .collect();

    println!(
        "scenario-alerts: == {name}: verdict {} (score {}), exit {:?}, {:.0} s; load average {load0} -> {}; jolt CPU {:.0} % of one core",
        run["verdict"],
        run["score"],
        out.status.code(),
        wall.as_secs_f64(),
        load_average(),
        100.0 * jolt_cpu / wall.as_secs_f64()
    );
    for c in &checks {
        let delay = c["delay_seconds"]
            .as_f64()
            .map(|d| format!("{d:.1} s"))
            .unwrap_or_default();
        let budget = c["spec"]["within"]
            .as_f64()
            .map(|d| format!("{d:.0} s"))
            .unwrap_or_default();
        println!(
            "scenario-alerts:    {:<48} {:<12} {delay:>7} {budget:>6}  {}",
            c["name"].as_str().unwrap_or("?"),
            c["result"].as_str().unwrap_or("?"),
            c["observed"].as_str().unwrap_or("")
        );
    }
    let named: Vec<&Labels> = got
        .iter()
        .filter(|l| fires.iter().any(|f| matches(f, l)))
        .collect();
    let unnamed: Vec<String> = got
        .iter()
        .filter(|l| !named.contains(l))
        .map(show)
        .collect();
    let silent: Vec<String> = fires
        .iter()
        .filter(|f| !got.iter().any(|l| matches(f, l)))
        .map(show_check)
        .collect();
    for (l, (first, last)) in &spans {
        println!(
            "scenario-alerts:    fired {:<50} from {} to {}",
            show(l),
            clock(*first),
            clock(*last)
        );
    }
    println!(
        "scenario-alerts:    fired {:?}; named by fires checks {:?}; NOT named (false positives) {unnamed:?}; named but silent {silent:?}",
        got.iter().map(show).collect::<Vec<_>>(),
        fires.iter().map(show_check).collect::<Vec<_>>(),
    );
    tally.named += named.len();
    tally.fired += got.len();
    tally.expected += fires.len();
    tally.found += fires.len() - silent.len();
    tally.played += 1;
    if run["verdict"] == "pass" {
        tally.passed += 1;
    } else {
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for line in text.lines() {
            println!("scenario-alerts:    | {line}");
        }
    }
}

#[test]
#[ignore = "about 20 minutes: bench/scenario-alerts.sh runs it"]
fn builtin_scenarios_pass_verified_and_raise_only_what_they_name() {
    if !crate::common::require_tools(crate::stack::LIVE_STACK) {
        return;
    }
    // `SCENARIOS=a,b` plays only those (bench/scenario-alerts.sh passes it through).
    let only = std::env::var("SCENARIOS").unwrap_or_default();
    let mut tally = Tally::default();
    for name in BUILTINS {
        if only.is_empty() || only.split(',').any(|s| s == name) {
            play(name, &mut tally);
        }
    }
    let pct = |a: usize, b: usize| {
        if b == 0 {
            100.0
        } else {
            100.0 * a as f64 / b as f64
        }
    };
    println!(
        "scenario-alerts: passed {}/{}; precision {}/{} = {:.0} %, recall {}/{} = {:.0} %",
        tally.passed,
        tally.played,
        tally.named,
        tally.fired,
        pct(tally.named, tally.fired),
        tally.found,
        tally.expected,
        pct(tally.found, tally.expected)
    );
    assert!(tally.played > 0, "SCENARIOS={only} names no built-in");
    assert_eq!(tally.passed, tally.played, "a built-in did not pass");
}
