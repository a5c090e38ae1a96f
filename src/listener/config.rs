//! Limits every listener applies to its connections (the `http:` config section).

use crate::merge::{Invalid, set};
use crate::units::HumanDuration;
use clap::Args;
use serde::Deserialize;
use std::time::Duration;

/// The `http:` section of the config file.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    /// Time a client has to send a whole request head; also how long a kept-alive connection
    /// may sit idle before its next request (hyper runs the same timer while it waits).
    pub header_timeout: HumanDuration,
    /// Time a client has to send a whole request body, counted from its head.
    pub body_timeout: HumanDuration,
    /// Connections each listener serves at once; more are closed as soon as accepted.
    pub max_connections: usize,
}

impl Default for HttpConfig {
    fn default() -> Self {
        // A Prometheus scrape every second sends its head at once and reuses one connection
        // per target, so these are far from anything a scraper or a curl user can hit.
        HttpConfig {
            header_timeout: HumanDuration(Duration::from_secs(10)),
            body_timeout: HumanDuration(Duration::from_secs(30)),
            max_connections: 512,
        }
    }
}

/// Flags of the listeners.
#[derive(Debug, Clone, Default, Args)]
pub struct HttpArgs {
    /// Time to send a request head, and the longest idle keep-alive wait [default: 10s]
    #[arg(long, env = "JOLT_HTTP_HEADER_TIMEOUT", value_name = "DURATION")]
    pub http_header_timeout: Option<HumanDuration>,
    /// Time to send a request body [default: 30s]
    #[arg(long, env = "JOLT_HTTP_BODY_TIMEOUT", value_name = "DURATION")]
    pub http_body_timeout: Option<HumanDuration>,
    /// Concurrent connections per listener [default: 512]
    #[arg(long, env = "JOLT_HTTP_MAX_CONNECTIONS", value_name = "N")]
    pub http_max_connections: Option<usize>,
}

impl HttpArgs {
    /// Overrides the file's values with the flags that were given.
    pub fn apply(&self, cfg: &mut HttpConfig) {
        set(&mut cfg.header_timeout, self.http_header_timeout);
        set(&mut cfg.body_timeout, self.http_body_timeout);
        set(&mut cfg.max_connections, self.http_max_connections);
    }
}

impl HttpConfig {
    /// Range checks.
    pub fn validate(&self) -> Result<(), Invalid> {
        if self.header_timeout.0 < Duration::from_millis(100) {
            return Err(Invalid::new(
                "http.header_timeout",
                "must be at least 100ms",
            ));
        }
        if self.body_timeout.0 < Duration::from_millis(100) {
            return Err(Invalid::new("http.body_timeout", "must be at least 100ms"));
        }
        if self.max_connections == 0 {
            return Err(Invalid::new("http.max_connections", "must be at least 1"));
        }
        Ok(())
    }
}
