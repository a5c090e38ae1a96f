//! The one error type of the control API: every failure is JSON
//! `{"error": code, "message": sentence, "field": name-or-null}` with the status the API contract fixes (docs/architecture.md).

use axum::Json;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The JSON body of every error, for the OpenAPI document.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// Machine-readable code: bad_request, unauthorized, forbidden, not_found, method_not_allowed,
    /// conflict, payload_too_large, unprocessable, too_many_requests, internal.
    #[schema(example = "bad_request")]
    pub error: String,
    /// A sentence a person can act on.
    pub message: String,
    /// The parameter at fault, when there is one.
    pub field: Option<String>,
}

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
    /// 403: a browser request from a page or under a host name that is not allowed.
    #[error("{0}")]
    Forbidden(String),
    /// 404: unknown path, kind, id or name.
    #[error("{0}")]
    NotFound(String),
    /// 405: the path exists but not with this method.
    #[error("{0}")]
    MethodNotAllowed(String),
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
    /// 503: a service jolt depends on for this request (Prometheus) did not answer.
    #[error("{0}")]
    Unavailable(String),
}

impl From<crate::scenarios::verify::Error> for ApiError {
    fn from(e: crate::scenarios::verify::Error) -> Self {
        use crate::scenarios::verify::Error as V;
        match e {
            V::Invalid { field, message } | V::Preflight { field, message } => {
                ApiError::Unprocessable {
                    message,
                    field: Some(field),
                }
            }
            V::Unavailable(m) => ApiError::Unavailable(m),
        }
    }
}

