//! Makes the generated OpenAPI document describe the API exactly, so a client generator or a
//! fuzzer can build every valid request and knows every answer:
//! - one `POST /actions/<kind>` per kind, with that kind's parameter schema (the ranges the
//!   validator enforces, from `actions::ranges`, via the scenario format's action schema);
//! - the scenario format (the JSON Schema of `/scenarios/schema.json`) as the body of
//!   `PUT /scenarios/{name}`;
//! - every error status an operation can answer (403 from the browser rules, 401 with a token,
//!   429 over the rate, 413 for bodies, 400 for bad parameters, 404 for unknown ids);
//! - the Alertmanager webhook's `version` and `status` values.

use crate::actions::{ActionsConfig, Kind};
use crate::scenarios::schema::{action_schema, scenario_schema};
use crate::units::{HumanDuration, SizeSpec};
use serde_json::{Map, Value, json};

const ERROR_REF: &str = "#/components/schemas/ErrorBody";

/// Applies every refinement to the serialized document.
pub fn refine(doc: &mut Value, services: &[&str], limits: &ActionsConfig) {
    per_kind_actions(doc, services, limits);
    scenario_format(doc);
    webhook_values(doc);
    error_statuses(doc);
}

/// Replaces `POST /actions/{kind}` by one operation per kind.
fn per_kind_actions(doc: &mut Value, services: &[&str], limits: &ActionsConfig) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    let Some(generic) = paths
        .get_mut("/actions/{kind}")
        .and_then(|p| p.as_object_mut())
        .and_then(|p| p.remove("post"))
    else {
        return;
    };
    if paths["/actions/{kind}"]
        .as_object()
        .is_some_and(|p| p.is_empty())
    {
        paths.remove("/actions/{kind}");
    }
    let alternatives = action_schema().to_value()["oneOf"].clone();
    for kind in Kind::ALL {
        let Some(mut schema) = alternatives
            .as_array()
            .and_then(|a| a.iter().find(|s| s["title"] == kind.as_str()))
            .cloned()
        else {
            continue;
        };
        if let Some(props) = schema["properties"].as_object_mut() {
            props.remove("kind");
        }
        if let Some(obj) = schema.as_object_mut() {
            obj.remove("required");
            obj.insert("title".into(), json!(format!("{kind} parameters")));
        }
        name_services(kind, &mut schema, services);
        apply_caps(&mut schema, limits);
        let mut op = generic.clone();
        op["operationId"] = json!(format!("start_{kind}"));
        op["summary"] = json!(format!("Start a {kind} action"));
        if let Some(params) = op["parameters"].as_array_mut() {
            params.retain(|p| p["name"] != "kind");
            if params.is_empty() {
                op.as_object_mut().map(|o| o.remove("parameters"));
            }
        }
        let mut example = op["requestBody"]["content"]["application/json"]["examples"]
            [kind.as_str()]["value"]
            .clone();
        fit_example(kind, &mut example, services, limits);
        op["requestBody"] = json!({
            "description": "The kind's parameters; omitted ones take their defaults (an empty body is the one-click action). Query parameters work too.",
            "required": false,
            "content": {"application/json": {"schema": schema, "example": example}}
        });
        paths.insert(format!("/actions/{kind}"), json!({ "post": op }));
    }
}

/// The services this jolt serves, as the words `service` (fault, required) and `target`
/// (traffic: a service, `echo`, or an allowlisted HOST:PORT) accept.
fn name_services(kind: Kind, schema: &mut Value, services: &[&str]) {
    match kind {
        Kind::Fault => {
            schema["properties"]["service"] = json!({ "type": "string", "enum": services });
            schema["required"] = json!(["service"]);
        }
        Kind::Traffic => {
            let mut words: Vec<&str> = services.to_vec();
            words.push(crate::actions::traffic::ECHO);
            let default = schema["properties"]["target"]["default"].clone();
            schema["properties"]["target"] = json!({
                "anyOf": [
                    { "type": "string", "enum": words },
                    { "type": "string", "pattern": "^[^:/ ]+:[0-9]{1,5}$", "description": "an allowlisted HOST:PORT" }
                ],
                "default": default
            });
        }
        _ => {}
    }
}

/// This jolt's caps as the maxima: the longest duration, the largest memory size.
/// A parameter whose default lies beyond a cap becomes required: leaving it out is refused.
fn apply_caps(schema: &mut Value, limits: &ActionsConfig) {
    let Some(props) = schema["properties"].as_object_mut() else {
        return;
    };
    let mut required = Vec::new();
    if let Some(d) = props.get_mut("duration") {
        let max = limits.max_duration;
        d["oneOf"][0]["maximum"] = json!(max.0.as_secs_f64());
        let default = d["default"]
            .as_str()
            .and_then(|t| HumanDuration::parse(t).ok());
        if default.is_some_and(|d| d > max) {
            required.push("duration");
        }
    }
    if let (Some(s), Some(SizeSpec::Bytes(cap))) = (props.get_mut("size"), limits.memory_max_bytes)
    {
        s["oneOf"][0]["maximum"] = json!(cap);
        if s["default"].as_u64().is_some_and(|d| d > cap) {
            required.push("size");
        }
    }
    if let (Some(ops), Some(block), SizeSpec::Bytes(cap)) = (
        props.get("operations").and_then(|o| o["default"].as_u64()),
        props.get("block_size").and_then(|b| b["default"].as_u64()),
        limits.disk_max_bytes,
    ) && ops.saturating_mul(block) > cap
    {
        required.push("operations");
    }
    if required.is_empty() {
        return;
    }
    let list = schema["required"].as_array().cloned().unwrap_or_default();
    let mut list: Vec<Value> = list;
    list.extend(required.into_iter().map(|r| json!(r)));
    schema["required"] = Value::Array(list);
}

