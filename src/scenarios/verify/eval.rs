//! The judge: a pure function from a check and what was recorded (alert transitions, gaps,
//! notifications, query series) to the check's result. No clock, no I/O: the follower feeds
//! it, and the tests feed it recorded timelines.
//!
//! Times: a check's points are scenario time; on the check clock (wall seconds, pauses
//! excluded) a point at scenario time `T` comes at `T / speed`. Budgets are wall seconds and
//! do not shrink with speed: alerts do not run faster.

use super::check::{AlertRef, Check, What};
use super::timeline::{AlertState, Recording};
use crate::scenarios::format::clock;
use serde::Serialize;

mod timed;
mod window;

pub use window::{check_index, judge_series};

/// The result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Not decided yet.
    Pending,
    /// Met.
    Pass,
    /// Not met.
    Fail,
    /// Could not be decided: no data, a failed query, Prometheus unreachable, run stopped.
    Inconclusive,
}

impl Verdict {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pending => "pending",
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Inconclusive => "inconclusive",
        }
    }
}

/// A decided (or still pending) check.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// pending | pass | fail | inconclusive.
    pub result: Verdict,
    /// What was seen, in a sentence ("fired 23.4 s after flood, budget 40 s").
    pub observed: String,
    /// Check-clock seconds when it was decided.
    pub decided_at: Option<f64>,
    /// For timed checks that passed: seconds from the anchor to the event.
    pub delay: Option<f64>,
}

/// Where the run is: check-clock `now`, its end once ended, and whether it was stopped early.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Now {
    /// Check-clock seconds.
    pub now: f64,
    /// Check-clock seconds when the run ended.
    pub ended: Option<f64>,
    /// The run ended before its timeline did (stopped, aborted, shut down).
    pub stopped: bool,
    /// Timeline speed.
    pub speed: f64,
}

impl Now {
    /// Check-clock seconds of a timeline offset (a step's start, an anchor) at the run's speed.
    pub fn wall(&self, d: std::time::Duration) -> f64 {
        d.as_secs_f64() / self.speed
    }
}

pub(super) fn pending() -> Outcome {
    Outcome {
        result: Verdict::Pending,
        observed: "not decided yet".into(),
        decided_at: None,
        delay: None,
    }
}

pub(super) fn decided(result: Verdict, observed: String, at: f64, delay: Option<f64>) -> Outcome {
    Outcome {
        result,
        observed,
        decided_at: Some(at),
        delay,
    }
}

/// Firing spans `[start, end)` of any series matching `alert` (overlaps merged).
pub fn firing_spans(rec: &Recording, alert: &AlertRef) -> Vec<(f64, Option<f64>)> {
    let mut open: Vec<(Vec<(String, String)>, f64)> = Vec::new();
    let mut spans: Vec<(f64, Option<f64>)> = Vec::new();
    for t in rec.transitions.iter().filter(|t| alert.matches(&t.labels)) {
        let key: Vec<(String, String)> = t.labels.clone().into_iter().collect();
        let pos = open.iter().position(|(k, _)| *k == key);
        match (t.state, pos) {
            (AlertState::Firing, None) => open.push((key, t.t)),
            (AlertState::Firing, Some(_)) => {}
            (_, Some(i)) => {
                let (_, start) = open.remove(i);
                spans.push((start, Some(t.t)));
            }
            (_, None) => {}
        }
    }
    spans.extend(open.into_iter().map(|(_, s)| (s, None)));
    spans.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut merged: Vec<(f64, Option<f64>)> = Vec::new();
    for (s, e) in spans {
        match merged.last_mut() {
            Some((_, last_end)) if last_end.is_none_or(|le| s <= le) => {
                *last_end = match (*last_end, e) {
                    (None, _) | (_, None) => None,
                    (Some(a), Some(b)) => Some(a.max(b)),
                };
            }
            _ => merged.push((s, e)),
        }
    }
    merged
}

/// `inconclusive` because Prometheus did not answer over `gap`, decided at `at`.
pub(super) fn no_data((from, to): (f64, f64), at: f64) -> Outcome {
    decided(
        Verdict::Inconclusive,
        format!(
            "no data from Prometheus from {} to {}",
            clock_s(from),
            clock_s(to)
        ),
        at,
        None,
    )
}

pub(super) fn gap_in(rec: &Recording, now: f64, from: f64, to: f64) -> Option<(f64, f64)> {
    rec.gaps_until(now)
        .into_iter()
        .find(|(a, b)| *a < to && *b > from)
}

pub(super) fn s1(x: f64) -> String {
    format!("{x:.1} s")
}

/// Judges `check` on what was recorded so far.
pub fn judge(check: &Check, rec: &Recording, at: Now) -> Outcome {
    match &check.what {
        What::Fires {
            alert,
            after,
            within,
        } => timed::fires(alert, after, *within, rec, at),
        What::Notified {
            alert,
            after,
            within,
        } => timed::notified(alert, after, *within, rec, at),
        What::Resolves {
            alert,
            after,
            within,
        } => timed::resolves(alert, after, *within, rec, at),
        What::Never { .. } | What::Query { .. } => window::judge(check, rec, at),
    }
}

pub(super) fn clock_s(t: f64) -> String {
    clock(std::time::Duration::from_secs_f64(t.max(0.0)))
}

/// The run's verdict: `fail` if any check failed, else `inconclusive` if any was, else
/// `pending` while any is, else `pass`.
pub fn verdict(results: &[Verdict]) -> Verdict {
    if results.contains(&Verdict::Fail) {
        Verdict::Fail
    } else if results.contains(&Verdict::Inconclusive) {
        Verdict::Inconclusive
    } else if results.contains(&Verdict::Pending) {
        Verdict::Pending
    } else {
        Verdict::Pass
    }
}

/// The 0–100 score (README "Verified scenarios"): the mean credit of the checks, where a
/// failed, inconclusive or pending check earns 0, an untimed pass 1, and a timed pass
/// `1 − 0.5 × delay / budget` (so a pass right at the budget earns 0.5).
pub fn score(checks: &[(&Check, &Outcome)]) -> u8 {
    if checks.is_empty() {
        return 0;
    }
    let credit: f64 = checks
        .iter()
        .map(|(c, o)| match (o.result, o.delay, budget(c)) {
            (Verdict::Pass, Some(d), Some(b)) if b > 0.0 => 1.0 - 0.5 * (d / b).clamp(0.0, 1.0),
            (Verdict::Pass, _, _) => 1.0,
            _ => 0.0,
        })
        .sum();
    (100.0 * credit / checks.len() as f64).round() as u8
}

/// The time budget of a timed check, in seconds.
pub fn budget(c: &Check) -> Option<f64> {
    match &c.what {
        What::Fires { within, .. }
        | What::Notified { within, .. }
        | What::Resolves { within, .. } => Some(within.as_secs_f64()),
        _ => None,
    }
}
