//! A recording as a `promtool test rules` file: `input_series` are the series the fired
//! alerts' rules read, at the recording's step (the evaluation interval), and
//! `alert_rule_test` expects, at a time the alert was firing, exactly the alerts (labels and
//! rendered annotations) the shipped rules raise on that input — so a game day becomes a
//! regression test of the rules. The rule files are the ones Prometheus loaded, named
//! relative to the test file (`../<file>`, as in `alerts/tests/`); the recording rules are
//! not loaded, their recorded outputs are the input.

use super::Error;
use super::bundle::{Bundle, Rule, Series};
use super::gotmpl::{Scope, render};
use crate::reports::float_text;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// Steps an alert's firing set must stay the same around the chosen evaluation time.
const STABLE: usize = 2;

fn idx(t: f64, t0: f64, step: f64) -> usize {
    ((t - t0) / step).round().max(0.0) as usize
}

/// One series' samples on the grid of `n` steps.
fn grid(s: &Series, t0: f64, step: f64, n: usize) -> Vec<Option<f64>> {
    let mut g = vec![None; n];
    for &(t, v) in &s.points {
        let i = idx(t, t0, step);
        if i < n {
            g[i] = Some(v);
        }
    }
    g
}

/// promtool's series values: a number per step, `stale` where a series stops, `_` after.
fn values(g: &[Option<f64>]) -> String {
    let mut out: Vec<String> = Vec::with_capacity(g.len());
    let mut was = false;
    for v in g {
        match v {
            Some(v) => {
                out.push(float_text(*v));
                was = true;
            }
            None if was => {
                out.push("stale".into());
                was = false;
            }
            None => out.push("_".into()),
        }
    }
    // Trailing blanks say nothing.
    while out.last().is_some_and(|v| v == "_") {
        out.pop();
    }
    out.join(" ")
}

/// Alerts of one rule firing at each step: labels → value, by promtool's rules (active from
/// the first step its expression has the series, firing once `for` has passed).
fn simulate(
    rule: &Rule,
    series: &[&Series],
    t0: f64,
    step: f64,
    n: usize,
) -> Vec<BTreeMap<String, f64>> {
    let mut out = vec![BTreeMap::new(); n];
    for s in series {
        let g = grid(s, t0, step, n);
        let mut since: Option<usize> = None;
        for (k, v) in g.iter().enumerate() {
            match v {
                Some(v) => {
                    let a = *since.get_or_insert(k);
                    if (k - a) as f64 * step + 1e-9 >= rule.for_secs {
                        out[k].insert(
                            super::record::label_text(&alert_labels(rule, &s.meta.labels)),
                            *v,
                        );
                    }
                }
                None => since = None,
            }
        }
    }
    out
}

fn alert_labels(rule: &Rule, labels: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut l = labels.clone();
    l.extend(rule.labels.clone());
    l.remove("alertname");
    l
}

/// Parses `name{k="v",...}` into (name, matchers).
fn selector(sel: &str) -> Option<(String, BTreeMap<String, String>)> {
    let (name, rest) = match sel.find('{') {
        Some(i) => (&sel[..i], &sel[i..]),
        None => (sel, ""),
    };
    let mut m = BTreeMap::new();
    let inner = rest.trim().trim_start_matches('{').trim_end_matches('}');
    let re =
        regex::Regex::new(r#"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?"#).ok()?;
    for c in re.captures_iter(inner) {
        m.insert(
            c[1].to_string(),
            c[2].replace("\\\"", "\"").replace("\\\\", "\\"),
        );
    }
    Some((name.trim().to_string(), m))
}

/// The alerts one alertname raises at a step: alert labels → (value, rule, series labels).
type Raised<'a> = BTreeMap<String, (f64, &'a Rule, BTreeMap<String, String>)>;

