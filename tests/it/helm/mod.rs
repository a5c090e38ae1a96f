//! Shared harness of the Helm chart tests: renders deploy/helm/jolt with Helm's own Go code
//! (PyPI helm-python-sdk, via deploy/helm/tests/render.py) and picks documents and flags out of
//! the result. `scripts/setup-helm-checks` installs the tools.
#![allow(dead_code)]

use serde_yaml_ng::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Helm as a Python library (PyPI helm-python-sdk), for `require_tools`.
pub const HELM: &str = "python3:helm_python";

/// Values files under deploy/helm/tests/values/: defaults and non-default choices.
pub const CASES: [&str; 4] = ["default", "full", "no-control", "given-token"];
/// Kubernetes versions the core objects must validate for.
pub const KUBE_VERSIONS: [&str; 2] = ["1.29", "1.34"];

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn tests_dir() -> PathBuf {
    repo().join("deploy/helm/tests")
}

pub fn chart() -> PathBuf {
    repo().join("deploy/helm/jolt")
}

pub fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}; run scripts/setup-helm-checks"))
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Renders the chart with `values` (a file) → its documents, or the error Helm gave.
pub fn render_file(values: &Path) -> Result<Vec<Value>, String> {
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

pub fn render(case: &str) -> Vec<Value> {
    render_file(&tests_dir().join(format!("values/{case}.yaml")))
        .unwrap_or_else(|e| panic!("rendering {case}: {e}"))
}

pub fn of_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

pub fn is_operator_kind(d: &Value) -> bool {
    d["apiVersion"]
        .as_str()
        .is_some_and(|a| a.starts_with("monitoring.coreos.com/"))
}

/// Files of `dir` whose names end with `suffix`, sorted (Helm's .Files.Glob order).
pub fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_str().unwrap().ends_with(suffix))
        .collect();
    v.sort();
    v
}

/// The container's args of the DaemonSet.
pub fn container_args(docs: &[Value]) -> Vec<String> {
    of_kind(docs, "DaemonSet")[0]["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}

pub fn arg<'a>(args: &'a [String], flag: &str) -> Vec<&'a str> {
    args.iter()
        .filter_map(|a| a.strip_prefix(&format!("{flag}=")))
        .collect()
}
