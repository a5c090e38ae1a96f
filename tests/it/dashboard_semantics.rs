//! What Grafana's types cannot see in the dashboards: unique panel ids, every panel inside the
//! 24-column grid, no overlaps, every datasource provisioned, every PromQL expression parsed by
//! promtool; that the check fails on broken copies; and that every Trigger load button, sent as
//! Grafana sends it, does what it says on a real jolt — with compose letting it through.

use crate::common;
use crate::control;
use crate::stack;

use serde_json::{Value, json};
use stack::{binary, dashboard_queries, dashboards, grafana_substitute, panels, run, text, yaml};
use std::collections::BTreeSet;
use std::process::Command;

/// Provisioned datasources: (uids, names).
fn provisioned() -> (BTreeSet<String>, BTreeSet<String>) {
    let ds = yaml("grafana/provisioning/datasources/jolt.yml");
    let list = ds["datasources"].as_sequence().unwrap();
    let field = |k: &str| {
        list.iter()
            .map(|d| d[k].as_str().unwrap().to_string())
            .collect()
    };
    (field("uid"), field("name"))
}

/// Every problem of one dashboard, as sentences naming the panel.
fn problems(d: &Value) -> Vec<String> {
    let (uids, names) = provisioned();
    let mut out = Vec::new();
    let mut ids = BTreeSet::new();
    let mut boxes: Vec<(String, [i64; 4])> = Vec::new();
    for p in panels(d) {
        let title = format!("panel {} {:?}", p["id"], p["title"].as_str().unwrap_or(""));
        if !ids.insert(p["id"].to_string()) {
            out.push(format!("{title}: id used twice"));
        }
        let g = &p["gridPos"];
        let n = |k: &str| g[k].as_i64();
        let (Some(x), Some(y), Some(w), Some(h)) = (n("x"), n("y"), n("w"), n("h")) else {
            out.push(format!("{title}: gridPos needs numbers x, y, w, h: {g}"));
            continue;
        };
        if x < 0 || y < 0 || w < 1 || h < 1 || x + w > 24 {
            out.push(format!("{title}: outside the 24-column grid: {g}"));
        }
        for (other, [ox, oy, ow, oh]) in &boxes {
            if x < ox + ow && *ox < x + w && y < oy + oh && *oy < y + h {
                out.push(format!("{title}: overlaps {other}"));
            }
        }
        boxes.push((title.clone(), [x, y, w, h]));
        if p["type"] == "alertlist" {
            let name = p["options"]["datasource"].as_str().unwrap_or("");
            if !names.contains(name) {
                out.push(format!(
                    "{title}: alert list datasource {name:?} is not provisioned"
                ));
            }
        }
    }
    let mut refs = Vec::new();
    collect_uids(d, &mut refs);
    for uid in refs {
        if !uids.contains(&uid) {
            out.push(format!("datasource uid {uid:?} is not provisioned"));
        }
    }
    out.extend(promql_problems(d));
    out
}

fn collect_uids(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match (k.as_str(), x["uid"].as_str()) {
                    ("datasource", Some(uid)) => out.push(uid.to_string()),
                    _ => collect_uids(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_uids(x, out)),
        _ => {}
    }
}

/// Every query, its variables substituted, through `promtool check rules` (one group per query,
/// so a failure names the query).
fn promql_problems(d: &Value) -> Vec<String> {
    let mut vars: Vec<(&str, String)> = vec![
        ("__rate_interval", "4s".into()),
        ("__interval", "1s".into()),
        ("__range", "5m".into()),
    ];
    for v in d["templating"]["list"].as_array().into_iter().flatten() {
        let value = match v["type"].as_str() {
            Some("custom") => v["query"]
                .as_str()
                .unwrap_or("")
                .split(',')
                .next()
                .unwrap_or(""),
            _ => ".+",
        };
        vars.push((v["name"].as_str().unwrap(), value.trim().to_string()));
    }
    let queries = dashboard_queries(d);
    let groups: Vec<Value> = queries
        .iter()
        .enumerate()
        .map(|(i, (_, expr))| {
            let expr = grafana_substitute(expr, &vars);
            json!({"name": format!("q{i}"), "rules": [{"record": "dashboard:check", "expr": expr}]})
        })
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("queries.yml");
    std::fs::write(&file, json!({ "groups": groups }).to_string()).unwrap();
    let out = run(Command::new(binary(&["promtool"]))
        .args(["check", "rules"])
        .arg(&file));
    if out.status.success() {
        return Vec::new();
    }
    let report = text(&out);
    let failed: Vec<String> = queries
        .iter()
        .enumerate()
        .filter(|(i, _)| {
            report.contains(&format!("group \"q{i}\"")) || report.contains(&format!("q{i},"))
        })
        .map(|(_, (place, expr))| format!("{place}: PromQL does not parse: {expr}"))
        .collect();
    if failed.is_empty() {
        vec![format!("promtool refused the queries:\n{report}")]
    } else {
        failed
    }
}

