//! Bearer-token authentication of the control API.
//!
//! When a token is configured every request must carry `Authorization: Bearer <token>`, except
//! `GET /healthz`, which stays open so liveness probes need no secret (it reveals nothing and
//! changes nothing). Tokens are compared in constant time so response timing does not leak how
//! much of a guess was right.

use super::ApiError;
use super::error::with_header;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// Paths served without a token.
pub const OPEN_PATHS: [&str; 1] = ["/healthz"];

/// The configured token, if any.
#[derive(Clone, Default)]
pub struct Auth {
    /// The expected token bytes; `None` = authentication off (loopback default).
    token: Option<Arc<[u8]>>,
}

impl Auth {
    /// Authentication with `token`, or none.
    pub fn new(token: Option<String>) -> Self {
        Auth {
            token: token.map(|t| Arc::from(t.into_bytes())),
        }
    }

    /// True when requests need a token.
    pub fn enabled(&self) -> bool {
        self.token.is_some()
    }

    /// Checks an `Authorization` header value against the token.
    pub fn check(&self, authorization: Option<&HeaderValue>) -> Result<(), ApiError> {
        let Some(expected) = &self.token else {
            return Ok(());
        };
        let Some(value) = authorization else {
            return Err(ApiError::Unauthorized(
                "this control API needs a token: send `Authorization: Bearer <token>` \
                 (the CLI reads --control-token-file or JOLT_CONTROL_TOKEN)"
                    .into(),
            ));
        };
        let given = bearer_token(value.as_bytes()).ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into())
        })?;
        // ct_eq returns false at once on a length mismatch, which reveals only the length.
        if bool::from(given.ct_eq(expected)) {
            Ok(())
        } else {
            Err(ApiError::Unauthorized("wrong token".into()))
        }
    }
}

/// The token of `Bearer <token>` as RFC 6750 §2.1 and RFC 7235 §2.1 define it: the scheme is
/// case-insensitive, one or more spaces separate it from the token, and the token is one
/// word (no inner whitespace, nothing after it).
fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(6)?;
    if !scheme.eq_ignore_ascii_case(b"bearer") || rest.first() != Some(&b' ') {
        return None;
    }
    let token = rest.trim_ascii_start();
    let one_word = !token.is_empty() && !token.iter().any(u8::is_ascii_whitespace);
    one_word.then_some(token)
}

/// Middleware: 401 JSON (with `WWW-Authenticate: Bearer`) unless the token matches.
pub async fn require_token(State(auth): State<Auth>, req: Request, next: Next) -> Response {
    if OPEN_PATHS.contains(&req.uri().path()) {
        return next.run(req).await;
    }
    match auth.check(req.headers().get(header::AUTHORIZATION)) {
        Ok(()) => next.run(req).await,
        Err(e) => with_header(
            e,
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_token_passes() {
        let auth = Auth::new(Some("s3cret".into()));
        let ok = HeaderValue::from_static("Bearer s3cret");
        assert!(auth.check(Some(&ok)).is_ok());
        for bad in [
            "Bearer s3cre",
            "Bearer s3cret2",
            "Basic s3cret",
            "s3cret",
            "Bearer ",
            "Bearer s3c ret",
            "Bearers3cret",
            "Bearer\ts3cret",
        ] {
            let v = HeaderValue::from_str(bad).unwrap();
            assert!(auth.check(Some(&v)).is_err(), "{bad} passed");
        }
        assert!(auth.check(None).is_err());
        // RFC 7235 §2.1: the scheme is case-insensitive and 1*SP separates it from the token.
        for good in ["bearer s3cret", "BEARER s3cret", "Bearer  s3cret"] {
            let v = HeaderValue::from_str(good).unwrap();
            assert!(auth.check(Some(&v)).is_ok(), "{good} refused");
        }
    }

    #[test]
    fn no_token_means_open() {
        assert!(Auth::new(None).check(None).is_ok());
        assert!(!Auth::new(None).enabled());
    }
}
