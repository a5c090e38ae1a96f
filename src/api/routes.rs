//! The control API's route table. Each route file (`actions.rs`, `scenarios.rs`, …) lists its
//! routes as [`Route`] rows in a `routes()` function; the router, the OpenAPI paths and the
//! `GET /` help are all built from those rows, so a route cannot be served without being
//! documented and listed, nor documented without being served.
//!
//! A row is a handler carrying `#[utoipa::path(...)]`, given to `utoipa_axum::routes!` (which
//! reads its method, path, OpenAPI operation and body schemas from that attribute), plus the
//! help's one-line description and curl example.

use super::ControlState;
use axum::Router;
use utoipa::openapi::path::Paths;
use utoipa::openapi::{RefOr, schema::Schema};
use utoipa_axum::router::UtoipaMethodRouter;

/// One route of the control API.
pub struct Route {
    /// From `routes!(handler)`: the handler's body schemas, its documented path and method
    /// (one path item), and the axum method router that serves it.
    api: UtoipaMethodRouter<ControlState>,
    /// What `GET /` says the route does.
    does: &'static str,
    /// curl arguments of the help's example; `{addr}` becomes the address the client used.
    example: &'static str,
}

impl Route {
    /// A row: `Route::new(routes!(handler), "what it does", "curl arguments")`.
    pub fn new(
        api: UtoipaMethodRouter<ControlState>,
        does: &'static str,
        example: &'static str,
    ) -> Self {
        Self { api, does, example }
    }

    /// The documented path, e.g. `/actions/{id}`.
    fn path(&self) -> &str {
        self.api
            .1
            .paths
            .keys()
            .next()
            .map(String::as_str)
            .unwrap_or("/")
    }

    /// The documented methods, upper case (one per handler in practice).
    fn methods(&self) -> Vec<&'static str> {
        let Some(item) = self.api.1.paths.values().next() else {
            return Vec::new();
        };
        let ops = [
            ("GET", &item.get),
            ("PUT", &item.put),
            ("POST", &item.post),
            ("DELETE", &item.delete),
            ("OPTIONS", &item.options),
            ("HEAD", &item.head),
            ("PATCH", &item.patch),
            ("TRACE", &item.trace),
        ];
        ops.iter()
            .filter(|(_, op)| op.is_some())
            .map(|(m, _)| *m)
            .collect()
    }
}

/// What the API says about itself (`GET /` and `GET /openapi.json`), built once with the
/// router from the same rows: composing every route's schemas takes about 2 MB of short-lived
/// heap, so it happens at startup, before `footprint::settle`, and never per request.
pub struct Published {
    /// The lines of `GET /`, in table order.
    pub help: Vec<HelpLine>,
    /// The OpenAPI document as served, as JSON.
    pub document: axum::body::Bytes,
}

/// One line of `GET /`.
pub struct HelpLine {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path as documented, with `{name}` placeholders.
    pub path: String,
    /// What it does.
    pub does: &'static str,
    /// curl arguments after `curl`.
    pub example: &'static str,
}

/// The help lines, in table order.
pub fn help(rows: &[Route]) -> Vec<HelpLine> {
    let mut lines = Vec::new();
    for row in rows {
        for method in row.methods() {
            lines.push(HelpLine {
                method,
                path: row.path().to_owned(),
                does: row.does,
                example: row.example,
            });
        }
    }
    lines
}

/// The OpenAPI paths and the schemas their bodies name.
pub fn documented(rows: &[Route]) -> (Paths, Vec<(String, RefOr<Schema>)>) {
    let mut paths = Paths::new();
    let mut schemas = Vec::new();
    for row in rows {
        paths.merge(row.api.1.clone());
        schemas.extend(row.api.0.iter().cloned());
    }
    (paths, schemas)
}

/// The router serving every row. Rows whose paths differ only in a parameter's name
/// (`POST /actions/{kind}`, `GET /actions/{id}`) share one router path, whose parameter is
/// named after all of them (`/actions/{kind_or_id}`): the router refuses two names at one
/// place, and the handlers read the segment by position.
pub fn router(rows: &[Route]) -> Router<ControlState> {
    let mut router = Router::new();
    for row in rows {
        router = router.route(&router_path(row.path(), rows), row.api.2.clone());
    }
    router
}

/// `path` with each parameter named after every row's parameter at the same place.
fn router_path(path: &str, rows: &[Route]) -> String {
    let want = shape(path);
    let segments: Vec<&str> = path.split('/').collect();
    let mut out = Vec::with_capacity(segments.len());
    for (i, segment) in segments.iter().enumerate() {
        if !is_param(segment) {
            out.push((*segment).to_owned());
            continue;
        }
        let mut names: Vec<&str> = Vec::new();
        for other in rows.iter().map(Route::path).filter(|p| shape(p) == want) {
            if let Some(s) = other.split('/').nth(i).filter(|s| is_param(s)) {
                let name = &s[1..s.len() - 1];
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
        out.push(format!("{{{}}}", names.join("_or_")));
    }
    out.join("/")
}

fn is_param(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// The path with every parameter written `{}`: two paths of one shape match the same requests.
pub fn shape(path: &str) -> String {
    path.split('/')
        .map(|s| if is_param(s) { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}
