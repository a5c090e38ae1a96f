//! HTTP helpers for the control API tests: any method, optional body and headers, and checks
//! of the JSON error format.
#![allow(dead_code)]

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// A response: status, headers, body text.
pub struct Resp {
    pub status: u16,
    pub headers: ureq::http::HeaderMap,
    pub body: String,
}

impl Resp {
    /// The body as JSON (panics with the body when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the status and the JSON error format with this code; returns the message.
    pub fn assert_error(&self, status: u16, code: &str) -> String {
        assert_eq!(self.status, status, "body: {}", self.body);
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/json")),
            "error is not JSON: {:?}",
            self.headers
        );
        let j = self.json();
        assert_eq!(j["error"], code, "{j}");
        let msg = j["message"].as_str().expect("message").to_string();
        assert!(!msg.is_empty(), "{j}");
        assert!(j.get("field").is_some(), "field key missing: {j}");
        msg
    }
}

/// Sends `method url` with an optional body and extra headers.
pub fn call(method: &str, url: &str, body: Option<&[u8]>, headers: &[(&str, &str)]) -> Resp {
    let mut req = ureq::http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let agent = super::common::agent();
    let resp = match body {
        Some(b) => agent.run(req.body(b.to_vec()).unwrap()),
        None => agent.run(req.body(()).unwrap()),
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.into_body().read_to_string().expect("body");
    Resp {
        status,
        headers,
        body,
    }
}

/// GET.
pub fn get(url: &str) -> Resp {
    call("GET", url, None, &[])
}

/// POST with a JSON body.
pub fn post_json(url: &str, body: &str) -> Resp {
    call(
        "POST",
        url,
        Some(body.as_bytes()),
        &[("Content-Type", "application/json")],
    )
}

/// One HTTP/1.1 request written by hand (as Alertmanager's webhook sends it), so the `Host`
/// header is exactly what the test says; returns the status and the raw response.
pub fn raw(addr: SocketAddr, method: &str, path: &str, host: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: Alertmanager/0.28.1\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {out:?}"));
    (status, out)
}
