//! The JSON Schema of the scenario format, generated from the Rust types so editors validate
//! exactly what jolt accepts. The committed copy (`scenarios/scenario.schema.json`) is checked
//! against this generator by a test.

use super::format::ScenarioFile;
use crate::actions::{Kind, Params, ranges};
use schemars::{Schema, json_schema};
use serde_json::{Map, Value, json};

/// Where the committed copy lives, relative to the repository root.
pub const COMMITTED_PATH: &str = "scenarios/scenario.schema.json";

/// The whole schema of a scenario file.
pub fn scenario_schema() -> Value {
    let mut schema = schemars::schema_for!(ScenarioFile).to_value();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert(
            "$id".into(),
            json!("https://github.com/jolt/jolt/scenarios/scenario.schema.json"),
        );
    }
    schema
}

/// The schema text as committed: pretty JSON with a trailing newline.
pub fn scenario_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&scenario_schema()).expect("schema serializes");
    text.push('\n');
    text
}

/// One alternative per kind, listing that kind's parameters (taken from its defaults, so a
/// parameter added to a kind shows up here) with their default values and, for numbers, the
/// range the validator enforces ([`ranges`]); unknown parameters are flagged by
/// `additionalProperties: false`.
pub fn action_schema() -> Schema {
    let alternatives: Vec<Value> = Kind::ALL
        .into_iter()
        .map(|kind| {
            let defaults = Params::from_value(kind, &json!({}))
                .map(|p| p.to_json())
                .unwrap_or_default();
            let mut props = Map::new();
            props.insert("kind".into(), json!({ "const": kind.as_str() }));
            if let Value::Object(defaults) = defaults {
                for (name, default) in defaults {
                    let schema = ranges::param_schema(kind, &name, &default)
                        .unwrap_or_else(|| param_schema(&default));
                    props.insert(name, schema);
                }
            }
            json!({
                "title": kind.as_str(),
                "type": "object",
                "properties": props,
                "required": ["kind"],
                "additionalProperties": false
            })
        })
        .collect();
    json_schema!({
        "description": "An action: `kind` plus that kind's parameters (see the Control API).",
        "type": "object",
        "required": ["kind"],
        "oneOf": alternatives
    })
}

/// A parameter's schema from its default: numbers, booleans or text (durations and sizes
/// may be either text or a number).
fn param_schema(default: &Value) -> Value {
    let types = match default {
        Value::Bool(_) => json!("boolean"),
        Value::Number(_) => json!(["number", "string"]),
        Value::String(_) => json!(["string", "number"]),
        _ => json!(["number", "string", "boolean", "null"]),
    };
    if default.is_null() {
        json!({ "type": types })
    } else {
        json!({ "type": types, "default": default })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_schema_matches_the_generated_one() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(COMMITTED_PATH);
        let generated = scenario_schema_text();
        if std::env::var_os("JOLT_UPDATE_SCHEMA").is_some() {
            std::fs::write(&path, &generated).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{COMMITTED_PATH} is stale; regenerate it with \
             `JOLT_UPDATE_SCHEMA=1 cargo test committed_schema_matches`"
        );
    }

    #[test]
    fn schema_lists_every_kind_and_its_parameters() {
        let s = scenario_schema();
        let text = s.to_string();
        for kind in Kind::ALL {
            assert!(text.contains(&format!("\"const\":\"{kind}\"")), "{kind}");
        }
        let alts = s["$defs"]["Action"]["oneOf"].as_array().unwrap();
        let cpu = alts.iter().find(|a| a["title"] == "cpu").unwrap();
        assert_eq!(cpu["properties"]["percent"]["default"], json!(90.0));
        assert_eq!(cpu["additionalProperties"], json!(false));
    }
}
