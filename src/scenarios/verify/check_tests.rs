//! `expect:` validation: every malformed entry is refused with its place and reason.

use crate::scenarios::ActionFailure;
use crate::scenarios::{compile, parse};

fn build(expect: &str) -> Result<crate::scenarios::Scenario, String> {
    let text = format!(
        "title: t\nduration: 2m\nsteps:\n\
         - {{id: flood, at: \"0:20\", action: {{kind: cpu}}, duration: 60s}}\n\
         - {{id: mitigation, at: \"1:20\", action: {{kind: cpu}}, duration: 20s}}\n\
         expect:\n{expect}"
    );
    let ok = |_: &mut crate::actions::Params| Ok::<(), ActionFailure>(());
    let file = parse(&text).map_err(|e| e.to_string())?;
    compile(file, "t", 16, &ok).map_err(|e| e.to_string())
}

#[test]
fn a_full_alert_check_becomes_one_check_per_judgement() {
    let s = build(
        "- alert: ServiceHighErrorRate\n  labels: {service: auth}\n  fires: {after: flood, within: 40s}\n  \
         resolves: {after: mitigation, within: 45s}\n  notified: true\n\
         - alert: HostHighMemory\n  never: true\n\
         - query: up\n  below: 2\n  during: {from: \"0:00\", to: flood.end}\n  mode: at_end\n",
    )
    .unwrap();
    let names: Vec<&str> = s.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "ServiceHighErrorRate{service=auth} fires",
            "ServiceHighErrorRate{service=auth} notified",
            "ServiceHighErrorRate{service=auth} resolves",
            "HostHighMemory never",
            "up below 2",
        ]
    );
}

#[test]
fn malformed_entries_name_their_place() {
    let cases = [
        (
            "- alert: A\n  fires: {after: nope, within: 40s}\n",
            "expect[0].fires.after: no step has the id `nope`",
        ),
        (
            "- alert: A\n  fires: {after: flood, within: 0s}\n",
            "expect[0].fires.within",
        ),
        (
            "- alert: A\n  never: true\n  fires: {after: flood, within: 40s}\n",
            "contradicts",
        ),
        (
            "- alert: A\n  resolves: {after: flood, within: 40s}\n",
            "need `fires`",
        ),
        ("- alert: A\n", "say what to expect"),
        ("- query: up\n", "needs `below`, `above` or `between`"),
        ("- query: up\n  below: 1\n  above: 0\n", "give one of"),
        ("- query: up\n  between: [2, 1]\n", "is empty"),
        (
            "- query: up\n  below: 1\n  during: {from: flood.end, to: flood}\n",
            "expect[0].during: the window",
        ),
        (
            "- query: up\n  alert: A\n  below: 1\n",
            "both `alert` and `query`",
        ),
        ("- alert: A\n  below: 1\n  never: true\n", "expect[0].below"),
        (
            "- {alert: A, fires: {after: mitigation, within: 40s}, resolves: {after: flood, within: 40s}}\n",
            "before it is",
        ),
        (
            "- {alert: A, never: true}\n- {alert: A, never: true}\n",
            "two checks are named",
        ),
        (
            "- alert: A\n  fires: {after: \"3:00\", within: 40s}\n",
            "past the scenario's end",
        ),
    ];
    for (expect, want) in cases {
        let e = build(expect).unwrap_err();
        assert!(e.contains(want), "{expect}: {e}");
    }
}

#[test]
fn type_errors_carry_line_and_column() {
    let e = build("- alert: A\n  fires: {after: flood, within: 40s, wthin: 3}\n").unwrap_err();
    assert!(e.contains("wthin") && e.contains("line 8 column 38"), "{e}");
    let e = build("- alert: A\n  mode: sometimes\n").unwrap_err();
    assert!(e.contains("sometimes") && e.contains("expect[0]"), "{e}");
}

#[test]
fn every_builtin_carries_checks_with_a_never() {
    use crate::scenarios::builtin::FILES;
    let ok = |_: &mut crate::actions::Params| Ok::<(), ActionFailure>(());
    for (name, text) in FILES {
        let s = compile(parse(text).unwrap(), name, 16, &ok).unwrap();
        let kinds: Vec<&str> = s.checks.iter().map(super::state::kind).collect();
        assert!(kinds.contains(&"fires"), "{name}: {kinds:?}");
        assert!(kinds.contains(&"never"), "{name}: {kinds:?}");
    }
}
