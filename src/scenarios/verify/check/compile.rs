//! `compile`: resolves each `expect:` entry against the timeline (step ids become offsets),
//! splits it into one check per thing to judge, and refuses bad references, empty windows and
//! contradictions with the entry's path.

use super::super::Error;
use super::super::spec::{Anchor, CheckSpec, Mode, WindowSpec};
use super::{AlertRef, Bound, Check, MAX_NAME, Point, What};
use crate::scenarios::format::clock;
use std::collections::HashSet;
use std::time::Duration;

/// A step as checks see it: its id, start and end (scenario time).
pub struct StepSpan<'a> {
    /// `id:` of the step, if it has one.
    pub id: Option<&'a str>,
    /// Start offset.
    pub at: Duration,
    /// End offset.
    pub end: Duration,
}

/// Resolves and validates `expect:` against the timeline.
pub fn compile(
    specs: &[CheckSpec],
    steps: &[StepSpan<'_>],
    total: Duration,
) -> Result<Vec<Check>, Error> {
    let mut out = Vec::new();
    for (i, spec) in specs.iter().enumerate() {
        let field = format!("expect[{i}]");
        let resolve = |a: &Anchor, at: &str| resolve(a, steps, total, &format!("{field}.{at}"));
        match (&spec.alert, &spec.query) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    &field,
                    "has both `alert` and `query`; one check per entry",
                ));
            }
            (None, None) => {
                return Err(invalid(&field, "needs `alert: NAME` or `query: EXPR`"));
            }
            (Some(name), None) => {
                for (set, key) in [
                    (spec.below.is_some(), "below"),
                    (spec.above.is_some(), "above"),
                    (spec.between.is_some(), "between"),
                    (spec.during.is_some(), "during"),
                    (spec.mode.is_some(), "mode"),
                ] {
                    if set {
                        return Err(invalid(
                            &format!("{field}.{key}"),
                            &format!("`{key}` belongs to query checks, not to alert {name}"),
                        ));
                    }
                }
                if name.trim().is_empty() {
                    return Err(invalid(
                        &format!("{field}.alert"),
                        "the alert name is empty",
                    ));
                }
                let alert = AlertRef {
                    name: name.clone(),
                    labels: spec.labels.clone(),
                };
                let base = spec.name.clone().unwrap_or_else(|| alert_base(&alert));
                let never = spec.never == Some(true);
                let notified = spec.notified == Some(true);
                let mut push = |suffix: &str, what: What| {
                    out.push(Check {
                        name: cap(format!("{base} {suffix}")),
                        entry: i,
                        abort_on_fail: spec.abort_on_fail,
                        what,
                    })
                };
                if never {
                    if spec.fires.is_some() || spec.resolves.is_some() || notified {
                        return Err(invalid(
                            &format!("{field}.never"),
                            &format!(
                                "alert {name}: `never: true` contradicts `fires`, `resolves` and \
                                 `notified`; write two entries if you mean two things"
                            ),
                        ));
                    }
                    push(
                        "never",
                        What::Never {
                            alert: alert.clone(),
                        },
                    );
                    continue;
                }
                let Some(fires) = &spec.fires else {
                    let what = if spec.resolves.is_some() || notified {
                        "`resolves` and `notified` need `fires` (an alert that never fired \
                         cannot resolve or be delivered)"
                    } else {
                        "say what to expect: `fires: {after, within}` or `never: true`"
                    };
                    return Err(invalid(&field, &format!("alert {name}: {what}")));
                };
                let f_after = resolve(&fires.after, "fires.after")?;
                let f_within = positive(fires.within.0, &format!("{field}.fires.within"))?;
                push(
                    "fires",
                    What::Fires {
                        alert: alert.clone(),
                        after: f_after.clone(),
                        within: f_within,
                    },
                );
                if notified {
                    push(
                        "notified",
                        What::Notified {
                            alert: alert.clone(),
                            after: f_after.clone(),
                            within: f_within,
                        },
                    );
                }
                if let Some(r) = &spec.resolves {
                    let r_after = resolve(&r.after, "resolves.after")?;
                    let r_within = positive(r.within.0, &format!("{field}.resolves.within"))?;
                    if r_after.at < f_after.at {
                        return Err(invalid(
                            &format!("{field}.resolves.after"),
                            &format!(
                                "alert {name} must resolve after {} ({}), which is before it is \
                                 expected to fire after {} ({})",
                                r_after.label,
                                clock(r_after.at),
                                f_after.label,
                                clock(f_after.at)
                            ),
                        ));
                    }
                    push(
                        "resolves",
                        What::Resolves {
                            alert,
                            after: r_after,
                            within: r_within,
                        },
                    );
                }
            }
            (None, Some(expr)) => {
                if expr.trim().is_empty() {
                    return Err(invalid(&format!("{field}.query"), "the query is empty"));
                }
                for (set, key) in [
                    (!spec.labels.is_empty(), "labels"),
                    (spec.fires.is_some(), "fires"),
                    (spec.resolves.is_some(), "resolves"),
                    (spec.notified.is_some(), "notified"),
                    (spec.never.is_some(), "never"),
                ] {
                    if set {
                        return Err(invalid(
                            &format!("{field}.{key}"),
                            &format!("`{key}` belongs to alert checks; put matchers in the query"),
                        ));
                    }
                }
                let bound = match (spec.below, spec.above, spec.between) {
                    (Some(b), None, None) => Bound::Below(b),
                    (None, Some(a), None) => Bound::Above(a),
                    (None, None, Some([lo, hi])) if lo < hi => Bound::Between(lo, hi),
                    (None, None, Some([lo, hi])) => {
                        return Err(invalid(
                            &format!("{field}.between"),
                            &format!(
                                "between [{lo}, {hi}] is empty: give [low, high] with low < high"
                            ),
                        ));
                    }
                    (None, None, None) => {
                        return Err(invalid(
                            &field,
                            "a query check needs `below`, `above` or `between`",
                        ));
                    }
                    _ => {
                        return Err(invalid(
                            &field,
                            "give one of `below`, `above` and `between` (for both sides use `between`)",
                        ));
                    }
                };
                for (k, v) in [("below", spec.below), ("above", spec.above)] {
                    if v.is_some_and(|v| !v.is_finite()) {
                        return Err(invalid(&format!("{field}.{k}"), "must be a finite number"));
                    }
                }
                let during = spec.during.clone().unwrap_or(WindowSpec {
                    from: None,
                    to: None,
                });
                let from = match &during.from {
                    Some(a) => resolve(a, "during.from")?,
                    None => Point {
                        at: Duration::ZERO,
                        label: "start".into(),
                    },
                };
                let to = match &during.to {
                    Some(a) => resolve(a, "during.to")?,
                    None => Point {
                        at: total,
                        label: "end".into(),
                    },
                };
                if to.at <= from.at {
                    return Err(invalid(
                        &format!("{field}.during"),
                        &format!(
                            "the window from {} ({}) to {} ({}) is empty",
                            from.label,
                            clock(from.at),
                            to.label,
                            clock(to.at)
                        ),
                    ));
                }
                let name = spec
                    .name
                    .clone()
                    .unwrap_or_else(|| format!("{} {bound}", expr.trim()));
                out.push(Check {
                    name: cap(name),
                    entry: i,
                    abort_on_fail: spec.abort_on_fail,
                    what: What::Query {
                        expr: expr.clone(),
                        bound,
                        from,
                        to,
                        mode: spec.mode.unwrap_or(Mode::Always),
                    },
                });
            }
        }
    }
    let mut seen = HashSet::new();
    for c in &out {
        if !seen.insert(c.name.as_str()) {
            return Err(invalid(
                &format!("expect[{}]", c.entry),
                &format!("two checks are named `{}`; give one a `name`", c.name),
            ));
        }
    }
    Ok(out)
}

