//! Settings of the control listener (token, browser guard): a config section of its own, below
//! both the config merge and the API that enforces them.

use crate::merge::{Invalid, set};
use crate::units::SizeSpec;
use clap::Args;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

/// The `control:` section of the config file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ControlConfig {
    /// File holding the bearer token every control request must carry.
    pub token_file: Option<PathBuf>,
    /// The token itself (from `JOLT_CONTROL_TOKEN`; never written to a file by jolt).
    #[serde(skip)]
    pub token: Option<String>,
    /// Allows a non-loopback control address without a token; logged loudly.
    pub insecure: bool,
    /// Largest request body accepted (413 beyond it): parameters and scenarios are small.
    pub body_limit: SizeSpec,
    /// Requests per second allowed per client IP (token bucket refill); 0 turns the limit off.
    pub rate_limit: f64,
    /// Requests a client may send at once before the rate applies (token bucket size).
    pub rate_burst: u32,
    /// Web page origins (`http://localhost:3000`) that may call the API from a browser and get
    /// CORS answers: Grafana's, for its buttons. Every other origin is refused.
    pub allow_origin: Vec<String>,
    /// Host names jolt answers to besides IP literals and `localhost` (DNS-rebinding
    /// protection): the names other hosts use to reach it, e.g. `jolt` in compose. A leading
    /// `.` allows every name under a domain.
    pub allowed_host: Vec<String>,
}

impl Default for ControlConfig {
    fn default() -> Self {
        ControlConfig {
            token_file: None,
            token: None,
            insecure: false,
            body_limit: SizeSpec::Bytes(64 * 1024),
            rate_limit: 50.0,
            rate_burst: 100,
            allow_origin: Vec::new(),
            allowed_host: Vec::new(),
        }
    }
}

impl ControlConfig {
    /// The effective token: the environment variable wins over the file.
    pub fn resolve_token(&self) -> Result<Option<String>, crate::token::TokenError> {
        crate::token::resolve(self.token.as_deref(), self.token_file.as_deref())
    }

    /// A control address off loopback needs a token or an explicit `--control-insecure`.
    pub fn validate(&self, listen: SocketAddr) -> Result<(), ControlConfigError> {
        let token = self.resolve_token()?;
        if !listen.ip().is_loopback() && token.is_none() && !self.insecure {
            return Err(Invalid::new(
                "control_listen",
                format!(
                    "{listen} is not a loopback address; set a token \
                     (--control-token-file or JOLT_CONTROL_TOKEN) or pass --control-insecure"
                ),
            )
            .into());
        }
        match self.body_limit {
            SizeSpec::Bytes(b) if b >= 1024 => {}
            other => {
                return Err(Invalid::new(
                    "control.body_limit",
                    format!("must be at least 1KiB of bytes, not {other}"),
                )
                .into());
            }
        }
        if !self.rate_limit.is_finite() || self.rate_limit < 0.0 {
            return Err(Invalid::new(
                "control.rate_limit",
                format!(
                    "must be a number of requests per second >= 0 (0 = off), not {}",
                    self.rate_limit
                ),
            )
            .into());
        }
        if self.rate_burst == 0 {
            return Err(Invalid::new("control.rate_burst", "must be at least 1").into());
        }
        browser_lists(&self.allow_origin, &self.allowed_host)
            .map_err(ControlConfigError::Browser)?;
        Ok(())
    }
}

/// Why the `control:` section is not acceptable.
#[derive(Debug, thiserror::Error)]
pub enum ControlConfigError {
    /// The token could not be read.
    #[error(transparent)]
    Token(#[from] crate::token::TokenError),
    /// A value is out of range or unsafe.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// An allowed origin or host name is not one.
    #[error("{0}")]
    Browser(String),
}

/// Flags of the control listener.
#[derive(Debug, Clone, Default, Args)]
pub struct ControlArgs {
    /// File with the bearer token required on every control request
    #[arg(long, env = "JOLT_CONTROL_TOKEN_FILE", value_name = "FILE")]
    pub control_token_file: Option<PathBuf>,
    /// Bearer token required on every control request (prefer the file)
    #[arg(
        long = "control-token",
        env = "JOLT_CONTROL_TOKEN",
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub control_token: Option<String>,
    /// Serve the control API on a non-loopback address without a token (dangerous)
    #[arg(long, env = "JOLT_CONTROL_INSECURE")]
    pub control_insecure: bool,
    /// Largest control request body, e.g. 64KiB (413 beyond it) [default: 64KiB]
    #[arg(long, env = "JOLT_CONTROL_BODY_LIMIT", value_name = "SIZE")]
    pub control_body_limit: Option<SizeSpec>,
    /// Control requests per second per client IP; 0 = unlimited [default: 50]
    #[arg(long, env = "JOLT_CONTROL_RATE_LIMIT", value_name = "PER_SECOND")]
    pub control_rate_limit: Option<f64>,
    /// Control requests a client may burst before the rate applies [default: 100]
    #[arg(long, env = "JOLT_CONTROL_RATE_BURST", value_name = "N")]
    pub control_rate_burst: Option<u32>,
    /// Web page origin allowed to call the control API from a browser (CORS), e.g. Grafana's
    /// http://localhost:3000; repeat or separate with commas [default: none]
    #[arg(
        long,
        env = "JOLT_CONTROL_ALLOW_ORIGIN",
        value_name = "ORIGIN",
        value_delimiter = ','
    )]
    pub control_allow_origin: Vec<String>,
    /// Host name the control API answers to besides IP addresses and localhost (DNS-rebinding
    /// protection), e.g. jolt in compose; .example.org allows its subdomains; repeat or
    /// separate with commas [default: none]
    #[arg(
        long,
        env = "JOLT_CONTROL_ALLOWED_HOST",
        value_name = "NAME",
        value_delimiter = ','
    )]
    pub control_allowed_host: Vec<String>,
}

