//! What reports need to know of alerting rules: the rules Prometheus loaded (as plain data),
//! the series an expression reads, and the number an alert compares against.

use super::bundle::Rule;
use serde_json::Value;
use std::collections::BTreeSet;

/// The alerting rules of `/api/v1/rules`'s `data.groups`.
pub fn parse_groups(groups: &Value) -> Vec<Rule> {
    let mut out = Vec::new();
    for g in groups.as_array().into_iter().flatten() {
        let file = g["file"].as_str().unwrap_or_default().to_string();
        for r in g["rules"].as_array().into_iter().flatten() {
            if r["type"] != "alerting" {
                continue;
            }
            out.push(Rule {
                name: r["name"].as_str().unwrap_or_default().into(),
                expr: r["query"].as_str().unwrap_or_default().into(),
                for_secs: r["duration"].as_f64().unwrap_or(0.0),
                labels: serde_json::from_value(r["labels"].clone()).unwrap_or_default(),
                annotations: serde_json::from_value(r["annotations"].clone()).unwrap_or_default(),
                file: file.clone(),
            });
        }
    }
    out
}

/// PromQL words that are not metric names.
const KEYWORDS: &[&str] = &[
    "and",
    "or",
    "unless",
    "on",
    "ignoring",
    "by",
    "without",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "inf",
    "nan",
    "atan2",
];

/// Removes quoted strings, `{...}` matchers, `[...]` ranges and the label lists of
/// `on (...)`, `by (...)` and the like, so what is left names series and functions.
fn strip(expr: &str) -> String {
    let mut out = String::new();
    let mut chars = expr.chars().peekable();
    let mut depth_brace = 0;
    let mut depth_bracket = 0;
    while let Some(c) = chars.next() {
        match c {
            '"' | '\'' | '`' if depth_brace == 0 => {
                for d in chars.by_ref() {
                    if d == c {
                        break;
                    }
                }
                out.push(' ');
            }
            '{' => depth_brace += 1,
            '}' => depth_brace -= 1,
            '[' => depth_bracket += 1,
            ']' => depth_bracket -= 1,
            _ if depth_brace > 0 || depth_bracket > 0 => {}
            _ => out.push(c),
        }
    }
    // Label lists after grouping keywords.
    let re = regex::Regex::new(r"\b(on|ignoring|by|without|group_left|group_right)\s*\([^)]*\)")
        .expect("valid regex");
    re.replace_all(&out, " ").into_owned()
}

/// The series names `expr` reads (not functions, keywords or label names).
pub fn metric_names(expr: &str) -> BTreeSet<String> {
    let text = strip(expr);
    let re = regex::Regex::new(r"[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?").expect("valid regex");
    re.captures_iter(&text)
        .filter(|c| c.get(1).is_none())
        .map(|c| c[0].trim().to_string())
        .filter(|n| !KEYWORDS.contains(&n.to_lowercase().as_str()))
        .filter(|n| !n.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .collect()
}

/// Series an annotation's `query` template reads (``printf `name{...}` ``).
pub fn query_names(template: &str) -> BTreeSet<String> {
    let re = regex::Regex::new(r"printf\s+`([A-Za-z_:][A-Za-z0-9_:]*)").expect("valid regex");
    re.captures_iter(template)
        .map(|c| c[1].to_string())
        .collect()
}

/// Splits `left OP number` at its last top-level comparison: (left, Some(number)); anything
/// else is (the part before the first top-level comparison, None), or the whole expression.
pub fn split_comparison(expr: &str) -> (String, Option<f64>) {
    let bytes: Vec<char> = expr.chars().collect();
    let mut depth = 0i32;
    let mut quote: Option<char> = None;
    let mut first: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if let Some(q) = quote {
            if c == q {
                quote = None;
            }
        } else {
            match c {
                '"' | '\'' | '`' => quote = Some(c),
                '(' | '{' | '[' => depth += 1,
                ')' | '}' | ']' => depth -= 1,
                '>' | '<' | '=' | '!' if depth == 0 => {
                    let two = bytes.get(i + 1) == Some(&'=');
                    let op_len = if two { 2 } else { 1 };
                    // `=~`, `!~` live inside braces; a lone `=` is not a comparison.
                    if (c == '=' || c == '!') && !two {
                        i += 1;
                        continue;
                    }
                    if first.is_none() {
                        first = Some((i, i + op_len));
                    }
                    i += op_len;
                    continue;
                }
                _ => {}
            }
        }
        i += 1;
    }
    let Some((at, after)) = first else {
        return (expr.trim().to_string(), None);
    };
    let left = bytes[..at].iter().collect::<String>().trim().to_string();
    let right = bytes[after..].iter().collect::<String>();
    let right = right.trim().trim_start_matches("bool").trim();
    (left, right.parse::<f64>().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_of_a_joined_expression() {
        let e = "instance_service:jolt_service_errors:ratio_rate15s\n  > on (instance, job, service) jolt_service_objective_error_ratio{job=\"jolt\"}\nand on (instance, job, service) instance_service:jolt_service_errors:increase15s >= 5";
        let n: Vec<_> = metric_names(e).into_iter().collect();
        assert_eq!(
            n,
            vec![
                "instance_service:jolt_service_errors:increase15s",
                "instance_service:jolt_service_errors:ratio_rate15s",
                "jolt_service_objective_error_ratio"
            ]
        );
        let n = metric_names("increase(node_vmstat_oom_kill{job=\"jolt\"}[1m]) > 0");
        assert_eq!(
            n.into_iter().collect::<Vec<_>>(),
            vec!["node_vmstat_oom_kill"]
        );
    }

    #[test]
    fn comparison_split() {
        assert_eq!(
            split_comparison("instance:node_cpu_utilisation:ratio > 0.9"),
            ("instance:node_cpu_utilisation:ratio".into(), Some(0.9))
        );
        assert_eq!(
            split_comparison("instance_service:jolt_service_status:code == 2"),
            (
                "instance_service:jolt_service_status:code".into(),
                Some(2.0)
            )
        );
        let (l, t) = split_comparison("a{x=~\"b\"} > on (i) c and d >= 5");
        assert_eq!((l.as_str(), t), ("a{x=~\"b\"}", None));
    }

    #[test]
    fn query_template_names() {
        let t = "objective {{ with printf `jolt_service_objective_latency_seconds{instance=%q}` $labels.instance | query }}";
        assert!(query_names(t).contains("jolt_service_objective_latency_seconds"));
    }
}