#[test]
fn every_dashboard_passes_the_semantic_check() {
    if !crate::common::require_tools(&["promtool"]) {
        return;
    }
    let dashes = dashboards();
    assert!(dashes.len() >= 3);
    for (file, d) in &dashes {
        let found = problems(d);
        assert!(found.is_empty(), "{file}:\n{}", found.join("\n"));
        assert!(
            !dashboard_queries(d).is_empty(),
            "{file}: no queries checked"
        );
    }
}

/// Breaks a copy of a dashboard in one way.
type Breaker = Box<dyn Fn(&mut Value)>;

#[test]
fn broken_copies_fail_the_semantic_check() {
    if !crate::common::require_tools(&["promtool"]) {
        return;
    }
    let (_, load) = dashboards()
        .into_iter()
        .find(|(f, _)| f.ends_with("load-control.json"))
        .unwrap();
    let first = |d: &mut Value, i: usize| -> Value { d["panels"][i].clone() };
    let cases: Vec<(&str, Breaker)> = vec![
        (
            "id used twice",
            Box::new(|d| d["panels"][2]["id"] = d["panels"][1]["id"].clone()),
        ),
        (
            "outside the 24-column grid",
            Box::new(|d| d["panels"][6]["gridPos"]["x"] = json!(22)),
        ),
        (
            "overlaps",
            Box::new(move |d| {
                let g = first(d, 1)["gridPos"].clone();
                d["panels"][2]["gridPos"] = g;
            }),
        ),
        (
            "is not provisioned",
            Box::new(|d| {
                d["panels"][1]["datasource"]["uid"] = json!("prometheus-typo");
            }),
        ),
        (
            "alert list datasource",
            Box::new(|d| {
                for p in d["panels"].as_array_mut().unwrap() {
                    if p["type"] == "alertlist" {
                        p["options"]["datasource"] = json!("Promethues");
                    }
                }
            }),
        ),
        (
            "PromQL does not parse",
            Box::new(|d| {
                d["panels"][1]["targets"][0]["expr"] =
                    json!("sum(rate(jolt_actions_started_total[1m])");
            }),
        ),
    ];
    for (needle, breakit) in cases {
        let mut d = load.clone();
        breakit(&mut d);
        let found = problems(&d);
        assert!(
            found.iter().any(|p| p.contains(needle)),
            "{needle}: not reported; found {found:?}"
        );
    }
}

/// The Trigger load buttons: (panel title, action) in load-control.json's first row.
fn buttons() -> Vec<(String, Value)> {
    let (_, d) = dashboards()
        .into_iter()
        .find(|(f, _)| f.ends_with("load-control.json"))
        .unwrap();
    assert_eq!(d["panels"][0]["type"], "row");
    assert_eq!(d["panels"][0]["title"], "Trigger load");
    assert_eq!(d["panels"][0]["gridPos"]["y"], 0);
    let vars = d["templating"]["list"].as_array().unwrap();
    let url = vars
        .iter()
        .find(|v| v["name"] == "jolt_url")
        .expect("$jolt_url");
    assert_eq!(url["type"], "textbox");
    assert_eq!(url["query"], "http://localhost:9478");
    panels(&d)
        .into_iter()
        .filter(|p| p["fieldConfig"]["defaults"]["actions"].is_array())
        .map(|p| {
            let actions = p["fieldConfig"]["defaults"]["actions"].as_array().unwrap();
            assert_eq!(actions.len(), 1, "{}", p["title"]);
            assert_eq!(actions[0]["oneClick"], true, "{}", p["title"]);
            (p["title"].as_str().unwrap().to_string(), actions[0].clone())
        })
        .collect()
}

