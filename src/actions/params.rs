//! Parameters of every kind behind one enum, decoded from a JSON body, a form body or query
//! parameters, with serde errors turned into the API's 400/422 JSON errors.

use super::engine::Env;
use super::{Kind, RunCtx, cpu, disk, fault, memory, network, traffic};
use crate::api::ApiError;
use crate::strict_json::JsonError;
use crate::units::{HumanDuration, OUT_OF_RANGE};
use serde::de::DeserializeOwned;
use std::time::Duration;

/// Where the parameters came from.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A JSON (or form-encoded) request body; empty means defaults.
    Body(&'a [u8]),
    /// A URL query string.
    Query(&'a str),
}

/// The parameters of one action, resolved by `validate`.
#[derive(Debug, Clone)]
pub enum Params {
    /// See [`cpu`].
    Cpu(cpu::CpuParams),
    /// See [`memory`].
    Memory(memory::MemoryParams),
    /// See [`disk`].
    Disk(disk::DiskParams),
    /// See [`traffic`].
    Traffic(traffic::TrafficParams),
    /// See [`network`].
    Network(network::NetworkParams),
    /// See [`fault`].
    Fault(fault::FaultParams),
}

/// Dispatches `$body` over every variant with `$p` bound to the kind's params.
macro_rules! each {
    ($self:expr, $p:ident => $body:expr) => {
        match $self {
            Params::Cpu($p) => $body,
            Params::Memory($p) => $body,
            Params::Disk($p) => $body,
            Params::Traffic($p) => $body,
            Params::Network($p) => $body,
            Params::Fault($p) => $body,
        }
    };
}

impl Params {
    /// Decodes the parameters of `kind`; unknown parameters and wrong types are 400.
    pub fn parse(kind: Kind, src: Source<'_>) -> Result<Params, ApiError> {
        Ok(match kind {
            Kind::Cpu => Params::Cpu(decode(src)?),
            Kind::Memory => Params::Memory(decode(src)?),
            Kind::Disk => Params::Disk(decode(src)?),
            Kind::Traffic => Params::Traffic(decode(src)?),
            Kind::Network => Params::Network(decode(src)?),
            Kind::Fault => Params::Fault(decode(src)?),
        })
    }

    /// Decodes from an already-parsed JSON value (scenario steps).
    pub fn from_value(kind: Kind, value: &serde_json::Value) -> Result<Params, ApiError> {
        let bytes = serde_json::to_vec(value).map_err(|e| ApiError::Internal(e.to_string()))?;
        Self::parse(kind, Source::Body(&bytes))
    }

    /// The kind.
    pub fn kind(&self) -> Kind {
        match self {
            Params::Cpu(_) => Kind::Cpu,
            Params::Memory(_) => Kind::Memory,
            Params::Disk(_) => Kind::Disk,
            Params::Traffic(_) => Kind::Traffic,
            Params::Network(_) => Kind::Network,
            Params::Fault(_) => Kind::Fault,
        }
    }

    /// Range and safety checks against the host (422), resolving relative values.
    pub fn validate(&mut self, env: &Env) -> Result<(), ApiError> {
        each!(self, p => p.validate(env))
    }

    /// How long the action runs, when that is known in advance.
    pub fn duration(&self) -> Option<Duration> {
        each!(self, p => p.duration())
    }

    /// The resolved parameters as the action object shows them.
    pub fn to_json(&self) -> serde_json::Value {
        each!(self, p => serde_json::to_value(p).unwrap_or_default())
    }

    /// Produces the load until done or cancelled; `Err` is the reason it failed.
    pub async fn run(self, ctx: RunCtx) -> Result<(), String> {
        match self {
            Params::Cpu(p) => cpu::run(p, ctx).await,
            Params::Memory(p) => memory::run(p, ctx).await,
            Params::Disk(p) => disk::run(p, ctx).await,
            Params::Traffic(p) => traffic::run(p, ctx).await,
            Params::Network(p) => network::run(p, ctx).await,
            Params::Fault(p) => fault::run(p, ctx).await,
        }
    }
}

/// The timing rules every timed kind shares: a duration longer than zero, and a ramp (where
/// the kind has one) that fits inside it.
pub fn check_timing(duration: HumanDuration, ramp: Option<HumanDuration>) -> Result<(), ApiError> {
    if duration.0.as_secs_f64() < super::ranges::MIN_DURATION_SECS {
        return Err(ApiError::unprocessable(
            "duration",
            format!(
                "duration must be between {}s and 365 days",
                super::ranges::MIN_DURATION_SECS
            ),
        ));
    }
    if ramp.is_some_and(|r| r > duration) {
        return Err(ApiError::unprocessable(
            "ramp",
            "ramp must not be longer than duration",
        ));
    }
    Ok(())
}

/// Decodes one kind's params from JSON, form or query text.
pub fn decode<T: DeserializeOwned>(src: Source<'_>) -> Result<T, ApiError> {
    match src {
        Source::Body(body) => {
            let text = std::str::from_utf8(body).map_err(|_| ApiError::BadRequest {
                message: "the body is not UTF-8".into(),
                field: None,
            })?;
            let trimmed = text.trim();
            if trimmed.is_empty() {
                decode_json("{}")
            } else if text.starts_with('\u{feff}') || trimmed == "null" || trimmed.starts_with('{')
            {
                decode_json(trimmed)
            } else if trimmed.starts_with('[') || trimmed.starts_with('"') {
                Err(ApiError::BadRequest {
                    message:
                        "the body must be a JSON object of parameters, e.g. {\"duration\": \"10s\"}"
                            .into(),
                    field: None,
                })
            } else {
                decode_form(trimmed)
            }
        }
        Source::Query(q) => decode_form(q),
    }
}

fn decode_json<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    crate::strict_json::from_str(text).map_err(|e| match e {
        JsonError::Data { path, message } => classify(&message, path),
        other => ApiError::BadRequest {
            message: other.to_string(),
            field: None,
        },
    })
}

fn decode_form<T: DeserializeOwned>(text: &str) -> Result<T, ApiError> {
    serde_urlencoded::from_str(text).map_err(|e| classify(&e.to_string(), None))
}

/// 422 for values out of range, 400 for the rest; names the field when it can.
fn classify(msg: &str, path: Option<String>) -> ApiError {
    let msg = msg.split(" at line ").next().unwrap_or(msg).to_string();
    let field = path.or_else(|| {
        msg.strip_prefix("unknown field `")
            .and_then(|r| r.split('`').next())
            .map(str::to_string)
    });
    if let Some(rest) = msg.strip_prefix(OUT_OF_RANGE) {
        let message = match &field {
            Some(f) => format!("{f}: {rest}"),
            None => rest.to_string(),
        };
        return ApiError::Unprocessable { message, field };
    }
    let message = match (&field, msg.starts_with("unknown field")) {
        (Some(f), false) => format!("{f}: {msg}"),
        _ => msg,
    };
    ApiError::BadRequest { message, field }
}
