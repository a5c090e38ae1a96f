//! The one error type of the control API: every failure is JSON
//! `{"error": code, "message": sentence, "field": name-or-null}` with the status DESIGN.md fixes.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// A control API error; the message is a sentence a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 400: the request could not be parsed.
    #[error("{message}")]
    BadRequest {
        message: String,
        field: Option<String>,
    },
    /// 401: missing or wrong bearer token.
    #[error("{0}")]
    Unauthorized(String),
    /// 404: unknown path, kind, id or name.
    #[error("{0}")]
    NotFound(String),
    /// 409: the request conflicts with the current state (e.g. stopping an ended action).
    #[error("{0}")]
    Conflict(String),
    /// 413: the body is larger than the limit.
    #[error("{0}")]
    TooLarge(String),
    /// 422: well-formed but out of range or unsafe.
    #[error("{message}")]
    Unprocessable {
        message: String,
        field: Option<String>,
    },
    /// 429: too many active actions or requests.
    #[error("{0}")]
    TooMany(String),
    /// 500: a bug or an unexpected host failure.
    #[error("{0}")]
    Internal(String),
}

impl ApiError {
    /// A 400 about one field.
    pub fn bad_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// A 422 about one field.
    pub fn unprocessable(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Unprocessable {
            message: message.into(),
            field: Some(field.into()),
        }
    }

    /// The HTTP status and the machine-readable code.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest { .. } => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::Unprocessable { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
            ApiError::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            ApiError::BadRequest { field, .. } | ApiError::Unprocessable { field, .. } => {
                field.as_deref()
            }
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let body = json!({ "error": code, "message": self.to_string(), "field": self.field() });
        (status, Json(body)).into_response()
    }
}
