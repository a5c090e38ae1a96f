//! The alert template forms the shipped rules use, rendered as Prometheus renders them.

use super::gotmpl::*;
use std::collections::BTreeMap;

#[test]
fn the_shipped_template_forms() {
    let labels: BTreeMap<String, String> = [
        ("service".to_string(), "payment".to_string()),
        ("instance".into(), "h:1".into()),
    ]
    .into();
    let q = |sel: &str| {
        assert_eq!(
            sel,
            "jolt_service_objective_error_ratio{instance=\"h:1\",service=\"payment\"}"
        );
        vec![(BTreeMap::new(), 0.05)]
    };
    let scope = Scope {
        labels: &labels,
        value: 0.1234567,
        query: &q,
    };
    let t = "{{ $value | humanizePercentage }} of {{ $labels.service }}; objective {{ with printf `jolt_service_objective_error_ratio{instance=%q,service=%q}` $labels.instance $labels.service | query }}{{ . | first | value | humanizePercentage }}{{ end }}.";
    assert_eq!(
        render(t, &scope).unwrap(),
        "12.35% of payment; objective 5%."
    );
    let t = "{{ $value | printf \"%.0f\" }}s{{ if $labels.run }} run {{ $labels.run }}{{ end }}";
    assert_eq!(render(t, &scope).unwrap(), "0s");
    assert_eq!(humanize_duration(0.35), "350ms");
    assert_eq!(humanize_duration(1.278), "1.278s");
    assert_eq!(humanize_duration(75.0), "1m 15s");
    assert_eq!(go_g(100.0, 4), "100");
    assert_eq!(go_g(12345.0, 4), "1.234e+04");
    assert!(render("{{ $value | humanize }}", &scope).is_err());
}
