//! A connection worker: one kept-alive HTTP/1.1 connection that takes due times off the
//! backlog, sends one request for each, and records its latency from when it was due.
//!
//! Workers own their connection outright (hyper's `client::conn`), which is a pool of
//! persistent connections without a pool's lock on every request.

use super::stats::Stats;
use super::target::Target;
use crate::actions::ActionMetrics;
use crate::actions::metrics::TrafficLabels;
use axum::body::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{HOST, HeaderValue};
use hyper::{Request, Uri};
use hyper_util::rt::TokioIo;
use prometheus_client::metrics::counter::Counter;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// What every worker of one action shares.
pub struct Shared {
    /// Where to connect.
    pub addr: SocketAddr,
    /// The request path.
    pub uri: Uri,
    /// The `Host` header.
    pub host: HeaderValue,
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
        let uri: Uri = target
            .path
            .parse()
            .map_err(|e| format!("bad path {}: {e}", target.path))?;
        let host = HeaderValue::from_str(&target.authority)
            .map_err(|e| format!("bad host {}: {e}", target.authority))?;
        Ok(Shared {
            addr,
            uri,
            host,
            label: target.label.clone(),
            timeout,
            stats: Stats::default(),
            idle: AtomicUsize::new(0),
            metrics,
        })
    }
}

/// The connection and the task that drives it; dropping it closes both.
struct Conn {
    sender: SendRequest<Empty<Bytes>>,
    driver: JoinHandle<()>,
}

impl Drop for Conn {
    fn drop(&mut self) {
        self.driver.abort();
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
            .traffic_requests
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
                    .traffic_requests
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
    let mut conn: Option<Conn> = None;
    let mut codes = Codes::new(&shared);
    while let Ok(due) = backlog.recv().await {
        shared.idle.fetch_sub(1, Relaxed);
        shared.stats.sent.fetch_add(1, Relaxed);
        let result = tokio::time::timeout(shared.timeout, send(&shared, &mut conn)).await;
        let latency = due.elapsed();
        let s = &shared.stats;
        match result {
            Ok(Ok(code)) => {
                s.answered.fetch_add(1, Relaxed);
                if code >= 500 {
                    s.errors.fetch_add(1, Relaxed);
                }
                codes.get(&shared, code).inc();
            }
            Ok(Err(_)) | Err(_) => {
                // A broken or timed-out connection is not reused.
                conn = None;
                s.errors.fetch_add(1, Relaxed);
                codes.error.inc();
            }
        }
        s.observe(latency);
        shared
            .metrics
            .traffic_duration
            .observe(latency.as_secs_f64());
        shared.idle.fetch_add(1, Relaxed);
    }
}

/// Sends one request on the kept-alive connection (connecting first if needed) and reads
/// the whole response so the connection can be reused; returns the status code.
async fn send(s: &Shared, conn: &mut Option<Conn>) -> Result<u16, String> {
    if conn.as_ref().is_none_or(|c| c.sender.is_closed()) {
        *conn = None;
        *conn = Some(connect(s.addr).await?);
    }
    let c = conn.as_mut().expect("just connected");
    c.sender.ready().await.map_err(|e| e.to_string())?;
    let mut req = Request::new(Empty::new());
    *req.uri_mut() = s.uri.clone();
    req.headers_mut().insert(HOST, s.host.clone());
    let resp = c
        .sender
        .send_request(req)
        .await
        .map_err(|e| e.to_string())?;
    let code = resp.status().as_u16();
    let mut body = resp.into_body();
    while let Some(frame) = body.frame().await {
        frame.map_err(|e| e.to_string())?;
    }
    Ok(code)
}

async fn connect(addr: SocketAddr) -> Result<Conn, String> {
    let stream = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(Conn { sender, driver })
}
