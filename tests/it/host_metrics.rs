//! The host exporter over real sockets: node_exporter's families, types and labels; counters
//! that never go back; a broken procfs that fails only its collectors; bounded top-process
//! series; and, when node_exporter is installed, the same families and the same CPU busy
//! percentage as node_exporter on this host at the same time.

use crate::common;

use common::{Daemon, get, parse_classic};
use prometheus_parse::{Sample, Scrape, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// Type of a family as the classic exposition declares it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Ty {
    Counter,
    Gauge,
}

/// The product contract's host list: (family, node_exporter's type, labels).
const HOST_FAMILIES: &[(&str, Ty, &[&str])] = &[
    ("node_cpu_seconds_total", Ty::Counter, &["cpu", "mode"]),
    (
        "node_cpu_guest_seconds_total",
        Ty::Counter,
        &["cpu", "mode"],
    ),
    ("node_load1", Ty::Gauge, &[]),
    ("node_load5", Ty::Gauge, &[]),
    ("node_load15", Ty::Gauge, &[]),
    ("node_memory_MemTotal_bytes", Ty::Gauge, &[]),
    ("node_memory_MemAvailable_bytes", Ty::Gauge, &[]),
    ("node_memory_Active_anon_bytes", Ty::Gauge, &[]),
    ("node_memory_HugePages_Total", Ty::Gauge, &[]),
    ("node_disk_reads_completed_total", Ty::Counter, &["device"]),
    ("node_disk_read_bytes_total", Ty::Counter, &["device"]),
    ("node_disk_written_bytes_total", Ty::Counter, &["device"]),
    ("node_disk_io_time_seconds_total", Ty::Counter, &["device"]),
    ("node_disk_io_now", Ty::Gauge, &["device"]),
    (
        "node_filesystem_size_bytes",
        Ty::Gauge,
        &["device", "mountpoint", "fstype"],
    ),
    (
        "node_filesystem_free_bytes",
        Ty::Gauge,
        &["device", "mountpoint", "fstype"],
    ),
    (
        "node_filesystem_avail_bytes",
        Ty::Gauge,
        &["device", "mountpoint", "fstype"],
    ),
    (
        "node_filesystem_files",
        Ty::Gauge,
        &["device", "mountpoint", "fstype"],
    ),
    (
        "node_filesystem_files_free",
        Ty::Gauge,
        &["device", "mountpoint", "fstype"],
    ),
    (
        "node_filesystem_readonly",
        Ty::Gauge,
        &["device", "mountpoint", "fstype"],
    ),
    (
        "node_filesystem_device_error",
        Ty::Gauge,
        &["device", "mountpoint", "fstype"],
    ),
    ("node_network_receive_bytes_total", Ty::Counter, &["device"]),
    (
        "node_network_receive_packets_total",
        Ty::Counter,
        &["device"],
    ),
    ("node_network_receive_errs_total", Ty::Counter, &["device"]),
    ("node_network_receive_drop_total", Ty::Counter, &["device"]),
    (
        "node_network_transmit_bytes_total",
        Ty::Counter,
        &["device"],
    ),
    (
        "node_network_transmit_packets_total",
        Ty::Counter,
        &["device"],
    ),
    ("node_network_transmit_errs_total", Ty::Counter, &["device"]),
    ("node_network_transmit_drop_total", Ty::Counter, &["device"]),
    ("node_boot_time_seconds", Ty::Gauge, &[]),
    ("node_time_seconds", Ty::Gauge, &[]),
    ("node_context_switches_total", Ty::Counter, &[]),
    ("node_intr_total", Ty::Counter, &[]),
    ("node_forks_total", Ty::Counter, &[]),
    ("node_procs_running", Ty::Gauge, &[]),
    ("node_procs_blocked", Ty::Gauge, &[]),
    ("node_filefd_allocated", Ty::Gauge, &[]),
    ("node_filefd_maximum", Ty::Gauge, &[]),
    ("node_pressure_cpu_waiting_seconds_total", Ty::Counter, &[]),
    ("node_pressure_io_waiting_seconds_total", Ty::Counter, &[]),
    ("node_pressure_io_stalled_seconds_total", Ty::Counter, &[]),
    (
        "node_pressure_memory_waiting_seconds_total",
        Ty::Counter,
        &[],
    ),
    (
        "node_pressure_memory_stalled_seconds_total",
        Ty::Counter,
        &[],
    ),
    // node_exporter exposes vmstat untyped; jolt as gauges (see src/metrics/host/vmstat.rs).
    ("node_vmstat_pgfault", Ty::Gauge, &[]),
    ("node_vmstat_pgmajfault", Ty::Gauge, &[]),
    ("node_vmstat_pswpin", Ty::Gauge, &[]),
    ("node_vmstat_pswpout", Ty::Gauge, &[]),
    ("node_vmstat_oom_kill", Ty::Gauge, &[]),
    (
        "node_uname_info",
        Ty::Gauge,
        &[
            "sysname",
            "release",
            "version",
            "machine",
            "nodename",
            "domainname",
        ],
    ),
];

