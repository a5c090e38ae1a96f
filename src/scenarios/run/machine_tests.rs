//! The run's rules on plain values: no clock, no engine, no tokio.

use super::*;

fn started(step: usize, action: &str) -> Event {
    Event::Started {
        step,
        action: action.into(),
    }
}

fn states(m: &Machine) -> Vec<StepState> {
    m.steps.iter().map(|s| s.state).collect()
}

#[test]
fn a_run_whose_steps_all_end_well_completes_and_its_chapter_follows_the_notes() {
    // Steps 0 and 2 have a note, step 1 does not.
    let mut m = Machine::new(vec![true, false, true], true);
    let t = m.on(started(0, "cpu-1")).unwrap();
    assert_eq!(
        t,
        [
            Transition::Chapter { from: None, to: 0 },
            Transition::StepRunning {
                step: 0,
                action: "cpu-1".into()
            }
        ]
    );
    // A step without a note does not replace a chapter that has one.
    let t = m.on(started(1, "disk-2")).unwrap();
    assert!(!t.iter().any(|t| matches!(t, Transition::Chapter { .. })));
    let t = m.on(started(2, "memory-3")).unwrap();
    assert_eq!(
        t[0],
        Transition::Chapter {
            from: Some(0),
            to: 2
        }
    );
    for step in 0..3 {
        m.on(Event::Ended {
            step,
            failed: false,
            error: None,
        })
        .unwrap();
    }
    let t = m.on(Event::Finish { stopped: false }).unwrap();
    assert_eq!(
        t,
        [Transition::Finished {
            was: RunState::Running,
            state: RunState::Completed,
            chapter: Some(2),
            error: None
        }]
    );
    assert_eq!(states(&m), [StepState::Done; 3]);
    assert!(
        m.on(Event::Finish { stopped: true }).unwrap().is_empty(),
        "a run finishes once"
    );
}

#[test]
fn a_refused_or_failed_step_fails_the_run_at_its_end_but_not_before() {
    let mut m = Machine::new(vec![false, false], true);
    m.on(Event::Refused {
        step: 0,
        error: "cap reached".into(),
    })
    .unwrap();
    assert_eq!(m.state, RunState::Running, "the run goes on");
    assert_eq!(m.steps[0].error.as_deref(), Some("cap reached"));
    m.on(started(1, "cpu-2")).unwrap();
    m.on(Event::Ended {
        step: 1,
        failed: true,
        error: Some("worker died".into()),
    })
    .unwrap();
    m.on(Event::Finish { stopped: false }).unwrap();
    assert_eq!(m.state, RunState::Failed);
    assert_eq!(states(&m), [StepState::Failed, StepState::Failed]);
}

#[test]
fn stopping_skips_pending_steps_and_ends_running_ones() {
    let mut m = Machine::new(vec![true, true, true], true);
    m.on(started(0, "cpu-1")).unwrap();
    m.on(Event::Finish { stopped: true }).unwrap();
    assert_eq!(m.state, RunState::Stopped);
    assert_eq!(
        states(&m),
        [StepState::Done, StepState::Skipped, StepState::Skipped]
    );
}

#[test]
fn pause_and_resume_name_the_running_actions_and_refuse_the_wrong_state() {
    let mut m = Machine::new(vec![true, true], true);
    assert_eq!(m.on(Event::Resume), Err(Refusal::State(RunState::Running)));
    m.on(started(0, "cpu-1")).unwrap();
    let epoch = m.epoch;
    assert_eq!(
        m.on(Event::Pause).unwrap(),
        [Transition::Paused {
            actions: vec!["cpu-1".into()]
        }]
    );
    assert_eq!(m.on(Event::Pause), Err(Refusal::State(RunState::Paused)));
    assert_eq!(
        m.on(Event::Resume).unwrap(),
        [Transition::Resumed {
            actions: vec!["cpu-1".into()]
        }]
    );
    assert_eq!(m.epoch, epoch + 2, "each pause and resume is a new epoch");
}

#[test]
fn a_step_that_starts_while_paused_runs_and_a_paused_run_can_be_stopped() {
    let mut m = Machine::new(vec![true, true], true);
    m.on(Event::Pause).unwrap();
    // The driver started step 0 just before the pause landed.
    m.on(started(0, "cpu-1")).unwrap();
    assert_eq!(m.running_actions(), ["cpu-1"]);
    assert_eq!(m.state, RunState::Paused);
    let t = m.on(Event::Finish { stopped: true }).unwrap();
    assert!(matches!(
        t[0],
        Transition::Finished {
            was: RunState::Paused,
            state: RunState::Stopped,
            ..
        }
    ));
    assert_eq!(m.on(Event::Resume), Err(Refusal::State(RunState::Stopped)));
}

#[test]
fn a_scheduled_run_cannot_pause_before_it_begins() {
    let mut m = Machine::new(vec![true], false);
    assert_eq!(m.on(Event::Pause), Err(Refusal::NotBegun));
    m.on(Event::Begin).unwrap();
    assert!(m.on(Event::Pause).is_ok());
}

#[test]
fn an_action_that_starts_after_the_end_is_stopped_and_a_crash_fails_the_run() {
    let mut m = Machine::new(vec![true, true], true);
    m.on(Event::Crashed {
        message: "driver panicked".into(),
    })
    .unwrap();
    let t = m.on(Event::Finish { stopped: true }).unwrap();
    assert!(matches!(
        &t[0],
        Transition::Finished { state: RunState::Failed, error: Some(e), .. } if e == "driver panicked"
    ));
    assert_eq!(
        m.on(started(1, "cpu-9")).unwrap(),
        [Transition::Orphan {
            action: "cpu-9".into()
        }]
    );
    m.on(Event::Crashed {
        message: "later".into(),
    })
    .unwrap();
    assert_eq!(
        m.error.as_deref(),
        Some("driver panicked"),
        "the first cause stays"
    );
}
