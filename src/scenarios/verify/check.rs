//! Compiled checks: each `expect:` entry resolved against the timeline (step ids become
//! offsets) and split into one check per thing to judge (an alert's `fires`, `notified`,
//! `resolves` or `never`; a query), each with its own result. The types are here; `compile`
//! builds them and refuses bad references, empty windows and contradictions with the entry's
//! path.

use super::spec::Mode;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

mod compile;

pub use compile::{StepSpan, compile};

/// Longest check name kept (it is a label value).
const MAX_NAME: usize = 100;

/// A point of the timeline, resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    /// Scenario time.
    #[serde(serialize_with = "secs")]
    pub at: Duration,
    /// As written: a step id, `ID.end` or `M:SS`.
    pub label: String,
}

/// The alert a check is about.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRef {
    /// `alertname`.
    pub name: String,
    /// Labels a matching alert carries (a subset of its labels).
    pub labels: BTreeMap<String, String>,
}

impl AlertRef {
    /// True when an alert with these labels is this one.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        labels.get("alertname") == Some(&self.name)
            && self.labels.iter().all(|(k, v)| labels.get(k) == Some(v))
    }
}

/// The bound of a query check.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    /// `< x`.
    Below(f64),
    /// `> x`.
    Above(f64),
    /// `low <= v <= high`.
    Between(f64, f64),
}

impl Bound {
    /// True when `v` satisfies the bound.
    pub fn holds(&self, v: f64) -> bool {
        match *self {
            Bound::Below(x) => v < x,
            Bound::Above(x) => v > x,
            Bound::Between(lo, hi) => (lo..=hi).contains(&v),
        }
    }
}

impl std::fmt::Display for Bound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Bound::Below(x) => write!(f, "below {x}"),
            Bound::Above(x) => write!(f, "above {x}"),
            Bound::Between(a, b) => write!(f, "between {a} and {b}"),
        }
    }
}

/// What a check judges.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum What {
    /// The alert is firing within `within` (wall time) of `after`.
    Fires {
        alert: AlertRef,
        after: Point,
        #[serde(serialize_with = "secs")]
        within: Duration,
    },
    /// Alertmanager's notification reached jolt within `within` of `after`.
    Notified {
        alert: AlertRef,
        after: Point,
        #[serde(serialize_with = "secs")]
        within: Duration,
    },
    /// No matching alert is firing `within` after `after`, and none fired again until then.
    Resolves {
        alert: AlertRef,
        after: Point,
        #[serde(serialize_with = "secs")]
        within: Duration,
    },
    /// No matching alert fires during the run.
    Never { alert: AlertRef },
    /// An expression's values over a window.
    Query {
        expr: String,
        bound: Bound,
        from: Point,
        to: Point,
        mode: Mode,
    },
}

impl What {
    /// The alert the check is about, if any.
    pub fn alert(&self) -> Option<&AlertRef> {
        match self {
            What::Fires { alert, .. }
            | What::Notified { alert, .. }
            | What::Resolves { alert, .. }
            | What::Never { alert } => Some(alert),
            What::Query { .. } => None,
        }
    }
}

/// One check, ready to judge.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// Unique in its scenario; the `check` label and the JUnit test case name.
    pub name: String,
    /// Position of its entry in `expect:` (for messages).
    pub entry: usize,
    /// Stop the run when this check fails.
    pub abort_on_fail: bool,
    /// What it judges.
    #[serde(flatten)]
    pub what: What,
}

fn secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}