fn scrape(url: &str) -> Scrape {
    let (status, _, body) = get(url, None);
    assert_eq!(status, 200, "{body}");
    parse_classic(&body)
}

fn ty(s: &Sample) -> Option<Ty> {
    match s.value {
        Value::Counter(_) => Some(Ty::Counter),
        Value::Gauge(_) => Some(Ty::Gauge),
        _ => None,
    }
}

fn value(s: &Sample) -> f64 {
    match s.value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => v,
        _ => f64::NAN,
    }
}

fn series<'a>(scrape: &'a Scrape, name: &str) -> Vec<&'a Sample> {
    scrape.samples.iter().filter(|s| s.metric == name).collect()
}

/// The label set of a sample, for matching series between scrapes.
fn key(s: &Sample) -> String {
    let labels: BTreeMap<_, _> = s.labels.iter().collect();
    format!("{}{:?}", s.metric, labels)
}

fn success(scrape: &Scrape) -> HashMap<String, f64> {
    series(scrape, "jolt_scrape_collector_success")
        .into_iter()
        .map(|s| (s.labels.get("collector").unwrap().to_string(), value(s)))
        .collect()
}

#[test]
fn every_host_family_has_node_exporters_type_and_labels() {
    let d = Daemon::start(&[]);
    let s = scrape(&d.metrics_url());
    let mut problems = Vec::new();
    for (name, want, labels) in HOST_FAMILIES {
        let found = series(&s, name);
        if found.is_empty() {
            problems.push(format!("{name}: missing"));
            continue;
        }
        for sample in found {
            if ty(sample) != Some(*want) {
                problems.push(format!("{name}: type {:?}, want {want:?}", sample.value));
            }
            let have: BTreeSet<&str> = sample.labels.keys().map(String::as_str).collect();
            let expect: BTreeSet<&str> = labels.iter().copied().collect();
            if have != expect {
                problems.push(format!("{name}: labels {have:?}, want {expect:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
    // 8 modes per CPU, and every collector succeeded on this host.
    let modes: BTreeSet<_> = series(&s, "node_cpu_seconds_total")
        .iter()
        .map(|s| s.labels.get("mode").unwrap().to_string())
        .collect();
    assert_eq!(modes.len(), 8, "{modes:?}");
    let ok = success(&s);
    assert!(ok.values().all(|v| *v == 1.0), "{ok:?}");
    assert!(ok.len() >= 14, "{ok:?}");
    // Loop devices and pseudo filesystems are excluded by default.
    assert!(
        series(&s, "node_disk_io_now").iter().all(|x| !x
            .labels
            .get("device")
            .unwrap()
            .starts_with("loop"))
    );
    assert!(series(&s, "node_filesystem_size_bytes").iter().all(|x| {
        !["proc", "sysfs", "cgroup2", "devpts"].contains(&x.labels.get("fstype").unwrap())
    }));
}

#[test]
fn counters_never_decrease_between_scrapes() {
    let d = Daemon::start(&[]);
    let first = scrape(&d.metrics_url());
    // Let counters move: a little CPU, disk and network work.
    let stop = Instant::now() + Duration::from_millis(300);
    while Instant::now() < stop {
        std::hint::black_box(get(&d.metrics_url(), None));
    }
    let second = scrape(&d.metrics_url());
    let before: HashMap<String, f64> = first
        .samples
        .iter()
        .filter(|s| matches!(s.value, Value::Counter(_)))
        .map(|s| (key(s), value(s)))
        .collect();
    let mut compared = 0;
    for s in second
        .samples
        .iter()
        .filter(|s| matches!(s.value, Value::Counter(_)))
    {
        if let Some(b) = before.get(&key(s)) {
            compared += 1;
            assert!(value(s) >= *b, "{} went from {b} to {}", key(s), value(s));
        }
    }
    assert!(compared > 50, "only {compared} counters in common");
    let ctxt = |s: &Scrape| value(series(s, "node_context_switches_total")[0]);
    assert!(ctxt(&second) > ctxt(&first));
}

#[test]
fn a_missing_procfs_fails_only_the_proc_collectors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-proc");
    let d = Daemon::start(&["--procfs", missing.to_str().unwrap()]);
    let s = scrape(&d.metrics_url());
    let ok = success(&s);
    for c in [
        "cpu",
        "diskstats",
        "filefd",
        "filesystem",
        "loadavg",
        "meminfo",
        "netdev",
        "stat",
        "vmstat",
        "processes",
        "cgroup",
    ] {
        assert_eq!(ok.get(c), Some(&0.0), "{c}: {ok:?}");
    }
    for c in ["time", "uname", "pressure"] {
        assert_eq!(ok.get(c), Some(&1.0), "{c}: {ok:?}");
    }
    assert!(!series(&s, "node_time_seconds").is_empty());
    assert!(!series(&s, "jolt_build_info").is_empty());
    assert!(series(&s, "node_cpu_seconds_total").is_empty());
}

#[test]
fn top_processes_have_ranks_one_to_n() {
    let d = Daemon::start(&["--process-sample-interval", "200ms", "--top-processes", "3"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let s = loop {
        let s = scrape(&d.metrics_url());
        if !series(&s, "jolt_top_process_cpu_usage_ratio").is_empty() {
            break s;
        }
        assert!(Instant::now() < deadline, "no CPU ranking after 10 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    for fam in [
        "jolt_top_process_cpu_usage_ratio",
        "jolt_top_process_resident_memory_bytes",
    ] {
        let found = series(&s, fam);
        let ranks: Vec<String> = found
            .iter()
            .map(|x| x.labels.get("rank").unwrap().to_string())
            .collect();
        assert_eq!(ranks, ["1", "2", "3"], "{fam}");
        for x in &found {
            assert!(x.labels.get("pid").unwrap().parse::<u32>().is_ok());
            assert!(!x.labels.get("name").unwrap().is_empty());
            assert!(value(x) >= 0.0);
        }
        let values: Vec<f64> = found.iter().map(|x| value(x)).collect();
        assert!(values.windows(2).all(|w| w[0] >= w[1]), "{fam}: {values:?}");
    }
    let states = series(&s, "jolt_processes");
    assert!(
        states
            .iter()
            .any(|x| x.labels.get("state") == Some("sleeping"))
    );
    assert!(value(series(&s, "jolt_threads")[0]) >= 1.0);
    assert!(value(series(&s, "jolt_process_open_fds")[0]) >= 1.0);
}

/// A free loopback port (there is a small race until node_exporter binds it).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// node_exporter on a loopback port, killed on drop.
struct NodeExporter(std::process::Child, String);

impl Drop for NodeExporter {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_node_exporter() -> Option<NodeExporter> {
    if !crate::common::require_tools(&["prometheus-node-exporter"]) {
        return None;
    }
    let bin = crate::common::on_path(&["prometheus-node-exporter"])?;
    let port = free_port();
    let child = std::process::Command::new(bin)
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        // Debian patches node_exporter's defaults (it skips lo, /run, /mnt, /media); compare
        // like with like using upstream's defaults, which are jolt's.
        .arg("--collector.netdev.device-exclude=^$")
        .arg(format!(
            "--collector.filesystem.mount-points-exclude={}",
            jolt::metrics::host::DEFAULT_MOUNT_POINTS_EXCLUDE
        ))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("starting node_exporter");
    let ne = NodeExporter(child, format!("http://127.0.0.1:{port}/metrics"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "node_exporter did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(ne)
}

/// Each CPU's idle seconds, as one scrape shows them.
fn idle_seconds(s: &Scrape) -> HashMap<String, f64> {
    series(s, "node_cpu_seconds_total")
        .into_iter()
        .filter(|x| x.labels.get("mode") == Some("idle"))
        .map(|x| (x.labels.get("cpu").unwrap().to_string(), value(x)))
        .collect()
}

#[test]
fn matches_node_exporter_families_and_cpu_counters() {
    let Some(ne) = start_node_exporter() else {
        return;
    };
    let d = Daemon::start(&[]);
    // Both read the same kernel counters: a node_exporter scrape taken between two jolt
    // scrapes shows, for every CPU, idle seconds between jolt's two readings (to the 10 ms
    // resolution of /proc/stat). Exact whatever else loads the machine; rates over time
    // windows are compared in bench/scrape.sh instead.
    let j1 = scrape(&d.metrics_url());
    let n2 = scrape(&ne.1);
    let j2 = scrape(&d.metrics_url());
    let (a, n, b) = (idle_seconds(&j1), idle_seconds(&n2), idle_seconds(&j2));
    assert_eq!(a.len(), n.len(), "the same CPUs");
    for (cpu, ne_idle) in &n {
        let (lo, hi) = (a[cpu], b[cpu]);
        assert!(
            lo - 0.011 <= *ne_idle && *ne_idle <= hi + 0.011,
            "cpu {cpu}: node_exporter idle {ne_idle} outside jolt's {lo}..{hi}"
        );
    }

    // Every family of the host list that node_exporter has, jolt has with the same type.
    let types = |s: &Scrape| -> HashMap<String, String> {
        s.samples
            .iter()
            .map(|x| (x.metric.clone(), format!("{:?}", ty(x))))
            .collect()
    };
    let (tj, tn) = (types(&j2), types(&n2));
    for (name, _, _) in HOST_FAMILIES {
        let Some(t) = tn.get(*name) else { continue };
        if name.starts_with("node_vmstat_") {
            continue; // untyped there, a gauge here (see src/metrics/host/vmstat.rs)
        }
        assert_eq!(tj.get(*name), Some(t), "{name}");
    }
    // The same series (label sets) for per-device and per-cpu families.
    for name in [
        "node_cpu_seconds_total",
        "node_network_receive_bytes_total",
        "node_disk_read_bytes_total",
        "node_filesystem_avail_bytes",
        "node_memory_MemTotal_bytes",
    ] {
        let keys =
            |s: &Scrape| -> BTreeSet<String> { series(s, name).iter().map(|x| key(x)).collect() };
        assert_eq!(keys(&j2), keys(&n2), "{name}");
    }
    let missing: Vec<_> = tn
        .keys()
        .filter(|k| k.starts_with("node_memory_") && !tj.contains_key(*k))
        .collect();
    assert!(missing.is_empty(), "meminfo fields jolt lacks: {missing:?}");
}
