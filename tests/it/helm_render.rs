//! What the Helm chart renders for users: the DaemonSet's node-exporter conventions, the
//! monitors' labels (release, job="jolt" as the rules and dashboards assume), and a control
//! API that is never exposed without its token.

use crate::helm;
use crate::stack;

use helm::*;
use serde_yaml_ng::Value;

#[test]
fn monitors_carry_the_release_label_and_make_the_job_jolt() {
    if !crate::common::require_tools(&[crate::helm::HELM]) {
        return;
    }
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

#[test]
fn the_control_port_is_never_exposed_without_a_token() {
    if !crate::common::require_tools(&[crate::helm::HELM]) {
        return;
    }
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
            // The kubelet cannot reach the pod's loopback: it probes the metrics listener.
            let probe = &pod["containers"][0]["livenessProbe"]["httpGet"];
            assert_eq!(
                (&probe["port"], &probe["path"]),
                (&Value::from("metrics"), &Value::from("/metrics"))
            );
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
    if !crate::common::require_tools(&[crate::helm::HELM]) {
        return;
    }
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

/// kube-prometheus-stack's node-exporter exports the same node_* families and its node-mixin
/// records some of the same `instance:node_*` names (instance:node_num_cpu:sum,
/// instance:node_memory_utilisation:ratio, …), under its own job. With the instance variable
/// at All (`.+`), or with both jobs naming instances after the node, a dashboard query must
/// pick jolt's series by job, or it draws node-exporter's too (and joins fail many-to-many).
#[test]
fn dashboard_queries_of_node_families_select_jolts_job() {
    let node =
        regex::Regex::new(r"\b((?:[a-z_]+:)?node_[A-Za-z0-9_]*(?::[a-z0-9_]+)?)(\{[^}]*\})?")
            .unwrap();
    let mut checked = 0;
    for (file, dash) in stack::dashboards() {
        for (place, expr) in stack::dashboard_queries(&dash) {
            for m in node.captures_iter(&expr) {
                let selector = m.get(2).map_or("", |s| s.as_str());
                assert!(
                    selector.contains(r#"job="jolt""#),
                    "{file}: {place}: {} without job=\"jolt\" in {expr}",
                    &m[1]
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 40, "only {checked} node selectors found");
}
