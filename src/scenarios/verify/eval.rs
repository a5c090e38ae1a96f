//! The judge: a pure function from a check and what was recorded (alert transitions, gaps,
//! notifications, query series) to the check's result. No clock, no I/O: the follower feeds
//! it, and the tests feed it recorded timelines.
//!
//! Times: a check's points are scenario time; on the check clock (wall seconds, pauses
//! excluded) a point at scenario time `T` comes at `T / speed`. Budgets are wall seconds and
//! do not shrink with speed: alerts do not run faster.

use super::check::{AlertRef, Check, What};
use super::spec::Mode;
use super::timeline::{AlertState, Recording, Series};
use crate::scenarios::format::clock;
use serde::Serialize;

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

fn pending() -> Outcome {
    Outcome {
        result: Verdict::Pending,
        observed: "not decided yet".into(),
        decided_at: None,
        delay: None,
    }
}

fn decided(result: Verdict, observed: String, at: f64, delay: Option<f64>) -> Outcome {
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
fn no_data((from, to): (f64, f64), at: f64) -> Outcome {
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

fn gap_in(rec: &Recording, now: f64, from: f64, to: f64) -> Option<(f64, f64)> {
    rec.gaps_until(now)
        .into_iter()
        .find(|(a, b)| *a < to && *b > from)
}

fn s1(x: f64) -> String {
    format!("{x:.1} s")
}

/// Judges `check` on what was recorded so far.
pub fn judge(check: &Check, rec: &Recording, at: Now) -> Outcome {
    let wall = |d: std::time::Duration| d.as_secs_f64() / at.speed;
    let now = at.now;
    match &check.what {
        What::Fires {
            alert,
            after,
            within,
        } => {
            let a = wall(after.at);
            let deadline = a + within.as_secs_f64();
            let spans = firing_spans(rec, alert);
            if let Some((s, _)) = spans
                .iter()
                .find(|(s, e)| *s < a && e.is_none_or(|e| e > a))
            {
                return decided(
                    Verdict::Fail,
                    format!(
                        "already firing at {} ({}) since {}, before it was expected",
                        after.label,
                        clock_s(a),
                        clock_s(*s)
                    ),
                    a.max(*s),
                    None,
                );
            }
            let first = spans.iter().map(|(s, _)| *s).find(|s| *s >= a);
            match first {
                Some(s) if s <= deadline => decided(
                    Verdict::Pass,
                    format!(
                        "fired {} after {}, budget {}",
                        s1(s - a),
                        after.label,
                        s1(within.as_secs_f64())
                    ),
                    s,
                    Some(s - a),
                ),
                _ if now < deadline && !at.stopped => pending(),
                _ if now < deadline => decided(
                    Verdict::Inconclusive,
                    format!(
                        "the run was stopped before {} ({}s budget) ended",
                        after.label,
                        within.as_secs()
                    ),
                    now,
                    None,
                ),
                first => {
                    if first.is_none()
                        && let Some(gap) = gap_in(rec, now, a, deadline)
                    {
                        return no_data(gap, deadline);
                    }
                    let seen = match first {
                        Some(s) => format!("fired only {} after {}", s1(s - a), after.label),
                        None => format!(
                            "did not fire within {} of {}",
                            s1(within.as_secs_f64()),
                            after.label
                        ),
                    };
                    decided(
                        Verdict::Fail,
                        format!("{seen}, budget {}", s1(within.as_secs_f64())),
                        deadline,
                        None,
                    )
                }
            }
        }
        What::Notified {
            alert,
            after,
            within,
        } => {
            let a = wall(after.at);
            let deadline = a + within.as_secs_f64();
            let got = rec
                .notices
                .iter()
                .find(|n| n.status == "firing" && n.t >= a && alert.matches(&n.labels));
            match got {
                Some(n) if n.t <= deadline => decided(
                    Verdict::Pass,
                    format!(
                        "notification received {} after {}, budget {}",
                        s1(n.t - a),
                        after.label,
                        s1(within.as_secs_f64())
                    ),
                    n.t,
                    Some(n.t - a),
                ),
                _ if now < deadline && !at.stopped => pending(),
                _ if now < deadline => decided(
                    Verdict::Inconclusive,
                    "the run was stopped before the budget ended".into(),
                    now,
                    None,
                ),
                Some(n) => decided(
                    Verdict::Fail,
                    format!(
                        "notification received only {} after {}, budget {}",
                        s1(n.t - a),
                        after.label,
                        s1(within.as_secs_f64())
                    ),
                    deadline,
                    None,
                ),
                None => decided(
                    Verdict::Fail,
                    format!(
                        "no notification from Alertmanager within {} of {}",
                        s1(within.as_secs_f64()),
                        after.label
                    ),
                    deadline,
                    None,
                ),
            }
        }
        What::Resolves {
            alert,
            after,
            within,
        } => {
            let b = wall(after.at);
            let deadline = b + within.as_secs_f64();
            if now < deadline {
                if at.stopped {
                    return decided(
                        Verdict::Inconclusive,
                        "the run was stopped before the budget ended".into(),
                        now,
                        None,
                    );
                }
                return pending();
            }
            let spans: Vec<_> = firing_spans(rec, alert)
                .into_iter()
                .filter(|(s, _)| *s <= deadline)
                .collect();
            if let Some(gap) = gap_in(rec, now, b, deadline) {
                return no_data(gap, deadline);
            }
            let Some(&(_, last_end)) = spans.last() else {
                return decided(
                    Verdict::Inconclusive,
                    "it never fired, so there was nothing to resolve".into(),
                    deadline,
                    None,
                );
            };
            let budget = s1(within.as_secs_f64());
            let flaps = spans.iter().filter(|(s, _)| *s >= b).count();
            let flapped = if flaps > 0 {
                format!(" (fired again {flaps}× after {})", after.label)
            } else {
                String::new()
            };
            match last_end {
                Some(e) if e <= deadline && e >= b => decided(
                    Verdict::Pass,
                    format!(
                        "resolved {} after {}, budget {budget}{flapped}",
                        s1(e - b),
                        after.label
                    ),
                    e.max(deadline.min(now)),
                    Some(e - b),
                ),
                Some(e) if e < b => decided(
                    Verdict::Pass,
                    format!("already resolved at {}, before {}", clock_s(e), after.label),
                    deadline,
                    Some(0.0),
                ),
                _ => decided(
                    Verdict::Fail,
                    format!("still firing {budget} after {}{flapped}", after.label),
                    deadline,
                    None,
                ),
            }
        }
        What::Never { .. } | What::Query { .. } => judge_window(check, rec, at),
    }
}

/// `never` and query checks: judged over a window.
fn judge_window(check: &Check, rec: &Recording, at: Now) -> Outcome {
    let now = at.now;
    match &check.what {
        What::Never { alert } => {
            let end = at.ended.unwrap_or(f64::INFINITY);
            if let Some((s, _)) = firing_spans(rec, alert)
                .into_iter()
                .find(|(s, _)| *s <= end)
            {
                return decided(
                    Verdict::Fail,
                    format!("fired at {} into the run", clock_s(s)),
                    s,
                    None,
                );
            }
            let Some(end) = at.ended else {
                return pending();
            };
            if let Some((g0, g1)) = gap_in(rec, now, 0.0, end) {
                return decided(
                    Verdict::Inconclusive,
                    format!(
                        "did not fire while seen, but no data from Prometheus from {} to {}",
                        clock_s(g0),
                        clock_s(g1)
                    ),
                    end,
                    None,
                );
            }
            decided(
                Verdict::Pass,
                "never fired during the run".into(),
                end,
                None,
            )
        }
        What::Query {
            bound,
            from,
            to,
            mode,
            ..
        } => {
            let to_wall = to.at.as_secs_f64() / at.speed;
            let idx = check_index(check);
            match rec.queries.get(&idx) {
                None if at.stopped && at.ended.is_some_and(|e| e < to_wall) => decided(
                    Verdict::Inconclusive,
                    format!(
                        "the run was stopped before the window ({} to {}) ended",
                        from.label, to.label
                    ),
                    now,
                    None,
                ),
                None => pending(),
                Some(Err(e)) => decided(
                    Verdict::Inconclusive,
                    format!("query failed: {e}"),
                    now,
                    None,
                ),
                Some(Ok(series)) => {
                    let (result, observed) = judge_series(series, *bound, *mode);
                    decided(result, observed, now, None)
                }
            }
        }
        _ => unreachable!("judge_window is only called for never and query checks"),
    }
}

/// The entry index doubles as the key of a query's data (one query check per entry).
pub fn check_index(check: &Check) -> usize {
    check.entry
}

/// Judges the series of a query check's window.
pub fn judge_series(
    series: &[Series],
    bound: super::check::Bound,
    mode: Mode,
) -> (Verdict, String) {
    let n: usize = series.iter().map(|s| s.samples.len()).sum();
    if n == 0 {
        return (
            Verdict::Inconclusive,
            "no data: the query returned no samples in the window".into(),
        );
    }
    let all = || series.iter().flat_map(|s| s.samples.iter().copied());
    let range = || {
        let (lo, hi) = all().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), (_, v)| {
            (lo.min(v), hi.max(v))
        });
        format!("{} samples from {lo:.4} to {hi:.4}", n)
    };
    match mode {
        Mode::Always => match all().find(|(_, v)| !bound.holds(*v)) {
            Some((t, v)) => (
                Verdict::Fail,
                format!("{v:.4} at {} is not {bound} ({})", clock_s(t), range()),
            ),
            None => (Verdict::Pass, format!("always {bound}: {}", range())),
        },
        Mode::Eventually => match all().find(|(_, v)| bound.holds(*v)) {
            Some((t, v)) => (
                Verdict::Pass,
                format!("{v:.4} at {} is {bound}", clock_s(t)),
            ),
            None => (Verdict::Fail, format!("never {bound}: {}", range())),
        },
        Mode::AtEnd => {
            let last: Vec<(f64, f64)> = series
                .iter()
                .filter_map(|s| s.samples.last().copied())
                .collect();
            match last.iter().find(|(_, v)| !bound.holds(*v)) {
                Some((t, v)) => (
                    Verdict::Fail,
                    format!("last value {v:.4} at {} is not {bound}", clock_s(*t)),
                ),
                None => (
                    Verdict::Pass,
                    format!("last values {bound} ({} series)", last.len()),
                ),
            }
        }
    }
}

fn clock_s(t: f64) -> String {
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
