//! `GET /openapi.json`: the OpenAPI document, generated from the handlers' `#[utoipa::path]`
//! attributes and the types' `ToSchema` derives.
//!
//! The paths come from the route table (`routes.rs`): a route is added once, as a row of its
//! file's `routes()`, and is then served, documented here and listed by `GET /`. Schemas its
//! bodies name are collected from the handler's `#[utoipa::path]`; other types go in
//! `schemas(...)` below or in a per-file `#[derive(OpenApi)]` merged in [`spec`], like
//! `scenarios::ScenariosDoc`.

use super::routes::{Published, Route};
use super::{alerts, scenarios};
use crate::actions::{Kind, Params, Source};
use axum::Extension;
use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use std::sync::Arc;
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi as Document, RefOr};
use utoipa::{Modify, OpenApi};
use utoipa_axum::routes;

/// The aggregation of every documented route and schema.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "jolt control API",
        description = "Start, list and stop load actions and scenario runs; read the event log. \
                       Errors are JSON {error, message, field}. When a token is configured every \
                       route except /healthz needs `Authorization: Bearer <token>`."
    ),
    components(schemas(
        super::schema::ActionView,
        super::schema::Event,
        super::schema::Severity,
        super::error::ErrorBody,
        alerts::Notification,
        alerts::Alert,
    )),
    modifiers(&BearerToken),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

/// `GET /openapi.json`.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "This document", content_type = "application/json")))]
pub async fn document(Extension(published): Extension<Arc<Published>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        published.document.clone(),
    )
}

/// The document as served, as JSON: [`exact_spec`] of the route table `rows`.
pub(super) fn served(
    rows: &[Route],
    services: &[&str],
    limits: &crate::actions::ActionsConfig,
) -> Bytes {
    serde_json::to_vec(&exact_spec(rows, services, limits))
        .unwrap_or_default()
        .into()
}

/// The document as served: [`spec`] refined by `openapi_exact` to describe the API exactly;
/// `services` are the simulated services fault and traffic actions may name.
pub fn exact_spec(
    rows: &[Route],
    services: &[&str],
    limits: &crate::actions::ActionsConfig,
) -> serde_json::Value {
    let mut doc = serde_json::to_value(spec(rows)).unwrap_or_default();
    super::openapi_exact::refine(&mut doc, services, limits);
    doc
}

/// The whole document: [`ApiDoc`] and the per-file schemas, with the paths of the route
/// table `rows`.
pub fn spec(rows: &[Route]) -> Document {
    let mut doc = ApiDoc::openapi();
    doc.merge(scenarios::ScenariosDoc::openapi());
    doc.merge(super::reports::ReportsDoc::openapi());
    let (paths, schemas) = super::routes::documented(rows);
    doc.paths.merge(paths);
    doc.components
        .get_or_insert_with(Default::default)
        .schemas
        .extend(schemas);
    KindDefaults.modify(&mut doc);
    doc
}

/// This file's row of the route table.
pub(super) fn routes() -> Vec<Route> {
    vec![Route::new(
        routes!(document),
        "the OpenAPI document of this API",
        "{addr}/openapi.json",
    )]
}

/// Declares the bearer token scheme the `security` requirement names.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Adds one example body per kind to `POST /actions/{kind}`: the kind's defaults, decoded by
/// the same code the route uses, so the document cannot drift from what the API accepts.
struct KindDefaults;