#[test]
fn every_button_does_what_it_says_from_grafanas_origin() {
    let grafana = "http://localhost:3000";
    let d = common::Daemon::start(&["--control-allow-origin", grafana]);
    let list = buttons();
    let titles: BTreeSet<&str> = list.iter().map(|(t, _)| t.as_str()).collect();
    for t in [
        "CPU Spike",
        "Memory Surge",
        "Disk Storm",
        "Traffic Flood",
        "Network Stress",
        "Payment Fault",
        "Stop all",
    ] {
        assert!(titles.contains(t), "no {t} button: {titles:?}");
    }
    let scenarios = common::call("GET", &d.control_url("/scenarios"), "").1;
    let builtin: BTreeSet<String> = scenarios
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect();
    let mut started_scenarios = BTreeSet::new();
    for (title, action) in &list {
        let f = &action["fetch"];
        let url = f["url"]
            .as_str()
            .unwrap()
            .replace("${jolt_url}", &d.control_url(""));
        let mut headers = vec![
            ("Origin".to_string(), grafana.to_string()),
            ("X-Grafana-Action".into(), "1".into()),
        ];
        for h in f["headers"].as_array().into_iter().flatten() {
            let v = h[1].as_str().unwrap().replace("${jolt_token}", "");
            headers.push((h[0].as_str().unwrap().to_string(), v));
        }
        let hs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let body = f["body"].as_str().map(str::as_bytes);
        let method = f["method"].as_str().unwrap();
        let r = control::call(method, &url, body, &hs);
        assert_eq!(
            r.header("access-control-allow-origin"),
            Some(grafana),
            "{title}"
        );
        let got = r.json();
        match method {
            "DELETE" => assert_eq!(r.status, 200, "{title}: {got}"),
            _ => {
                assert_eq!(r.status, 201, "{title}: {got}");
                if let Some(kind) = url.split("/actions/").nth(1) {
                    assert_eq!(got["kind"], kind, "{title}");
                    assert_eq!(got["state"], "running", "{title}");
                    // Pressed for real: stop at once (a shared machine), and check it stopped.
                    let stop = format!("/actions/{}", got["id"].as_str().unwrap());
                    common::call("DELETE", &d.control_url(&stop), "");
                } else {
                    let run = got["id"].as_str().unwrap();
                    started_scenarios.insert(got["scenario"].as_str().unwrap_or("").to_string());
                    common::call("DELETE", &d.control_url(&format!("/runs/{run}")), "");
                }
            }
        }
    }
    assert_eq!(
        started_scenarios, builtin,
        "one button per built-in scenario"
    );
    let (_, actions) = common::call("DELETE", &d.control_url("/actions"), "");
    assert!(actions["stopped"].is_number());
}

#[test]
fn compose_lets_grafanas_buttons_and_alertmanager_through() {
    let compose = yaml("compose.yaml");
    let cmd: Vec<&str> = compose["services"]["jolt"]["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let flag = |name: &str| -> Vec<String> {
        cmd.iter()
            .filter_map(|c| c.strip_prefix(&format!("{name}=")))
            .flat_map(|v| v.split(','))
            .map(str::to_string)
            .collect()
    };
    // Grafana as compose publishes it is an allowed origin.
    let grafana_port = compose["services"]["grafana"]["ports"][0].as_str().unwrap();
    assert!(grafana_port.ends_with(":3000"), "{grafana_port}");
    let origins = flag("--control-allow-origin");
    assert!(
        origins.contains(&"http://localhost:3000".to_string()),
        "{origins:?}"
    );
    // Alertmanager's webhook host is one of jolt's names.
    let am = stack::read("alerts/alertmanager.yml");
    assert!(am.contains("http://jolt:9478/alerts"));
    assert!(
        flag("--control-allowed-host").contains(&"jolt".to_string()),
        "{cmd:?}"
    );
    // Grafana may POST to the control URL the dashboard's buttons use.
    let env = &compose["services"]["grafana"]["environment"];
    let allowed = env["GF_SECURITY_ACTIONS_ALLOW_POST_URL"].as_str().unwrap();
    assert!(
        allowed.split(',').any(|g| g == "http://localhost:9478/*"),
        "{allowed}"
    );
    let image = compose["services"]["grafana"]["image"].as_str().unwrap();
    let version = image.strip_prefix("grafana/grafana:").unwrap();
    let major: u32 = version.split('.').next().unwrap().parse().unwrap();
    assert!(
        major >= 12,
        "visualization actions need Grafana 12+ (or a toggle): {image}"
    );
    // The dashboards are type-checked against the same Grafana version.
    let lock = stack::read("tests/dashboards/package-lock.json");
    assert!(
        lock.contains(&format!("\"version\": \"{version}\"")),
        "schema != {image}"
    );
}
