//! Browser safety of the control listener.
//!
//! A loopback control API is reachable by every web page its user opens, and browsers send
//! "simple" cross-site requests (forms, `no-cors` fetches with a text/plain body, empty POSTs)
//! without asking first. So, whatever the method or content type:
//! - the `Host` must be one of jolt's own names, or a DNS-rebinding page (a name that resolves
//!   to 127.0.0.1 after the page loaded) would be same-origin with jolt;
//! - a request that a browser marks as cross-origin (`Origin`, or `Sec-Fetch-Site: cross-site`
//!   / `same-site`) must come from an origin listed in `control.allow_origin`;
//! - only those origins get CORS answers (see [`cors`]), so Grafana's buttons can work.
//!
//! Callers that are not browsers (curl, the CLI, Alertmanager's webhook) send no `Origin` and
//! no `Sec-Fetch-*` and are not affected by the origin rule.

use super::ApiError;
use crate::control::{BrowserLists, browser_lists};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tower_http::cors::{AllowHeaders, AllowOrigin, CorsLayer};

/// Why a browser request was refused; each message says how to allow it.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum Refusal {
    /// The `Host` header names a host jolt does not know (DNS rebinding).
    #[error(
        "Host {0:?} is not one of this jolt's names (protection against DNS rebinding); to reach \
         jolt by that name, start it with --control-allowed-host {1} (JOLT_CONTROL_ALLOWED_HOST, \
         config control.allowed_host)"
    )]
    Host(String, String),
    /// An `Origin` that is not allowed.
    #[error(
        "requests from the web page origin {0} are refused (a page could start load on this \
         host); to allow that origin, start jolt with --control-allow-origin {0} \
         (JOLT_CONTROL_ALLOW_ORIGIN, config control.allow_origin)"
    )]
    Origin(String),
    /// A cross-site request whose origin the browser did not disclose.
    #[error(
        "cross-site browser requests (Sec-Fetch-Site: {0}) without an allowed Origin are \
         refused; to allow a web page, start jolt with --control-allow-origin <its origin> \
         (JOLT_CONTROL_ALLOW_ORIGIN, config control.allow_origin)"
    )]
    CrossSite(String),
}

/// The allowed origins and extra host names, normalised once.
#[derive(Clone, Default)]
pub struct BrowserPolicy {
    /// Origins (`scheme://host[:port]`, lower case) that may call the API from a browser.
    origins: Arc<[String]>,
    /// Extra host names jolt answers to; an entry starting with `.` matches any subdomain.
    hosts: Arc<[String]>,
}

impl BrowserPolicy {
    /// A policy from the config's lists; fails on an entry that is not an origin or a name.
    pub fn new(origins: &[String], hosts: &[String]) -> Result<BrowserPolicy, String> {
        let BrowserLists { origins, hosts } = browser_lists(origins, hosts)?;
        Ok(BrowserPolicy {
            origins: origins.into(),
            hosts: hosts.into(),
        })
    }

    /// The allowed origins.
    pub fn origins(&self) -> &[String] {
        &self.origins
    }

    /// Checks one request's headers; `authority` is the URI's (HTTP/2 `:authority`), used when
    /// there is no `Host` header.
    pub fn check(&self, headers: &HeaderMap, authority: Option<&str>) -> Result<(), Refusal> {
        let text = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        let host = text(header::HOST).or(authority);
        if let Some(h) = host {
            self.check_host(h)?;
        }
        let site = text(HeaderName::from_static("sec-fetch-site")).map(str::to_ascii_lowercase);
        match text(header::ORIGIN) {
            Some(origin) => {
                let origin = origin.trim().to_ascii_lowercase();
                let allowed = self.origins.contains(&origin);
                // Same-origin: the page was served by jolt under a name just checked above.
                let same_origin = site.as_deref().is_none_or(|s| s == "same-origin")
                    && host.is_some_and(|h| {
                        let h = h.to_ascii_lowercase();
                        origin == format!("http://{h}") || origin == format!("https://{h}")
                    });
                if allowed || same_origin {
                    Ok(())
                } else {
                    Err(Refusal::Origin(origin))
                }
            }
            None => match site.as_deref() {
                Some(s @ ("cross-site" | "same-site")) => Err(Refusal::CrossSite(s.to_string())),
                _ => Ok(()),
            },
        }
    }

    /// IP literals cannot be rebound, `localhost` resolves to loopback in browsers themselves,
    /// and the configured names are the operator's choice: anything else is refused.
    fn check_host(&self, host: &str) -> Result<(), Refusal> {
        let refuse = |name: &str| Refusal::Host(host.to_string(), name.to_string());
        let authority: axum::http::uri::Authority = host.parse().map_err(|_| refuse("NAME"))?;
        let name = authority.host().trim_end_matches('.').to_ascii_lowercase();
        let bare = name.trim_start_matches('[').trim_end_matches(']');
        if bare.parse::<IpAddr>().is_ok() || name == "localhost" || name.ends_with(".localhost") {
            return Ok(());
        }
        let listed = self.hosts.iter().any(|h| match h.strip_prefix('.') {
            Some(suffix) => name.ends_with(h.as_str()) || name == suffix,
            None => *h == name,
        });
        if listed { Ok(()) } else { Err(refuse(&name)) }
    }
}

/// Middleware: 403 JSON unless [`BrowserPolicy::check`] passes.
pub async fn guard(State(policy): State<BrowserPolicy>, req: Request, next: Next) -> Response {
    let authority = req.uri().authority().map(|a| a.as_str());
    match policy.check(req.headers(), authority) {
        Ok(()) => next.run(req).await,
        Err(refusal) => {
            tracing::info!(%refusal, method = %req.method(), path = req.uri().path(), "refused a browser request");
            ApiError::Forbidden(refusal.to_string()).into_response()
        }
    }
}

/// CORS for the allowed origins only: the one matching origin is echoed (never `*`), with
/// `Vary: Origin`; preflights get the methods the API uses and whichever headers the allowed
/// page asks for: `Authorization` (a button can carry a token), `Content-Type`, and the ones
/// Grafana adds to its action requests (`X-Grafana-Action`, ...). Mirroring them widens
/// nothing: only an allowed origin gets an answer at all.
pub fn cors(policy: &BrowserPolicy) -> CorsLayer {
    let origins: Vec<HeaderValue> = policy
        .origins()
        .iter()
        .filter_map(|o| HeaderValue::from_str(o).ok())
        .collect();
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers(AllowHeaders::mirror_request())
        .expose_headers([header::RETRY_AFTER, header::WWW_AUTHENTICATE])
        .max_age(Duration::from_secs(600))
}

#[cfg(test)]
#[path = "browser_tests.rs"]
mod tests;
