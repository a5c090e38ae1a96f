//! network actions over real HTTP: bytes go out at the rate and jolt's loopback sink counts
//! them, an allowlisted peer receives them, every socket closes when the action ends or is
//! stopped, and bad inputs are refused.

use crate::common;

use common::{
    Daemon, call, get, metric, open_fds, start_action, stop_action, wait_ended, wait_for,
};
use serde_json::Value;
use std::time::Duration;

/// 8 Mbit/s for 1 s is 1,000,000 bytes.
fn sends_and_the_sink_receives(protocol: &str) {
    let d = Daemon::start(&["--baseline-rps", "0"]);
    let fds = open_fds(d.pid());
    let body = format!(r#"{{"mbps": 8, "duration": "1s", "protocol": "{protocol}"}}"#);
    let id = start_action(&d, "network", &body);
    let a = wait_ended(&d, &id, Duration::from_secs(15));
    assert_eq!(a["state"], "completed", "{a}");
    let got = &a["achieved"];
    let sent = got["bytes_sent"].as_f64().unwrap();
    let received = got["bytes_received"].as_f64().unwrap();
    assert!((950_000.0..=1_010_000.0).contains(&sent), "{a}");
    assert!(received >= sent * 0.9 && received <= sent, "{a}");
    let mbps = got["mbps"].as_f64().unwrap();
    assert!((7.6..=8.1).contains(&mbps), "{a}");
    let m = get(&d.metrics_url(), None).2;
    let p = [("protocol", protocol)];
    assert_eq!(metric(&m, "jolt_network_sent_bytes_total", &p), Some(sent));
    assert_eq!(
        metric(&m, "jolt_network_received_bytes_total", &p),
        Some(received)
    );
    assert_eq!(
        metric(&m, "jolt_network_target_bytes_per_second", &[]),
        Some(0.0)
    );
    let closed = wait_for(Duration::from_secs(5), || {
        (open_fds(d.pid()) <= fds).then_some(())
    });
    assert!(
        closed.is_some(),
        "sockets closed: {fds} before, {} now",
        open_fds(d.pid())
    );
}

#[test]
fn udp_is_sent_at_the_rate_and_counted_on_both_ends() {
    sends_and_the_sink_receives("udp");
}

#[test]
fn tcp_is_sent_at_the_rate_and_counted_on_both_ends() {
    sends_and_the_sink_receives("tcp");
}

#[test]
fn stopping_closes_the_sockets() {
    let d = Daemon::start(&["--baseline-rps", "0"]);
    for protocol in ["udp", "tcp"] {
        let fds = open_fds(d.pid());
        let id = start_action(
            &d,
            "network",
            &format!(r#"{{"mbps": 20, "duration": "60s", "protocol": "{protocol}"}}"#),
        );
        let opened = wait_for(Duration::from_secs(5), || {
            (open_fds(d.pid()) > fds).then_some(())
        });
        assert!(opened.is_some(), "{protocol}: the sink and sender are open");
        stop_action(&d, &id);
        let closed = wait_for(Duration::from_secs(5), || {
            (open_fds(d.pid()) <= fds).then_some(())
        });
        assert!(
            closed.is_some(),
            "{protocol}: {fds} fds before, {} after stop",
            open_fds(d.pid())
        );
    }
}

#[test]
fn an_allowlisted_peer_receives_the_bytes() {
    let peer = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    peer.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let addr = peer.local_addr().unwrap().to_string();
    let d = Daemon::start(&["--baseline-rps", "0", "--allow-target", &addr]);
    let id = start_action(
        &d,
        "network",
        &format!(r#"{{"mbps": 1, "duration": "500ms", "protocol": "udp", "peer": "{addr}"}}"#),
    );
    let mut got = 0usize;
    let mut buf = [0u8; 65536];
    while let Ok(n) = peer.recv(&mut buf) {
        got += n;
    }
    let a = wait_ended(&d, &id, Duration::from_secs(15));
    assert_eq!(a["state"], "completed", "{a}");
    assert_eq!(
        a["achieved"]["bytes_received"],
        Value::Null,
        "jolt cannot see a peer's side"
    );
    let sent = a["achieved"]["bytes_sent"].as_u64().unwrap() as usize;
    assert!(sent >= 60_000, "{a}");
    assert_eq!(got, sent, "the peer got every datagram");
}

#[test]
fn bad_inputs_are_refused_and_change_nothing() {
    let d = Daemon::start(&["--baseline-rps", "0"]);
    let cases: &[(&str, u16, Option<&str>)] = &[
        (r#"{"mbps": 0}"#, 422, Some("mbps")),
        (r#"{"mbps": -1}"#, 422, Some("mbps")),
        (r#"{"mbps": 1e12}"#, 422, Some("mbps")),
        (r#"{"duration": "0s"}"#, 422, Some("duration")),
        (r#"{"protocol": "sctp"}"#, 400, Some("protocol")),
        (r#"{"peer": "10.1.2.3:9"}"#, 422, Some("peer")),
        (r#"{"bandwidth": 3}"#, 400, Some("bandwidth")),
        (r#"{"mbps": "lots"}"#, 400, Some("mbps")),
    ];
    for (body, status, field) in cases {
        let (got, e) = call("POST", &d.control_url("/actions/network"), body);
        assert_eq!(got, *status, "{body}: {e}");
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "{e}");
        if let Some(f) = field {
            assert_eq!(e["field"], *f, "{body}: {e}");
        }
    }
    let (_, list) = call("GET", &d.control_url("/actions"), "");
    assert_eq!(list.as_array().map(Vec::len), Some(0), "{list}");
    let m = get(&d.metrics_url(), None).2;
    let udp = [("protocol", "udp")];
    assert_eq!(metric(&m, "jolt_network_sent_bytes_total", &udp), Some(0.0));
}