impl ControlArgs {
    /// Overrides the file's values with the flags that were given.
    pub fn apply(&self, cfg: &mut ControlConfig) {
        set(
            &mut cfg.token_file,
            self.control_token_file.clone().map(Some),
        );
        set(&mut cfg.token, self.control_token.clone().map(Some));
        cfg.insecure |= self.control_insecure;
        set(&mut cfg.body_limit, self.control_body_limit);
        set(&mut cfg.rate_limit, self.control_rate_limit);
        set(&mut cfg.rate_burst, self.control_rate_burst);
        if !self.control_allow_origin.is_empty() {
            cfg.allow_origin = self.control_allow_origin.clone();
        }
        if !self.control_allowed_host.is_empty() {
            cfg.allowed_host = self.control_allowed_host.clone();
        }
    }
}

/// The browser guard's lists as the API enforces them: origins as `scheme://host[:port]` in
/// lower case, host names in lower case without a trailing dot (a leading `.` matches any
/// subdomain). Parsed here so a bad entry is refused with the rest of the config.
pub struct BrowserLists {
    /// Origins that may call the API from a browser.
    pub origins: Vec<String>,
    /// Extra host names jolt answers to.
    pub hosts: Vec<String>,
}

/// Normalises `control.allow_origin` and `control.allowed_host`; fails on an entry that is not
/// an origin or a host name.
pub fn browser_lists(origins: &[String], hosts: &[String]) -> Result<BrowserLists, String> {
    let origins = origins
        .iter()
        .map(|o| normalise_origin(o))
        .collect::<Result<Vec<_>, _>>()?;
    let hosts = hosts
        .iter()
        .map(|h| {
            let h = h.trim().trim_end_matches('.').to_ascii_lowercase();
            let bare = h.strip_prefix('.').unwrap_or(&h);
            if bare.is_empty()
                || !bare
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._".contains(c))
            {
                return Err(format!(
                    "control.allowed_host: {h:?} is not a host name (no port, no scheme)"
                ));
            }
            Ok(h)
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(BrowserLists { origins, hosts })
}

/// `scheme://host[:port]`, lower case, default port and trailing slash dropped; `*` and
/// `null` are refused (CORS must echo one known origin).
fn normalise_origin(raw: &str) -> Result<String, String> {
    let bad = |why: &str| {
        Err(format!(
            "control.allow_origin: {raw:?} {why}; write an origin such as http://localhost:3000"
        ))
    };
    let o = raw.trim().trim_end_matches('/').to_ascii_lowercase();
    if o == "*" || o == "null" {
        return bad("would let any web page load this host");
    }
    let Ok(uri) = o.parse::<http::Uri>() else {
        return bad("is not an origin");
    };
    let (Some(scheme), Some(auth)) = (uri.scheme_str(), uri.authority()) else {
        return bad("needs a scheme and a host");
    };
    if !matches!(scheme, "http" | "https")
        || !matches!(uri.path(), "" | "/")
        || uri.query().is_some()
    {
        return bad("must be http(s)://host[:port] with no path");
    }
    if auth.as_str().contains('@') {
        return bad("must not carry user information");
    }
    let default = matches!(
        (scheme, auth.port_u16()),
        ("http", Some(80)) | ("https", Some(443))
    );
    let host_port = if default {
        auth.host().to_string()
    } else {
        auth.as_str().to_string()
    };
    Ok(format!("{scheme}://{host_port}"))
}
