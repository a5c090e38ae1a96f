//! memory actions over real HTTP: the memory is resident in a separate worker process that is
//! gone (and its memory with it) when the action ends, is stopped, is killed, or the daemon
//! stops; requests beyond available memory minus the reserve are refused with the figures.

use crate::common;

use common::{
    Daemon, call, children_matching, cpu_seconds, get, start_action, stop_action, wait_for,
};
use serde_json::Value;
use std::time::Duration;

const MIB: u64 = 1 << 20;

fn workers(d: &Daemon) -> Vec<u32> {
    children_matching(d.pid(), "__memory-worker")
}

/// A `kB` field of /proc/<pid>/status, in bytes.
fn status_bytes(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn action(d: &Daemon, id: &str) -> Value {
    call("GET", &d.control_url(&format!("/actions/{id}")), "").1
}

/// Waits until the action reports at least `bytes` resident; returns the worker's pid.
fn wait_resident(d: &Daemon, id: &str, bytes: u64) -> u32 {
    wait_for(Duration::from_secs(5), || {
        let a = action(d, id);
        let held = a["achieved"]["resident_bytes"].as_u64()?;
        (held >= bytes).then(|| a["achieved"]["worker_pid"].as_u64().unwrap() as u32)
    })
    .unwrap_or_else(|| panic!("never resident: {}", action(d, id)))
}

#[test]
fn holds_resident_memory_in_a_worker_and_releases_it_on_stop() {
    let d = Daemon::start(&[]);
    let id = start_action(&d, "memory", r#"{"size": "64MiB", "duration": "30s"}"#);
    let pid = wait_resident(&d, &id, 64 * MIB);
    assert_eq!(workers(&d), vec![pid]);
    // Really resident in the worker, which the kernel kills first when out of memory.
    assert!(status_bytes(pid, "VmRSS:").unwrap() >= 64 * MIB);
    let adj = std::fs::read_to_string(format!("/proc/{pid}/oom_score_adj")).unwrap();
    assert_eq!(adj.trim(), "1000");
    // The daemon itself does not hold it.
    assert!(status_bytes(d.pid(), "VmRSS:").unwrap() < 64 * MIB);
    let (_, _, metrics) = get(&d.metrics_url(), None);
    assert!(
        metrics.contains("jolt_memory_target_bytes 67108864"),
        "{metrics}"
    );

    // Holding burns no CPU: the worker sleeps between reports.
    let before = cpu_seconds(pid);
    std::thread::sleep(Duration::from_secs(1));
    let used = cpu_seconds(pid) - before;
    assert!(used <= 0.05, "the worker burns CPU while holding: {used} s");

    stop_action(&d, &id);
    assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
    assert!(workers(&d).is_empty());
    let (_, _, metrics) = get(&d.metrics_url(), None);
    assert!(metrics.contains("jolt_memory_held_bytes 0"), "{metrics}");
}

#[test]
fn a_ramp_grows_gradually_and_the_worker_ends_with_the_action() {
    let d = Daemon::start(&[]);
    let id = start_action(
        &d,
        "memory",
        r#"{"size": "64MiB", "ramp": "1s", "duration": "1.5s"}"#,
    );
    std::thread::sleep(Duration::from_millis(400));
    let a = action(&d, &id);
    let target = a["achieved"]["target_bytes"].as_u64().unwrap();
    assert!(
        target > 8 * MIB && target < 56 * MIB,
        "partway up the ramp: {a}"
    );
    let done = wait_for(Duration::from_secs(5), || {
        let a = action(&d, &id);
        (a["state"] != "running").then_some(a)
    })
    .unwrap();
    assert_eq!(done["state"], "completed", "{done}");
    assert!(done["achieved"]["resident_bytes"].as_u64().unwrap() >= 64 * MIB);
    assert!(workers(&d).is_empty());
}

#[test]
fn pausing_the_run_releases_the_memory_and_resuming_grows_it_back() {
    let d = Daemon::start(&[]);
    let (run, id) = common::start_one_step_run(
        &d,
        r#"{"kind": "memory", "size": "32MiB", "duration": "30s"}"#,
        "30s",
    );
    let pid = wait_resident(&d, &id, 32 * MIB);
    let (status, _) = call("POST", &d.control_url(&format!("/runs/{run}/pause")), "");
    assert_eq!(status, 200);
    wait_for(Duration::from_secs(10), || {
        (status_bytes(pid, "RssAnon:")? < 8 * MIB).then_some(())
    })
    .expect("released while paused");
    let (status, _) = call("POST", &d.control_url(&format!("/runs/{run}/resume")), "");
    assert_eq!(status, 200);
    assert_eq!(
        wait_resident(&d, &id, 32 * MIB),
        pid,
        "the same worker grows back"
    );
    call("DELETE", &d.control_url(&format!("/runs/{run}")), "");
    wait_for(Duration::from_secs(10), || {
        workers(&d).is_empty().then_some(())
    })
    .expect("stopping the run ends the worker");
}

#[test]
fn a_killed_worker_fails_the_action_with_the_reason() {
    let d = Daemon::start(&[]);
    let id = start_action(&d, "memory", r#"{"size": "16MiB", "duration": "30s"}"#);
    let pid = wait_resident(&d, &id, 16 * MIB);
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    let a = wait_for(Duration::from_secs(3), || {
        let a = action(&d, &id);
        (a["state"] != "running").then_some(a)
    })
    .unwrap();
    assert_eq!(a["state"], "failed", "{a}");
    let error = a["error"].as_str().unwrap();
    assert!(error.contains("killed by signal 9"), "{error}");
    assert!(workers(&d).is_empty());
    // The daemon is fine.
    assert_eq!(get(&d.control_url("/healthz"), None).0, 200);
}

#[test]
fn bad_inputs_are_refused_and_change_nothing() {
    let d = Daemon::start(&[]);
    let url = d.control_url("/actions/memory");
    let cases: &[(&str, u16)] = &[
        (r#"{"size": -1}"#, 422),
        (r#"{"size": 0}"#, 422),
        (r#"{"size": "0%"}"#, 422),
        (r#"{"size": "150%"}"#, 422),
        (r#"{"size": 1000000000000000000}"#, 422),
        (r#"{"size": "100%"}"#, 422),
        (r#"{"size": "lots"}"#, 400),
        (r#"{"size": true}"#, 400),
        (r#"{"duration": "soon"}"#, 400),
        (r#"{"size": "1MiB", "ramp": "2m"}"#, 422),
        (r#"{"bytes": 1}"#, 400),
    ];
    for (body, want) in cases {
        let (status, e) = call("POST", &url, body);
        assert_eq!(status, *want, "{body}: {e}");
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
    }
    // Beyond available minus the reserve: the message gives the figures.
    let (status, e) = call("POST", &url, r#"{"size": "100%"}"#);
    assert_eq!(status, 422);
    assert_eq!(e["field"], "size");
    let msg = e["message"].as_str().unwrap();
    for word in ["requested", "available", "reserve"] {
        assert!(msg.contains(word), "{msg}");
    }
    let (_, list) = call("GET", &d.control_url("/actions"), "");
    assert_eq!(list, Value::Array(vec![]));
    assert!(workers(&d).is_empty());
}

#[test]
fn a_percentage_is_resolved_to_bytes_and_the_reserve_is_configurable() {
    let d = Daemon::start(&["--memory-reserve", "100%"]);
    let (status, e) = call(
        "POST",
        &d.control_url("/actions/memory"),
        r#"{"size": "1MiB"}"#,
    );
    assert_eq!(status, 422, "a 100 % reserve leaves nothing: {e}");

    let d = Daemon::start(&[]);
    let (status, a) = call(
        "POST",
        &d.control_url("/actions/memory"),
        r#"{"size": "0.1%", "duration": "1s"}"#,
    );
    assert_eq!(status, 201, "{a}");
    let bytes = a["params"]["size"].as_u64().expect("size in bytes");
    let total = std::fs::read_to_string("/proc/meminfo").unwrap();
    let total_kb: u64 = total.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert_eq!(bytes, (total_kb * 1024) / 1000);
}

#[test]
fn sigterm_leaves_no_worker_behind() {
    let mut d = Daemon::start(&[]);
    let id = start_action(&d, "memory", r#"{"size": "32MiB", "duration": "60s"}"#);
    let pid = wait_resident(&d, &id, 32 * MIB);
    let exit = d.terminate(Duration::from_secs(15)).expect("exits");
    assert!(exit.success(), "{exit:?}");
    let gone = wait_for(Duration::from_secs(10), || {
        (!std::path::Path::new(&format!("/proc/{pid}")).exists()).then_some(())
    });
    assert!(gone.is_some(), "memory worker {pid} outlived the daemon");
}

#[test]
fn the_worker_dies_with_a_killed_daemon() {
    let d = Daemon::start(&[]);
    let id = start_action(&d, "memory", r#"{"size": "16MiB", "duration": "60s"}"#);
    let pid = wait_resident(&d, &id, 16 * MIB);
    drop(d); // SIGKILL: no chance to clean up, PR_SET_PDEATHSIG does it
    let dead = wait_for(Duration::from_secs(10), || {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // Gone, or a zombie waiting for its new parent to reap it: either way, memory freed.
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().next());
        matches!(state, None | Some("Z")).then_some(())
    });
    assert!(
        dead.is_some(),
        "memory worker {pid} outlived a killed daemon"
    );
}

/// Memory admission reserves under the engine's lock: of N concurrent requests that each fit
/// alone, exactly as many as the budget holds are accepted and the rest get 422. The budget is
/// made exact with a procfs whose meminfo says how much is available, and the actions ramp
/// over minutes so that what they hold during the test stays far below one request's size.
#[test]
fn concurrent_memory_requests_never_share_the_same_room() {
    let proc_dir = tempfile::tempdir().unwrap();
    let (reserve, room, size) = (512 * MIB, 100 * MIB, 40 * MIB);
    // The host's meminfo with MemAvailable pinned to reserve + room.
    let meminfo: String = std::fs::read_to_string("/proc/meminfo")
        .unwrap()
        .lines()
        .map(|l| match l.starts_with("MemAvailable:") {
            true => format!("MemAvailable:   {} kB\n", (reserve + room) / 1024),
            false => format!("{l}\n"),
        })
        .collect();
    std::fs::write(proc_dir.path().join("meminfo"), meminfo).unwrap();
    let d = Daemon::start(&[
        "--procfs",
        proc_dir.path().to_str().unwrap(),
        "--memory-reserve",
        &reserve.to_string(),
    ]);
    let url = d.control_url("/actions/memory");
    let body = format!(r#"{{"size": {size}, "duration": "10m", "ramp": "10m"}}"#);
    let statuses: Vec<(u16, Value)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| s.spawn(|| call("POST", &url, &body)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let accepted = statuses.iter().filter(|(s, _)| *s == 201).count();
    let refused: Vec<_> = statuses.iter().filter(|(s, _)| *s != 201).collect();
    assert_eq!(accepted, (room / size) as usize, "{statuses:?}");
    for (status, e) in &refused {
        assert_eq!(*status, 422, "{e}");
        assert_eq!(e["field"], "size", "{e}");
        assert!(e["message"].as_str().unwrap().contains("reserve"), "{e}");
    }
    let (_, list) = call("GET", &d.control_url("/actions"), "");
    assert_eq!(list.as_array().unwrap().len(), accepted, "{list}");
    let (status, stopped) = call("DELETE", &d.control_url("/actions"), "");
    assert_eq!(
        (status, stopped["stopped"].as_u64()),
        (200, Some(accepted as u64))
    );
    assert!(
        wait_for(Duration::from_secs(10), || workers(&d)
            .is_empty()
            .then_some(()))
        .is_some(),
        "the memory workers are gone"
    );
}
