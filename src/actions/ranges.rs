//! The numeric ranges of every action parameter: one table the validators check and the
//! scenario JSON Schema and the OpenAPI document publish, so what is documented is exactly what
//! is accepted. Each range excludes values the engine cannot honour (a rate so small that its
//! interval overflows a `Duration`, a ratio above 1, ...).

use super::Kind;
use crate::actions::ActionError;
use serde_json::{Value, json};

/// An inclusive range of one numeric parameter.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    /// The parameter's name in bodies, queries and scenario steps.
    pub field: &'static str,
    /// Smallest accepted value.
    pub min: f64,
    /// Largest accepted value.
    pub max: f64,
    /// True when only whole numbers are meaningful (counts).
    pub integer: bool,
}

impl Range {
    const fn real(field: &'static str, min: f64, max: f64) -> Range {
        Range {
            field,
            min,
            max,
            integer: false,
        }
    }

    const fn whole(field: &'static str, min: f64, max: f64) -> Range {
        Range {
            field,
            min,
            max,
            integer: true,
        }
    }

    /// 422 naming the field and the range when `v` is outside it (or not a finite number).
    pub fn check(&self, v: f64) -> Result<(), ActionError> {
        if v.is_finite() && v >= self.min && v <= self.max {
            return Ok(());
        }
        Err(ActionError::invalid(
            self.field,
            format!(
                "{} must be between {} and {}, not {v}",
                self.field, self.min, self.max
            ),
        ))
    }

    /// The JSON Schema of the parameter.
    pub fn schema(&self, default: &Value) -> Value {
        let mut s = json!({
            "type": if self.integer { "integer" } else { "number" },
            "minimum": self.min,
            "maximum": self.max,
        });
        if !default.is_null() {
            s["default"] = default.clone();
        }
        s
    }
}

/// cpu: target busy percentage.
pub const CPU_PERCENT: Range = Range::real("percent", 1.0, 100.0);
/// cpu: worker threads, 0 = all cores (the upper bound is the host's core count, checked too).
pub const CPU_CORES: Range = Range::whole("cores", 0.0, 1024.0);
/// traffic: requests per second; below 0.01 the schedule's interval is longer than any action.
pub const TRAFFIC_RPS: Range = Range::real("rps", 0.01, 1_000_000.0);
/// traffic: the rate a ramp starts from.
pub const TRAFFIC_RAMP_FROM: Range = Range::real("ramp_from", 0.0, 1_000_000.0);
/// traffic: requests in flight at once.
pub const TRAFFIC_MAX_IN_FLIGHT: Range = Range::whole("max_in_flight", 1.0, 10_000.0);
/// network: megabits per second; below 0.01 one datagram's interval is longer than any action.
pub const NETWORK_MBPS: Range = Range::real("mbps", 0.01, 10_000.0);
/// disk: operations (reads + writes).
pub const DISK_OPERATIONS: Range = Range::whole("operations", 1.0, 1e12);
/// disk: share of operations that write.
pub const DISK_WRITE_RATIO: Range = Range::real("write_ratio", 0.0, 1.0);
/// fault: share of requests answered with 500.
pub const FAULT_ERROR_RATE: Range = Range::real("error_rate", 0.0, 1.0);
/// fault: capacity factor (1 = unchanged).
pub const FAULT_CAPACITY: Range = Range::real("capacity", 0.001, 1000.0);
/// Scenario runs: timeline compression.
pub const RUN_SPEED: Range = Range::real("speed", 0.01, 1000.0);
/// Shortest duration or timeout an action accepts, in seconds.
pub const MIN_DURATION_SECS: f64 = 0.001;

/// The numeric ranges of one kind's parameters (from the kind's registration).
pub fn of(kind: Kind) -> &'static [Range] {
    kind.ranges()
}

/// Parameters that take one of a few words (serde enums of the kinds).
pub fn choices(kind: Kind) -> super::Choices {
    kind.choices()
}

