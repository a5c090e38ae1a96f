//! Before a verified run starts: every named alert is loaded in Prometheus, every query
//! parses, and every budget can be met at all — the pipeline needs at least a scrape interval,
//! an evaluation interval and the rule's `for` (plus Alertmanager's `group_wait` for
//! `notified`) — and the speed leaves the load on long enough for it.

use super::Error;
use super::check::{Check, What};
use crate::prom::{AlertRule, Prom};
use crate::scenarios::model::Scenario;

/// What the pipeline needs at least, in seconds, to turn load into a firing alert.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Floors {
    /// Scrape interval of jolt.
    pub scrape: f64,
    /// Global evaluation interval (a rule's group may override it).
    pub eval: f64,
    /// Alertmanager's group_wait (0 when unknown).
    pub group_wait: f64,
}

/// Runs the preflight of `checks` against Prometheus (and Alertmanager).
pub async fn preflight(
    prom: &Prom,
    scenario: &Scenario,
    checks: &[Check],
    speed: f64,
) -> Result<(), Error> {
    let unavailable = |e: crate::prom::Error| {
        Error::Unavailable(format!(
            "cannot check the scenario's expectations before starting: {e}; start with \
             ?verify=false to run without checks"
        ))
    };
    let rules = prom.alert_rules().await.map_err(unavailable)?;
    let (scrape, eval) = prom.intervals().await.map_err(unavailable)?;
    let group_wait = prom.group_wait().await.map_err(unavailable)?.unwrap_or(0.0);
    let floors = Floors {
        scrape,
        eval,
        group_wait,
    };
    check_static(scenario, checks, &rules, floors, speed)?;
    for c in checks {
        if let What::Query { expr, .. } = &c.what {
            match prom.check_query(expr).await {
                Ok(()) => {}
                Err(crate::prom::Error::Rejected(msg)) => {
                    return Err(refuse(
                        c,
                        "query",
                        format!("check `{}`: the query does not parse or run: {msg}", c.name),
                    ));
                }
                Err(e) => return Err(unavailable(e)),
            }
        }
    }
    Ok(())
}

fn refuse(c: &Check, key: &str, message: String) -> Error {
    Error::Preflight {
        field: format!("expect[{}].{key}", c.entry),
        message,
    }
}

/// The checks that need no query: alerts exist, budgets reach their minimum, speed leaves
/// the load on long enough.
pub fn check_static(
    scenario: &Scenario,
    checks: &[Check],
    rules: &[AlertRule],
    f: Floors,
    speed: f64,
) -> Result<(), Error> {
    for c in checks {
        let Some(alert) = c.what.alert() else {
            continue;
        };
        let found: Vec<&AlertRule> = rules.iter().filter(|r| r.name == alert.name).collect();
        if found.is_empty() {
            let mut names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
            names.sort();
            names.dedup();
            return Err(refuse(
                c,
                "alert",
                format!(
                    "check `{}`: Prometheus has no alerting rule `{}` (loaded: {})",
                    c.name,
                    alert.name,
                    names.join(", ")
                ),
            ));
        }
        // The quickest variant sets the floor (e.g. a warning rule before its critical one).
        let rule = found
            .iter()
            .min_by(|a, b| a.for_secs.total_cmp(&b.for_secs))
            .expect("not empty");
        let eval = if rule.interval_secs > 0.0 {
            rule.interval_secs
        } else {
            f.eval
        };
        let (key, within, after, min, how) = match &c.what {
            What::Fires { within, after, .. } => (
                "fires.within",
                within,
                after,
                f.scrape + eval + rule.for_secs,
                format!(
                    "scrape {}s + evaluation {}s + for {}s",
                    f.scrape, eval, rule.for_secs
                ),
            ),
            What::Notified { within, after, .. } => (
                "fires.within",
                within,
                after,
                f.scrape + eval + rule.for_secs + f.group_wait,
                format!(
                    "scrape {}s + evaluation {}s + for {}s + group_wait {}s",
                    f.scrape, eval, rule.for_secs, f.group_wait
                ),
            ),
            What::Resolves { within, after, .. } => (
                "resolves.within",
                within,
                after,
                f.scrape + eval,
                format!("scrape {}s + evaluation {}s", f.scrape, eval),
            ),
            _ => continue,
        };
        let within = within.as_secs_f64();
        if within < min {
            return Err(refuse(
                c,
                key,
                format!(
                    "check `{}`: a budget of {within}s cannot be met; the minimum is {min}s ({how})",
                    c.name
                ),
            ));
        }
        // The load of the step the clock starts from must last long enough, at this speed,
        // for the alert to fire at all.
        if matches!(c.what, What::Fires { .. } | What::Notified { .. })
            && let Some(step) = scenario
                .steps
                .iter()
                .find(|s| s.at == after.at && s.id.is_some())
        {
            let lasts = step.duration.as_secs_f64() / speed;
            if lasts < min {
                return Err(refuse(
                    c,
                    key,
                    format!(
                        "check `{}`: at speed {speed} the step `{}` lasts {lasts:.1}s of wall time, less \
                         than the {min}s minimum the alert needs ({how}); alerts do not run faster, \
                         so lower the speed to at most {:.2}",
                        c.name,
                        after.label,
                        step.duration.as_secs_f64() / min
                    ),
                ));
            }
        }
    }
    Ok(())
}