/// The engine's errors: decoding is 400, validation 422, a full engine 429, an ended action
/// 409; a missing id also says where the ids are listed.
impl From<crate::actions::ActionError> for ApiError {
    fn from(e: crate::actions::ActionError) -> Self {
        use crate::actions::ActionError as A;
        match e {
            A::Malformed { field, message } => ApiError::BadRequest { message, field },
            A::Invalid { field, message } => ApiError::Unprocessable { message, field },
            A::NotFound(_) => ApiError::NotFound(format!("{e}; GET /actions lists them")),
            A::Ended { .. } => ApiError::Conflict(e.to_string()),
            A::Busy { .. } => ApiError::TooMany(e.to_string()),
            A::Host(m) => ApiError::Internal(m),
        }
    }
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
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApiError::Unprocessable { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable"),
            ApiError::TooMany(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
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

/// Headers of a framework error worth keeping when its body is rewritten as JSON.
const KEPT_HEADERS: [header::HeaderName; 3] =
    [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE];

/// Middleware: rewrites any error answer that is not JSON — axum's own rejections (405 with an
/// empty body, 413 from the body limit, 415, extractor texts) — into the API's JSON format, so
/// a client only ever has one error shape to parse.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let resp = next.run(req).await;
    let status = resp.status();
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|ct| ct.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return resp;
    }
    let (parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, 16 * 1024)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let allow = parts
        .headers
        .get(header::ALLOW)
        .and_then(|v| v.to_str().ok());
    let err = match status {
        StatusCode::METHOD_NOT_ALLOWED => ApiError::MethodNotAllowed(format!(
            "{method} is not allowed on {path}{}",
            allow.map(|a| format!("; allowed: {a}")).unwrap_or_default()
        )),
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(format!(
            "the request body is larger than the limit (control.body_limit){}",
            if text.is_empty() {
                String::new()
            } else {
                format!(": {text}")
            }
        )),
        StatusCode::NOT_FOUND => ApiError::NotFound(or(text, "not found")),
        StatusCode::UNAUTHORIZED => ApiError::Unauthorized(or(text, "unauthorized")),
        StatusCode::TOO_MANY_REQUESTS => ApiError::TooMany(or(text, "too many requests")),
        s if s.is_server_error() => ApiError::Internal(or(text, "internal error")),
        _ => {
            let reason = status.canonical_reason().unwrap_or("error");
            let code = reason.to_lowercase().replace([' ', '-'], "_");
            let body = json!({ "error": code, "message": or(text, reason), "field": null });
            return with_headers((status, Json(body)).into_response(), &parts.headers);
        }
    };
    with_headers(err.into_response(), &parts.headers)
}

fn or(text: String, default: &str) -> String {
    if text.is_empty() {
        default.to_string()
    } else {
        text
    }
}

fn with_headers(mut resp: Response, from: &axum::http::HeaderMap) -> Response {
    for name in KEPT_HEADERS {
        if let Some(v) = from.get(&name) {
            resp.headers_mut().insert(name, v.clone());
        }
    }
    resp
}

/// A JSON error with extra headers (Retry-After, WWW-Authenticate).
pub fn with_header(err: ApiError, name: header::HeaderName, value: HeaderValue) -> Response {
    let mut resp = err.into_response();
    resp.headers_mut().insert(name, value);
    resp
}

/// Scenario errors as HTTP: the status by variant, plus where to look.
impl From<crate::scenarios::ScenarioError> for ApiError {
    fn from(e: crate::scenarios::ScenarioError) -> Self {
        use crate::scenarios::ScenarioError as S;
        match e {
            S::Malformed { field, message } => ApiError::BadRequest { message, field },
            S::Invalid { field, message } => ApiError::Unprocessable { message, field },
            S::UnknownScenario(_) => ApiError::NotFound(format!("{e}; GET /scenarios lists them")),
            S::Builtin(_) => ApiError::Conflict(format!("{e}; PUT it under another name")),
            S::NotNow { .. } => ApiError::Conflict(e.to_string()),
            S::UnknownRun(_) => ApiError::NotFound(format!("{e}; GET /runs lists them")),
            S::RunIdTaken(_) | S::Ended(_) => ApiError::Conflict(e.to_string()),
            S::Save { .. } => ApiError::Internal(e.to_string()),
            S::Verify(v) => v.into(),
            S::Action(a) => action_refusal(a),
            S::StepAction { field, source } => match action_refusal(source) {
                ApiError::Unprocessable { message, field: f } => ApiError::Unprocessable {
                    message: format!("{field}.action: {message}"),
                    field: Some(format!("{field}.action.{}", f.unwrap_or_default())),
                },
                ApiError::BadRequest { message, field: f } => ApiError::BadRequest {
                    message: format!("{field}.action: {message}"),
                    field: Some(format!("{field}.action.{}", f.unwrap_or_default())),
                },
                other => other,
            },
        }
    }
}

/// The engine's refusal with the status its `ActionError` maps to.
fn action_refusal(e: crate::scenarios::ActionFailure) -> ApiError {
    match e.downcast::<crate::actions::ActionError>() {
        Ok(action) => ApiError::from(*action),
        Err(other) => match other.downcast::<ApiError>() {
            Ok(api) => *api,
            Err(other) => ApiError::Unprocessable {
                message: other.to_string(),
                field: None,
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios::ScenarioError;

    fn status_message_field(e: ScenarioError) -> (u16, String, Option<String>) {
        let api = ApiError::from(e);
        let field = api.field().map(str::to_string);
        (api.status_and_code().0.as_u16(), api.to_string(), field)
    }

    #[test]
    fn scenario_errors_get_their_status_and_where_to_look() {
        let (status, message, _) =
            status_message_field(ScenarioError::UnknownScenario("nope".into()));
        assert_eq!(status, 404);
        assert_eq!(
            message,
            "no scenario named `nope`; GET /scenarios lists them"
        );
        let (status, message, _) = status_message_field(ScenarioError::Builtin("ddos".into()));
        assert_eq!(status, 409);
        assert!(
            message.ends_with("; PUT it under another name"),
            "{message}"
        );
        let (status, _, field) = status_message_field(ScenarioError::invalid("steps", "too many"));
        assert_eq!((status, field.as_deref()), (422, Some("steps")));
        let (status, _, field) = status_message_field(ScenarioError::malformed("name", "bad"));
        assert_eq!((status, field.as_deref()), (400, Some("name")));
    }

    #[test]
    fn an_engine_refusal_keeps_its_status_and_a_step_refusal_names_the_step() {
        let cap = ApiError::TooMany("the action cap is reached".into());
        let (status, message, _) = status_message_field(ScenarioError::Action(Box::new(cap)));
        assert_eq!(
            (status, message.as_str()),
            (429, "the action cap is reached")
        );
        let hot = ApiError::unprocessable("percent", "percent must be at most 100");
        let (status, message, field) = status_message_field(ScenarioError::StepAction {
            field: "steps[2]".into(),
            source: Box::new(hot),
        });
        assert_eq!(status, 422);
        assert_eq!(message, "steps[2].action: percent must be at most 100");
        assert_eq!(field.as_deref(), Some("steps[2].action.percent"));
        let other = ScenarioError::Action("not an API error".into());
        assert_eq!(status_message_field(other).0, 422);
    }
}
