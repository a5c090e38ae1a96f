//! Starts the three listeners and runs until the shutdown future resolves.
//!
//! Everything long-lived hangs off one root [`CancellationToken`] and one [`TaskTracker`], so
//! shutdown is: cancel, then wait (bounded) for every task to finish cleaning up.

use crate::config::Config;
use crate::events::Events;
use crate::metrics::{self, Exposition};
use crate::{actions, api, listener, scenarios, services};
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
    // Before binding, so a daemon that reports its listeners has cleaned up.
    let stale = actions::disk::remove_leftovers(&config.state_dir, false);
    if stale > 0 {
        tracing::info!(
            count = stale,
            "removed scratch directories left by a crashed run"
        );
    }
    // Before binding too: the collectors open the files they keep here, so a daemon that
    // reports its listeners has every descriptor it keeps.
    let collectors = Collectors::new(&config)?;
    let listeners = Listeners::bind(&config).await?;
    let root = CancellationToken::new();
    let tasks = TaskTracker::new();

    let wired = wire_with(
        collectors,
        &config,
        listeners.control.local_addr()?,
        listeners.services.local_addr()?,
        &root,
        &tasks,
    )?;
    reload_on_hangup(&tasks, &root, wired.control.scenarios.clone())?;
    let serve = |name, l, router| {
        listener::serve(
            &tasks,
            &root,
            name,
            l,
            router,
            config.http,
            wired.http.clone(),
        );
    };
    serve(
        "metrics",
        listeners.metrics,
        api::scrape::router(wired.exposition),
    );
    serve("control", listeners.control, api::router(wired.control));
    serve(
        "services",
        listeners.services,
        services::router(wired.services),
    );
    // Everything is built: what startup alone touched goes back (see footprint.rs), on a
    // blocking thread so the first requests do not wait behind it.
    tasks.spawn_blocking(|| {
        let unmapped = crate::footprint::settle();
        tracing::debug!(unmapped, "startup memory given back");
    });

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
    // Disk actions remove their own scratch directories; this catches one cut short.
    actions::disk::remove_leftovers(&config.state_dir, true);
    Ok(())
}

/// What the three listeners serve, wired from the config.
pub struct Wired {
    /// `/metrics`: the registry of every collector and family.
    pub exposition: Exposition,
    /// The control API's state (engines, events, security).
    pub control: api::ControlState,
    /// The simulated services.
    pub services: services::Services,
    /// Per-listener HTTP metrics.
    pub http: listener::HttpMetrics,
}

/// Builds everything the listeners serve, with its background tasks under `root`/`tasks`.
/// `control_addr` and `services_addr` are where the control API and the services are
/// reachable. The in-process router tests call this too, so they test the daemon's wiring.
pub fn wire(
    config: &Config,
    control_addr: SocketAddr,
    services_addr: SocketAddr,
    root: &CancellationToken,
    tasks: &TaskTracker,
) -> anyhow::Result<Wired> {
    let collectors = Collectors::new(config)?;
    wire_with(collectors, config, control_addr, services_addr, root, tasks)
}

/// The registry with the daemon's own metrics and the host collectors, which open the files
/// they keep (and read them once) when built.
pub struct Collectors {
    registry: Registry,
    host: metrics::host::HostCollector,
}

impl Collectors {
    /// Builds them from the config; fails on a bad exclusion pattern.
    pub fn new(config: &Config) -> anyhow::Result<Self> {
        let mut registry = Registry::default();
        metrics::register_self(&mut registry);
        let host = metrics::host::HostCollector::new(&config.collectors)?;
        Ok(Collectors { registry, host })
    }
}

/// [`wire`] with collectors built beforehand.
fn wire_with(
    collectors: Collectors,
    config: &Config,
    control_addr: SocketAddr,
    services_addr: SocketAddr,
    root: &CancellationToken,
    tasks: &TaskTracker,
) -> anyhow::Result<Wired> {
    let Collectors { mut registry, host } = collectors;
    host.spawn_samplers(tasks, root);
    registry.register_collector(Box::new(host));
    let events = Events::new(&mut registry);
    let alerts = api::AlertMetrics::new(&mut registry);
    let http = listener::HttpMetrics::new(&mut registry);
    let security = api::Security::new(&config.control, control_addr)?;
    let sim = services::Services::register(&config.services, &mut registry);
    sim.spawn(tasks, root);
    let env = actions::Env {
        config: config.actions.clone(),
        host: config.collectors.paths(),
        state_dir: config.state_dir.clone(),
        services_addr,
        metrics: actions::ActionMetrics::new(&mut registry),
        events: events.clone(),
        services: sim.clone(),
    };
    let engine = actions::Engine::new(env, root.child_token(), tasks.clone());
    let scenarios = scenarios::Scenarios::new(
        &config.scenarios,
        engine.clone(),
        events.clone(),
        scenarios::ScenarioMetrics::new(&mut registry),
        root.child_token(),
        tasks.clone(),
    )?
    .with_prom(crate::prom::Prom::new(&config.verify));
    let reports = crate::reports::Reports::open(
        &config.reports,
        &config.state_dir,
        crate::prom::Prom::new(&config.verify),
    )?;
    scenarios.runs.number_after(reports.highest_run_number());
    reports.spawn_recorder(
        events.clone(),
        scenarios.runs.clone(),
        engine.clone(),
        tasks,
        root.clone(),
        crate::api::run_json,
    );
    let control = api::ControlState {
        engine,
        events,
        alerts,
        security,
        shutdown: root.clone(),
        scenarios,
        reports,
    };
    Ok(Wired {
        exposition: Exposition::new(registry),
        control,
        services: sim,
        http,
    })
}

/// Re-reads the custom scenario directory on every SIGHUP until shutdown.
fn reload_on_hangup(
    tasks: &TaskTracker,
    root: &CancellationToken,
    scenarios: scenarios::Scenarios,
) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hup = signal(SignalKind::hangup()).context("installing a SIGHUP handler")?;
    let token = root.clone();
    tasks.spawn(async move {
        loop {
            tokio::select! {
                _ = token.cancelled() => break,
                got = hup.recv() => {
                    if got.is_none() {
                        break;
                    }
                    let r = scenarios.reload();
                    tracing::info!(loaded = r.loaded, rejected = r.errors.len(), "SIGHUP: scenarios reloaded");
                }
            }
        }
    });
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
///
/// The handlers are installed when this is called (inside the runtime), not when the future is
/// first polled, so a SIGTERM that arrives while the daemon is still starting up is a clean
/// shutdown rather than the default kill.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("installing a SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("installing a SIGINT handler");
    async move {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    }
}
