//! The Helm chart (deploy/helm/jolt), checked offline with real tools: Helm's own Go code
//! (PyPI helm-python-sdk) renders and lints it, kubernetes-validate checks the core objects for
//! two Kubernetes versions, the Prometheus Operator CRD models check the monitors and the
//! PrometheusRule, and promtool checks the rendered rules. Each check has a negative control
//! so it is known to be able to fail. `scripts/setup-helm-checks` installs the tools.

use serde_yaml_ng::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Values files under deploy/helm/tests/values/: defaults and non-default choices.
const CASES: [&str; 4] = ["default", "full", "no-control", "given-token"];
/// Kubernetes versions the core objects must validate for.
const KUBE_VERSIONS: [&str; 2] = ["1.29", "1.34"];

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn tests_dir() -> PathBuf {
    repo().join("deploy/helm/tests")
}

fn chart() -> PathBuf {
    repo().join("deploy/helm/jolt")
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}; run scripts/setup-helm-checks"))
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Renders the chart with `values` (a file) → its documents, or the error Helm gave.
fn render_file(values: &Path) -> Result<Vec<Value>, String> {
    let dir = tempfile::tempdir().unwrap();
    let out_file = dir.path().join("out.yaml");
    let out = run(Command::new("python3")
        .arg(tests_dir().join("render.py"))
        .arg("render")
        .arg(chart())
        .arg(values)
        .arg(&out_file));
    if !out.status.success() {
        return Err(text(&out));
    }
    let all = std::fs::read_to_string(&out_file).unwrap();
    Ok(serde_yaml_ng::Deserializer::from_str(&all)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .filter(|v: &Value| !v.is_null())
        .collect())
}

fn render(case: &str) -> Vec<Value> {
    render_file(&tests_dir().join(format!("values/{case}.yaml")))
        .unwrap_or_else(|e| panic!("rendering {case}: {e}"))
}

fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

fn is_operator_kind(d: &Value) -> bool {
    d["apiVersion"]
        .as_str()
        .is_some_and(|a| a.starts_with("monitoring.coreos.com/"))
}

/// Files of `dir` whose names end with `suffix`, sorted (Helm's .Files.Glob order).
fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_str().unwrap().ends_with(suffix))
        .collect();
    v.sort();
    v
}

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

