//! Run reports against the real stack (Prometheus with the shipped rules, Alertmanager): two
//! verified payment outages, the second five seconds later in its scenario. Every format is
//! fetched; the report's figures agree with our own PromQL over the same window (peaks
//! exactly, first firing within one scrape interval, the check's detection delay within a
//! scrape interval plus the follower's poll); the CSV parses with the expected columns; the
//! JUnit is read by junitparser; the promtool test passes `promtool test rules` with the
//! shipped rules; the comparison says ServiceDown fired about 5 s later; Chromium finds every
//! chart's SVG and the verdict.

use crate::common::{agent, call};
use crate::reports::{check_dom, chromium_dom, fetch, start, wait_recorded};
use crate::stack;
use crate::stack::verify_live::{self, Live};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn outage(at: &str) -> String {
    format!(
        r#"title: Payment outage at {at}
duration: 35s
steps:
  - id: outage
    at: "{at}"
    note: Payment goes down
    action: {{kind: fault, service: payment, down: true}}
    duration: 12s
expect:
  - alert: ServiceDown
    labels: {{service: payment}}
    fires: {{after: outage, within: 20s}}
    resolves: {{after: outage.end, within: 20s}}
  - alert: HostOomKill
    never: true
  - name: payment up before the outage
    query: jolt_service_up{{service="payment"}}
    above: 0.5
    during: {{from: "0:00", to: outage}}
"#
    )
}

/// Range query results: (labels, samples) per series.
type Range = Vec<(BTreeMap<String, String>, Vec<(f64, f64)>)>;

/// A range query on the stack's Prometheus → (labels, samples) per series.
fn query_range(live: &Live, expr: &str, from: f64, to: f64, step: f64) -> Range {
    let mut r = agent()
        .post(&format!("{}/api/v1/query_range", live.prom_url))
        .send_form([
            ("query", expr),
            ("start", &format!("{from:.3}")),
            ("end", &format!("{to:.3}")),
            ("step", &format!("{step}")),
        ])
        .unwrap();
    let v: Value = serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    v["data"]["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let labels = serde_json::from_value(s["metric"].clone()).unwrap();
            let points = s["values"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    (
                        p[0].as_f64().unwrap(),
                        p[1].as_str().unwrap().parse().unwrap(),
                    )
                })
                .collect();
            (labels, points)
        })
        .collect()
}

