//! Per-client request rate limit of the control API: a token bucket per client IP (governor's
//! GCRA), so one noisy script cannot starve everyone else or hammer the action engine.

use super::ApiError;
use super::error::with_header;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// Client IPs tracked before idle ones are forgotten, which bounds the limiter's memory.
const MAX_CLIENTS: usize = 10_000;

/// The shared limiter; `None` when the limit is off.
#[derive(Clone, Default)]
pub struct RateLimit {
    /// One bucket per client IP.
    limiter: Option<Arc<DefaultKeyedRateLimiter<IpAddr>>>,
}

impl RateLimit {
    /// `per_second` requests per second with bursts of `burst`; 0 per second = unlimited.
    pub fn new(per_second: f64, burst: u32) -> Self {
        if per_second <= 0.0 {
            return RateLimit::default();
        }
        let period = Duration::from_secs_f64(1.0 / per_second).max(Duration::from_nanos(1));
        let quota = Quota::with_period(period)
            .expect("period is positive")
            .allow_burst(NonZeroU32::new(burst.max(1)).expect("burst is at least 1"));
        RateLimit {
            limiter: Some(Arc::new(RateLimiter::keyed(quota))),
        }
    }

    /// `Ok` when `ip` may send a request now, else how long until it may.
    pub fn check(&self, ip: IpAddr) -> Result<(), Duration> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        if limiter.len() >= MAX_CLIENTS {
            limiter.retain_recent();
            limiter.shrink_to_fit();
            if limiter.len() >= MAX_CLIENTS {
                return Err(Duration::from_secs(1));
            }
        }
        limiter
            .check_key(&ip)
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// Paths the limit never applies to: a liveness probe must not fail because a script (or
/// an attacker's 401s) used up the client's bucket. `/metrics` is on its own listener.
pub const EXEMPT_PATHS: [&str; 1] = ["/healthz"];

/// Middleware: 429 JSON with `Retry-After` (whole seconds, at least 1) beyond the limit.
pub async fn per_client(State(limit): State<RateLimit>, req: Request, next: Next) -> Response {
    if EXEMPT_PATHS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    let ip = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
    match limit.check(ip) {
        Ok(()) => next.run(req).await,
        Err(wait) => {
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            let err = ApiError::TooMany(format!(
                "too many requests from {ip}; retry in {secs} s (control.rate_limit)"
            ));
            with_header(err, header::RETRY_AFTER, HeaderValue::from(secs))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_bucket_is_empty() {
        let limit = RateLimit::new(1.0, 3);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..3 {
            assert!(limit.check(ip).is_ok());
        }
        let wait = limit.check(ip).unwrap_err();
        assert!(
            wait > Duration::ZERO && wait <= Duration::from_secs(1),
            "{wait:?}"
        );
        let other: IpAddr = "127.0.0.2".parse().unwrap();
        assert!(limit.check(other).is_ok(), "buckets are per client");
    }

    #[test]
    fn zero_rate_is_unlimited() {
        let limit = RateLimit::new(0.0, 1);
        let ip: IpAddr = "::1".parse().unwrap();
        assert!((0..1000).all(|_| limit.check(ip).is_ok()));
    }
}
