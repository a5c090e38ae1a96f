//! Parameters of every kind behind one enum, decoded from a JSON body, a form body or query
//! parameters. Decoding judges the shape (`ActionError::Malformed`), `validate()` the ranges
//! (`ActionError::Invalid`).

use super::ActionError;
use super::engine::Env;
use super::{ActionMetrics, Kind, RunCtx, cpu, disk, fault, memory, network, traffic};
use crate::strict_json::JsonError;
use crate::units::{Given, HumanDuration};
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
    pub fn parse(kind: Kind, src: Source<'_>) -> Result<Params, ActionError> {
        Ok(match kind {
            Kind::Cpu => Params::Cpu(decode(src)?),
            Kind::Memory => Params::Memory(decode(src)?),
            Kind::Disk => Params::Disk(decode(src)?),
            Kind::Traffic => Params::Traffic(decode(src)?),
            Kind::Network => Params::Network(decode(src)?),
            Kind::Fault => Params::Fault(decode(src)?),
        })
    }

    /// Decodes from an already-parsed JSON value (scenario steps), without writing it back to
    /// text.
    pub fn from_value(kind: Kind, value: &serde_json::Value) -> Result<Params, ActionError> {
        fn typed<T: DeserializeOwned>(value: &serde_json::Value) -> Result<T, ActionError> {
            if !value.is_object() {
                return Err(ActionError::Malformed {
                    message: "the parameters must be an object, e.g. {\"duration\": \"10s\"}"
                        .into(),
                    field: None,
                });
            }
            serde_path_to_error::deserialize(value).map_err(|e| {
                let path = crate::strict_json::exact_path(e.path());
                malformed(&e.into_inner().to_string(), path)
            })
        }
        Ok(match kind {
            Kind::Cpu => Params::Cpu(typed(value)?),
            Kind::Memory => Params::Memory(typed(value)?),
            Kind::Disk => Params::Disk(typed(value)?),
            Kind::Traffic => Params::Traffic(typed(value)?),
            Kind::Network => Params::Network(typed(value)?),
            Kind::Fault => Params::Fault(typed(value)?),
        })
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

    /// The same action running for `duration` (a scenario step's length); a kind that is not
    /// [`timed`](Kind::timed) is unchanged.
    pub fn with_duration(mut self, duration: Duration) -> Params {
        let d = Given::new(HumanDuration(duration));
        match &mut self {
            Params::Cpu(p) => p.duration = d,
            Params::Memory(p) => p.duration = d,
            Params::Traffic(p) => p.duration = d,
            Params::Network(p) => p.duration = d,
            Params::Fault(p) => p.duration = d,
            Params::Disk(_) => {}
        }
        self
    }

    /// The same action with its length and ramp compressed by `speed` (a scenario played
    /// faster); `speed` is within `ranges::RUN_SPEED`. Out-of-range values stay as they are for
    /// `validate()` to report.
    pub fn scaled(mut self, speed: f64) -> Params {
        let scale = |d: &mut Given<HumanDuration>| {
            if let Ok(v) = d.checked() {
                *d = Given::new(HumanDuration(v.0.div_f64(speed)));
            }
        };
        match &mut self {
            Params::Cpu(p) => {
                scale(&mut p.duration);
                scale(&mut p.ramp);
            }
            Params::Memory(p) => {
                scale(&mut p.duration);
                scale(&mut p.ramp);
            }
            Params::Traffic(p) => scale(&mut p.duration),
            Params::Network(p) => scale(&mut p.duration),
            Params::Fault(p) => scale(&mut p.duration),
            Params::Disk(_) => {}
        }
        self
    }

    /// Takes what the action reserves of a shared budget (memory), under the registry's lock
    /// so that concurrent admissions see each other; bookkeeping on atomics only.
    pub fn admit(&mut self, metrics: &ActionMetrics) -> Result<(), ActionError> {
        match self {
            Params::Memory(p) => p.admit(metrics),
            _ => Ok(()),
        }
    }

    /// Range and safety checks against the host (422), resolving relative values.
    pub fn validate(&mut self, env: &Env) -> Result<(), ActionError> {
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
pub fn check_timing(
    duration: HumanDuration,
    ramp: Option<HumanDuration>,
) -> Result<(), ActionError> {
    if duration.0.as_secs_f64() < super::ranges::MIN_DURATION_SECS {
        return Err(ActionError::invalid(
            "duration",
            format!(
                "duration must be between {}s and 365 days",
                super::ranges::MIN_DURATION_SECS
            ),
        ));
    }
    if ramp.is_some_and(|r| r > duration) {
        return Err(ActionError::invalid(
            "ramp",
            "ramp must not be longer than duration",
        ));
    }
    Ok(())
}

/// Decodes one kind's params from JSON, form or query text. Every failure here is about the
/// request's shape (`Malformed`); ranges are `validate()`'s business.
pub fn decode<T: DeserializeOwned>(src: Source<'_>) -> Result<T, ActionError> {
    match src {
        Source::Body(body) => {
            let text = std::str::from_utf8(body).map_err(|_| ActionError::Malformed {
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
                Err(ActionError::Malformed {
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

fn decode_json<T: DeserializeOwned>(text: &str) -> Result<T, ActionError> {
    crate::strict_json::from_str(text).map_err(|e| match e {
        JsonError::Data { path, message } => malformed(&message, path),
        other => ActionError::Malformed {
            message: other.to_string(),
            field: None,
        },
    })
}

fn decode_form<T: DeserializeOwned>(text: &str) -> Result<T, ActionError> {
    serde_urlencoded::from_str(text).map_err(|e| malformed(&e.to_string(), None))
}

/// A decoding error naming the parameter: the path the JSON decoder reports, or for form and
/// query text (whose decoder gives no path) the name in serde's "unknown field" sentence.
fn malformed(msg: &str, path: Option<String>) -> ActionError {
    let msg = msg.split(" at line ").next().unwrap_or(msg).to_string();
    let unknown = msg.starts_with("unknown field");
    let field = path.or_else(|| {
        msg.strip_prefix("unknown field `")
            .and_then(|r| r.split('`').next())
            .map(str::to_string)
    });
    let message = match (&field, unknown) {
        (Some(f), false) => format!("{f}: {msg}"),
        _ => msg,
    };
    ActionError::Malformed { message, field }
}
