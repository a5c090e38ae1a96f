//! Who is in a fleet: the targets of a Prometheus file_sd file or of a Prometheus server's
//! job, their control addresses, and `--select` / `--sample` to narrow them.

use anyhow::{Context, bail};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The label that names a target's control address when it is not the scrape host.
pub const CONTROL_LABEL: &str = "jolt_control";

/// One jolt of a fleet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// What Prometheus calls it (its `instance` label): the table's first column.
    pub instance: String,
    /// Control API address, `HOST:PORT`.
    pub control: String,
    /// Its labels, `instance` included; `--select` matches on them.
    pub labels: BTreeMap<String, String>,
}

/// One group of a file_sd file: `[{"targets": ["host:9477"], "labels": {...}}]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    targets: Vec<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// Reads a file_sd file (JSON or YAML, the formats Prometheus accepts).
pub fn from_file_sd(path: &Path, control_port: u16) -> anyhow::Result<Vec<Target>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("--fleet: cannot read {}", path.display()))?;
    let groups: Vec<Group> = serde_yaml_ng::from_str(&text).with_context(|| {
        format!(
            "--fleet: {} is not a Prometheus file_sd file (a list of {{targets, labels}})",
            path.display()
        )
    })?;
    let mut out = Vec::new();
    for g in groups {
        for t in g.targets {
            let mut labels = g.labels.clone();
            labels.insert("instance".into(), t.clone());
            out.push(target(t, labels, control_port));
        }
    }
    Ok(out)
}

/// The part of Prometheus's `/api/v1/targets` answer a fleet needs.
#[derive(Debug, Deserialize)]
struct TargetsAnswer {
    data: TargetsData,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TargetsData {
    active_targets: Vec<ActiveTarget>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ActiveTarget {
    #[serde(default)]
    discovered_labels: BTreeMap<String, String>,
    labels: BTreeMap<String, String>,
}

/// The targets a Prometheus server scrapes for `job` (`GET /api/v1/targets?state=active`).
pub fn from_prometheus(url: &str, job: &str, control_port: u16) -> anyhow::Result<Vec<Target>> {
    let url = format!(
        "{}/api/v1/targets?state=active",
        url.trim().trim_end_matches('/')
    );
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(10)))
        .build()
        .into();
    let text = agent
        .get(&url)
        .call()
        .with_context(|| format!("--fleet-from-prometheus: cannot read {url}"))?
        .into_body()
        .read_to_string()
        .with_context(|| format!("--fleet-from-prometheus: reading {url}"))?;
    let answer: TargetsAnswer = serde_json::from_str(&text).with_context(|| {
        format!("--fleet-from-prometheus: {url} did not answer like Prometheus")
    })?;
    Ok(parse_active(answer, job, control_port))
}

fn parse_active(answer: TargetsAnswer, job: &str, control_port: u16) -> Vec<Target> {
    answer
        .data
        .active_targets
        .into_iter()
        .filter(|t| t.labels.get("job").map(String::as_str) == Some(job))
        .map(|t| {
            let instance = t.labels.get("instance").cloned().unwrap_or_default();
            // The scrape address, when Prometheus shows it, is where the pod or host is.
            let address = t
                .discovered_labels
                .get("__address__")
                .cloned()
                .unwrap_or_else(|| instance.clone());
            let mut target = target(address, t.labels, control_port);
            target.instance = instance;
            target
        })
        .collect()
}

/// A target at scrape address `address`: control at its `jolt_control` label, else at the
/// address's host with `control_port`.
fn target(address: String, labels: BTreeMap<String, String>, control_port: u16) -> Target {
    let control = match labels.get(CONTROL_LABEL) {
        Some(c) if !c.is_empty() => c.clone(),
        _ => format!("{}:{control_port}", host_of(&address)),
    };
    Target {
        instance: labels.get("instance").cloned().unwrap_or(address),
        control,
        labels,
    }
}

/// `10.0.0.1:9477` → `10.0.0.1`, `[::1]:9477` → `[::1]`, `node-a` → `node-a`.
fn host_of(address: &str) -> &str {
    let address = address.trim_start_matches("http://");
    match address.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            if host.contains(':') && !host.starts_with('[') {
                address // a bare IPv6 address without a port
            } else {
                host
            }
        }
        _ => address,
    }
}

/// Keeps the targets whose labels match every `label=value` (or `label!=value`) filter.
pub fn select(targets: Vec<Target>, filters: &[String]) -> anyhow::Result<Vec<Target>> {
    let mut parsed = Vec::new();
    for f in filters {
        let (name, value, equal) = match f.split_once("!=") {
            Some((n, v)) => (n, v, false),
            None => match f.split_once('=') {
                Some((n, v)) => (n, v, true),
                None => bail!("--select {f}: expected LABEL=VALUE or LABEL!=VALUE"),
            },
        };
        parsed.push((name.trim().to_string(), value.trim().to_string(), equal));
    }
    Ok(targets
        .into_iter()
        .filter(|t| {
            parsed.iter().all(|(n, v, equal)| {
                let got = t.labels.get(n).map(String::as_str).unwrap_or("");
                (got == v) == *equal
            })
        })
        .collect())
}

