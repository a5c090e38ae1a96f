//! Unit tests of the browser rules: every header combination a browser or a script sends.

use super::*;

fn policy(origins: &[&str], hosts: &[&str]) -> BrowserPolicy {
    let o: Vec<String> = origins.iter().map(|s| s.to_string()).collect();
    let h: Vec<String> = hosts.iter().map(|s| s.to_string()).collect();
    BrowserPolicy::new(&o, &h).unwrap()
}

fn headers(list: &[(&str, &str)]) -> HeaderMap {
    let mut m = HeaderMap::new();
    for (k, v) in list {
        m.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v).unwrap(),
        );
    }
    m
}

#[test]
fn scripts_without_origin_pass_on_any_own_name() {
    let p = policy(&[], &["jolt"]);
    for host in [
        "127.0.0.1:9478",
        "localhost:9478",
        "localhost",
        "LOCALHOST.:9478",
        "[::1]:9478",
        "10.42.0.7:9478",
        "jolt:9478",
        "jolt",
        "demo.localhost:9478",
    ] {
        assert_eq!(p.check(&headers(&[("host", host)]), None), Ok(()), "{host}");
    }
    // No Host at all (HTTP/1.0 tools) is not a browser.
    assert_eq!(p.check(&HeaderMap::new(), None), Ok(()));
    // A user typing the URL: Sec-Fetch-Site none.
    let typed = headers(&[("host", "localhost:9478"), ("sec-fetch-site", "none")]);
    assert_eq!(p.check(&typed, None), Ok(()));
}

#[test]
fn a_rebinding_name_is_refused_whatever_else_is_sent() {
    let p = policy(&["http://localhost:3000"], &["jolt", ".svc.cluster.local"]);
    for host in [
        "rebind.example:9478",
        "rebind.example",
        "jolt.evil.example",
        "localhost.evil.example",
        "127.0.0.1.nip.io:9478",
        "svc.cluster.local.evil:9478",
    ] {
        let err = p.check(&headers(&[("host", host)]), None).unwrap_err();
        assert!(matches!(err, Refusal::Host(..)), "{host}: {err:?}");
        assert!(err.to_string().contains("--control-allowed-host"), "{err}");
        // An allowed origin does not make a foreign Host acceptable.
        let with_origin = headers(&[("host", host), ("origin", "http://localhost:3000")]);
        assert!(p.check(&with_origin, None).is_err(), "{host}");
    }
    // Suffix entries match subdomains and the bare name.
    for host in [
        "jolt.monitoring.svc.cluster.local:9478",
        "svc.cluster.local",
    ] {
        assert_eq!(p.check(&headers(&[("host", host)]), None), Ok(()), "{host}");
    }
}

#[test]
fn foreign_origins_are_refused_with_how_to_allow_them() {
    let p = policy(&["http://localhost:3000"], &[]);
    for origin in [
        "http://evil.example",
        "null",
        "http://localhost:3001",
        "https://localhost:3000",
    ] {
        for site in [None, Some("cross-site"), Some("same-site")] {
            let mut h = vec![("host", "127.0.0.1:9478"), ("origin", origin)];
            if let Some(s) = site {
                h.push(("sec-fetch-site", s));
            }
            let err = p.check(&headers(&h), None).unwrap_err();
            assert_eq!(err, Refusal::Origin(origin.to_string()));
            let msg = err.to_string();
            assert!(
                msg.contains(&format!("--control-allow-origin {origin}")),
                "{msg}"
            );
        }
    }
}

#[test]
fn cross_site_without_origin_is_refused() {
    let p = policy(&["http://localhost:3000"], &[]);
    for site in ["cross-site", "same-site", "Cross-Site"] {
        let h = headers(&[("host", "localhost:9478"), ("sec-fetch-site", site)]);
        assert!(
            matches!(p.check(&h, None), Err(Refusal::CrossSite(_))),
            "{site}"
        );
    }
    let same = headers(&[
        ("host", "localhost:9478"),
        ("sec-fetch-site", "same-origin"),
    ]);
    assert_eq!(p.check(&same, None), Ok(()));
}

#[test]
fn allowed_and_same_origins_pass() {
    let p = policy(&["HTTP://LocalHost:3000/"], &[]);
    for site in [None, Some("same-site"), Some("cross-site")] {
        let mut h = vec![
            ("host", "localhost:9478"),
            ("origin", "http://localhost:3000"),
        ];
        if let Some(s) = site {
            h.push(("sec-fetch-site", s));
        }
        assert_eq!(p.check(&headers(&h), None), Ok(()), "{site:?}");
    }
    // A page jolt itself served (same origin) may post back to it...
    let same = headers(&[
        ("host", "localhost:9478"),
        ("origin", "http://localhost:9478"),
        ("sec-fetch-site", "same-origin"),
    ]);
    assert_eq!(p.check(&same, None), Ok(()));
    // ...but not when the browser says the request is cross-site.
    let lying = headers(&[
        ("host", "localhost:9478"),
        ("origin", "http://localhost:9478"),
        ("sec-fetch-site", "cross-site"),
    ]);
    assert!(p.check(&lying, None).is_err());
}

#[test]
fn config_entries_are_validated_and_normalised() {
    let p = policy(
        &[
            "http://grafana.local:80",
            "https://g.example:443/",
            "http://[::1]:3000",
        ],
        &["Jolt."],
    );
    assert_eq!(
        p.origins(),
        [
            "http://grafana.local",
            "https://g.example",
            "http://[::1]:3000"
        ]
    );
    for bad in [
        "*",
        "null",
        "localhost:3000",
        "ftp://x",
        "http://x/path",
        "http://u@x",
        "",
    ] {
        let err = BrowserPolicy::new(&[bad.to_string()], &[]).err();
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("control.allow_origin")),
            "{bad}: {err:?}"
        );
    }
    for bad in ["", "http://jolt", "jolt:9478", "."] {
        let err = BrowserPolicy::new(&[], &[bad.to_string()]).err();
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("control.allowed_host")),
            "{bad}: {err:?}"
        );
    }
}

#[test]
fn the_uri_authority_stands_in_for_a_missing_host() {
    let p = policy(&[], &[]);
    let none = HeaderMap::new();
    assert!(matches!(
        p.check(&none, Some("rebind.example:9478")),
        Err(Refusal::Host(..))
    ));
    assert_eq!(p.check(&none, Some("127.0.0.1:9478")), Ok(()));
    // The Host header wins when both are there.
    let h = headers(&[("host", "localhost:9478")]);
    assert_eq!(p.check(&h, Some("rebind.example:9478")), Ok(()));
}
