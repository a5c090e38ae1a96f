//! The classic Prometheus text format 0.0.4, derived from prometheus-client's OpenMetrics.
//!
//! prometheus-client only writes OpenMetrics, where a counter's TYPE line carries the bare
//! name while its samples end in `_total`. Classic parsers (promtool, curl users) expect the
//! TYPE to name the sample. Rather than maintaining a second encoder for every metric type,
//! this module rewrites the one well-defined OpenMetrics output line by line.

/// Content type of the classic format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Rewrites OpenMetrics text as classic 0.0.4 text.
pub fn from_openmetrics(om: &str) -> String {
    let mut out = String::with_capacity(om.len());
    let mut help: Option<&str> = None;
    // Sample names to drop: `_created` of counters, which classic has no TYPE for.
    let mut created: Option<String> = None;
    for line in om.lines() {
        if let Some(rest) = line.strip_prefix("# HELP ") {
            help = Some(rest);
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, ty) = rest.rsplit_once(' ').unwrap_or((rest, "untyped"));
            let (name, ty) = match ty {
                "counter" => (format!("{name}_total"), "counter"),
                "info" => (format!("{name}_info"), "gauge"),
                "stateset" => (name.to_string(), "gauge"),
                "gauge" | "histogram" | "summary" => (name.to_string(), ty),
                _ => (name.to_string(), "untyped"),
            };
            created = (ty == "counter")
                .then(|| format!("{}_created", rest.rsplit_once(' ').map_or(rest, |r| r.0)));
            if let Some(h) = help.take() {
                let text = h.split_once(' ').map_or("", |(_, t)| t);
                out.push_str("# HELP ");
                out.push_str(&name);
                out.push(' ');
                out.push_str(text);
                out.push('\n');
            }
            out.push_str("# TYPE ");
            out.push_str(&name);
            out.push(' ');
            out.push_str(ty);
            out.push('\n');
            continue;
        }
        if line.starts_with('#') {
            // `# UNIT` and `# EOF` have no classic equivalent.
            continue;
        }
        if let Some(c) = &created
            && line.starts_with(c.as_str())
            && matches!(line.as_bytes().get(c.len()), Some(b' ' | b'{'))
        {
            continue;
        }
        // Exemplars (` # {...}`) are OpenMetrics-only. They follow the value, so the search
        // starts after the label set: a label value may itself hold " # " (an alert name sent
        // to POST /alerts, a process name). Most lines hold no `#` at all: one byte scan
        // (memchr) sends them straight through.
        if !line.as_bytes().contains(&b'#') {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let after_labels = labels_end(line);
        let sample = line[after_labels..]
            .find(" # ")
            .map_or(line, |at| &line[..after_labels + at]);
        out.push_str(sample);
        out.push('\n');
    }
    out
}

/// Byte offset just past a sample line's label set (`}`), or 0 when it has none. Label values
/// are quoted with `\"` and `\\` escapes, so braces and `#` inside them are skipped.
fn labels_end(line: &str) -> usize {
    let Some(open) = line.find('{') else { return 0 };
    if line[..open].contains(' ') {
        return 0; // the brace is in the value or an exemplar, not a label set
    }
    let (mut quoted, mut escaped) = (false, false);
    for (i, b) in line.bytes().enumerate().skip(open + 1) {
        match (quoted, escaped, b) {
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (_, false, b'"') => quoted = !quoted,
            (false, _, b'}') => return i + 1,
            _ => {}
        }
    }
    line.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_get_total_in_type_and_help() {
        let om = "# HELP node_forks Forks.\n# TYPE node_forks counter\nnode_forks_total 5\nnode_forks_created 1.0\n# EOF\n";
        assert_eq!(
            from_openmetrics(om),
            "# HELP node_forks_total Forks.\n# TYPE node_forks_total counter\nnode_forks_total 5\n"
        );
    }

    #[test]
    fn gauges_histograms_and_units_pass_through() {
        let om = "# HELP a_seconds A.\n# TYPE a_seconds histogram\n# UNIT a_seconds seconds\na_seconds_bucket{le=\"+Inf\"} 1\na_seconds_sum 0.5\na_seconds_count 1\n# HELP g G.\n# TYPE g gauge\ng{x=\"1\"} 2.0\n# EOF\n";
        let c = from_openmetrics(om);
        assert!(c.contains("# TYPE a_seconds histogram\n"));
        assert!(!c.contains("UNIT") && !c.contains("EOF"));
        assert!(c.contains("g{x=\"1\"} 2.0\n"));
    }

    #[test]
    fn unknown_becomes_untyped_and_info_a_gauge() {
        let om = "# HELP u U.\n# TYPE u unknown\nu 1\n# HELP b B.\n# TYPE b info\nb_info{v=\"1\"} 1\n# EOF\n";
        let c = from_openmetrics(om);
        assert!(c.contains("# TYPE u untyped\n"));
        assert!(c.contains("# TYPE b_info gauge\n"));
    }

    #[test]
    fn a_label_value_with_a_hash_keeps_its_sample_and_exemplars_still_go() {
        let om = "# HELP e E.\n# TYPE e counter\ne_total{alertname=\"a # b\",x=\"q\\\" # }\"} 3 # {trace=\"1\"} 1.0\n# EOF\n";
        let c = from_openmetrics(om);
        assert!(
            c.contains("e_total{alertname=\"a # b\",x=\"q\\\" # }\"} 3\n"),
            "{c}"
        );
        let plain = "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 2 # {id=\"x\"} 0.5\nh_count 2\n# EOF\n";
        assert!(from_openmetrics(plain).contains("h_bucket{le=\"1\"} 2\nh_count 2\n"));
    }
}