#[test]
fn monitors_carry_the_release_label_and_make_the_job_jolt() {
    let docs = render("full");
    for kind in ["ServiceMonitor", "PodMonitor"] {
        let m = of_kind(&docs, kind)[0];
        let want = if kind == "ServiceMonitor" {
            "prom"
        } else {
            "kube-prometheus-stack"
        };
        assert_eq!(m["metadata"]["labels"]["release"], want, "{kind}");
        let eps = &m["spec"][if kind == "ServiceMonitor" {
            "endpoints"
        } else {
            "podMetricsEndpoints"
        }];
        let relabel = eps[0]["relabelings"].as_sequence().unwrap();
        assert!(
            relabel
                .iter()
                .any(|r| r["targetLabel"] == "job" && r["replacement"] == "jolt"),
            "{kind}: {relabel:?}"
        );
    }
    // The rules and dashboards select job="jolt" and nothing else: that is what the monitors set.
    let mut bundle = String::new();
    for f in files(&repo().join("alerts"), ".rules.yml")
        .into_iter()
        .chain(files(&repo().join("grafana/dashboards"), ".json"))
    {
        bundle += &std::fs::read_to_string(f).unwrap();
    }
    let re = regex::Regex::new(r#"job\s*(=~|!=|!~|=)\s*\\?"([^"\\]*)"#).unwrap();
    for c in re.captures_iter(&bundle) {
        assert_eq!(
            (&c[1], &c[2]),
            ("=", "jolt"),
            "a query assumes another job label"
        );
    }
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

/// The container's args of the DaemonSet.
fn container_args(docs: &[Value]) -> Vec<String> {
    of_kind(docs, "DaemonSet")[0]["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

fn arg<'a>(args: &'a [String], flag: &str) -> Vec<&'a str> {
    args.iter()
        .filter_map(|a| a.strip_prefix(&format!("{flag}=")))
        .collect()
}

#[test]
fn the_control_port_is_never_exposed_without_a_token() {
    for case in CASES {
        let docs = render(case);
        let args = container_args(&docs);
        let pod = &of_kind(&docs, "DaemonSet")[0]["spec"]["template"]["spec"];
        let listen = arg(&args, "--control-listen");
        assert_eq!(listen.len(), 1, "{case}: {args:?}");
        assert!(
            args.iter().all(|a| !a.contains("insecure")),
            "{case}: {args:?}"
        );
        let env = serde_yaml_ng::to_string(&pod["containers"][0]["env"]).unwrap();
        assert!(!env.contains("INSECURE"), "{case}");
        let service = of_kind(&docs, "Service")[0];
        let exposed = serde_yaml_ng::to_string(&service["spec"]["ports"])
            .unwrap()
            .contains("control");
        if listen[0].starts_with("127.0.0.1:") {
            assert!(!exposed, "{case}: a loopback control port on the Service");
            continue;
        }
        assert!(listen[0].starts_with("$(POD_IP):"), "{case}: {}", listen[0]);
        // The token file comes from a Secret volume that holds that key.
        let token_file = arg(&args, "--control-token-file");
        assert_eq!(
            token_file.len(),
            1,
            "{case}: control on the pod IP without a token"
        );
        let (dir, key) = token_file[0].rsplit_once('/').unwrap();
        let mounts = pod["containers"][0]["volumeMounts"].as_sequence().unwrap();
        let mount = mounts
            .iter()
            .find(|m| m["mountPath"] == dir)
            .expect("token mount");
        let volume = pod["volumes"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|v| v["name"] == mount["name"])
            .unwrap();
        let secret_name = volume["secret"]["secretName"]
            .as_str()
            .expect("a Secret volume");
        assert_eq!(volume["secret"]["items"][0]["key"], key);
        match of_kind(&docs, "Secret")
            .iter()
            .find(|s| s["metadata"]["name"] == secret_name)
        {
            Some(s) => {
                let v = s["data"][key].as_str().unwrap_or("");
                assert!(v.len() >= 24, "{case}: a weak or empty token: {v}");
            }
            None => assert_eq!(
                case, "full",
                "{case}: the Secret {secret_name} is neither rendered nor given"
            ),
        }
    }
    // Asking for an insecure control API is refused at render time.
    let dir = tempfile::tempdir().unwrap();
    let values = dir.path().join("insecure.yaml");
    std::fs::write(&values, "extraArgs: [\"--control-insecure\"]\n").unwrap();
    let err = render_file(&values).unwrap_err();
    assert!(
        err.contains("never runs the control API without a token"),
        "{err}"
    );
}

#[test]
fn the_daemonset_follows_node_exporter_conventions() {
    let docs = render("default");
    let ds = of_kind(&docs, "DaemonSet")[0];
    let pod = &ds["spec"]["template"]["spec"];
    assert_eq!(pod["hostPID"], true);
    assert_eq!(pod["hostNetwork"], false);
    assert_eq!(
        ds["spec"]["updateStrategy"]["rollingUpdate"]["maxUnavailable"],
        1
    );
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    let c = &pod["containers"][0];
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/healthz");
    let args = container_args(&docs);
    for (flag, path) in [
        ("--procfs", "/host/proc"),
        ("--sysfs", "/host/sys"),
        ("--rootfs", "/host/root"),
    ] {
        assert_eq!(arg(&args, flag), [path], "{args:?}");
        let m = c["volumeMounts"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|m| m["mountPath"] == path)
            .unwrap();
        assert_eq!(
            (&m["readOnly"], &m["mountPropagation"]),
            (&Value::Bool(true), &Value::from("HostToContainer"))
        );
    }
    let tolerations = serde_yaml_ng::to_string(&pod["tolerations"]).unwrap();
    assert!(
        tolerations.contains("NoSchedule")
            && tolerations.contains("NoExecute")
            && tolerations.contains("Exists")
    );
    // Non-default: host network, Grafana's origin and the names Alertmanager uses.
    let full = render("full");
    let args = container_args(&full);
    assert_eq!(
        of_kind(&full, "DaemonSet")[0]["spec"]["template"]["spec"]["hostNetwork"],
        true
    );
    assert_eq!(
        arg(&args, "--control-allow-origin"),
        ["https://grafana.example.org"]
    );
    assert_eq!(
        arg(&args, "--control-allowed-host"),
        ["jolt.monitoring.svc"]
    );
    let default_hosts = arg(&container_args(&docs), "--control-allowed-host").len();
    assert_eq!(default_hosts, 4, "the Service's DNS names by default");
}
