//! The timed judges: an alert fires, reaches Alertmanager, or resolves within a budget of
//! an anchor on the timeline.

use super::{Now, Outcome, Verdict, clock_s, decided, firing_spans, gap_in, no_data, pending, s1};
use crate::scenarios::verify::check::{AlertRef, Point};
use crate::scenarios::verify::timeline::Recording;
use std::time::Duration;

/// `fires`: the alert starts firing within `within` of `after` (and was not already).
pub(super) fn fires(
    alert: &AlertRef,
    after: &Point,
    within: Duration,
    rec: &Recording,
    at: Now,
) -> Outcome {
    let now = at.now;
    let a = at.wall(after.at);
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

/// `notified`: Alertmanager delivers the alert within `within` of `after`.
pub(super) fn notified(
    alert: &AlertRef,
    after: &Point,
    within: Duration,
    rec: &Recording,
    at: Now,
) -> Outcome {
    let now = at.now;
    let a = at.wall(after.at);
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

/// `resolves`: the alert is resolved within `within` of `after` (and stays so).
pub(super) fn resolves(
    alert: &AlertRef,
    after: &Point,
    within: Duration,
    rec: &Recording,
    at: Now,
) -> Outcome {
    let now = at.now;
    let b = at.wall(after.at);
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
