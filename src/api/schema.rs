//! The OpenAPI description of domain types the API serves as they are (the action object,
//! events). The domain types only derive `Serialize`; these schema-only twins carry the names,
//! documentation and examples the document publishes. `openapi_exact` and the API tests check
//! that what is served matches what is described.

#![allow(dead_code)] // Only their `ToSchema` impls are used.

// Twin of `actions::ActionView`.
/// The action object of the API.
#[derive(utoipa::ToSchema)]
pub struct ActionView {
    /// Unique id, e.g. `cpu-3`.
    pub id: String,
    /// The kind.
    #[schema(example = "cpu")]
    pub kind: String,
    /// running | completed | stopped | failed.
    #[schema(example = "running")]
    pub state: String,
    /// True while its scenario run is paused.
    pub paused: bool,
    /// Resolved parameters with defaults filled in.
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    /// RFC 3339 start time.
    pub started_at: String,
    /// RFC 3339 end time: planned while running, actual once ended; null if unknown.
    pub ends_at: Option<String>,
    /// Active seconds so far (paused time excluded).
    pub elapsed_seconds: f64,
    /// 0..1.
    pub progress: f64,
    /// What is measured now (host CPU %, resident bytes, operations done, rps...); null until
    /// the first measurement.
    #[schema(value_type = Option<Object>)]
    pub achieved: serde_json::Value,
    /// Scenario run id, or null.
    pub run: Option<String>,
    /// Why it failed, when it did.
    pub error: Option<String>,
}

// Twin of `events::Severity`.
/// Severity of an event, as alert routing uses it.
#[derive(utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Severity {
    /// Routine: something started or ended as asked.
    Info,
    /// Something was refused or failed.
    Warning,
    /// Something needs a person now.
    Critical,
}

// Twin of `events::Event`.
/// One event.
#[derive(utoipa::ToSchema)]
pub struct Event {
    /// Monotonic id, starting at 1; `GET /events?since=ID` returns the ones after it.
    pub id: u64,
    /// Seconds since the epoch.
    pub time: f64,
    /// What happened, e.g. `action_started`, `run_step`, `alert_firing`.
    #[schema(rename = "type")]
    pub kind: String,
    /// How much it matters.
    pub severity: Severity,
    /// One sentence for people.
    pub message: String,
    /// Structured details: action id, run id, alert labels...
    pub data: serde_json::Value,
}
