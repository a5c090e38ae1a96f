//! traffic actions over real HTTP: the scheduled count is sent and its series appear, load
//! shows in the target service's RED metrics (and queues beyond its capacity), connections
//! close when stopped, only jolt's own services or allowlisted peers are reachable, and bad
//! inputs are refused.

use crate::common;

use common::{Daemon, call, metric, open_fds, start_action, stop_action, wait_ended, wait_for};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// `tiny` serves one request at a time in 20 ms: about 50 requests per second. The default
/// names stay because the built-in scenarios refer to them.
fn daemon(extra: &[&str]) -> (Daemon, tempfile::NamedTempFile) {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    write!(
        f,
        "services:\n  catalog:\n    tiny: {{latency: 20ms, spread: 0, error_ratio: 0, capacity: 1}}\n    \
         auth: {{}}\n    payment: {{}}\n    reporting: {{}}\n    search: {{}}\n"
    )
    .unwrap();
    let mut args = vec![
        "--config",
        f.path().to_str().unwrap(),
        "--baseline-rps",
        "0",
    ];
    args.extend_from_slice(extra);
    (Daemon::start(&args), f)
}

#[test]
fn sends_the_scheduled_count_and_its_series_appear() {
    let (d, _cfg) = daemon(&[]);
    let id = start_action(
        &d,
        "traffic",
        r#"{"rps": 200, "duration": "1s", "target": "echo"}"#,
    );
    let running = wait_for(Duration::from_secs(10), || {
        let m = d.scrape();
        (metric(&m, "jolt_traffic_target_requests_per_second", &[])? == 200.0).then_some(())
    });
    assert!(running.is_some(), "the target rate shows while it runs");
    let a = wait_ended(&d, &id, Duration::from_secs(30));
    assert_eq!(a["state"], "completed", "{a}");
    let got = &a["achieved"];
    let sent = got["sent"].as_u64().unwrap();
    assert!((197..=203).contains(&sent), "sent {sent}: {a}");
    assert_eq!(got["answered"], sent);
    assert_eq!(got["dropped"], 0);
    assert_eq!(got["errors"], 0);
    let rps = got["requests_per_second"].as_f64().unwrap();
    assert!((rps - 200.0).abs() <= 3.0, "{rps}");
    assert!(got["p99_seconds"].as_f64().unwrap() > 0.0);

    let m = d.scrape();
    let ok = [("target", "echo"), ("code", "200")];
    assert_eq!(
        metric(&m, "jolt_traffic_requests_total", &ok),
        Some(sent as f64)
    );
    assert_eq!(
        metric(&m, "jolt_traffic_request_duration_seconds_count", &[]),
        Some(sent as f64)
    );
    assert_eq!(metric(&m, "jolt_traffic_dropped_total", &[]), Some(0.0));
    assert_eq!(
        metric(&m, "jolt_traffic_target_requests_per_second", &[]),
        Some(0.0)
    );
}

#[test]
fn a_ramp_sends_the_integral_of_the_rate() {
    let (d, _cfg) = daemon(&[]);
    let id = start_action(
        &d,
        "traffic",
        r#"{"rps": 400, "ramp_from": 0, "duration": "1s", "target": "echo"}"#,
    );
    let a = wait_ended(&d, &id, Duration::from_secs(30));
    let sent = a["achieved"]["sent"].as_u64().unwrap();
    assert!(
        (197..=203).contains(&sent),
        "0→400 rps over 1 s is 200 requests, sent {sent}"
    );
}

#[test]
fn load_shows_in_the_service_and_queues_beyond_its_capacity() {
    let (d, _cfg) = daemon(&[]);
    let tiny = [("service", "tiny")];
    let count = |m: &str| metric(m, "jolt_service_request_duration_seconds_count", &tiny).unwrap();
    let under = |m: &str, le: &str| {
        metric(
            m,
            "jolt_service_request_duration_seconds_bucket",
            &[("service", "tiny"), ("le", le)],
        )
        .unwrap()
    };

    // Well under capacity: every request takes about the 20 ms service time.
    let id = start_action(
        &d,
        "traffic",
        r#"{"rps": 10, "duration": "1s", "target": "tiny"}"#,
    );
    let a = wait_ended(&d, &id, Duration::from_secs(30));
    let m = d.scrape();
    let n = a["achieved"]["sent"].as_f64().unwrap();
    assert_eq!(count(&m), n);
    assert_eq!(under(&m, "0.1"), n, "no queueing at 10 rps");
    let ok = [("service", "tiny"), ("code", "200")];
    assert_eq!(metric(&m, "jolt_service_requests_total", &ok), Some(n));

    // Three times its capacity: requests queue and the latency histogram climbs.
    let id = start_action(
        &d,
        "traffic",
        r#"{"rps": 150, "duration": "1s", "target": "tiny"}"#,
    );
    let a = wait_ended(&d, &id, Duration::from_secs(30));
    assert_eq!(a["state"], "completed", "{a}");
    let m = d.scrape();
    let total = count(&m);
    let slow = total - under(&m, "0.25");
    assert!(slow > 0.0, "{slow} of {total} requests took over 250 ms");
    assert!(a["achieved"]["p99_seconds"].as_f64().unwrap() > 0.25, "{a}");
}