fn json_report(live: &Live, id: &str) -> Value {
    let (status, _, body) = fetch(&live.jolt, &format!("/runs/{id}/report?format=json"), None);
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

fn payment_down(report: &Value) -> &Value {
    report["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["alertname"] == "ServiceDown" && a["labels"]["service"] == "payment")
        .unwrap_or_else(|| panic!("no ServiceDown for payment in {:#}", report["alerts"]))
}

fn show(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn copy_rules(to: &Path) {
    std::fs::create_dir_all(to.join("tests")).unwrap();
    for f in std::fs::read_dir(stack::repo().join("alerts"))
        .unwrap()
        .flatten()
    {
        let name = f.file_name().to_string_lossy().into_owned();
        if name.ends_with(".rules.yml") {
            std::fs::copy(f.path(), to.join(&name)).unwrap();
        }
    }
}

/// Prometheus, Alertmanager, promtool, junitparser and Chromium.
const TOOLS: [&str; 5] = [
    stack::PROMETHEUS,
    stack::ALERTMANAGER,
    "promtool",
    "python3:junitparser",
    crate::reports::CHROMIUM,
];

#[test]
fn reports_of_verified_runs_against_the_real_stack() {
    if !crate::common::require_tools(&TOOLS) {
        return;
    }
    let live = verify_live::start();
    let d = &live.jolt;
    let (scrape, step) = (1.0, 1.0);

    let a = start(d, "outage-early", &outage("0:05"));
    wait_recorded(d, &a, Duration::from_secs(180));
    let b = start(d, "outage-late", &outage("0:10"));
    let run_b = wait_recorded(d, &b, Duration::from_secs(180));
    assert_eq!(run_b["verdict"], "pass", "{run_b:#}{}", live.logs());

    // The figures agree with our own PromQL over the same window.
    let rep = json_report(&live, &a);
    let m = &rep["manifest"];
    assert_eq!(m["run"]["verdict"], "pass", "{:#}", m["run"]);
    assert!(m["series_missing"].is_null(), "{m:#}");
    let w = &m["window"];
    let (start_t, end_t, margin) = (
        w["start"].as_f64().unwrap(),
        w["end"].as_f64().unwrap(),
        w["margin"].as_f64().unwrap(),
    );
    assert_eq!(
        w["step"].as_f64().unwrap(),
        step,
        "the step is the evaluation interval"
    );
    let from = ((start_t - margin) / step).floor() * step;
    let to = ((end_t + margin) / step).ceil() * step;
    let firing = query_range(
        &live,
        r#"ALERTS{alertname="ServiceDown",alertstate="firing",service="payment"}"#,
        from,
        to,
        step,
    );
    let first_firing = firing[0].1[0].0 - start_t;
    let row = payment_down(&rep);
    let reported = row["firing_at"].as_f64().unwrap();
    assert!(
        (reported - first_firing).abs() <= scrape,
        "first firing: report {reported}, PromQL {first_firing}"
    );
    assert!(row["resolved_at"].as_f64().is_some(), "{row}");
    let check = m["run"]["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "fires")
        .unwrap();
    let delay = check["delay_seconds"].as_f64().unwrap();
    assert!(
        (delay - (first_firing - 5.0)).abs() <= scrape + 1.0,
        "detection delay: check {delay}, PromQL {}",
        first_firing - 5.0
    );
    let stats = rep["stats"].as_array().unwrap();
    let status_stat = stats
        .iter()
        .find(|s| {
            s["group"] == "check"
                && s["labels"]["service"] == "payment"
                && s["name"].as_str().unwrap().contains("ServiceDown")
        })
        .unwrap_or_else(|| panic!("no chart of ServiceDown's expression: {stats:#?}"));
    let own = query_range(
        &live,
        r#"instance_service:jolt_service_status:code{service="payment"}"#,
        from,
        to,
        step,
    );
    let own_peak = own[0].1.iter().map(|p| p.1).fold(f64::MIN, f64::max);
    let own_peak_at = own[0].1.iter().find(|p| p.1 == own_peak).unwrap().0 - start_t;
    assert_eq!(status_stat["peak"].as_f64().unwrap(), own_peak);
    assert_eq!(own_peak, 2.0, "payment was DOWN");
    assert!(
        (status_stat["peak_at"].as_f64().unwrap() - own_peak_at).abs() <= scrape,
        "{status_stat}"
    );
    let cpu = stats
        .iter()
        .find(|s| s["name"] == "host_cpu")
        .expect("host CPU recorded");
    let own_cpu = query_range(&live, "instance:node_cpu_utilisation:ratio", from, to, step);
    let own_cpu_peak = own_cpu[0].1.iter().map(|p| p.1).fold(f64::MIN, f64::max);
    assert!(
        (cpu["peak"].as_f64().unwrap() - own_cpu_peak).abs() < 1e-9,
        "{cpu} vs {own_cpu_peak}"
    );

    // CSV: parsed by Python's csv module, every row as wide as the header.
    let dir = tempfile::tempdir().unwrap();
    let (_, _, csv) = fetch(d, &format!("/runs/{a}/report?format=csv"), None);
    let csv_path = dir.path().join("a.csv");
    std::fs::write(&csv_path, &csv).unwrap();
    let out = Command::new("python3")
        .args(["-c", "import csv,sys,json; r=list(csv.reader(open(sys.argv[1]))); assert all(len(x)==len(r[0]) for x in r), 'ragged'; print(json.dumps({'header': r[0], 'rows': len(r)-1}))"])
        .arg(&csv_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", show(&out));
    let parsed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let header: Vec<&str> = parsed["header"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h.as_str().unwrap())
        .collect();
    assert_eq!(&header[..2], &["time", "offset_seconds"]);
    for prefix in [
        "alerts:ALERTS{",
        "check:",
        "host:host_cpu{",
        "host:host_memory{",
        "service:service_p99{",
        "service:service_rate{",
    ] {
        assert!(
            header.iter().any(|h| h.starts_with(prefix)),
            "no {prefix} column in {header:?}"
        );
    }
    let rows = parsed["rows"].as_u64().unwrap() as f64;
    assert!(rows >= end_t - start_t && rows <= 2000.0, "{rows} rows");

    // JUnit, read by junitparser.
    let (_, _, xml) = fetch(d, &format!("/runs/{a}/report?format=junit"), None);
    let junit = dir.path().join("a.xml");
    std::fs::write(&junit, &xml).unwrap();
    let out = Command::new("python3")
        .arg(stack::repo().join("tests/junit/read.py"))
        .arg(&junit)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "junitparser (scripts/setup-junit): {}",
        show(&out)
    );
    let cases: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(cases.len(), 4, "{cases:?}");
    assert!(cases.iter().all(|c| c["result"] == "passed"), "{cases:?}");

    // Markdown and HTML; Chromium finds every chart's SVG and the verdict.
    let (_, _, md) = fetch(d, &format!("/runs/{a}/report?format=md"), None);
    assert!(
        md.contains("**Verdict: PASS**") && md.contains("| ServiceDown |"),
        "{md}"
    );
    let dom = chromium_dom(&d.control_url(&format!("/runs/{a}/report")));
    check_dom(&dom, "PASS", 3 + 3 + 2 + 5);

    // The promtool test passes with the shipped rules.
    let (status, ct, test) = fetch(d, &format!("/runs/{a}/promtool-test"), None);
    assert_eq!(status, 200, "{test}");
    assert!(ct.starts_with("application/yaml"), "{ct}");
    assert!(test.contains("alertname: ServiceDown"), "{test}");
    let rules = dir.path().join("alerts");
    copy_rules(&rules);
    std::fs::write(rules.join("tests").join(format!("{a}.test.yml")), &test).unwrap();
    let out = Command::new(stack::binary(&["promtool"]))
        .args(["test", "rules", &format!("{a}.test.yml")])
        .current_dir(rules.join("tests"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "promtool test rules:\n{}\n--- test file:\n{}",
        show(&out),
        &test[..test.len().min(4000)]
    );

    // Compare: B's outage starts 5 s later in its scenario, so ServiceDown fires ~5 s later.
    let (status, _, cmp) = fetch(d, &format!("/runs/{a}/compare/{b}?format=json"), None);
    assert_eq!(status, 200, "{cmp}");
    let cmp: Value = serde_json::from_str(&cmp).unwrap();
    let alert = cmp["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["alertname"] == "ServiceDown" && x["labels"]["service"] == "payment")
        .unwrap_or_else(|| panic!("{cmp:#}"));
    let delta = alert["delta"].as_f64().unwrap();
    assert!(
        (delta - 5.0).abs() <= 2.0 * scrape + 1.0,
        "ServiceDown fired {delta} s later, expected ~5: {cmp:#}"
    );
    let fires = cmp["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["a_result"] == "pass" && c["b_delay"].is_number())
        .unwrap();
    assert!(
        fires["delta"].as_f64().unwrap().abs() <= 2.0 * scrape + 1.0,
        "same detection delay: {fires}"
    );
    assert!(
        cmp["sentences"].as_array().unwrap().iter().any(|s| s
            .as_str()
            .unwrap()
            .starts_with("ServiceDown (service=payment, severity=critical) fired")),
        "{cmp:#}"
    );
    let (_, _, cmp_md) = fetch(d, &format!("/runs/{a}/compare/{b}?format=md"), None);
    assert!(cmp_md.contains(&format!("# {a} vs {b}")), "{cmp_md}");
    let dom = chromium_dom(&d.control_url(&format!("/runs/{a}/compare/{b}")));
    check_dom(&dom, "PASS", 14);
    let (status, v) = call("GET", &d.control_url(&format!("/runs/{b}/compare/{b}")), "");
    assert_eq!(status, 422, "{v}");
}
