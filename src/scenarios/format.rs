//! The scenario file format, as people write it in YAML (or JSON): a title, a length and a
//! timeline of steps, each an action at an offset with an optional note.
//!
//! Decoding already checks each step's action with the engine's own decoder, so an unknown
//! kind or parameter is reported by serde with the step's path and, in YAML, its line and
//! column. Rules that span several steps live in [`super::compile`].

use crate::actions::{Kind, Params};
use crate::units::HumanDuration;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::time::Duration;

/// A scenario file.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "jolt scenario")]
pub struct ScenarioFile {
    /// Short name, `[a-z0-9-]{1,64}`; optional, and when present it must equal the file
    /// name (without extension) or the name in `PUT /scenarios/{name}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What people see, e.g. "Black Friday Rush".
    pub title: String,
    /// One or two sentences: the story this scenario tells.
    #[serde(default)]
    pub description: String,
    /// The scenario's length, e.g. "3m"; every step must end by then.
    #[schemars(with = "DurationText")]
    pub duration: HumanDuration,
    /// The timeline, in any order (they are sorted by `at`).
    pub steps: Vec<StepSpec>,
    /// Checks that make this a verified scenario: alerts that must fire (in time), reach
    /// Alertmanager, resolve, or never fire; queries that must stay within bounds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect: Vec<super::verify::CheckSpec>,
}

/// One step of the timeline.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StepSpec {
    /// A name checks refer to (`after: flood`, `to: flood.end`); letters, digits, `-`, `_`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// When the step starts, from the scenario's start: "1:30", "90s" or 90.
    pub at: Offset,
    /// The action to start: `kind` plus that kind's parameters, as `POST /actions/{kind}`
    /// takes them, e.g. `{kind: traffic, target: auth, rps: 300, ramp_from: 100}`.
    pub action: ActionSpec,
    /// How long the step lasts; default: until the next step starts, or the scenario's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<DurationText>")]
    pub duration: Option<HumanDuration>,
    /// The story told at this point, e.g. "Press release: traffic +200 %".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// An offset into the timeline. Accepts `"M:SS"`, `"H:MM:SS"`, a humantime duration such as
/// `"1m30s"`, or a number of seconds; negative offsets are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Offset(pub Duration);

impl Offset {
    /// An offset given as a number of seconds; `what` names, in the error, what counts from
    /// the start (`at` of a step, a check's anchor).
    pub fn from_secs(secs: f64, what: &str) -> Result<Offset, String> {
        if secs < 0.0 {
            return Err(format!(
                "negative offset {secs}: {what} from the scenario's start"
            ));
        }
        HumanDuration::from_secs_f64(secs)
            .map(|h| Offset(h.0))
            .map_err(|e| e.to_string())
    }

    /// Parses the text forms.
    pub fn parse(text: &str) -> Result<Offset, String> {
        let text = text.trim();
        if text.starts_with('-') {
            return Err(format!(
                "negative offset `{text}`: `at` counts from the scenario's start"
            ));
        }
        if text.contains(':') {
            return parse_clock(text).map(Offset).ok_or_else(|| {
                format!("`{text}` is not an offset like \"1:30\" (minutes:seconds) or \"1:02:03\"")
            });
        }
        HumanDuration::parse(text)
            .map(|d| Offset(d.0))
            .map_err(|e| format!("`at`: {e}"))
    }
}

/// `M:SS` or `H:MM:SS`; seconds (and minutes after hours) must be below 60.
fn parse_clock(text: &str) -> Option<Duration> {
    let parts: Vec<&str> = text.split(':').collect();
    let nums: Vec<u64> = parts
        .iter()
        .map(|p| {
            (!p.is_empty() && p.len() <= 6)
                .then(|| p.parse().ok())
                .flatten()
        })
        .collect::<Option<_>>()?;
    let secs = match nums.as_slice() {
        [m, s] if *s < 60 => m * 60 + s,
        [h, m, s] if *m < 60 && *s < 60 => h * 3600 + m * 60 + s,
        _ => return None,
    };
    Some(Duration::from_secs(secs))
}

/// Formats an offset as `M:SS` (with tenths when it has a fraction).
pub fn clock(d: Duration) -> String {
    let secs = d.as_secs();
    let frac = d.subsec_millis() / 100;
    if frac == 0 {
        format!("{}:{:02}", secs / 60, secs % 60)
    } else {
        format!("{}:{:02}.{frac}", secs / 60, secs % 60)
    }
}

impl Serialize for Offset {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&clock(self.0))
    }
}

impl<'de> Deserialize<'de> for Offset {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(n) => Offset::from_secs(n, "`at` counts").map_err(D::Error::custom),
            Raw::Text(t) => Offset::parse(&t).map_err(D::Error::custom),
        }
    }
}

impl JsonSchema for Offset {
    fn schema_name() -> Cow<'static, str> {
        "Offset".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Offset from the scenario's start: \"M:SS\", \"H:MM:SS\", a duration such as \"1m30s\", or seconds.",
            "oneOf": [
                { "type": "string", "pattern": "^([0-9]+:)?[0-9]+:[0-5][0-9]$|^[0-9][0-9a-z .]*$" },
                { "type": "number", "minimum": 0 }
            ],
            "examples": ["0:30", "90s", 90]
        })
    }
}

/// A duration as the schema describes it (the Rust type is [`HumanDuration`]).
pub struct DurationText;

impl JsonSchema for DurationText {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration such as \"10s\", \"1m30s\", or a number of seconds.",
            "oneOf": [
                { "type": "string", "minLength": 1 },
                { "type": "number", "minimum": 0 }
            ],
            "examples": ["30s", "1m30s", 45]
        })
    }
}