#[test]
fn stopping_closes_every_connection() {
    let (d, _cfg) = daemon(&[]);
    let before = open_fds(d.pid());
    let id = start_action(
        &d,
        "traffic",
        r#"{"rps": 500, "duration": "30s", "target": "echo"}"#,
    );
    wait_for(Duration::from_secs(5), || {
        let (_, a) = call("GET", &d.control_url(&format!("/actions/{id}")), "");
        (a["achieved"]["sent"].as_u64()? > 0).then_some(())
    })
    .expect("requests go out");
    stop_action(&d, &id);
    let settled = wait_for(Duration::from_secs(5), || {
        (open_fds(d.pid()) <= before).then_some(())
    });
    assert!(
        settled.is_some(),
        "fds back to {before}, now {}",
        open_fds(d.pid())
    );
    let m = d.scrape();
    assert_eq!(
        metric(&m, "jolt_traffic_target_requests_per_second", &[]),
        Some(0.0)
    );
}

/// A minimal HTTP/1.1 peer answering 204 to every request; counts the requests it saw.
struct Peer {
    addr: SocketAddr,
    requests: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Peer {
    fn start() -> Peer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, halt) = (requests.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut conns = Vec::new();
            while !halt.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut s, _)) => {
                        let seen = seen.clone();
                        conns.push(std::thread::spawn(move || {
                            s.set_nonblocking(false).unwrap();
                            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                            let mut buf = [0u8; 4096];
                            while let Ok(n) = s.read(&mut buf) {
                                if n == 0 {
                                    break;
                                }
                                let heads = buf[..n].windows(4).filter(|w| w == b"\r\n\r\n");
                                for _ in heads {
                                    seen.fetch_add(1, Ordering::Relaxed);
                                    let ok = s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n");
                                    if ok.is_err() {
                                        return;
                                    }
                                }
                            }
                        }));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
            for c in conns {
                let _ = c.join();
            }
        });
        Peer {
            addr,
            requests,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[test]
fn only_allowlisted_peers_are_reachable() {
    let peer = Peer::start();
    let addr = peer.addr.to_string();

    let (d, _cfg) = daemon(&[]);
    let body = format!(r#"{{"rps": 20, "duration": "500ms", "target": "{addr}"}}"#);
    let (status, e) = call("POST", &d.control_url("/actions/traffic"), &body);
    assert_eq!(status, 422, "{e}");
    assert_eq!(e["field"], "target");
    assert!(e["message"].as_str().unwrap().contains("allow"), "{e}");
    let (_, list) = call("GET", &d.control_url("/actions"), "");
    assert_eq!(list.as_array().map(Vec::len), Some(0));
    assert_eq!(peer.requests.load(Ordering::Relaxed), 0);
    drop(d);

    let (d, _cfg) = daemon(&["--allow-target", &addr]);
    let id = start_action(&d, "traffic", &body);
    let a = wait_ended(&d, &id, Duration::from_secs(30));
    assert_eq!(a["state"], "completed", "{a}");
    let sent = a["achieved"]["sent"].as_u64().unwrap();
    assert!((9..=11).contains(&sent), "{a}");
    assert_eq!(peer.requests.load(Ordering::Relaxed) as u64, sent);
    let m = d.scrape();
    let labels = [("target", addr.as_str()), ("code", "204")];
    assert_eq!(
        metric(&m, "jolt_traffic_requests_total", &labels),
        Some(sent as f64)
    );
}

#[test]
fn bad_inputs_are_refused_and_change_nothing() {
    let (d, _cfg) = daemon(&[]);
    let cases: &[(&str, u16, Option<&str>)] = &[
        (r#"{"rps": 0}"#, 422, Some("rps")),
        (r#"{"rps": -5}"#, 422, Some("rps")),
        (r#"{"rps": 1e9}"#, 422, Some("rps")),
        (r#"{"rps": "fast"}"#, 400, Some("rps")),
        (r#"{"ramp_from": -1}"#, 422, Some("ramp_from")),
        (r#"{"duration": 0}"#, 422, Some("duration")),
        (r#"{"max_in_flight": 0}"#, 422, Some("max_in_flight")),
        (r#"{"timeout": "0s"}"#, 422, Some("timeout")),
        (r#"{"target": "nope"}"#, 422, Some("target")),
        (r#"{"target": "https://10.0.0.1:443"}"#, 422, Some("target")),
        (r#"{"target": "169.254.169.254:80"}"#, 422, Some("target")),
        (r#"{"rate": 5}"#, 400, Some("rate")),
        (r#"{"rps": 5"#, 400, None),
    ];
    for (body, status, field) in cases {
        let (got, e) = call("POST", &d.control_url("/actions/traffic"), body);
        assert_eq!(got, *status, "{body}: {e}");
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
        if let Some(f) = field {
            assert_eq!(e["field"], *f, "{body}: {e}");
        }
    }
    let (_, list) = call("GET", &d.control_url("/actions"), "");
    assert_eq!(list.as_array().map(Vec::len), Some(0), "{list}");
    let m = d.scrape();
    assert_eq!(
        metric(&m, "jolt_traffic_request_duration_seconds_count", &[]),
        Some(0.0)
    );
}
