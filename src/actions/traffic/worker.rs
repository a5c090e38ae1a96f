//! A connection worker: one kept-alive HTTP/1.1 connection that takes due times off the
//! backlog, sends one request for each, and records its latency from when it was due.
//!
//! Workers own their connection outright (hyper's `client::conn`), which is a pool of
//! persistent connections without a pool's lock on every request or a task per connection.

use super::http1::Http1;
use super::stats::Stats;
use super::target::Target;
use crate::actions::ActionMetrics;
use crate::actions::traffic::metrics::TrafficLabels;
use prometheus_client::metrics::counter::Counter;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;
use tokio::time::Instant;

/// What every worker of one action shares.
pub struct Shared {
    /// Where to connect.
    pub addr: SocketAddr,
    /// The whole request, built once.
    pub request: Vec<u8>,
    /// The `target` label.
    pub label: String,
    /// How long a request may take before it counts as an error.
    pub timeout: Duration,
    /// The action's counts.
    pub stats: Stats,
    /// Workers waiting for work; the producer adds workers only when none is.
    pub idle: AtomicUsize,
    /// The action metrics.
    pub metrics: ActionMetrics,
}

impl Shared {
    /// Builds the shared part from a resolved target and address.
    pub fn new(
        target: &Target,
        addr: SocketAddr,
        timeout: Duration,
        metrics: ActionMetrics,
    ) -> Result<Shared, String> {
        let clean = |t: &str| !t.bytes().any(|b| b.is_ascii_control() || b == b' ');
        if !clean(&target.path) || !clean(&target.authority) {
            return Err(format!("bad target {}{}", target.authority, target.path));
        }
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: jolt/{}\r\n\r\n",
            target.path,
            target.authority,
            env!("CARGO_PKG_VERSION")
        )
        .into_bytes();
        Ok(Shared {
            addr,
            request,
            label: target.label.clone(),
            timeout,
            stats: Stats::default(),
            idle: AtomicUsize::new(0),
            metrics,
        })
    }
}

/// Counters of `jolt_traffic_requests_total{target,code}` this worker has used, so the
/// request path does not look label sets up.
struct Codes {
    by_code: Vec<(u16, Counter)>,
    error: Counter,
}

impl Codes {
    fn new(s: &Shared) -> Codes {
        let error = s
            .metrics
            .kinds
            .traffic
            .requests
            .get_or_create(&labels(s, "error"))
            .clone();
        Codes {
            by_code: Vec::new(),
            error,
        }
    }

    fn get(&mut self, s: &Shared, code: u16) -> &Counter {
        let i = match self.by_code.iter().position(|(c, _)| *c == code) {
            Some(i) => i,
            None => {
                let c = s
                    .metrics
                    .kinds
                    .traffic
                    .requests
                    .get_or_create(&labels(s, &code.to_string()))
                    .clone();
                self.by_code.push((code, c));
                self.by_code.len() - 1
            }
        };
        &self.by_code[i].1
    }
}

fn labels(s: &Shared, code: &str) -> TrafficLabels {
    TrafficLabels {
        target: s.label.clone(),
        code: code.into(),
    }
}

/// Serves due times from `backlog` until it is closed and empty. The producer counts this
/// worker idle when it spawns it.
pub async fn run(shared: Arc<Shared>, backlog: async_channel::Receiver<Instant>) {
    crate::supervise::injection_point("traffic:worker");
    let mut conn: Option<Http1> = None;
    let mut codes = Codes::new(&shared);
    // One timer per worker rather than one per request: it is re-armed only when it fires
    // before the current request's deadline, so at most once per `timeout`.
    let watchdog = tokio::time::sleep(shared.timeout);
    tokio::pin!(watchdog);
    while let Ok(due) = backlog.recv().await {
        shared.idle.fetch_sub(1, Relaxed);
        shared.stats.sent.fetch_add(1, Relaxed);
        let deadline = Instant::now() + shared.timeout;
        let result = {
            let exchange = send(&shared, &mut conn);
            tokio::pin!(exchange);
            loop {
                tokio::select! {
                    biased;
                    r = &mut exchange => break r,
                    _ = &mut watchdog => {
                        if Instant::now() >= deadline {
                            break Err("timed out".into());
                        }
                        watchdog.as_mut().reset(deadline);
                    }
                }
            }
        };
        let latency = due.elapsed();
        let s = &shared.stats;
        match result {
            Ok(code) => {
                s.answered.fetch_add(1, Relaxed);
                if code >= 500 {
                    s.errors.fetch_add(1, Relaxed);
                }
                codes.get(&shared, code).inc();
            }
            Err(_) => {
                // A broken or timed-out connection is not reused.
                conn = None;
                s.errors.fetch_add(1, Relaxed);
                codes.error.inc();
            }
        }
        s.observe(latency);
        shared
            .metrics
            .kinds
            .traffic
            .duration
            .observe(latency.as_secs_f64());
        shared.idle.fetch_add(1, Relaxed);
    }
}

/// Sends one request on the kept-alive connection (connecting first if needed) and reads the
/// whole response; returns the status code. A kept-alive connection the peer closed while
/// idle fails on first use: the request (a GET, so safe to repeat) then goes once more on a
/// fresh connection, as HTTP clients do, instead of counting as an error.
async fn send(s: &Shared, conn: &mut Option<Http1>) -> Result<u16, String> {
    let result = match conn.as_mut() {
        Some(c) => match c.exchange(&s.request).await {
            Ok(r) => Ok(r),
            Err(_) => {
                let mut fresh = Http1::connect(s.addr).await.map_err(|e| e.to_string())?;
                let r = fresh.exchange(&s.request).await;
                *conn = Some(fresh);
                r
            }
        },
        None => {
            let c = conn.insert(Http1::connect(s.addr).await.map_err(|e| e.to_string())?);
            c.exchange(&s.request).await
        }
    };
    match result {
        Ok((code, reusable)) => {
            if !reusable {
                *conn = None;
            }
            Ok(code)
        }
        Err(e) => {
            *conn = None;
            Err(e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// Answers one request per connection, then closes it without saying so beforehand,
    /// as a server that drops idle keep-alive connections does.
    async fn one_shot_server() -> SocketAddr {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let mut buf = [0u8; 1024];
                let mut got = Vec::new();
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    let n = s.read(&mut buf).await.unwrap();
                    got.extend_from_slice(&buf[..n]);
                }
                s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                    .await
                    .unwrap();
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_connection_closed_while_idle_is_replaced_not_counted() {
        let addr = one_shot_server().await;
        let target = Target {
            label: "peer".into(),
            authority: addr.to_string(),
            path: "/".into(),
        };
        let metrics = ActionMetrics::new(&mut Default::default());
        let shared = Shared::new(&target, addr, Duration::from_secs(5), metrics).unwrap();
        let mut conn = None;
        for _ in 0..3 {
            assert_eq!(send(&shared, &mut conn).await, Ok(200));
            // Let the server's close reach us before the next request.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