impl Modify for KindDefaults {
    fn modify(&self, doc: &mut Document) {
        let Some(op) = doc
            .paths
            .paths
            .get_mut("/actions/{kind}")
            .and_then(|p| p.post.as_mut())
        else {
            return;
        };
        let Some(RefOr::T(body)) = op.request_body.as_mut() else {
            return;
        };
        for content in body.content.values_mut() {
            let RefOr::T(content) = content else { continue };
            for kind in Kind::ALL {
                let (summary, value) = match Params::parse(kind, Source::Body(b"{}")) {
                    Ok(p) => (format!("{kind} with its defaults"), p.to_json()),
                    Err(e) => (format!("{kind}: {e}"), serde_json::json!({})),
                };
                let example = ExampleBuilder::new().summary(summary).value(Some(value));
                content
                    .examples
                    .insert(kind.as_str().into(), RefOr::T(example.build()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_actions_has_an_example_per_kind() {
        let doc = serde_json::to_value(spec(&crate::api::table())).unwrap();
        let examples = &doc["paths"]["/actions/{kind}"]["post"]["requestBody"]["content"]["application/json"]
            ["examples"];
        for kind in Kind::ALL {
            assert!(examples[kind.as_str()].is_object(), "{kind}: {examples}");
        }
        assert_eq!(examples["cpu"]["value"]["percent"], 90.0);
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }

    /// One operation per kind whose schema carries the validator's ranges; the scenario format
    /// is the body of PUT; every operation lists 401 and 429; `achieved` may be null.
    #[test]
    fn the_served_document_is_exact() {
        let limits = crate::actions::ActionsConfig {
            max_duration: crate::units::HumanDuration(std::time::Duration::from_secs(2)),
            ..Default::default()
        };
        let doc = exact_spec(&crate::api::table(), &["auth", "payment"], &limits);
        assert!(doc["paths"]["/actions/{kind}"].is_null());
        for kind in Kind::ALL {
            let op = &doc["paths"][format!("/actions/{kind}")]["post"];
            let schema = &op["requestBody"]["content"]["application/json"]["schema"];
            assert_eq!(schema["additionalProperties"], false, "{kind}: {schema}");
            for r in crate::actions::ranges::of(kind) {
                assert_eq!(
                    schema["properties"][r.field]["minimum"], r.min,
                    "{kind}.{}",
                    r.field
                );
                assert_eq!(
                    schema["properties"][r.field]["maximum"], r.max,
                    "{kind}.{}",
                    r.field
                );
            }
            assert!(op["responses"]["201"].is_object(), "{kind}");
        }
        let rps = &doc["paths"]["/actions/traffic"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"]["properties"]["rps"];
        assert_eq!(rps["minimum"], crate::actions::ranges::TRAFFIC_RPS.min);
        let put = &doc["paths"]["/scenarios/{name}"]["put"]["requestBody"]["content"];
        assert_eq!(
            put["application/json"]["schema"]["$ref"],
            "#/components/schemas/ScenarioFile"
        );
        assert!(doc["components"]["schemas"]["Action"]["oneOf"].is_array());
        assert!(
            !doc.to_string().contains("#/$defs/"),
            "dangling JSON Schema refs"
        );
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                assert!(op["responses"]["403"].is_object(), "{method} {path} 403");
                if path != "/healthz" {
                    for status in ["401", "429"] {
                        assert!(
                            op["responses"][status].is_object(),
                            "{method} {path} {status}"
                        );
                    }
                }
            }
        }
        let achieved = &doc["components"]["schemas"]["ActionView"]["properties"]["achieved"];
        assert!(achieved.to_string().contains("null"), "{achieved}");
        let fault = &doc["paths"]["/actions/fault"]["post"]["requestBody"]["content"]["application/json"]
            ["schema"];
        assert_eq!(
            fault["properties"]["service"]["enum"],
            serde_json::json!(["auth", "payment"])
        );
        assert_eq!(fault["required"][0], "service");
        // The configured caps are the documented maxima, and the examples respect them.
        let cpu =
            &doc["paths"]["/actions/cpu"]["post"]["requestBody"]["content"]["application/json"];
        assert_eq!(
            cpu["schema"]["properties"]["duration"]["oneOf"][0]["maximum"],
            2.0
        );
        assert_eq!(cpu["example"]["duration"], "2s");
        assert_eq!(
            cpu["schema"]["required"],
            serde_json::json!(["duration"]),
            "the default 10s is over the cap"
        );
        let version = &doc["components"]["schemas"]["Notification"]["properties"]["version"];
        assert_eq!(version["enum"], serde_json::json!(["4"]));
    }
}
