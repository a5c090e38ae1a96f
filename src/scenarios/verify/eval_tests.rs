//! The judge on recorded timelines: pure functions, timelines in, verdicts out.

use super::check::{AlertRef, Bound, Check, Point, What};
use super::eval::{Now, Verdict, judge, judge_series, score, verdict};
use super::spec::Mode;
use super::timeline::{AlertState, Notice, Recording, Series, Transition};
use std::collections::BTreeMap;
use std::time::Duration;

fn labels(name: &str, service: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("alertname".to_string(), name.to_string()),
        ("service".to_string(), service.to_string()),
    ])
}

fn alert() -> AlertRef {
    AlertRef {
        name: "ServiceHighErrorRate".into(),
        labels: BTreeMap::from([("service".to_string(), "auth".to_string())]),
    }
}

fn point(secs: u64, label: &str) -> Point {
    Point {
        at: Duration::from_secs(secs),
        label: label.into(),
    }
}

fn check(what: What) -> Check {
    Check {
        name: "c".into(),
        entry: 0,
        abort_on_fail: false,
        what,
    }
}

fn fires(after: u64, within: u64) -> Check {
    check(What::Fires {
        alert: alert(),
        after: point(after, "flood"),
        within: Duration::from_secs(within),
    })
}

fn resolves(after: u64, within: u64) -> Check {
    check(What::Resolves {
        alert: alert(),
        after: point(after, "mitigation"),
        within: Duration::from_secs(within),
    })
}

/// A recording of `(t, state, service)` transitions of ServiceHighErrorRate, polled every
/// second from 0 to `until` with no gaps.
fn rec(events: &[(f64, AlertState, &str)], until: f64) -> Recording {
    let mut r = Recording::default();
    r.transitions = events
        .iter()
        .map(|(t, s, svc)| Transition {
            t: *t,
            state: *s,
            labels: labels("ServiceHighErrorRate", svc),
        })
        .collect();
    r.last_ok = Some(until);
    r
}

fn at(now: f64) -> Now {
    Now {
        now,
        ended: None,
        stopped: false,
        speed: 1.0,
    }
}

fn ended(now: f64, end: f64) -> Now {
    Now {
        now,
        ended: Some(end),
        stopped: false,
        speed: 1.0,
    }
}

use AlertState::{Firing, Inactive, Pending};

#[test]
fn fired_exactly_at_the_budget_passes() {
    let r = rec(&[(25.0, Pending, "auth"), (60.0, Firing, "auth")], 61.0);
    let o = judge(&fires(20, 40), &r, at(61.0));
    assert_eq!(o.result, Verdict::Pass, "{o:?}");
    assert_eq!(o.delay, Some(40.0));
    assert!(
        o.observed
            .contains("fired 40.0 s after flood, budget 40.0 s"),
        "{o:?}"
    );
}

#[test]
fn fired_just_after_the_budget_fails_and_waits_for_the_deadline() {
    let r = rec(&[(25.0, Pending, "auth")], 59.0);
    assert_eq!(judge(&fires(20, 40), &r, at(59.0)).result, Verdict::Pending);
    let r = rec(&[(60.5, Firing, "auth")], 61.0);
    let o = judge(&fires(20, 40), &r, at(61.0));
    assert_eq!(o.result, Verdict::Fail, "{o:?}");
    assert!(
        o.observed.contains("fired only 40.5 s after flood"),
        "{o:?}"
    );
    assert_eq!(o.decided_at, Some(60.0));
}

#[test]
fn firing_before_the_step_fails() {
    let r = rec(&[(10.0, Firing, "auth")], 30.0);
    let o = judge(&fires(20, 40), &r, at(30.0));
    assert_eq!(o.result, Verdict::Fail, "{o:?}");
    assert!(o.observed.contains("already firing"), "{o:?}");
    // A firing that ended before the step is another story: not held against the check.
    let r = rec(
        &[
            (5.0, Firing, "auth"),
            (10.0, Inactive, "auth"),
            (30.0, Firing, "auth"),
        ],
        31.0,
    );
    assert_eq!(judge(&fires(20, 40), &r, at(31.0)).result, Verdict::Pass);
}

#[test]
fn labels_that_differ_do_not_match() {
    let r = rec(&[(30.0, Firing, "payment")], 61.0);
    let o = judge(&fires(20, 40), &r, at(61.0));
    assert_eq!(o.result, Verdict::Fail, "{o:?}");
    assert!(o.observed.contains("did not fire within 40.0 s"), "{o:?}");
}

#[test]
fn no_data_is_inconclusive_never_pass() {
    let mut r = rec(&[], 22.0);
    r.gaps.push((22.0, 70.0));
    r.last_ok = Some(70.0);
    let o = judge(&fires(20, 40), &r, at(70.0));
    assert_eq!(o.result, Verdict::Inconclusive, "{o:?}");
    // Prometheus silent since 22 s: the open gap makes `never` inconclusive, not pass.
    let r = rec(&[], 22.0);
    let never = check(What::Never { alert: alert() });
    let o = judge(&never, &r, ended(90.0, 90.0));
    assert_eq!(o.result, Verdict::Inconclusive, "{o:?}");
}