/// Duration parameters (`"10s"`, `"1m 30s"` or a number of seconds) with their range in
/// seconds: a year at most (`HumanDuration`), a fault's latency a minute.
const DURATIONS: [(&str, f64, f64); 4] = [
    ("duration", MIN_DURATION_SECS, YEAR),
    ("ramp", 0.0, YEAR),
    ("latency", 0.0, MAX_LATENCY_SECS as f64),
    ("timeout", MIN_DURATION_SECS, YEAR),
];
/// Size parameters (a number of bytes, `"500MB"`, `"2GiB"`, or for memory `"25%"`) with their
/// range in bytes (a disk block: 512 B to 64 MiB).
const SIZES: [(&str, f64, f64); 2] = [
    ("size", 1.0, u64::MAX as f64),
    (
        "block_size",
        *BLOCK_BYTES.start() as f64,
        *BLOCK_BYTES.end() as f64,
    ),
];
/// disk: bytes per operation.
pub const BLOCK_BYTES: std::ops::RangeInclusive<u64> = 512..=(64 << 20);
/// fault: the largest latency a fault may add, in seconds.
pub const MAX_LATENCY_SECS: u64 = 60;
/// A year in seconds, the longest duration jolt parses.
const YEAR: f64 = 365.0 * 86_400.0;

/// The JSON Schema of one parameter of `kind`, given its default: its range, its words, or
/// the duration and size forms; `None` for a parameter with no special shape.
pub fn param_schema(kind: Kind, field: &str, default: &Value) -> Option<Value> {
    let mut s = if let Some(r) = of(kind).iter().find(|r| r.field == field) {
        return Some(r.schema(default));
    } else if let Some((_, words)) = choices(kind).iter().find(|(f, _)| *f == field) {
        json!({ "type": "string", "enum": words })
    } else if let Some((_, min, max)) = DURATIONS.iter().find(|(f, ..)| *f == field) {
        json!({ "oneOf": [
            { "type": "number", "minimum": min, "maximum": max },
            { "type": "string", "pattern": "^[0-9]{1,9}(ms|s|m|h|d)( [0-9]{1,9}(ms|s|m|h|d))*$" }
        ] })
    } else if let Some((_, min, max)) = SIZES.iter().find(|(f, ..)| *f == field) {
        let units = if field == "size" {
            "B|KB|KiB|MB|MiB|GB|GiB|%"
        } else {
            "B|KB|KiB|MB|MiB"
        };
        json!({ "oneOf": [
            { "type": "integer", "minimum": min, "maximum": max },
            { "type": "string", "pattern": format!("^[0-9]{{1,12}}({units})$") }
        ] })
    } else {
        return None;
    };
    if !default.is_null() {
        s["default"] = default.clone();
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_values_are_outside_and_the_error_names_field_and_range() {
        for v in [1e-300, 0.0, -1.0, f64::NAN, f64::INFINITY, 2e6] {
            let e = TRAFFIC_RPS.check(v).unwrap_err();
            let ActionError::Invalid { message, field } = e else {
                panic!("{v}: not a 422")
            };
            assert_eq!(field.as_deref(), Some("rps"));
            assert!(message.contains("between 0.01 and 1000000"), "{message}");
        }
        assert!(TRAFFIC_RPS.check(0.01).is_ok());
        assert!(NETWORK_MBPS.check(1e-24).is_err());
        assert!(RUN_SPEED.check(1e-308).is_err());
    }

    /// Every documented word is accepted by the kind's decoder, and nothing else is.
    #[test]
    fn the_words_are_the_decoders_words() {
        use crate::actions::{Params, Source};
        for kind in Kind::ALL {
            for (field, words) in choices(kind) {
                for w in *words {
                    let body = format!("{{\"{field}\": \"{w}\"}}");
                    assert!(
                        Params::parse(kind, Source::Body(body.as_bytes())).is_ok(),
                        "{kind}.{field}={w}"
                    );
                }
                let body = format!("{{\"{field}\": \"nonsense\"}}");
                assert!(
                    Params::parse(kind, Source::Body(body.as_bytes())).is_err(),
                    "{kind}.{field}"
                );
            }
        }
    }
}
