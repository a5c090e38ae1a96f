//! A live test bed for unit tests that need what HTTP cannot reach (pausing an action is only
//! done by scenario runs): an action engine plus the services served on a loopback port.

use super::{Services, ServicesConfig, router};
use crate::actions::{ActionMetrics, Engine, Env};
use crate::events::Events;
use prometheus_client::registry::Registry;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Everything stops when it is dropped.
pub struct TestBed {
    /// The engine, with the services in its `Env`.
    pub engine: Engine,
    /// The services.
    pub services: Services,
    token: CancellationToken,
    _state: tempfile::TempDir,
}

impl TestBed {
    /// Serves the `services:` section given as YAML on 127.0.0.1:0, without baseline traffic.
    pub async fn start(services_yaml: &str) -> TestBed {
        let mut cfg: ServicesConfig = serde_yaml_ng::from_str(services_yaml).expect("yaml");
        cfg.baseline_rps = 0.0;
        let mut registry = Registry::default();
        let services = Services::register(&cfg, &mut registry);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let token = CancellationToken::new();
        let tasks = TaskTracker::new();
        let app = router(services.clone());
        let stop = token.clone();
        tasks.spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await;
        });
        let state = tempfile::tempdir().unwrap();
        let env = Env {
            config: Default::default(),
            host: crate::metrics::host::HostConfig::default().paths(),
            state_dir: state.path().to_path_buf(),
            services_addr: addr,
            metrics: ActionMetrics::new(&mut registry),
            events: Events::new(&mut registry),
            services: services.clone(),
        };
        let engine = Engine::new(env, token.child_token(), tasks);
        TestBed {
            engine,
            services,
            token,
            _state: state,
        }
    }
}

impl Drop for TestBed {
    fn drop(&mut self) {
        self.token.cancel();
    }
}