/// The `promtool test rules` file of `b`.
pub fn test_file(b: &Bundle) -> Result<String, Error> {
    if let Some(why) = &b.manifest.series_missing {
        return Err(Error::Invalid {
            field: "id".into(),
            message: format!(
                "run {} has no recorded series ({why}): there is nothing to turn into a rule test",
                b.manifest.id
            ),
        });
    }
    let step = b.manifest.window.step.max(1.0);
    let used: Vec<&Series> = b
        .series
        .iter()
        .filter(|s| s.meta.group == "input" || s.meta.group == "rule")
        .collect();
    let t0 = used
        .iter()
        .filter_map(|s| s.points.first().map(|p| p.0))
        .fold(f64::INFINITY, f64::min);
    let t1 = used
        .iter()
        .filter_map(|s| s.points.last().map(|p| p.0))
        .fold(f64::NEG_INFINITY, f64::max);
    let mut files = BTreeSet::new();
    let mut tests = Vec::new();
    let mut skipped = Vec::new();
    if t0.is_finite() {
        let n = idx(t1, t0, step) + 1;
        let inputs: Vec<&Series> = used
            .iter()
            .copied()
            .filter(|s| s.meta.group == "input")
            .collect();
        let by_name: BTreeMap<&str, Vec<&Rule>> =
            b.manifest.rules.iter().fold(BTreeMap::new(), |mut m, r| {
                m.entry(r.name.as_str()).or_default().push(r);
                m
            });
        for (name, rules) in by_name {
            // What every rule of this alertname raises at each step.
            let mut firing: Vec<Raised> = vec![BTreeMap::new(); n];
            for r in &rules {
                let series: Vec<&Series> = used
                    .iter()
                    .copied()
                    .filter(|s| s.meta.group == "rule" && s.meta.expr == r.expr)
                    .collect();
                for s in &series {
                    let one = simulate(r, &[*s], t0, step, n);
                    for (k, set) in one.into_iter().enumerate() {
                        for (key, v) in set {
                            firing[k].insert(key, (v, *r, s.meta.labels.clone()));
                        }
                    }
                }
            }
            let keys: Vec<BTreeSet<&String>> = firing.iter().map(|f| f.keys().collect()).collect();
            let Some(k) = (STABLE..n.saturating_sub(STABLE)).find(|&k| {
                !keys[k].is_empty() && (k - STABLE..=k + STABLE).all(|j| keys[j] == keys[k])
            }) else {
                skipped.push(format!(
                    "{name}: never firing steadily on the recorded input"
                ));
                continue;
            };
            let query = |sel: &str| -> super::gotmpl::Samples {
                let Some((metric, want)) = selector(sel) else {
                    return Vec::new();
                };
                inputs
                    .iter()
                    .filter(|s| {
                        s.meta.name == metric
                            && want.iter().all(|(k, v)| s.meta.labels.get(k) == Some(v))
                    })
                    .filter_map(|s| {
                        let v = grid(s, t0, step, n)[k]?;
                        let mut l = s.meta.labels.clone();
                        l.insert("__name__".into(), metric.clone());
                        Some((l, v))
                    })
                    .collect()
            };
            let mut exp = Vec::new();
            let mut ok = true;
            for (value, rule, labels) in firing[k].values() {
                let labels = alert_labels(rule, labels);
                let scope = Scope {
                    labels: &labels,
                    value: *value,
                    query: &query,
                };
                let mut ann = BTreeMap::new();
                for (key, t) in &rule.annotations {
                    match render(t, &scope) {
                        Ok(s) => {
                            ann.insert(key.clone(), s);
                        }
                        Err(e) => {
                            skipped.push(format!("{name}: annotation {key}: {e}"));
                            ok = false;
                        }
                    }
                }
                exp.push(json!({ "exp_labels": labels, "exp_annotations": ann }));
                files.insert(
                    rule.file
                        .rsplit('/')
                        .next()
                        .unwrap_or(&rule.file)
                        .to_string(),
                );
            }
            if ok {
                tests.push(json!({
                    "eval_time": format!("{}s", (k as f64 * step).round() as u64),
                    "alertname": name,
                    "exp_alerts": exp,
                }));
            }
        }
        let input_series: Vec<Value> = inputs
            .iter()
            .map(|s| {
                let mut l = s.meta.labels.clone();
                l.remove("__name__");
                json!({
                    "series": format!("{}{}", s.meta.name, super::record::label_text(&l)),
                    "values": values(&grid(s, t0, step, n)),
                })
            })
            .collect();
        let doc = json!({
            "rule_files": files.iter().map(|f| format!("../{f}")).collect::<Vec<_>>(),
            "evaluation_interval": format!("{}s", step.round() as u64),
            "tests": [{
                "name": format!("{} {}", b.manifest.id, b.manifest.name),
                "interval": format!("{}s", step.round() as u64),
                "input_series": input_series,
                "alert_rule_test": tests,
            }],
        });
        let yaml = serde_yaml_ng::to_string(&doc).map_err(|e| Error::Render(e.to_string()))?;
        return Ok(header(b, &skipped) + &yaml);
    }
    let doc = json!({ "rule_files": [], "tests": [] });
    let yaml = serde_yaml_ng::to_string(&doc).map_err(|e| Error::Render(e.to_string()))?;
    skipped.push("no alert fired during the recording".into());
    Ok(header(b, &skipped) + &yaml)
}

fn header(b: &Bundle, skipped: &[String]) -> String {
    let mut h = format!(
        "# promtool test rules: {} ({}) as recorded by jolt at {}.\n\
         # Save it next to the rule files' directory (e.g. alerts/tests/{}.test.yml) and run\n\
         # `promtool test rules {}.test.yml`. Recording rules are not loaded: their recorded\n\
         # outputs are the input series.\n",
        b.manifest.id, b.manifest.name, b.manifest.recorded_at, b.manifest.id, b.manifest.id
    );
    for s in skipped {
        h.push_str(&format!("# left out: {s}\n"));
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_series_that_stops_is_stale_then_blank() {
        let g = [None, Some(1.0), Some(2.5), None, None, Some(0.0), None];
        assert_eq!(values(&g), "_ 1 2.5 stale _ 0 stale");
        assert_eq!(values(&[Some(1.0), None, None]), "1 stale");
    }

    #[test]
    fn selectors_of_query_templates() {
        let (name, m) = selector(r#"jolt_x{instance="h:1",service="pay\"ment"}"#).unwrap();
        assert_eq!(name, "jolt_x");
        assert_eq!(m["instance"], "h:1");
        assert_eq!(m["service"], "pay\"ment");
    }
}
