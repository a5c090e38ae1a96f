//! What a `target` names: a simulated service, the built-in echo route, or an allowlisted
//! `host:port` (optionally as `http://host:port/path`). Nothing else is reachable: no open
//! relay, no SSRF.

use super::super::Env;
use crate::actions::ActionError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The target name that means the services listener's `/echo` route.
pub const ECHO: &str = "echo";

/// A resolved target.
#[derive(Debug, Clone)]
pub struct Target {
    /// The `target` label value: the service name, `echo`, or `host:port`.
    pub label: String,
    /// Where to connect: an address, or a host name to look up when the action starts.
    pub authority: String,
    /// The request path.
    pub path: String,
}

impl Target {
    /// Resolves `target` against jolt's services and the allowlist; 422 when neither.
    pub fn resolve(target: &str, env: &Env) -> Result<Target, ActionError> {
        let own = own_addr(env.services_addr).to_string();
        if target == ECHO {
            return Ok(Target {
                label: ECHO.into(),
                authority: own,
                path: "/echo".into(),
            });
        }
        if env.services.get(target).is_some() {
            return Ok(Target {
                label: target.into(),
                authority: own,
                path: format!("/svc/{target}"),
            });
        }
        let (authority, path) = split(target)?;
        let allowed = env
            .config
            .allow_targets
            .iter()
            .any(|a| a.eq_ignore_ascii_case(authority));
        if !allowed {
            return Err(ActionError::invalid(
                "target",
                format!(
                    "`{target}` is neither a simulated service (known: {}, or `{ECHO}`) nor a \
                     HOST:PORT on actions.allow_targets (--allow-target)",
                    env.services.names().join(", ")
                ),
            ));
        }
        Ok(Target {
            label: authority.to_ascii_lowercase(),
            authority: authority.into(),
            path: path.into(),
        })
    }
}

/// Splits `host:port[/path]` or `http://host:port[/path]`.
fn split(target: &str) -> Result<(&str, &str), ActionError> {
    let rest = match target.split_once("://") {
        Some(("http", rest)) => rest,
        Some((scheme, _)) => {
            return Err(ActionError::invalid(
                "target",
                format!("only plain http targets are supported, not `{scheme}://`"),
            ));
        }
        None => target,
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
    if !has_port || path.contains(char::is_whitespace) {
        return Err(ActionError::invalid(
            "target",
            format!(
                "`{target}` is not a simulated service name nor HOST:PORT (e.g. 10.0.0.5:8080)"
            ),
        ));
    }
    Ok((authority, path))
}

/// The services listener as a client reaches it: an unspecified bind address means loopback.
fn own_addr(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => (Ipv4Addr::LOCALHOST, addr.port()).into(),
        IpAddr::V6(ip) if ip.is_unspecified() => (Ipv6Addr::LOCALHOST, addr.port()).into(),
        _ => addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_accepts_host_port_forms() {
        assert_eq!(split("10.0.0.5:8080").unwrap(), ("10.0.0.5:8080", "/"));
        assert_eq!(
            split("http://example.test:80/api/x").unwrap(),
            ("example.test:80", "/api/x")
        );
        assert_eq!(split("[::1]:9000").unwrap(), ("[::1]:9000", "/"));
        assert!(split("https://a:1").is_err());
        assert!(split("nohost").is_err());
        assert!(split(":80").is_err());
        assert!(split("a:99999").is_err());
    }

    #[test]
    fn unspecified_binds_map_to_loopback() {
        assert_eq!(
            own_addr("0.0.0.0:9479".parse().unwrap()),
            "127.0.0.1:9479".parse::<SocketAddr>().unwrap()
        );
        assert_eq!(
            own_addr("[::]:1".parse().unwrap()),
            "[::1]:1".parse::<SocketAddr>().unwrap()
        );
    }
}
