//! prometheus/remote-write.example.yml: merged into the shipped prometheus.yml (where its
//! comment tells people to put it), the result passes `promtool check config`, and the shipped
//! file itself stays free of it.

use crate::stack;

use serde_yaml_ng::Value;
use stack::*;
use std::process::Command;

/// prometheus.yml with the example's `global` keys and `remote_write` merged in, written into
/// a copy of the layout compose mounts (so rule files and targets resolve).
fn merged(example: &Value) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let shipped = compose_layout(
        "prometheus",
        "/etc/prometheus",
        "prometheus.yml",
        dir.path(),
    );
    let mut config: Value =
        serde_yaml_ng::from_str(&std::fs::read_to_string(shipped).unwrap()).unwrap();
    if let Some(extra) = example["global"].as_mapping() {
        let global = config["global"].as_mapping_mut().unwrap();
        for (k, v) in extra {
            global.insert(k.clone(), v.clone());
        }
    }
    config
        .as_mapping_mut()
        .unwrap()
        .insert("remote_write".into(), example["remote_write"].clone());
    let file = dir.path().join("prometheus.yml");
    std::fs::write(&file, serde_yaml_ng::to_string(&config).unwrap()).unwrap();
    (dir, file)
}

fn promtool_check(file: &std::path::Path) -> std::process::Output {
    run(Command::new(binary(&["promtool"]))
        .args(["check", "config"])
        .arg(file))
}

#[test]
fn the_remote_write_example_merges_into_a_valid_prometheus_config() {
    if !crate::common::require_tools(&["promtool"]) {
        return;
    }
    let example = yaml("prometheus/remote-write.example.yml");
    let rw = example["remote_write"]
        .as_sequence()
        .expect("remote_write entries");
    assert!(!rw.is_empty());
    for entry in rw {
        assert!(
            entry["url"].as_str().unwrap().starts_with("https://"),
            "{entry:?}"
        );
        // Credentials come from a file, never inline.
        assert!(entry["basic_auth"].get("password").is_none());
        assert!(entry["basic_auth"]["password_file"].is_string());
    }
    assert!(
        example["global"]["external_labels"]
            .as_mapping()
            .is_some_and(|m| !m.is_empty())
    );

    let (_dir, file) = merged(&example);
    let out = promtool_check(&file);
    assert!(out.status.success(), "{}", text(&out));

    // The check can fail: a remote_write entry without a URL is refused.
    let mut broken = example.clone();
    broken["remote_write"][0]
        .as_mapping_mut()
        .unwrap()
        .remove("url");
    let (_dir2, bad) = merged(&broken);
    assert!(
        !promtool_check(&bad).status.success(),
        "promtool accepted a remote_write without url"
    );

    // The shipped prometheus.yml keeps working on its own: no remote_write in it.
    let shipped = yaml("prometheus/prometheus.yml");
    assert!(shipped.get("remote_write").is_none());
}
