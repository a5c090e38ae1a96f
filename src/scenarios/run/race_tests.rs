//! The engine is called without the run's lock, so a pause, a resume or the run's end can land
//! in the middle of an engine call. Each test makes one land there (from another thread, as
//! the API would) and checks the engine ends up where the run is.

use super::*;
use crate::actions::{Kind, Params};
use crate::events::Events;
use crate::scenarios::ActionFailure;
use crate::scenarios::metrics::ScenarioMetrics;
use crate::scenarios::model::Step;
use std::sync::mpsc;

/// Something to do from inside an engine call.
type Hook = Box<dyn FnOnce() + Send>;

/// A fake engine that logs its calls and runs a hook inside the first `start` or
/// `set_paused` call.
#[derive(Clone, Default)]
struct Fake {
    log: Arc<Mutex<Vec<String>>>,
    in_start: Arc<Mutex<Option<Hook>>>,
    in_set_paused: Arc<Mutex<Option<Hook>>>,
}

impl Fake {
    fn note(&self, what: String) {
        self.log.lock().unwrap().push(what);
    }
    fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
    /// The last pause state the engine was given for `id`.
    fn paused(&self, id: &str) -> Option<bool> {
        let prefix = format!("paused {id} ");
        self.log()
            .iter()
            .rev()
            .find_map(|l| l.strip_prefix(&prefix).map(|b| b == "true"))
    }
}

impl Actions for Fake {
    fn start(
        &self,
        params: Params,
        _: &str,
        _: &CancellationToken,
    ) -> Result<String, ActionFailure> {
        let hook = self.in_start.lock().unwrap().take();
        if let Some(f) = hook {
            f();
        }
        let id = format!("{}-1", params.kind());
        self.note(format!("start {id}"));
        Ok(id)
    }
    fn set_paused(&self, id: &str, paused: bool) {
        let hook = self.in_set_paused.lock().unwrap().take();
        if let Some(f) = hook {
            f();
        }
        self.note(format!("paused {id} {paused}"));
    }
    async fn stop(&self, _: &str) {}
    async fn wait(&self, _: &str) -> (State, Option<String>) {
        (State::Completed, None)
    }
}

fn new_run() -> (Arc<Run>, Events) {
    let mut reg = prometheus_client::registry::Registry::default();
    let events = Events::new(&mut reg);
    let out = Outputs {
        events: events.clone(),
        metrics: ScenarioMetrics::new(&mut reg),
    };
    let step = |number: usize, at: u64| Step {
        number,
        id: None,
        at: Duration::from_secs(at),
        duration: Duration::from_secs(30),
        kind: Kind::Cpu,
        params: Default::default(),
        action: crate::actions::Params::from_value(Kind::Cpu, &serde_json::json!({}))
            .expect("cpu defaults decode"),
        note: Some(format!("note {number}")),
        timed: true,
    };
    let scenario = Scenario {
        name: "race".into(),
        title: "Race".into(),
        description: String::new(),
        duration: Duration::from_secs(60),
        steps: vec![step(1, 0), step(2, 30)],
        builtin: false,
        checks: vec![],
    };
    let token = CancellationToken::new();
    let run = Run::new("run-1".into(), Arc::new(scenario), 1.0, token, out);
    run.announce();
    (Arc::new(run), events)
}

/// Runs `f` on another thread and waits for it (generously): if the caller held the run's
/// lock, `f` would block on it and this fails instead of hanging.
fn on_another_thread<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(f());
    });
    rx.recv_timeout(Duration::from_secs(60))
        .expect("the other thread was blocked: the run's lock is held during an engine call")
}

#[test]
fn a_pause_that_lands_while_a_step_starts_pauses_the_new_action() {
    let (run, events) = new_run();
    let fake = Fake::default();
    let (r, f) = (run.clone(), fake.clone());
    *fake.in_start.lock().unwrap() = Some(Box::new(move || {
        on_another_thread(move || r.pause(&f).unwrap());
    }));
    assert!(matches!(run.start_step(0, &fake), StepStart::Started(id) if id == "cpu-1"));
    assert_eq!(run.state(), RunState::Paused);
    assert_eq!(fake.paused("cpu-1"), Some(true), "{:?}", fake.log());
    let snap = run.snapshot();
    assert_eq!(snap.steps[0].state, StepState::Running);
    assert_eq!(snap.current, Some(0));
    assert!(matches!(run.start_step(1, &fake), StepStart::Deferred));
    run.resume(&fake).unwrap();
    assert_eq!(fake.paused("cpu-1"), Some(false));
    let kinds: Vec<_> = events.since(0).into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        ["run_started", "run_paused", "run_step", "run_resumed"]
    );
}

#[test]
fn a_resume_that_overtakes_a_pause_leaves_the_actions_running() {
    let (run, _) = new_run();
    let fake = Fake::default();
    assert!(matches!(run.start_step(0, &fake), StepStart::Started(_)));
    let (r, f) = (run.clone(), fake.clone());
    // The pause has changed the run's state and is telling the engine when the resume lands
    // and finishes first; the pause's own call reaches the engine last.
    *fake.in_set_paused.lock().unwrap() = Some(Box::new(move || {
        on_another_thread(move || r.resume(&f).unwrap());
    }));
    run.pause(&fake).unwrap();
    assert_eq!(run.state(), RunState::Running);
    assert_eq!(
        fake.paused("cpu-1"),
        Some(false),
        "the engine ends where the run is: {:?}",
        fake.log()
    );
}

#[test]
fn an_action_that_starts_as_the_run_ends_is_stopped_with_it() {
    let (run, events) = new_run();
    let fake = Fake::default();
    let r = run.clone();
    *fake.in_start.lock().unwrap() = Some(Box::new(move || {
        on_another_thread(move || r.finish(true));
    }));
    assert!(!run.token.is_cancelled());
    assert!(matches!(run.start_step(0, &fake), StepStart::Started(_)));
    assert_eq!(run.state(), RunState::Stopped);
    assert!(
        run.token.is_cancelled(),
        "the run's token (parent of the action's) is cancelled"
    );
    let kinds: Vec<_> = events.since(0).into_iter().map(|e| e.kind).collect();
    assert_eq!(
        kinds,
        ["run_started", "run_stopped"],
        "no step event after the end"
    );
}
