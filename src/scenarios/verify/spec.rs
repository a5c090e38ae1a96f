//! The `expect:` section of a scenario file as people write it: alert checks (does an alert
//! fire, resolve, reach Alertmanager, or stay quiet) and query checks (does an expression stay
//! below, above or between bounds over a window). Decoding checks shapes and types (serde
//! names the path, line and column); [`super::check::compile`] checks meaning.

use crate::scenarios::format::{DurationText, Offset};
use crate::units::HumanDuration;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Cow;
use std::collections::BTreeMap;

/// One entry of `expect:`; either an alert check (`alert`) or a query check (`query`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// A name for reports, metrics and JUnit; default: derived from the alert or query.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// An alerting rule Prometheus has loaded (checked before the run starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    /// Labels the alert must carry, e.g. `{service: auth}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The alert fires within `within` of `after`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fires: Option<BudgetSpec>,
    /// The alert is resolved within `within` of `after` and stays resolved until then.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolves: Option<BudgetSpec>,
    /// Alertmanager delivered the firing alert to jolt's `POST /alerts` within the `fires`
    /// budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notified: Option<bool>,
    /// The alert must not fire at all during the run (a false positive).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub never: Option<bool>,
    /// A PromQL expression (checked to parse before the run starts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// Every value must be below this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub below: Option<f64>,
    /// Every value must be above this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub above: Option<f64>,
    /// Every value must lie in `[low, high]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub between: Option<[f64; 2]>,
    /// The query's window; default: the whole run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub during: Option<WindowSpec>,
    /// How the window's values are judged; default `always`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<Mode>,
    /// Stop the run as soon as this check fails.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub abort_on_fail: bool,
}

/// `{after, within}`: a time budget counted from a point of the timeline.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetSpec {
    /// Where the clock starts: a step id, `ID.end`, or an offset such as "0:20".
    pub after: Anchor,
    /// How long (wall time) the pipeline may take, e.g. "40s".
    #[schemars(with = "DurationText")]
    pub within: HumanDuration,
}

/// `{from, to}`: a window of the timeline.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowSpec {
    /// Start: a step id, `ID.end`, or an offset; default the run's start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Anchor>,
    /// End: a step id, `ID.end`, or an offset; default the run's end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Anchor>,
}

/// How a query check judges the values of its window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Every sample of every series is within bounds.
    Always,
    /// At least one sample is within bounds.
    Eventually,
    /// The last sample of every series is within bounds.
    AtEnd,
}

/// A point of the timeline: a step's start (its `id`), its end (`ID.end`) or an offset.
#[derive(Debug, Clone, PartialEq)]
pub enum Anchor {
    /// The start of the step with this id.
    Start(String),
    /// The end of the step with this id.
    End(String),
    /// A fixed offset.
    At(Offset),
}

impl Anchor {
    /// Parses the text form: an offset if it reads as one, else a step id (with `.end`).
    pub fn parse(text: &str) -> Result<Anchor, String> {
        let text = text.trim();
        if text.is_empty() {
            return Err("empty: name a step id, `ID.end`, or an offset such as \"0:20\"".into());
        }
        if text.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
            return Offset::parse(text).map(Anchor::At);
        }
        Ok(match text.strip_suffix(".end") {
            Some(id) => Anchor::End(id.to_string()),
            None => Anchor::Start(text.to_string()),
        })
    }
}

impl std::fmt::Display for Anchor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Anchor::Start(id) => write!(f, "{id}"),
            Anchor::End(id) => write!(f, "{id}.end"),
            Anchor::At(o) => write!(f, "{}", crate::scenarios::format::clock(o.0)),
        }
    }
}

impl Serialize for Anchor {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Anchor {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Num(f64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Num(n) => Offset::from_secs(n, "offsets count")
                .map(Anchor::At)
                .map_err(D::Error::custom),
            Raw::Text(t) => Anchor::parse(&t).map_err(D::Error::custom),
        }
    }
}

impl JsonSchema for Anchor {
    fn schema_name() -> Cow<'static, str> {
        "Anchor".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A point of the timeline: a step id (its start), `ID.end`, or an offset (\"0:20\", \"90s\", 90).",
            "oneOf": [
                { "type": "string", "minLength": 1 },
                { "type": "number", "minimum": 0 }
            ],
            "examples": ["flood", "flood.end", "0:20", 90]
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn anchors_read_step_ids_ends_and_offsets() {
        assert_eq!(
            Anchor::parse("flood").unwrap(),
            Anchor::Start("flood".into())
        );
        assert_eq!(
            Anchor::parse("flood.end").unwrap(),
            Anchor::End("flood".into())
        );
        assert_eq!(
            Anchor::parse("1:20").unwrap(),
            Anchor::At(Offset(Duration::from_secs(80)))
        );
        assert_eq!(
            Anchor::parse("90s").unwrap(),
            Anchor::At(Offset(Duration::from_secs(90)))
        );
        assert!(Anchor::parse("-5").is_err());
        assert!(Anchor::parse(" ").is_err());
    }
}
