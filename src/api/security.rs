//! The control listener's protections, built once from the `control:` config: token,
//! per-client rate limit, body size limit, browser rules.

use super::ControlConfig;
use super::auth::Auth;
use super::browser::BrowserPolicy;
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
    /// Host, Origin and CORS rules for browsers.
    pub browser: BrowserPolicy,
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
            browser: BrowserPolicy::new(&cfg.allow_origin, &cfg.allowed_host)
                .map_err(anyhow::Error::msg)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn logs_of(cfg: &ControlConfig, listen: &str) -> String {
        let out = Captured::default();
        let sink = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || sink.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            Security::new(cfg, listen.parse().unwrap()).unwrap();
        });
        String::from_utf8(out.0.lock().unwrap().clone()).unwrap()
    }

    #[test]
    fn insecure_off_loopback_is_a_loud_warning() {
        let cfg = ControlConfig {
            insecure: true,
            ..Default::default()
        };
        let logs = logs_of(&cfg, "10.1.2.3:9478");
        assert!(logs.contains("WARN") && logs.contains("INSECURE"), "{logs}");
        assert_eq!(logs_of(&cfg, "127.0.0.1:9478"), "");
        let with_token = ControlConfig {
            token: Some("t".into()),
            ..Default::default()
        };
        assert_eq!(logs_of(&with_token, "10.1.2.3:9478"), "");
    }

    #[test]
    fn limits_come_from_the_config() {
        let cfg = ControlConfig {
            body_limit: SizeSpec::Bytes(4096),
            rate_limit: 0.0,
            ..Default::default()
        };
        let sec = Security::new(&cfg, "127.0.0.1:1".parse().unwrap()).unwrap();
        assert_eq!(sec.body_limit, 4096);
        assert!(!sec.auth.enabled());
        assert!((0..500).all(|_| sec.rate.check("127.0.0.1".parse().unwrap()).is_ok()));
    }
}
