//! Parameters of every kind behind one enum, decoded from a JSON body, a form body or query
//! parameters. Decoding judges the shape (`ActionError::Malformed`), `validate()` the ranges
//! (`ActionError::Invalid`).

use super::ActionError;
use super::engine::Env;
use super::kinds::{ActionKind, Choices, DecodeAny, kinds};
use super::ranges::Range;
use super::{ActionMetrics, RunCtx, cpu, disk, fault, memory, network, traffic};
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

kinds! {
    /// Busy CPU.
    Cpu(cpu) => cpu::CpuParams,
    /// Resident memory.
    Memory(memory) => memory::MemoryParams,
    /// Disk reads and writes.
    Disk(disk) => disk::DiskParams,
    /// HTTP requests at a rate.
    Traffic(traffic) => traffic::TrafficParams,
    /// Bytes at a bit rate.
    Network(network) => network::NetworkParams,
    /// Latency, errors or downtime in a simulated service.
    Fault(fault) => fault::FaultParams,
}

/// Text from a request.
impl DecodeAny for Source<'_> {
    fn decode<T: DeserializeOwned>(&self) -> Result<T, ActionError> {
        decode(*self)
    }
}

/// A value already parsed (a scenario step's action), decoded without writing it back to text.
impl DecodeAny for &serde_json::Value {
    fn decode<T: DeserializeOwned>(&self) -> Result<T, ActionError> {
        if !self.is_object() {
            return Err(ActionError::Malformed {
                message: "the parameters must be an object, e.g. {\"duration\": \"10s\"}".into(),
                field: None,
            });
        }
        serde_path_to_error::deserialize(*self).map_err(|e| {
            let path = crate::strict_json::exact_path(e.path());
            malformed(&e.into_inner().to_string(), path)
        })
    }
}

impl Params {
    /// Decodes the parameters of `kind`; unknown parameters and wrong types are `Malformed`.
    pub fn parse(kind: Kind, src: Source<'_>) -> Result<Params, ActionError> {
        Params::decode_as(kind, src)
    }

    /// Decodes from an already-parsed JSON value (scenario steps).
    pub fn from_value(kind: Kind, value: &serde_json::Value) -> Result<Params, ActionError> {
        Params::decode_as(kind, value)
    }

    /// The same action running for `duration` (a scenario step's length); a kind that is not
    /// [`timed`](Kind::timed) is unchanged.
    pub fn with_duration(mut self, duration: Duration) -> Params {
        if self.kind().timed()
            && let Some(d) = self.timing().into_iter().next()
        {
            *d = Given::new(HumanDuration(duration));
        }
        self
    }

    /// The same action with its length and ramps compressed by `speed` (a scenario played
    /// faster); `speed` is within `ranges::RUN_SPEED`. Out-of-range values stay as they are for
    /// `validate()` to report.
    pub fn scaled(mut self, speed: f64) -> Params {
        for d in self.timing() {
            if let Ok(v) = d.checked() {
                *d = Given::new(HumanDuration(v.0.div_f64(speed)));
            }
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
