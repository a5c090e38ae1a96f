//! Serves a router on a listener with the limits every listener needs against slow or greedy
//! clients: a header read timeout (which also bounds idle keep-alive), a body deadline and a
//! cap on concurrent connections. What is cut is counted in
//! `jolt_http_connections_rejected_total{listener,reason}`; a kept-alive connection closed
//! after going quiet is `idle_timeout`, so a scraper with a long interval does not look like
//! a slow client.

mod body;
mod config;
mod io;

pub use config::{HttpArgs, HttpConfig};

use axum::extract::ConnectInfo;
use body::DeadlineBody;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use io::{Activity, CountingStream};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// How long shutdown lets open connections finish their current request.
const DRAIN: Duration = Duration::from_secs(1);
/// Pause after a failed accept (e.g. out of file descriptors) so the loop does not spin.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Why a connection was cut.
pub const MAX_CONNECTIONS: &str = "max_connections";
/// The head did not arrive in time.
pub const HEADER_TIMEOUT: &str = "header_timeout";
/// A kept-alive connection sent nothing for the header timeout after its last answer.
pub const IDLE_TIMEOUT: &str = "idle_timeout";
/// The body did not arrive in time.
pub const BODY_TIMEOUT: &str = "body_timeout";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RejectLabels {
    /// metrics, control or services.
    listener: String,
    /// max_connections, header_timeout, idle_timeout or body_timeout.
    reason: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ListenerLabels {
    /// metrics, control or services.
    listener: String,
}

/// Connection metrics of every listener.
#[derive(Clone)]
pub struct HttpMetrics {
    /// Connections cut, by listener and reason.
    rejected: Family<RejectLabels, Counter>,
    /// Connections open now, by listener.
    open: Family<ListenerLabels, Gauge>,
}

impl HttpMetrics {
    /// Registers the families.
    pub fn new(registry: &mut Registry) -> Self {
        let m = HttpMetrics {
            rejected: Family::default(),
            open: Family::default(),
        };
        registry.register(
            "jolt_http_connections_rejected",
            "Connections a listener cut: over its connection cap or too slow to send a request",
            m.rejected.clone(),
        );
        registry.register(
            "jolt_http_connections_open",
            "Connections a listener has open now",
            m.open.clone(),
        );
        m
    }

    fn reject(&self, listener: &str, reason: &str) {
        self.rejected
            .get_or_create(&RejectLabels {
                listener: listener.into(),
                reason: reason.into(),
            })
            .inc();
    }

    fn open(&self, listener: &str) -> Gauge {
        self.open
            .get_or_create(&ListenerLabels {
                listener: listener.into(),
            })
            .clone()
    }
}

/// Serves `router` on `listener` (named `name` in metrics and logs) until `root` is cancelled.
pub fn serve(
    tasks: &TaskTracker,
    root: &CancellationToken,
    name: &'static str,
    listener: TcpListener,
    router: axum::Router,
    cfg: HttpConfig,
    metrics: HttpMetrics,
) {
    let token = root.clone();
    let conns = tasks.clone();
    tasks.spawn(async move {
        let slots = Arc::new(Semaphore::new(cfg.max_connections));
        let graceful = GracefulShutdown::new();
        let open = metrics.open(name);
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(cfg.header_timeout.0);
        builder
            .http2()
            .timer(TokioTimer::new())
            .keep_alive_interval(Some(cfg.header_timeout.0));
        loop {
            let (stream, peer) = tokio::select! {
                _ = token.cancelled() => break,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!(listener = name, error = %e, "accept failed");
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                },
            };
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                metrics.reject(name, MAX_CONNECTIONS);
                drop(stream);
                continue;
            };
            let activity = Arc::new(Activity::default());
            let svc = service(
                router.clone(),
                peer,
                name,
                cfg.body_timeout.0,
                metrics.clone(),
                activity.clone(),
            );
            let io = TokioIo::new(CountingStream::new(stream, activity.clone()));
            let conn = builder.serve_connection_with_upgrades(io, svc).into_owned();
            let conn = graceful.watch(conn);
            let (metrics, open) = (metrics.clone(), open.clone());
            open.inc();
            conns.spawn(async move {
                if let Err(e) = conn.await
                    && is_header_timeout(e.as_ref())
                {
                    let reason = if activity.idle() {
                        IDLE_TIMEOUT
                    } else {
                        HEADER_TIMEOUT
                    };
                    metrics.reject(name, reason);
                }
                open.dec();
                drop(slot);
            });
        }
        drop(listener);
        if tokio::time::timeout(DRAIN, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::debug!(
                listener = name,
                "some connections were still open at shutdown"
            );
        }
    });
}

/// The per-connection service: the peer address for handlers, and the body deadline.
fn service(
    router: axum::Router,
    peer: SocketAddr,
    name: &'static str,
    body_timeout: Duration,
    metrics: HttpMetrics,
    activity: Arc<Activity>,
) -> hyper_util::service::TowerToHyperService<
    impl tower::Service<
        hyper::Request<Incoming>,
        Response = axum::response::Response,
        Error = std::convert::Infallible,
        Future = impl Send,
    > + Clone,
> {
    let svc = tower::service_fn(move |req: hyper::Request<Incoming>| {
        let router = router.clone();
        let metrics = metrics.clone();
        let activity = activity.clone();
        async move {
            let (mut parts, incoming) = req.into_parts();
            parts.extensions.insert(ConnectInfo(peer));
            let body = DeadlineBody::new(incoming, body_timeout, move || {
                metrics.reject(name, BODY_TIMEOUT)
            });
            let req = hyper::Request::from_parts(parts, axum::body::Body::new(body));
            let response = router.oneshot(req).await;
            activity.answered();
            response
        }
    });
    hyper_util::service::TowerToHyperService::new(svc)
}

/// Whether a connection ended because hyper's header read timer fired.
fn is_header_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(e);
    while let Some(err) = cur {
        if let Some(h) = err.downcast_ref::<hyper::Error>()
            && h.is_timeout()
        {
            return true;
        }
        cur = err.source();
    }
    false
}