#[test]
fn resolution_waits_out_flapping() {
    // Fires at 30, resolves at 85, flaps back at 90 and resolves for good at 100.
    let r = rec(
        &[
            (30.0, Firing, "auth"),
            (85.0, Inactive, "auth"),
            (90.0, Firing, "auth"),
            (100.0, Inactive, "auth"),
        ],
        126.0,
    );
    assert_eq!(
        judge(&resolves(80, 45), &r, at(110.0)).result,
        Verdict::Pending
    );
    let o = judge(&resolves(80, 45), &r, at(126.0));
    assert_eq!(o.result, Verdict::Pass, "{o:?}");
    assert_eq!(o.delay, Some(20.0));
    assert!(o.observed.contains("fired again 1×"), "{o:?}");
    // Flapping back and still firing at the deadline fails.
    let r = rec(
        &[
            (30.0, Firing, "auth"),
            (85.0, Inactive, "auth"),
            (120.0, Firing, "auth"),
        ],
        126.0,
    );
    let o = judge(&resolves(80, 45), &r, at(126.0));
    assert_eq!(o.result, Verdict::Fail, "{o:?}");
    assert!(o.observed.contains("still firing"), "{o:?}");
}

#[test]
fn never_fails_at_the_first_firing_and_passes_at_the_end() {
    let never = check(What::Never { alert: alert() });
    let r = rec(&[(40.0, Pending, "auth")], 60.0);
    assert_eq!(
        judge(&never, &r, at(60.0)).result,
        Verdict::Pending,
        "pending is not firing"
    );
    assert_eq!(judge(&never, &r, ended(60.0, 60.0)).result, Verdict::Pass);
    let r = rec(&[(40.0, Pending, "auth"), (45.0, Firing, "auth")], 50.0);
    let o = judge(&never, &r, at(50.0));
    assert_eq!(o.result, Verdict::Fail);
    assert_eq!(o.decided_at, Some(45.0));
    assert!(o.observed.contains("fired at 0:45"), "{o:?}");
}

#[test]
fn notifications_count_from_the_anchor_within_the_budget() {
    let c = check(What::Notified {
        alert: alert(),
        after: point(20, "flood"),
        within: Duration::from_secs(40),
    });
    let mut r = rec(&[], 70.0);
    r.notices.push(Notice {
        t: 10.0,
        status: "firing".into(),
        labels: labels("ServiceHighErrorRate", "auth"),
    });
    assert_eq!(judge(&c, &r, at(30.0)).result, Verdict::Pending);
    assert_eq!(judge(&c, &r, at(70.0)).result, Verdict::Fail);
    r.notices.push(Notice {
        t: 44.0,
        status: "firing".into(),
        labels: labels("ServiceHighErrorRate", "auth"),
    });
    let o = judge(&c, &r, at(45.0));
    assert_eq!(o.result, Verdict::Pass);
    assert_eq!(o.delay, Some(24.0));
}

#[test]
fn speed_moves_anchors_but_not_budgets() {
    // At speed 10 the step at 0:20 comes 2 s into the run; the budget stays 40 s.
    let r = rec(&[(41.0, Firing, "auth")], 45.0);
    let mut now = at(45.0);
    now.speed = 10.0;
    let o = judge(&fires(20, 40), &r, now);
    assert_eq!(o.result, Verdict::Pass, "{o:?}");
    assert_eq!(o.delay, Some(39.0));
}

#[test]
fn a_stopped_run_leaves_undecided_checks_inconclusive() {
    let r = rec(&[], 30.0);
    let now = Now {
        now: 30.0,
        ended: Some(30.0),
        stopped: true,
        speed: 1.0,
    };
    assert_eq!(judge(&fires(20, 40), &r, now).result, Verdict::Inconclusive);
}

#[test]
fn query_modes_judge_the_window() {
    let s = |v: &[f64]| Series {
        labels: BTreeMap::new(),
        samples: v.iter().enumerate().map(|(i, v)| (i as f64, *v)).collect(),
    };
    let below = Bound::Below(0.5);
    let series = [s(&[0.1, 0.2, 0.7, 0.3])];
    assert_eq!(judge_series(&series, below, Mode::Always).0, Verdict::Fail);
    assert_eq!(
        judge_series(&series, below, Mode::Eventually).0,
        Verdict::Pass
    );
    assert_eq!(judge_series(&series, below, Mode::AtEnd).0, Verdict::Pass);
    assert_eq!(
        judge_series(&[s(&[0.6, 0.7])], below, Mode::Eventually).0,
        Verdict::Fail
    );
    assert_eq!(
        judge_series(&[s(&[1.0, 2.0])], Bound::Between(1.0, 2.0), Mode::Always).0,
        Verdict::Pass
    );
    let (v, why) = judge_series(&[], below, Mode::Always);
    assert_eq!(v, Verdict::Inconclusive);
    assert!(why.contains("no data"), "{why}");
    // A failed range query is inconclusive.
    let q = check(What::Query {
        expr: "up".into(),
        bound: below,
        from: point(0, "start"),
        to: point(10, "end"),
        mode: Mode::Always,
    });
    let mut r = rec(&[], 20.0);
    r.queries.insert(0, Err("connection refused".into()));
    assert_eq!(judge(&q, &r, at(20.0)).result, Verdict::Inconclusive);
}

#[test]
fn verdict_and_score() {
    use Verdict::*;
    assert_eq!(verdict(&[Pass, Pass]), Pass);
    assert_eq!(verdict(&[Pass, Inconclusive]), Inconclusive);
    assert_eq!(verdict(&[Inconclusive, Fail]), Fail);
    assert_eq!(verdict(&[Pass, Pending]), Pending);
    let f = fires(20, 40);
    let n = check(What::Never { alert: alert() });
    let o = |result, delay| super::eval::Outcome {
        result,
        observed: String::new(),
        decided_at: Some(0.0),
        delay,
    };
    // A timed pass at half its budget earns 0.75, a `never` pass 1: (0.75 + 1) / 2.
    let (a, b) = (o(Pass, Some(20.0)), o(Pass, None));
    assert_eq!(score(&[(&f, &a), (&n, &b)]), 88);
    let c = o(Fail, None);
    assert_eq!(score(&[(&f, &a), (&n, &c)]), 38);
}
