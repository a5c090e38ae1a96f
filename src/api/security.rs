//! The control listener's protections, built once from the `control:` config: token,
//! per-client rate limit, body size limit.

use super::ControlConfig;
use super::auth::Auth;
use super::limits::RateLimit;
use crate::units::SizeSpec;
use std::net::SocketAddr;

/// What the router's layers enforce.
#[derive(Clone, Default)]
pub struct Security {
    /// Bearer token check.
    pub auth: Auth,
    /// Requests per second per client IP.
    pub rate: RateLimit,
    /// Largest request body in bytes.
    pub body_limit: usize,
}

impl Security {
    /// Reads the token (file or environment) and sets up the limits; warns loudly when the
    /// API is reachable from other hosts without a token.
    pub fn new(cfg: &ControlConfig, listen: SocketAddr) -> anyhow::Result<Security> {
        let token = cfg.resolve_token()?;
        if token.is_none() && !listen.ip().is_loopback() {
            tracing::warn!(
                addr = %listen,
                "INSECURE: the control API on {listen} is reachable from other hosts WITHOUT a \
                 token (--control-insecure); anyone who can reach it can load this host"
            );
        }
        let body_limit = match cfg.body_limit {
            SizeSpec::Bytes(b) => usize::try_from(b).unwrap_or(usize::MAX),
            SizeSpec::Percent(_) => anyhow::bail!("control.body_limit: must be a size in bytes"),
        };
        Ok(Security {
            auth: Auth::new(token),
            rate: RateLimit::new(cfg.rate_limit, cfg.rate_burst),
            body_limit,
        })
    }
}
