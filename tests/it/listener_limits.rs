//! Issue 12, finding 3 over real sockets: slow clients are cut on every listener and counted,
//! connections beyond the per-listener cap are closed, and a fast scraper is never hurt.

use crate::common;

use common::{Daemon, get, metric, wait_for};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Sends `first`, then `line` every 2 s until the server closes the connection or `give_up`
/// passes; returns true when the server closed it.
fn trickle(addr: SocketAddr, first: &str, line: &str, give_up: Duration) -> bool {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    s.write_all(first.as_bytes()).unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 4096];
    while start.elapsed() < give_up {
        match s.read(&mut buf) {
            // EOF, or any response (a 4xx/5xx) followed by a close, ends the trickle.
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(_) => return true,
        }
        if s.write_all(line.as_bytes()).is_err() {
            return true;
        }
    }
    false
}

fn rejected(d: &Daemon, listener: &str, reason: &str) -> f64 {
    metric(
        &d.scrape(),
        "jolt_http_connections_rejected_total",
        &[("listener", listener), ("reason", reason)],
    )
    .unwrap_or(0.0)
}

#[test]
fn a_header_trickled_every_two_seconds_is_cut_on_every_listener() {
    let d = Daemon::start(&["--http-header-timeout", "3s"]);
    for (name, addr) in [
        ("control", d.control),
        ("metrics", d.metrics),
        ("services", d.services),
    ] {
        let closed = trickle(
            addr,
            "GET / HTTP/1.1\r\nHost: x\r\n",
            "X-Slow: 1\r\n",
            Duration::from_secs(20),
        );
        assert!(
            closed,
            "{name}: a slowloris connection stayed open for 20 s"
        );
        let counted = wait_for(Duration::from_secs(2), || {
            (rejected(&d, name, "header_timeout") >= 1.0).then_some(())
        });
        assert!(counted.is_some(), "{name}: not counted");
    }
}

#[test]
fn a_body_trickled_every_two_seconds_is_cut() {
    let d = Daemon::start(&["--http-body-timeout", "3s"]);
    // The control API answers only to its own names (DNS rebinding): send its address.
    let head = format!(
        "POST /actions/cpu HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\n\
         Content-Length: 1000\r\n\r\n{{",
        d.control
    );
    let closed = trickle(d.control, &head, " ", Duration::from_secs(20));
    assert!(closed, "a body trickle stayed open for 20 s");
    assert!(rejected(&d, "control", "body_timeout") >= 1.0);
    let (_, _, list) = get(&d.control_url("/actions"), None);
    assert_eq!(list, "[]", "nothing started");
}

#[test]
fn an_idle_kept_alive_connection_is_closed() {
    let d = Daemon::start(&["--http-header-timeout", "2s"]);
    let mut s = TcpStream::connect(d.metrics).unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut closed = false;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => {
                closed = true;
                break;
            }
            Ok(_) => {}
        }
    }
    assert!(closed, "an idle keep-alive connection stayed open for 20 s");
    let counted = wait_for(Duration::from_secs(2), || {
        (rejected(&d, "metrics", "idle_timeout") >= 1.0).then_some(())
    });
    assert!(
        counted.is_some(),
        "an idle close is counted as idle_timeout"
    );
    assert_eq!(rejected(&d, "metrics", "header_timeout"), 0.0);
}

#[test]
fn connections_beyond_the_cap_are_closed_and_counted() {
    let d = Daemon::start(&["--http-max-connections", "4"]);
    // Four idle connections take every slot of the control listener.
    let held: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(d.control).unwrap())
        .collect();
    wait_for(Duration::from_secs(3), || {
        let open = metric(
            &d.scrape(),
            "jolt_http_connections_open",
            &[("listener", "control")],
        );
        (open == Some(4.0)).then_some(())
    })
    .expect("four open connections");
    let mut extra = TcpStream::connect(d.control).unwrap();
    extra
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    let mut buf = [0u8; 256];
    let n = extra.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the fifth connection was served: {:?}", &buf[..n]);
    assert_eq!(rejected(&d, "control", "max_connections"), 1.0);
    // The other listeners have their own caps: scraping still works.
    assert_eq!(get(&d.metrics_url(), None).0, 200);
    drop(held);
    let ok = wait_for(Duration::from_secs(3), || {
        let (status, _, _) = get(&d.control_url("/healthz"), None);
        (status == 200).then_some(())
    });
    assert!(ok.is_some(), "slots freed when the connections closed");
}

/// A scraper that asks every second on one kept-alive connection is never cut by the
/// defaults (the header timeout restarts with every request).
#[test]
fn a_one_second_scrape_on_a_kept_alive_connection_is_never_cut() {
    let d = Daemon::start(&["--http-header-timeout", "2s"]);
    let agent = common::agent();
    for _ in 0..4 {
        let r = agent.get(&d.metrics_url()).call().unwrap();
        assert_eq!(r.status().as_u16(), 200);
        std::thread::sleep(Duration::from_secs(1));
    }
    assert_eq!(rejected(&d, "metrics", "header_timeout"), 0.0);
}