/// The kind's defaults, made into a request this jolt accepts: within its caps, and naming a
/// service where one is required.
fn fit_example(kind: Kind, example: &mut Value, services: &[&str], limits: &ActionsConfig) {
    let Some(ex) = example.as_object_mut() else {
        return;
    };
    let max = limits.max_duration;
    if let Some(d) = ex.get("duration").and_then(Value::as_str)
        && HumanDuration::parse(d).is_ok_and(|d| d > max)
    {
        ex.insert("duration".into(), json!(max.to_string()));
    }
    if let (Kind::Memory, Some(SizeSpec::Bytes(cap))) = (kind, limits.memory_max_bytes)
        && ex
            .get("size")
            .and_then(Value::as_u64)
            .is_some_and(|s| s > cap)
    {
        ex.insert("size".into(), json!(cap));
    }
    if let (Kind::Disk, SizeSpec::Bytes(cap)) = (kind, limits.disk_max_bytes)
        && let (Some(ops), Some(block)) = (
            ex.get("operations").and_then(Value::as_u64),
            ex.get("block_size").and_then(Value::as_u64),
        )
        && block > 0
        && ops.saturating_mul(block) > cap
    {
        ex.insert("operations".into(), json!((cap / block).max(1)));
    }
    if kind == Kind::Fault {
        ex.insert(
            "service".into(),
            json!(services.first().copied().unwrap_or("auth")),
        );
        ex.insert("error_rate".into(), json!(0.5));
    }
}

/// The scenario JSON Schema as the body of `PUT /scenarios/{name}`, its `$defs` moved into
/// `components.schemas`.
fn scenario_format(doc: &mut Value) {
    let mut schema = scenario_schema();
    let defs = schema
        .as_object_mut()
        .and_then(|o| o.remove("$defs"))
        .unwrap_or_default();
    if let Some(o) = schema.as_object_mut() {
        o.remove("$schema");
        o.remove("$id");
    }
    let mut defs = defs;
    rewrite_refs(&mut schema);
    rewrite_refs(&mut defs);
    if let Some(schemas) = doc["components"]["schemas"].as_object_mut() {
        if let Value::Object(defs) = defs {
            for (name, def) in defs {
                schemas.insert(name, def);
            }
        }
        schemas.insert("ScenarioFile".into(), schema);
    }
    let op = &mut doc["paths"]["/scenarios/{name}"]["put"];
    if op.is_object() {
        let file = json!({ "$ref": "#/components/schemas/ScenarioFile" });
        op["requestBody"]["content"] = json!({
            "application/json": { "schema": file },
            "application/yaml": { "schema": file },
        });
        op["requestBody"]["required"] = json!(true);
    }
}

fn rewrite_refs(v: &mut Value) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/$defs/")
            {
                *r = format!("#/components/schemas/{name}");
            }
            o.values_mut().for_each(rewrite_refs);
        }
        Value::Array(a) => a.iter_mut().for_each(rewrite_refs),
        _ => {}
    }
}

/// Values the webhook accepts: payload version 4, firing or resolved.
fn webhook_values(doc: &mut Value) {
    let schemas = &mut doc["components"]["schemas"];
    let status = json!({ "type": "string", "enum": ["firing", "resolved"] });
    if schemas["Notification"].is_object() {
        schemas["Notification"]["properties"]["version"] =
            json!({ "type": "string", "enum": ["4"], "description": "Payload version: 4." });
        schemas["Notification"]["properties"]["status"] = status.clone();
    }
    if schemas["Alert"].is_object() {
        schemas["Alert"]["properties"]["status"] = status;
    }
}

/// Adds the error answers every operation can give, where the generator left them out.
fn error_statuses(doc: &mut Value) {
    let Some(paths) = doc["paths"].as_object_mut() else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let mut add: Vec<(&str, &str)> = vec![(
                "403",
                "A browser request from a page, or under a Host name, that is not allowed",
            )];
            if path != "/healthz" {
                add.push((
                    "401",
                    "Missing or wrong bearer token (when one is configured)",
                ));
                add.push((
                    "429",
                    "Too many requests from this client (control.rate_limit)",
                ));
            }
            let has_params = op["parameters"].as_array().is_some_and(|p| !p.is_empty());
            let has_body = method == "post" || method == "put";
            if has_params || has_body {
                add.push(("400", "Malformed request: a parameter or the body"));
            }
            if has_body {
                add.push(("413", "Body larger than the limit"));
            }
            if path.contains('{') {
                add.push(("404", "No such item"));
            }
            let Some(responses) = op["responses"].as_object_mut() else {
                continue;
            };
            for (status, description) in add {
                responses
                    .entry(status)
                    .or_insert_with(|| error(description));
            }
        }
    }
}

fn error(description: &str) -> Value {
    let mut content = Map::new();
    content.insert(
        "application/json".into(),
        json!({ "schema": { "$ref": ERROR_REF } }),
    );
    json!({ "description": description, "content": content })
}
