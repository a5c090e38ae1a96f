//! Starts the three listeners and runs until the shutdown future resolves.
//!
//! Everything long-lived hangs off one root [`CancellationToken`] and one [`TaskTracker`], so
//! shutdown is: cancel, then wait (bounded) for every task to finish cleaning up.

use crate::config::Config;
use crate::events::Events;
use crate::metrics::{self, Exposition};
use crate::{actions, api, services};
use anyhow::Context;
use prometheus_client::registry::Registry;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// How long shutdown waits for tasks before giving up (the contract is exit within 2 s).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);

/// The bound listeners, bound before anything else starts so a busy port fails fast.
pub struct Listeners {
    /// `/metrics`.
    pub metrics: TcpListener,
    /// Control API.
    pub control: TcpListener,
    /// Simulated services.
    pub services: TcpListener,
}

impl Listeners {
    /// Binds all three; the error names the listener and address.
    pub async fn bind(cfg: &Config) -> anyhow::Result<Listeners> {
        Ok(Listeners {
            metrics: bind("metrics", cfg.metrics_listen).await?,
            control: bind("control", cfg.control_listen).await?,
            services: bind("services", cfg.services_listen).await?,
        })
    }
}

async fn bind(name: &str, addr: SocketAddr) -> anyhow::Result<TcpListener> {
    let l = TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot bind {name} listener on {addr}"))?;
    let local = l.local_addr()?;
    tracing::info!(listener = name, addr = %local, "listening on {local}");
    Ok(l)
}

/// Runs jolt until `shutdown` resolves, then stops every action and returns.
pub async fn run(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let listeners = Listeners::bind(&config).await?;
    let root = CancellationToken::new();
    let tasks = TaskTracker::new();

    let mut registry = Registry::default();
    metrics::register_self(&mut registry);
    let host = metrics::host::HostCollector::new(&config.collectors)?;
    host.spawn_samplers(&tasks, &root);
    registry.register_collector(Box::new(host));
    let events = Events::new(&mut registry);
    let env = actions::Env {
        config: config.actions.clone(),
        host: config.collectors.paths(),
        state_dir: config.state_dir.clone(),
        services_addr: listeners.services.local_addr()?,
        metrics: actions::ActionMetrics::new(&mut registry),
        events: events.clone(),
    };
    let engine = actions::Engine::new(env, root.child_token(), tasks.clone());
    let exposition = Exposition::new(registry);

    serve(
        &tasks,
        &root,
        listeners.metrics,
        metrics::router(exposition),
    );
    let control = api::ControlState {
        engine: engine.clone(),
        events,
    };
    serve(&tasks, &root, listeners.control, api::router(control));
    serve(&tasks, &root, listeners.services, services::router());

    shutdown.await;
    tracing::info!("shutting down");
    root.cancel();
    tasks.close();
    if tokio::time::timeout(SHUTDOWN_GRACE, tasks.wait())
        .await
        .is_err()
    {
        tracing::warn!("some tasks did not finish within {SHUTDOWN_GRACE:?}; exiting anyway");
    }
    Ok(())
}

/// Serves `router` on `listener` until `root` is cancelled.
fn serve(
    tasks: &TaskTracker,
    root: &CancellationToken,
    listener: TcpListener,
    router: axum::Router,
) {
    let token = root.clone();
    tasks.spawn(async move {
        let app = router.into_make_service_with_connect_info::<SocketAddr>();
        let result = axum::serve(listener, app)
            .with_graceful_shutdown(token.cancelled_owned())
            .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "listener failed");
        }
    });
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
