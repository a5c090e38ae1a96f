//! Scenario validation: the built-ins, step lengths, the end, the cap, names, engine checks, speed.

use super::*;
use crate::scenarios::builtin::FILES;
use crate::scenarios::format::parse;

fn ok(_: &mut Params) -> Result<(), ActionFailure> {
    Ok(())
}

fn build(text: &str) -> Result<Scenario, ScenarioError> {
    compile(
        parse(text).map_err(|m| ScenarioError::malformed("", m.message))?,
        "t",
        16,
        &ok,
    )
}

#[test]
fn every_builtin_scenario_validates() {
    let lengths = [180, 300, 120, 300, 180];
    for ((name, text), secs) in FILES.iter().zip(lengths) {
        let file = parse(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let s = compile(file, name, 16, &ok).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(s.duration.as_secs(), secs, "{name}");
        assert!(
            s.steps.iter().any(|st| st.note.is_some()),
            "{name} tells a story"
        );
        for st in &s.steps {
            let p = st.params(10.0);
            if st.timed {
                assert_eq!(p.duration(), Some(st.duration.div_f64(10.0)), "{name}");
            }
        }
        if *name == "memory-leak" {
            let mem = s.steps.iter().find(|s| s.kind == Kind::Memory).unwrap();
            assert!(mem.duration >= Duration::from_secs(180), "a leak is slow");
        }
    }
}

#[test]
fn default_step_length_runs_to_the_next_offset_or_the_end() {
    let s = build(
        "title: t\nduration: 60\nsteps:\n\
         - {at: 0:40, action: {kind: cpu}}\n\
         - {at: 0, action: {kind: cpu}}\n\
         - {at: 0, action: {kind: cpu}, duration: 50s}\n",
    )
    .unwrap();
    let d: Vec<u64> = s.steps.iter().map(|s| s.duration.as_secs()).collect();
    let at: Vec<u64> = s.steps.iter().map(|s| s.at.as_secs()).collect();
    assert_eq!(at, [0, 0, 40]);
    assert_eq!(d, [40, 50, 20]);
    assert_eq!(s.steps[2].number, 3);
}

#[test]
fn a_step_past_the_end_is_refused_with_its_position() {
    let e =
        build("title: t\nduration: 60\nsteps:\n- {at: 50, action: {kind: cpu}, duration: 20s}\n")
            .unwrap_err();
    assert!(matches!(e, ScenarioError::Invalid { .. }));
    assert!(
        e.to_string().contains("steps[0]") && e.to_string().contains("past"),
        "{e}"
    );
    let e =
        build("title: t\nduration: 60\nsteps:\n- {at: 1:00, action: {kind: cpu}}\n").unwrap_err();
    assert!(
        e.to_string().contains("not before the scenario's end"),
        "{e}"
    );
}

#[test]
fn overlapping_steps_beyond_the_cap_are_refused() {
    let text = "title: t\nduration: 60\nsteps:\n\
                - {at: 0, action: {kind: cpu}, duration: 30s}\n\
                - {at: 10, action: {kind: cpu}, duration: 30s}\n\
                - {at: 20, action: {kind: cpu}, duration: 30s}\n";
    let file = || parse(text).unwrap();
    assert!(compile(file(), "t", 3, &ok).is_ok());
    let e = compile(file(), "t", 2, &ok).unwrap_err();
    assert!(
        e.to_string().contains("3 actions at once") && e.to_string().contains("0:20"),
        "{e}"
    );
}

#[test]
fn names_are_safe_file_names() {
    for good in ["a", "black-friday-2", &"x".repeat(64)] {
        assert!(check_name(good).is_ok(), "{good}");
    }
    for bad in ["", "../etc", "a/b", "A", "a.yaml", &"x".repeat(65), "é"] {
        assert!(check_name(bad).is_err(), "{bad}");
    }
    let e = compile(
        parse("name: other\ntitle: t\nduration: 9\nsteps: [{at: 0, action: {kind: cpu}}]").unwrap(),
        "t",
        4,
        &ok,
    )
    .unwrap_err();
    assert!(e.to_string().contains("other"), "{e}");
}

#[test]
fn engine_checks_name_the_step() {
    let refuse = |p: &mut Params| match p {
        Params::Cpu(_) => Err("too hot".into()),
        _ => Ok(()),
    };
    let file = parse("title: t\nduration: 9\nsteps: [{at: 0, action: {kind: cpu}}]").unwrap();
    let e = compile(file, "t", 4, &refuse).unwrap_err();
    assert!(e.to_string().starts_with("steps[0].action: too hot"), "{e}");
}

#[test]
fn speed_compresses_durations_and_ramps() {
    let s = build("title: t\nduration: 100\nsteps: [{at: 0, action: {kind: memory, size: 1000, ramp: 1m}, duration: 100s}]")
        .unwrap();
    let p = s.steps[0].params(10.0).to_json();
    assert_eq!(p["duration"], serde_json::json!("10s"));
    assert_eq!(p["ramp"], serde_json::json!("6s"));
}
