//! disk actions over real HTTP: operations are done and counted, the scratch directory is
//! removed however the action ends (and a crashed run's at the next start), and bad inputs are
//! refused.

use crate::common;

use common::{Daemon, call, get, stop_action, thread_names, wait_ended, wait_for};
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

fn scratch_entries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir.join("scratch"))
        .map(|r| {
            r.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

fn disk_threads(pid: u32) -> usize {
    thread_names(pid)
        .iter()
        .filter(|n| *n == "jolt-disk")
        .count()
}

#[test]
fn does_and_counts_the_operations_then_removes_its_scratch_dir() {
    let d = Daemon::start(&[]);
    let (status, a) = call(
        "POST",
        &d.control_url("/actions/disk"),
        r#"{"operations": 400, "block_size": "16KiB", "pattern": "sequential"}"#,
    );
    assert_eq!(status, 201, "{a}");
    assert_eq!(a["params"]["block_size"], 16384);
    assert_eq!(a["params"]["write_ratio"], 0.5);
    let id = a["id"].as_str().unwrap().to_string();
    let a = wait_ended(&d, &id, Duration::from_secs(20));
    assert_eq!(a["state"], "completed", "{a}");
    assert_eq!(a["progress"], 1.0);
    let got = &a["achieved"];
    assert_eq!(got["operations_done"], 400);
    assert_eq!(got["read_ops"], 200);
    assert_eq!(got["write_ops"], 200);
    assert_eq!(got["bytes"], 400 * 16384);
    assert!(got["ops_per_second"].as_f64().unwrap() > 0.0);
    assert!(scratch_entries(d.state_dir.path()).is_empty());
    assert_eq!(disk_threads(d.pid()), 0);
    let (_, _, metrics) = get(&d.metrics_url(), None);
    assert!(
        metrics.contains(r#"jolt_disk_operations_total{op="read"} 200"#),
        "{metrics}"
    );
    assert!(
        metrics.contains(r#"jolt_disk_operations_total{op="write"} 200"#),
        "{metrics}"
    );
}

#[test]
fn stop_ends_the_thread_and_removes_the_scratch_dir() {
    let d = Daemon::start(&[]);
    let (status, a) = call(
        "POST",
        &d.control_url("/actions/disk"),
        r#"{"operations": 20000, "block_size": 4096, "sync": true, "write_ratio": 1}"#,
    );
    assert_eq!(status, 201, "{a}");
    let id = a["id"].as_str().unwrap().to_string();
    let dirs = wait_for(Duration::from_secs(3), || {
        let e = scratch_entries(d.state_dir.path());
        (!e.is_empty()).then_some(e)
    })
    .expect("a scratch dir while running");
    // `<pid>.<start time>-<id>`: the start time tells a reused pid from the daemon.
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    let (owner, action) = dirs[0].split_once('-').unwrap();
    assert_eq!(action, id);
    assert_eq!(owner.split('.').next(), Some(d.pid().to_string().as_str()));
    assert_eq!(disk_threads(d.pid()), 1);
    stop_action(&d, &id);
    assert!(scratch_entries(d.state_dir.path()).is_empty());
    assert_eq!(disk_threads(d.pid()), 0);
}

#[test]
fn bad_inputs_are_refused_and_change_nothing() {
    let d = Daemon::start(&["--disk-max-bytes", "8MiB"]);
    let url = d.control_url("/actions/disk");
    let cases: &[(&str, u16, &str)] = &[
        (r#"{"write_ratio": 1.5}"#, 422, "write_ratio"),
        (r#"{"write_ratio": -0.1}"#, 422, "write_ratio"),
        (r#"{"operations": 0}"#, 422, "operations"),
        (r#"{"operations": -3}"#, 400, "operations"),
        (r#"{"operations": "many"}"#, 400, "operations"),
        (r#"{"block_size": 1}"#, 422, "block_size"),
        (r#"{"block_size": "1GiB"}"#, 422, "block_size"),
        (r#"{"block_size": "10%"}"#, 422, "block_size"),
        (r#"{"block_size": -4096}"#, 422, "block_size"),
        (r#"{"pattern": "zigzag"}"#, 400, "pattern"),
        (r#"{"sync": "maybe"}"#, 400, "sync"),
        (r#"{"operations": 18446744073709551615}"#, 422, "operations"),
        (r#"{"operations": 1000}"#, 422, "operations"),
        (r#"{"path": "/etc"}"#, 400, "path"),
    ];
    for (body, want, field) in cases {
        let (status, e) = call("POST", &url, body);
        assert_eq!(status, *want, "{body}: {e}");
        assert_eq!(e["field"], *field, "{body}: {e}");
    }
    // Beyond the cap, the message names it and the figures.
    let (_, e) = call("POST", &url, r#"{"operations": 1000}"#);
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("disk_max_bytes") && msg.contains("8.0 MiB") && msg.contains("62.5 MiB"),
        "{msg}"
    );
    let (_, list) = call("GET", &d.control_url("/actions"), "");
    assert_eq!(list, Value::Array(vec![]));
    assert!(scratch_entries(d.state_dir.path()).is_empty());
}

#[test]
fn a_crashed_runs_leftovers_are_removed_at_start_and_live_ones_kept() {
    let state = tempfile::tempdir().unwrap();
    let scratch = state.path().join("scratch");
    // A pid beyond any pid_max is dead; this test's own pid is alive.
    let dead = scratch.join("2147483646-disk-1");
    let live = scratch.join(format!("{}-disk-1", std::process::id()));
    std::fs::create_dir_all(&dead).unwrap();
    std::fs::write(dead.join("data"), vec![0u8; 4096]).unwrap();
    std::fs::create_dir_all(&live).unwrap();
    let d = Daemon::start_in(state, &[], &[]);
    assert!(!dead.exists());
    assert!(live.exists());
    drop(d);
}

#[test]
fn sigterm_mid_action_leaves_no_scratch_dir() {
    let mut d = Daemon::start(&[]);
    let (status, a) = call(
        "POST",
        &d.control_url("/actions/disk"),
        r#"{"operations": 20000, "block_size": 4096, "sync": true}"#,
    );
    assert_eq!(status, 201, "{a}");
    wait_for(Duration::from_secs(3), || {
        (!scratch_entries(d.state_dir.path()).is_empty()).then_some(())
    })
    .expect("a scratch dir while running");
    let exit = d.terminate(Duration::from_secs(15)).expect("exits");
    assert!(exit.success(), "{exit:?}");
    assert!(scratch_entries(d.state_dir.path()).is_empty());
}

/// Issue 12, finding 2: `kill(pid, 0)` succeeds on a zombie, so a crashed daemon that is still
/// a zombie kept its scratch alive. The daemon now reads the process state and removes it.
#[test]
fn a_scratch_owned_by_a_zombie_is_removed_at_start() {
    let state = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let zombie = child.id();
    let is_zombie = || {
        std::fs::read_to_string(format!("/proc/{zombie}/stat")).is_ok_and(|s| {
            s.rsplit_once(')')
                .is_some_and(|(_, r)| r.trim_start().starts_with('Z'))
        })
    };
    wait_for(Duration::from_secs(5), || is_zombie().then_some(())).expect("a zombie child");
    let leftover = state
        .path()
        .join("scratch")
        .join(format!("{zombie}-disk-1"));
    std::fs::create_dir_all(&leftover).unwrap();
    std::fs::write(leftover.join("data"), vec![0u8; 4096]).unwrap();
    let d = Daemon::start_in(state, &[], &[]);
    assert!(is_zombie(), "still a zombie while jolt starts");
    assert!(
        !leftover.exists(),
        "the zombie's scratch survived the start"
    );
    drop(d);
    child.wait().unwrap();
}
