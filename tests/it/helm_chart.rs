//! The Helm chart (deploy/helm/jolt) checked offline with real tools: Helm renders and lints
//! it, kubernetes-validate checks the core objects for two Kubernetes versions, the Prometheus
//! Operator CRD models check the monitors and the PrometheusRule, and promtool checks the
//! rendered rules. Each check has a negative control so it is known to be able to fail.

use crate::helm;

use helm::*;
use serde_yaml_ng::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

#[test]
fn chart_copies_match_the_ops_bundle() {
    for (src, dest, suffix) in [
        ("alerts", "alerts", ".rules.yml"),
        ("grafana/dashboards", "dashboards", ".json"),
    ] {
        let ours = files(&repo().join(src), suffix);
        let copies = files(&chart().join("files").join(dest), suffix);
        let names = |v: &[PathBuf]| -> Vec<String> {
            v.iter()
                .map(|p| p.file_name().unwrap().to_str().unwrap().to_string())
                .collect()
        };
        assert_eq!(
            names(&ours),
            names(&copies),
            "the chart's {dest} differ from {src}: run scripts/sync-helm-chart"
        );
        for (a, b) in ours.iter().zip(&copies) {
            assert!(
                std::fs::read(a).unwrap() == std::fs::read(b).unwrap(),
                "{} differs from {}: run scripts/sync-helm-chart",
                b.display(),
                a.display()
            );
        }
    }
}

#[test]
fn chart_lints_strict_with_every_values_file() {
    if !crate::common::require_tools(&[crate::helm::HELM]) {
        return;
    }
    for case in CASES {
        let out = run(Command::new("python3")
            .arg(tests_dir().join("render.py"))
            .arg("lint")
            .arg(chart())
            .arg(tests_dir().join(format!("values/{case}.yaml"))));
        assert!(
            out.status.success(),
            "helm lint --strict, {case}: {}",
            text(&out)
        );
    }
}

/// kubernetes-validate --strict on `docs` for Kubernetes `version`.
fn kube_validate(docs: &[&Value], version: &str) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("core.yaml");
    let body: Vec<String> = docs
        .iter()
        .map(|d| serde_yaml_ng::to_string(d).unwrap())
        .collect();
    std::fs::write(&file, body.join("---\n")).unwrap();
    run(Command::new("kubernetes-validate")
        .args(["--strict", "--quiet", "-k", version])
        .arg(&file))
}

#[test]
fn core_objects_validate_strictly_for_two_kubernetes_versions() {
    if !crate::common::require_tools(&[crate::helm::HELM, "kubernetes-validate"]) {
        return;
    }
    for case in CASES {
        let docs = render(case);
        let core: Vec<&Value> = docs.iter().filter(|d| !is_operator_kind(d)).collect();
        assert!(of_kind(&docs, "DaemonSet").len() == 1, "{case}");
        for version in KUBE_VERSIONS {
            let out = kube_validate(&core, version);
            assert!(out.status.success(), "{case} on {version}: {}", text(&out));
        }
    }
    // Negative control: a misspelled field is caught.
    let docs = render("default");
    let mut ds = of_kind(&docs, "DaemonSet")[0].clone();
    ds["spec"]["template"]["spec"]["hostPIDs"] = Value::Bool(true);
    let out = kube_validate(&[&ds], KUBE_VERSIONS[0]);
    assert!(!out.status.success(), "a typo passed: {}", text(&out));
}

/// Validates Prometheus Operator documents with the CRD models (node).
fn operator_validate(docs: &[&Value]) -> Output {
    let mut child = Command::new("node")
        .arg("validate-monitors.mjs")
        .current_dir(tests_dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("node; run scripts/setup-helm-checks");
    let json = serde_json::to_string(docs).unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), json.as_bytes()).unwrap();
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

#[test]
fn monitors_and_rules_validate_against_the_operator_models() {
    if !crate::common::require_tools(&[
        crate::helm::HELM,
        "node",
        "deploy/helm/tests/node_modules/@kubernetes-models/prometheus-operator",
    ]) {
        return;
    }
    let docs = render("full");
    let ops: Vec<&Value> = docs.iter().filter(|d| is_operator_kind(d)).collect();
    let kinds: Vec<&str> = ops.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.len(), 3, "{kinds:?}");
    for k in ["ServiceMonitor", "PodMonitor", "PrometheusRule"] {
        assert!(kinds.contains(&k), "{k} missing: {kinds:?}");
    }
    let out = operator_validate(&ops);
    assert!(out.status.success(), "{}", text(&out));
    // Opt-in: nothing of the operator's by default.
    assert!(render("default").iter().all(|d| !is_operator_kind(d)));
    // Negative control: a malformed interval is caught.
    let mut bad = of_kind(&docs, "ServiceMonitor")[0].clone();
    bad["spec"]["endpoints"][0]["interval"] = Value::String("often".into());
    assert!(!operator_validate(&[&bad]).status.success());
}

/// `groups` of every alerts/*.rules.yml, in file order.
fn bundle_groups() -> Vec<Value> {
    files(&repo().join("alerts"), ".rules.yml")
        .iter()
        .flat_map(|f| {
            let v: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(f).unwrap()).unwrap();
            v["groups"].as_sequence().cloned().unwrap_or_default()
        })
        .collect()
}

#[test]
fn rendered_rules_equal_the_alerts_and_pass_promtool() {
    if !crate::common::require_tools(&[crate::helm::HELM, "promtool"]) {
        return;
    }
    for case in ["full", "no-control"] {
        let docs = render(case);
        let rule = of_kind(&docs, "PrometheusRule");
        assert_eq!(rule.len(), 1, "{case}");
        let groups = rule[0]["spec"]["groups"].as_sequence().unwrap();
        assert_eq!(
            groups,
            &bundle_groups(),
            "{case}: the PrometheusRule drifted from alerts/"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("rendered.rules.yml");
        let mut doc = serde_yaml_ng::Mapping::new();
        doc.insert("groups".into(), Value::Sequence(groups.clone()));
        std::fs::write(&file, serde_yaml_ng::to_string(&doc).unwrap()).unwrap();
        let out = run(Command::new("promtool").args(["check", "rules"]).arg(&file));
        assert!(out.status.success(), "promtool, {case}: {}", text(&out));
        // The annotations keep their Prometheus templates (not eaten by Helm's).
        assert!(
            serde_yaml_ng::to_string(groups)
                .unwrap()
                .contains("{{ $labels.instance }}")
        );
    }
}

#[test]
fn dashboard_configmaps_hold_the_dashboards_byte_for_byte() {
    if !crate::common::require_tools(&[crate::helm::HELM]) {
        return;
    }
    for (case, label, value) in [
        ("full", "grafana_dashboard", "jolt"),
        ("no-control", "grafana_dashboard", "1"),
    ] {
        let docs = render(case);
        let maps: Vec<&Value> = of_kind(&docs, "ConfigMap");
        let dashboards = files(&repo().join("grafana/dashboards"), ".json");
        assert_eq!(maps.len(), dashboards.len(), "{case}");
        for f in dashboards {
            let name = f.file_name().unwrap().to_str().unwrap();
            let m = maps
                .iter()
                .find(|m| m["data"].get(name).is_some())
                .unwrap_or_else(|| panic!("{case}: no ConfigMap holds {name}"));
            assert_eq!(
                m["data"][name].as_str().unwrap(),
                std::fs::read_to_string(&f).unwrap(),
                "{name}"
            );
            assert_eq!(m["metadata"]["labels"][label], value, "{case} {name}");
        }
    }
    assert!(of_kind(&render("default"), "ConfigMap").is_empty());
}