/// Picks `N` targets or `P%` of them (rounded up, at least one), at random, in file order.
pub fn sample(
    targets: Vec<Target>,
    spec: &str,
    rng: &mut fastrand::Rng,
) -> anyhow::Result<Vec<Target>> {
    let n = targets.len();
    let spec = spec.trim();
    let want = match spec.strip_suffix('%') {
        Some(p) => {
            let p: f64 = p
                .trim()
                .parse()
                .ok()
                .filter(|p: &f64| *p > 0.0 && *p <= 100.0)
                .with_context(|| format!("--sample {spec}: a share is 1% to 100%"))?;
            ((n as f64 * p / 100.0).ceil() as usize).max(1)
        }
        None => spec
            .parse::<usize>()
            .ok()
            .filter(|k| *k > 0)
            .with_context(|| {
                format!("--sample {spec}: give a count (e.g. 2) or a share (e.g. 30%)")
            })?,
    };
    let mut picked: Vec<usize> = (0..n).collect();
    rng.shuffle(&mut picked);
    picked.truncate(want.min(n));
    picked.sort_unstable();
    let mut keep = vec![false; n];
    for i in picked {
        keep[i] = true;
    }
    Ok(targets
        .into_iter()
        .zip(keep)
        .filter_map(|(t, k)| k.then_some(t))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> Vec<Target> {
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), text).unwrap();
        from_file_sd(f.path(), 9478).unwrap()
    }

    #[test]
    fn file_sd_targets_get_a_control_address() {
        let t = file(
            r#"[{"targets": ["node-a:9477", "[::1]:9477"], "labels": {"env": "lab"}},
                {"targets": ["node-c:9477"], "labels": {"jolt_control": "10.0.0.3:19478"}}]"#,
        );
        let controls: Vec<_> = t.iter().map(|t| t.control.as_str()).collect();
        assert_eq!(controls, ["node-a:9478", "[::1]:9478", "10.0.0.3:19478"]);
        assert_eq!(t[0].instance, "node-a:9477");
        assert_eq!(t[0].labels["env"], "lab");
        assert_eq!(t[2].labels["instance"], "node-c:9477");
    }

    #[test]
    fn yaml_file_sd_and_bad_files() {
        let t = file("- targets: [h1:9477]\n  labels: {role: web}\n");
        assert_eq!(t[0].control, "h1:9478");
        let f = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(f.path(), "[{\"target\": [\"x\"]}]").unwrap();
        let err = format!("{:#}", from_file_sd(f.path(), 9478).unwrap_err());
        assert!(err.contains("file_sd"), "{err}");
    }

    #[test]
    fn prometheus_targets_of_the_job_only() {
        let answer: TargetsAnswer = serde_json::from_value(serde_json::json!({"status": "success",
            "data": {"activeTargets": [
                {"discoveredLabels": {"__address__": "10.1.2.3:9477"},
                 "labels": {"job": "jolt", "instance": "node-1", "zone": "a"}},
                {"discoveredLabels": {"__address__": "10.1.2.4:9100"},
                 "labels": {"job": "node", "instance": "10.1.2.4:9100"}}]}}))
        .unwrap();
        let t = parse_active(answer, "jolt", 9478);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].instance, "node-1");
        assert_eq!(t[0].control, "10.1.2.3:9478");
    }

    #[test]
    fn select_and_sample() {
        let t = file(
            r#"[{"targets": ["a:1", "b:1"], "labels": {"role": "web"}},
                {"targets": ["c:1"], "labels": {"role": "db"}}]"#,
        );
        let web = select(t.clone(), &["role=web".into()]).unwrap();
        assert_eq!(web.len(), 2);
        let not_web = select(t.clone(), &["role!=web".into()]).unwrap();
        assert_eq!(not_web[0].instance, "c:1");
        assert!(select(t.clone(), &["role".into()]).is_err());
        let mut rng = fastrand::Rng::with_seed(7);
        assert_eq!(sample(t.clone(), "30%", &mut rng).unwrap().len(), 1);
        assert_eq!(sample(t.clone(), "67%", &mut rng).unwrap().len(), 3);
        let two = sample(t.clone(), "2", &mut rng).unwrap();
        assert_eq!(two.len(), 2);
        assert_ne!(two[0], two[1]);
        assert_eq!(sample(t.clone(), "9", &mut rng).unwrap().len(), 3);
        assert!(sample(t.clone(), "0%", &mut rng).is_err());
        assert!(sample(t, "x", &mut rng).is_err());
    }

    #[test]
    fn hosts_of_addresses() {
        assert_eq!(host_of("10.0.0.1:9477"), "10.0.0.1");
        assert_eq!(host_of("[::1]:9477"), "[::1]");
        assert_eq!(host_of("node-a"), "node-a");
    }
}
