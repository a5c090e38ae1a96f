//! The ops bundle checked with the real tools: promtool, amtool and a Compose parser, and the
//! structure every file must have (alert annotations and runbooks, routing, dashboards, compose
//! mounts). The end-to-end behaviour is in `stack_e2e.rs`.

use crate::stack;

use stack::*;
use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

#[test]
fn promtool_checks_the_prometheus_config_as_compose_mounts_it() {
    if !crate::common::require_tools(&["promtool"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let shipped = compose_layout(
        "prometheus",
        "/etc/prometheus",
        "prometheus.yml",
        dir.path(),
    );
    assert_eq!(shipped, repo().join("prometheus/prometheus.yml"));
    let config = dir.path().join("prometheus.yml");
    std::fs::copy(&shipped, &config).unwrap();
    let out = run(Command::new(binary(&["promtool"]))
        .args(["check", "config"])
        .arg(&config));
    let msg = text(&out);
    assert!(out.status.success(), "{msg}");
    // Every rule file of alerts/ is found through the compose mount, and only those.
    let n = rule_files().len();
    assert!(n >= 5, "{n} rule files");
    assert!(
        msg.contains(&format!("SUCCESS: {n} rule files found")),
        "{msg}"
    );
    for f in rule_files() {
        let name = f.rsplit('/').next().unwrap();
        assert!(msg.contains(name), "{name} not loaded: {msg}");
    }

    // Live demo settings, and the file service discovery compose mounts.
    let p = yaml("prometheus/prometheus.yml");
    assert_eq!(p["global"]["scrape_interval"].as_str(), Some("1s"));
    assert_eq!(p["global"]["evaluation_interval"].as_str(), Some("1s"));
    let jolt = &p["scrape_configs"][0];
    assert_eq!(jolt["job_name"].as_str(), Some("jolt"));
    let sd = jolt["file_sd_configs"][0]["files"][0].as_str().unwrap();
    assert!(sd.starts_with("targets/"), "{sd}");
    let targets = yaml("prometheus/targets/jolt.yml");
    assert_eq!(targets[0]["targets"][0].as_str(), Some("jolt:9477"));
}

#[test]
fn promtool_checks_the_rule_files() {
    if !crate::common::require_tools(&["promtool"]) {
        return;
    }
    let out = run(Command::new(binary(&["promtool"]))
        .args(["check", "rules"])
        .args(rule_files().iter().map(|f| repo().join(f))));
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn promtool_rule_unit_tests_pass_and_cover_every_alert_both_ways() {
    if !crate::common::require_tools(&["promtool"]) {
        return;
    }
    let tests = files("alerts/tests", ".test.yml");
    assert!(!tests.is_empty());
    let out = run(Command::new(binary(&["promtool"]))
        .args(["test", "rules"])
        .args(tests.iter().map(|f| repo().join(f))));
    assert!(out.status.success(), "{}", text(&out));

    // Which alerts each unit test expects firing (with labels and annotations) and silent.
    let mut fires = BTreeSet::new();
    let mut silent = BTreeSet::new();
    for f in &tests {
        let doc = yaml(f);
        for t in doc["tests"].as_sequence().unwrap() {
            for case in t["alert_rule_test"].as_sequence().into_iter().flatten() {
                let name = case["alertname"].as_str().unwrap().to_string();
                let exp = case["exp_alerts"].as_sequence().unwrap();
                if exp.is_empty() {
                    silent.insert(name);
                } else {
                    for a in exp {
                        let labels = a["exp_labels"].as_mapping().unwrap();
                        let ann = a["exp_annotations"].as_mapping().unwrap();
                        assert!(
                            labels.contains_key("severity"),
                            "{f}: {name} without severity"
                        );
                        for k in ["summary", "description", "runbook_url"] {
                            assert!(ann.contains_key(k), "{f}: {name} expects no {k}");
                        }
                    }
                    fires.insert(name);
                }
            }
        }
    }
    for rule in alert_rules() {
        assert!(
            fires.contains(&rule.name),
            "no unit test where {} fires",
            rule.name
        );
        assert!(
            silent.contains(&rule.name),
            "no unit test where {} stays silent",
            rule.name
        );
    }
}

/// GitHub's anchor of a Markdown heading.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

#[test]
fn every_alert_has_severity_annotations_and_an_existing_runbook_section() {
    let runbooks = read("docs/runbooks.md");
    let anchors: BTreeSet<String> = runbooks
        .lines()
        .filter_map(|l| l.strip_prefix("## "))
        .map(anchor)
        .collect();
    let rules = alert_rules();
    let names: BTreeSet<&str> = rules.iter().map(|r| r.name.as_str()).collect();
    for required in [
        "HostHighCpu",
        "HostHighMemory",
        "HostSwapFillingUp",
        "HostDiskWillFillSoon",
        "HostDiskIoSaturated",
        "HostHighLoad",
        "HostOomKill",
        "ServiceDown",
        "ServiceHighErrorRate",
        "ServiceHighLatency",
        "ServiceDegraded",
        "CpuUsageAnomaly",
        "LoadActionRunning",
        "ScenarioRunning",
        "JoltDown",
        "JoltCollectorFailing",
    ] {
        assert!(names.contains(required), "no alert {required}");
    }
    for r in &rules {
        let sev = r.labels.get("severity").map(String::as_str);
        assert!(
            matches!(sev, Some("critical" | "warning" | "info")),
            "{}: severity {sev:?}",
            r.name
        );
        for k in ["summary", "description", "runbook_url"] {
            assert!(
                !r.annotations
                    .get(k)
                    .map(|s| s.trim())
                    .unwrap_or("")
                    .is_empty(),
                "{} ({}) has no {k}",
                r.name,
                r.file
            );
        }
        let url = &r.annotations["runbook_url"];
        let (path, frag) = url.split_once('#').expect("runbook_url with an anchor");
        assert!(path.ends_with("docs/runbooks.md"), "{}: {url}", r.name);
        assert!(
            anchors.contains(frag),
            "{}: no section #{frag} in docs/runbooks.md",
            r.name
        );
        assert_eq!(frag, r.name.to_lowercase(), "{}: runbook anchor", r.name);
    }
    // The brief's two rules, as written.
    let cpu = rules.iter().find(|r| r.name == "HostHighCpu").unwrap();
    assert!(cpu.expr.contains("> 0.9"), "{}", cpu.expr);
    assert_eq!(cpu.for_.as_deref(), Some("10s"));
    let lat = rules
        .iter()
        .find(|r| r.name == "ServiceHighLatency")
        .unwrap();
    // Latency and errors are judged against each service's own objective, which jolt exports
    // from its catalog, never against one fixed threshold for all services.
    assert!(
        lat.expr
            .contains("jolt_service_slow_requests:ratio_rate15s > 0.01"),
        "{}",
        lat.expr
    );
    for r in rules.iter().filter(|r| r.name == "ServiceHighErrorRate") {
        assert!(r.expr.contains("objective_error_ratio"), "{}", r.expr);
    }
    for info in ["LoadActionRunning", "ScenarioRunning"] {
        let r = rules.iter().find(|r| r.name == info).unwrap();
        assert_eq!(r.labels["severity"], "info", "{info}");
    }
}

fn amtool() -> std::path::PathBuf {
    binary(&["amtool"])
}

#[test]
fn amtool_checks_the_alertmanager_config_as_compose_mounts_it() {
    if !crate::common::require_tools(&["amtool"]) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let shipped = compose_layout(
        "alertmanager",
        "/etc/alertmanager",
        "alertmanager.yml",
        dir.path(),
    );
    assert_eq!(shipped, repo().join("alerts/alertmanager.yml"));
    let config = dir.path().join("alertmanager.yml");
    std::fs::copy(&shipped, &config).unwrap();
    let out = run(Command::new(amtool()).arg("check-config").arg(&config));
    let msg = text(&out);
    assert!(out.status.success(), "{msg}");
    let templates = files("alerts/templates", ".tmpl").len();
    assert!(templates >= 1);
    assert!(msg.contains(&format!("{templates} templates")), "{msg}");
}

#[test]
fn the_slack_url_is_read_from_a_file_and_never_in_the_repository() {
    let am = read("alerts/alertmanager.yml");
    let doc = yaml("alerts/alertmanager.yml");
    assert!(!am.contains("hooks.slack.com"));
    assert!(!am.contains("api_url:"), "a Slack URL inline");
    assert_eq!(
        doc["global"]["slack_api_url_file"].as_str(),
        Some("/run/secrets/slack_webhook_url")
    );
    // compose mounts a secret of that name into Alertmanager; its default file is a placeholder.
    let compose = yaml("compose.yaml");
    let secrets = compose["services"]["alertmanager"]["secrets"]
        .as_sequence()
        .unwrap();
    assert!(
        secrets
            .iter()
            .any(|s| s.as_str() == Some("slack_webhook_url"))
    );
    let file = compose["secrets"]["slack_webhook_url"]["file"]
        .as_str()
        .unwrap();
    let default = file
        .strip_prefix("${JOLT_SLACK_WEBHOOK_FILE:-")
        .and_then(|s| s.strip_suffix('}'))
        .expect("the secret file comes from JOLT_SLACK_WEBHOOK_FILE with a default");
    let placeholder = read(default.trim_start_matches("./"));
    assert!(!placeholder.contains("slack.com"), "{placeholder}");
    assert!(placeholder.trim().starts_with("http://127.0.0.1:"));
}

#[test]
fn amtool_routes_every_alert_by_severity_and_every_receiver_reaches_jolt() {
    if !crate::common::require_tools(&["amtool"]) {
        return;
    }
    let config = repo().join("alerts/alertmanager.yml");
    let expected = |sev: &str| match sev {
        "critical" => "slack-critical",
        "warning" => "slack-alerts",
        _ => "jolt-events",
    };
    let route = |labels: &[String], receiver: &str| {
        let out = run(Command::new(amtool())
            .args(["config", "routes", "test"])
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--verify.receivers={receiver}"))
            .args(labels));
        (out.status.success(), text(&out))
    };
    let mut cases: Vec<(Vec<String>, &str)> = alert_rules()
        .iter()
        .map(|r| {
            let mut labels: Vec<String> =
                r.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            labels.push(format!("alertname={}", r.name));
            labels.push("instance=host-1:9477".into());
            (labels, expected(&r.labels["severity"]))
        })
        .collect();
    // An alert without a severity is not paged either.
    cases.push((vec!["alertname=Other".into()], "jolt-events"));
    for (labels, receiver) in &cases {
        let (ok, msg) = route(labels, receiver);
        assert!(ok, "{labels:?} should go to {receiver}: {msg}");
    }
    // And the verification can fail: a critical alert does not reach the alerts channel.
    let (ok, _) = route(&["severity=critical".into()], "slack-alerts");
    assert!(!ok, "amtool accepted a wrong receiver");

    let doc = yaml("alerts/alertmanager.yml");
    let r = &doc["route"];
    assert_eq!(
        r["group_by"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect::<Vec<_>>(),
        ["alertname", "instance"]
    );
    let repeat = |recv: &str| {
        let sub = r["routes"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|s| s["receiver"].as_str() == Some(recv))
            .unwrap();
        prom_duration(
            sub["repeat_interval"]
                .as_str()
                .or(r["repeat_interval"].as_str())
                .unwrap(),
        )
    };
    assert!(repeat("slack-critical") < repeat("slack-alerts"));

    let mut channels = BTreeMap::new();
    for recv in doc["receivers"].as_sequence().unwrap() {
        let name = recv["name"].as_str().unwrap();
        let hooks = recv["webhook_configs"]
            .as_sequence()
            .expect("webhook_configs");
        assert!(
            hooks
                .iter()
                .any(|h| h["url"].as_str() == Some("http://jolt:9478/alerts")
                    && h["send_resolved"].as_bool() == Some(true)),
            "{name} does not notify jolt's POST /alerts with resolved messages"
        );
        for s in recv["slack_configs"].as_sequence().into_iter().flatten() {
            assert_eq!(s["send_resolved"].as_bool(), Some(true), "{name}");
            channels.insert(name.to_string(), s["channel"].as_str().unwrap().to_string());
        }
    }
    assert_eq!(channels["slack-critical"], "#jolt-critical");
    assert_eq!(channels["slack-alerts"], "#jolt-alerts");
    assert!(!channels.contains_key("jolt-events"), "info is paged");
}

#[test]
fn the_inhibition_rules_are_the_designed_ones() {
    let doc = yaml("alerts/alertmanager.yml");
    let rules: Vec<(String, String, Vec<String>)> = doc["inhibit_rules"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|r| {
            let m = |k: &str| {
                r[k].as_sequence()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_str().unwrap())
                    .collect::<Vec<_>>()
                    .join(",")
            };
            let equal = r["equal"]
                .as_sequence()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect();
            (m("source_matchers"), m("target_matchers"), equal)
        })
        .collect();
    let has = |src: &str, tgt: &str, eq: &[&str]| {
        rules.iter().any(|(s, t, e)| {
            s.contains(src) && t.contains(tgt) && eq.iter().all(|x| e.iter().any(|y| y == x))
        })
    };
    assert!(has(
        "severity=\"critical\"",
        "severity=\"warning\"",
        &["alertname", "instance"]
    ));
    for target in ["ServiceHighErrorRate", "ServiceHighLatency"] {
        assert!(
            has(
                "alertname=\"ServiceDown\"",
                target,
                &["instance", "service"]
            ),
            "{target}"
        );
    }
    assert!(has(
        "alertname=\"JoltDown\"",
        "alertname!=\"JoltDown\"",
        &["instance"]
    ));
    // Their behaviour against a real Alertmanager is checked in stack_e2e.rs.
}

#[test]
fn dashboards_are_valid_with_unique_ids_live_defaults_and_provisioned_datasources() {
    let ds = yaml("grafana/provisioning/datasources/jolt.yml");
    let provisioned: BTreeMap<String, String> = ds["datasources"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["uid"].as_str().unwrap().to_string(),
                d["type"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        provisioned.get("jolt-prometheus").map(String::as_str),
        Some("prometheus")
    );
    assert_eq!(
        provisioned.get("jolt-alertmanager").map(String::as_str),
        Some("alertmanager")
    );

    let dashes = dashboards();
    let titles: BTreeSet<&str> = dashes
        .iter()
        .map(|(_, d)| d["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        titles,
        BTreeSet::from(["Jolt / Live Host", "Jolt / Load Control", "Jolt / Services"])
    );
    let mut uids = BTreeSet::new();
    for (file, d) in &dashes {
        assert!(
            uids.insert(d["uid"].as_str().unwrap().to_string()),
            "{file}: duplicate uid"
        );
        // Unique panel ids, nested rows included.
        let mut ids = BTreeSet::new();
        for p in panels(d) {
            let id = p["id"]
                .as_u64()
                .unwrap_or_else(|| panic!("{file}: panel without id"));
            assert!(ids.insert(id), "{file}: panel id {id} twice");
        }
        assert!(ids.len() >= 8, "{file}: only {} panels", ids.len());
        // Live defaults.
        let refresh = prom_duration(d["refresh"].as_str().unwrap());
        assert!(
            (1..=5).contains(&refresh.as_secs()),
            "{file}: refresh {refresh:?}"
        );
        assert_eq!(d["time"]["from"], "now-5m", "{file}");
        assert_eq!(d["time"]["to"], "now", "{file}");
        // $instance: multi-select with All, from jolt's targets.
        let vars = d["templating"]["list"].as_array().unwrap();
        let inst = vars
            .iter()
            .find(|v| v["name"] == "instance")
            .unwrap_or_else(|| panic!("{file}: no $instance"));
        assert_eq!(inst["multi"], true, "{file}");
        assert_eq!(inst["includeAll"], true, "{file}");
        // Every datasource reference, anywhere, resolves to a provisioned uid of the right type.
        let mut refs = Vec::new();
        collect_datasources(d, &mut refs);
        assert!(!refs.is_empty());
        for r in refs {
            let uid = r["uid"]
                .as_str()
                .unwrap_or_else(|| panic!("{file}: datasource {r}"));
            let ty = provisioned
                .get(uid)
                .unwrap_or_else(|| panic!("{file}: datasource uid {uid} not provisioned"));
            assert_eq!(r["type"].as_str(), Some(ty.as_str()), "{file}: {r}");
        }
        // Every panel query uses the instance variable, so multi-host works.
        for (place, expr) in dashboard_queries(d) {
            assert!(
                expr.contains("$instance"),
                "{file}: {place}: {expr} ignores $instance"
            );
        }
    }
    // Load actions and scenario steps are annotations on the Live Host and Load Control charts.
    for (file, d) in &dashes {
        if d["uid"] != "jolt-services" {
            let exprs: Vec<String> = d["annotations"]["list"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["expr"].as_str().unwrap_or("").to_string())
                .collect();
            assert!(
                exprs.iter().any(|e| e.contains("jolt_action_info")),
                "{file}"
            );
            assert!(
                exprs.iter().any(|e| e.contains("jolt_scenario_step_info")),
                "{file}"
            );
        }
    }

    // The dashboards provider points where compose mounts grafana/dashboards.
    let prov = yaml("grafana/provisioning/dashboards/jolt.yml");
    let path = prov["providers"][0]["options"]["path"].as_str().unwrap();
    let mounts = compose_mounts();
    assert!(
        mounts["grafana"]
            .iter()
            .any(|(src, dst)| dst == path && *src == repo().join("./grafana/dashboards"))
    );
}

fn collect_datasources<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a serde_json::Value>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                if k == "datasource" {
                    out.push(x);
                } else if k == "options"
                    && m.get("type").and_then(|t| t.as_str()) == Some("alertlist")
                {
                    // The alert list names a datasource in its options (checked in
                    // dashboard_semantics.rs); it is not a reference with a uid.
                } else {
                    collect_datasources(x, out);
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|x| collect_datasources(x, out)),
        _ => {}
    }
}

#[test]
fn compose_file_is_valid_for_compose_v2_and_mounts_the_tested_files() {
    if !crate::common::require_tools(&["python3:compose"]) {
        return;
    }
    let compose_command = || Command::new(compose_v2());
    let version = run(compose_command().arg("version"));
    assert!(text(&version).contains("version v2."), "{}", text(&version));
    let out = run(compose_command()
        .current_dir(repo())
        .env_remove("JOLT_SLACK_WEBHOOK_FILE")
        .args(["-f", "compose.yaml", "config", "-q"]));
    assert!(out.status.success(), "{}", text(&out));
    // The parser does reject what is wrong.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("compose.yaml");
    std::fs::write(
        &bad,
        read("compose.yaml").replace("    pid: host", "    pid: host\n    pidd: host"),
    )
    .unwrap();
    let out = run(compose_command()
        .args(["-f"])
        .arg(&bad)
        .args(["config", "-q"]));
    assert!(
        !out.status.success(),
        "the compose parser accepted an unknown key"
    );

    let compose = yaml("compose.yaml");
    // The modern format: a project name in the file (Compose 1.x refused it).
    assert_eq!(compose["name"].as_str(), Some("jolt"));
    let services = compose["services"].as_mapping().unwrap();
    for s in ["jolt", "prometheus", "alertmanager", "grafana"] {
        assert!(services.contains_key(s), "no {s} service");
    }
    // Every repository file or folder mounted exists.
    let mounts = compose_mounts();
    for (svc, list) in &mounts {
        for (src, _) in list {
            if src.starts_with(repo()) {
                assert!(src.exists(), "{svc} mounts missing {}", src.display());
            }
        }
    }
    // The mounts are the files the tests use.
    let mounted = |svc: &str, rel: &str, dst: &str| {
        mounts[svc]
            .iter()
            .any(|(s, d)| *s == repo().join(format!("./{rel}")) && d == dst)
    };
    assert!(mounted(
        "prometheus",
        "prometheus/prometheus.yml",
        "/etc/prometheus/prometheus.yml"
    ));
    assert!(mounted("prometheus", "alerts", "/etc/prometheus/alerts"));
    assert!(mounted(
        "prometheus",
        "prometheus/targets",
        "/etc/prometheus/targets"
    ));
    assert!(mounted(
        "alertmanager",
        "alerts/alertmanager.yml",
        "/etc/alertmanager/alertmanager.yml"
    ));
    assert!(mounted(
        "alertmanager",
        "alerts/templates",
        "/etc/alertmanager/templates"
    ));
    assert!(mounted(
        "grafana",
        "grafana/provisioning",
        "/etc/grafana/provisioning"
    ));

    // jolt sees the host: pid, /proc, /sys and / read-only, and the flags that use them.
    let jolt = &compose["services"]["jolt"];
    assert_eq!(jolt["pid"].as_str(), Some("host"));
    let cmd: Vec<&str> = jolt["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for (host, flag) in [
        ("/proc", "--procfs"),
        ("/sys", "--sysfs"),
        ("/", "--rootfs"),
    ] {
        let (_, dst) = mounts["jolt"]
            .iter()
            .find(|(s, _)| s.as_os_str() == host)
            .unwrap_or_else(|| panic!("{host} not mounted into jolt"));
        assert!(
            cmd.contains(&format!("{flag}={dst}").as_str()),
            "{flag}={dst}"
        );
    }
    for v in jolt["volumes"].as_sequence().unwrap() {
        assert_eq!(v["read_only"].as_bool(), Some(true), "{v:?}");
    }
    // The control API: published on the host's loopback only, on the port Alertmanager calls.
    let ports: Vec<&str> = jolt["ports"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(ports.contains(&"127.0.0.1:9478:9478"), "{ports:?}");
    assert!(
        !ports
            .iter()
            .any(|p| p.ends_with(":9478") && !p.starts_with("127.0.0.1:"))
    );
    assert!(cmd.contains(&"--control-listen=0.0.0.0:9478"));
    assert!(cmd.contains(&"--metrics-listen=0.0.0.0:9477"));

    // Prometheus: pinned image, 30-day retention on a named volume.
    let prom = &compose["services"]["prometheus"];
    let image = prom["image"].as_str().unwrap();
    assert!(image.starts_with("prom/prometheus:v"), "{image}");
    let pcmd: Vec<&str> = prom["command"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(pcmd.contains(&"--storage.tsdb.retention.time=30d"));
    assert!(pcmd.contains(&"--config.file=/etc/prometheus/prometheus.yml"));
    assert!(
        prom["volumes"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|v| v.as_str() == Some("prometheus-data:/prometheus"))
    );
    assert!(
        compose["volumes"]
            .as_mapping()
            .unwrap()
            .contains_key("prometheus-data")
    );

    // Grafana: anonymous viewer, home dashboard, 1 s minimum refresh.
    let env = &compose["services"]["grafana"]["environment"];
    assert_eq!(env["GF_AUTH_ANONYMOUS_ENABLED"].as_str(), Some("true"));
    assert_eq!(env["GF_AUTH_ANONYMOUS_ORG_ROLE"].as_str(), Some("Viewer"));
    assert_eq!(
        env["GF_DASHBOARDS_MIN_REFRESH_INTERVAL"].as_str(),
        Some("1s")
    );
    let home = env["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
        .as_str()
        .unwrap();
    let home_file = home.strip_prefix("/etc/grafana/dashboards/").expect(home);
    assert!(
        repo().join("grafana/dashboards").join(home_file).is_file(),
        "{home}"
    );

    // The addresses the configs use are the compose service names and ports.
    let ds = read("grafana/provisioning/datasources/jolt.yml");
    assert!(
        ds.contains("url: http://prometheus:9090") && ds.contains("url: http://alertmanager:9093")
    );
    assert!(read("prometheus/prometheus.yml").contains("\"alertmanager:9093\""));
    assert!(read("alerts/alertmanager.yml").contains("http://jolt:9478/alerts"));
}

#[test]
fn dockerfile_builds_the_jolt_binary_in_stages_and_runs_it_unprivileged() {
    let df = read("Dockerfile");
    let froms: Vec<&str> = df.lines().filter(|l| l.starts_with("FROM ")).collect();
    assert_eq!(froms.len(), 2, "{froms:?}");
    assert!(froms[0].contains(" AS build"));
    assert!(df.contains("cargo build --release --locked --bin jolt"));
    assert!(df.contains("COPY --from=build"));
    assert!(
        df.lines()
            .any(|l| l.starts_with("USER ") && !l.contains("root"))
    );
    assert!(df.contains("ENTRYPOINT [\"/usr/local/bin/jolt\"]"));
    // The build context keeps what cargo needs and drops the build output.
    let ignore = read(".dockerignore");
    let ignored: BTreeSet<&str> = ignore
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.trim().trim_end_matches('/'))
        .collect();
    assert!(ignored.contains("target") && ignored.contains(".git"));
    for needed in ["src", "Cargo.toml", "Cargo.lock", "build.rs"] {
        assert!(!ignored.contains(needed), "{needed} ignored");
    }
}