/// `Alert{k=v,...}` or `Alert`.
fn alert_base(a: &AlertRef) -> String {
    if a.labels.is_empty() {
        return a.name.clone();
    }
    let labels: Vec<String> = a.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{}{{{}}}", a.name, labels.join(","))
}

fn cap(mut s: String) -> String {
    if s.len() > MAX_NAME {
        let mut end = MAX_NAME;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

fn invalid(field: &str, message: &str) -> Error {
    Error::Invalid {
        field: field.to_string(),
        message: format!("{field}: {message}"),
    }
}

fn positive(d: Duration, field: &str) -> Result<Duration, Error> {
    if d.is_zero() {
        return Err(invalid(
            field,
            "a budget of 0s can never be met; give a duration such as \"40s\"",
        ));
    }
    Ok(d)
}

/// A step id, `ID.end` or an offset → scenario time; unknown ids and offsets past the end are
/// refused.
fn resolve(
    a: &Anchor,
    steps: &[StepSpan<'_>],
    total: Duration,
    field: &str,
) -> Result<Point, Error> {
    let by_id = |id: &str| steps.iter().find(|s| s.id == Some(id));
    let at = match a {
        Anchor::At(o) => o.0,
        Anchor::Start(id) | Anchor::End(id) => {
            let Some(step) = by_id(id) else {
                let ids: Vec<&str> = steps.iter().filter_map(|s| s.id).collect();
                let known = if ids.is_empty() {
                    "no step has an `id`".to_string()
                } else {
                    format!("step ids: {}", ids.join(", "))
                };
                return Err(invalid(
                    field,
                    &format!("no step has the id `{id}` ({known})"),
                ));
            };
            if matches!(a, Anchor::End(_)) {
                step.end
            } else {
                step.at
            }
        }
    };
    if at > total {
        return Err(invalid(
            field,
            &format!(
                "{} is past the scenario's end ({})",
                clock(at),
                clock(total)
            ),
        ));
    }
    Ok(Point {
        at,
        label: a.to_string(),
    })
}