/// A step's action: its kind and that kind's parameters (without `kind`).
#[derive(Debug, Clone)]
pub struct ActionSpec {
    /// The action kind.
    pub kind: Kind,
    /// The parameters as written (what the API shows).
    pub params: Map<String, Value>,
    /// The same, decoded once by the engine's decoder while the file is read.
    pub decoded: Params,
}

impl Serialize for ActionSpec {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = Map::with_capacity(self.params.len() + 1);
        map.insert("kind".into(), Value::String(self.kind.as_str().into()));
        map.extend(self.params.clone());
        map.serialize(s)
    }
}

impl<'de> Deserialize<'de> for ActionSpec {
    /// Checks the kind and the parameters with the engine's own decoder right here, so the
    /// YAML error carries the step's location.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut params = Map::<String, Value>::deserialize(d)?;
        let kind = match params.remove("kind") {
            Some(Value::String(k)) => Kind::parse(&k).map_err(D::Error::custom)?,
            Some(other) => {
                return Err(D::Error::custom(format!(
                    "`kind` must be a string such as \"cpu\", not {other}"
                )));
            }
            None => {
                return Err(D::Error::custom(
                    "missing `kind`: every action names its kind, e.g. {kind: cpu, percent: 80}",
                ));
            }
        };
        let decoded = Params::from_value(kind, &Value::Object(params.clone()))
            .map_err(|e| D::Error::custom(format!("{kind} action: {e}")))?;
        Ok(ActionSpec {
            kind,
            params,
            decoded,
        })
    }
}

impl JsonSchema for ActionSpec {
    fn schema_name() -> Cow<'static, str> {
        "Action".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        super::schema::action_schema()
    }
}

/// Why a scenario document does not decode: the message (with the path and, for YAML and JSON
/// alike, the line and column) and the exact field at fault when there is one.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    /// What is wrong, where.
    pub message: String,
    /// The field at fault (`steps[0].action`), for errors about content.
    pub field: Option<String>,
}

impl ParseError {
    fn plain(message: impl Into<String>) -> ParseError {
        ParseError {
            message: message.into(),
            field: None,
        }
    }
}

/// Decodes a YAML or JSON document (JSON when it starts with `{`); errors name the path and,
/// for YAML and JSON alike, the line and column.
pub fn parse(text: &str) -> Result<ScenarioFile, ParseError> {
    if text.trim().is_empty() {
        return Err(ParseError::plain(
            "the scenario is empty: it needs at least `title`, `duration` and `steps`",
        ));
    }
    if text.starts_with('\u{feff}') || text.trim_start().starts_with('{') {
        return crate::strict_json::from_str(text).map_err(|e| ParseError {
            field: e.field().map(str::to_string),
            message: e.to_string(),
        });
    }
    let de = serde_yaml_ng::Deserializer::from_str(text);
    serde_path_to_error::deserialize(de).map_err(|e| ParseError {
        field: crate::strict_json::exact_path(e.path()),
        // serde_yaml_ng's own message already names the path, line and column.
        message: e.into_inner().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_accept_clock_humantime_and_seconds() {
        let secs = |t: &str| Offset::parse(t).unwrap().0.as_secs_f64();
        assert_eq!(secs("0:30"), 30.0);
        assert_eq!(secs("2:05"), 125.0);
        assert_eq!(secs("1:00:05"), 3605.0);
        assert_eq!(secs("1m30s"), 90.0);
        assert_eq!(secs("45"), 45.0);
        assert!(Offset::parse("-5s").unwrap_err().contains("negative"));
        assert!(Offset::parse("1:75").is_err());
        assert!(Offset::parse("1::2").is_err());
        assert_eq!(clock(Duration::from_secs(90)), "1:30");
        assert_eq!(clock(Duration::from_millis(1500)), "0:01.5");
    }

    #[test]
    fn yaml_errors_carry_the_location() {
        let text =
            "title: t\nduration: 1m\nsteps:\n  - at: 0:10\n    action: {kind: cpu, percnt: 5}\n";
        let e = parse(text).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("steps[0].action"), "{e}");
        let err = e.message;
        assert!(err.contains("percnt"), "{err}");
        assert!(err.contains("steps[0]"), "{err}");
        assert!(err.contains("line 4 column 5"), "{err}");
    }

    #[test]
    fn unknown_kind_and_negative_offset_are_refused() {
        let err = parse("title: t\nduration: 1m\nsteps:\n  - at: 0\n    action: {kind: gpu}\n")
            .unwrap_err()
            .message;
        assert!(err.contains("unknown action kind `gpu`"), "{err}");
        let err = parse("title: t\nduration: 1m\nsteps:\n  - at: -5\n    action: {kind: cpu}\n")
            .unwrap_err()
            .message;
        assert!(err.contains("negative offset"), "{err}");
        assert!(err.contains("line 4"), "{err}");
    }

    #[test]
    fn json_is_accepted_with_paths_in_errors() {
        let ok = r#"{"title": "t", "duration": 60, "steps": [{"at": "0:10", "action": {"kind": "cpu", "percent": 5}}]}"#;
        let f = parse(ok).unwrap();
        assert_eq!(f.steps[0].at.0, Duration::from_secs(10));
        assert_eq!(f.steps[0].action.kind, Kind::Cpu);
        let bad = r#"{"title": "t", "duration": 60, "steps": [{"at": 1, "action": {"kind": "cpu", "nope": 1}}]}"#;
        let err = parse(bad).unwrap_err().message;
        assert!(
            err.contains("steps[0].action") && err.contains("nope"),
            "{err}"
        );
    }
}
