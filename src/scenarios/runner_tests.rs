//! The driver against a fake engine in paused tokio time: offsets, speed, pause, stop, refusals.

use super::*;
use crate::actions::Params;
use crate::events::Events;
use crate::scenarios::ActionFailure;
use crate::scenarios::metrics::ScenarioMetrics;
use crate::scenarios::model::{Scenario, Step};
use crate::scenarios::run::{Outputs, RunState, StepState};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// A fake action: its token and, once it has ended, its final state.
type FakeAction = (CancellationToken, tokio::sync::watch::Sender<Option<State>>);

/// A fake engine: an action lasts its `duration` (or until stopped) and the fake records
/// when each operation happened, in tokio time since the test began.
#[derive(Clone)]
struct Fake {
    t0: Instant,
    log: Arc<Mutex<Vec<(u64, String)>>>,
    actions: Arc<Mutex<HashMap<String, FakeAction>>>,
    refuse: Arc<Mutex<Vec<String>>>,
}

impl Fake {
    fn new() -> Self {
        Fake {
            t0: Instant::now(),
            log: Default::default(),
            actions: Default::default(),
            refuse: Default::default(),
        }
    }
    fn note(&self, what: String) {
        let ms = self.t0.elapsed().as_millis() as u64;
        self.log.lock().unwrap().push((ms, what));
    }
    fn log(&self) -> Vec<(u64, String)> {
        self.log.lock().unwrap().clone()
    }
}

impl Actions for Fake {
    fn start(
        &self,
        params: Params,
        _run: &str,
        token: &CancellationToken,
    ) -> Result<String, ActionFailure> {
        let kind = params.kind().to_string();
        if self.refuse.lock().unwrap().contains(&kind) {
            return Err("cap reached".into());
        }
        let id = format!("{kind}-{}", self.actions.lock().unwrap().len() + 1);
        self.note(format!("start {id} {:?}", params.duration()));
        let token = token.child_token();
        let done = tokio::sync::watch::Sender::new(None);
        self.actions
            .lock()
            .unwrap()
            .insert(id.clone(), (token.clone(), done.clone()));
        let me = self.clone();
        let id2 = id.clone();
        tokio::spawn(async move {
            let state = match params.duration() {
                Some(d) => tokio::select! {
                    _ = tokio::time::sleep(d) => State::Completed,
                    _ = token.cancelled() => State::Stopped,
                },
                None => {
                    token.cancelled().await;
                    State::Stopped
                }
            };
            me.note(format!("end {id2} {state:?}"));
            done.send_replace(Some(state));
        });
        Ok(id)
    }

    fn set_paused(&self, id: &str, paused: bool) {
        self.note(format!("paused {id} {paused}"));
    }

    async fn stop(&self, id: &str) {
        let entry = self.actions.lock().unwrap().get(id).cloned();
        if let Some((token, done)) = entry {
            token.cancel();
            let _ = done.subscribe().wait_for(Option::is_some).await;
        }
    }

    async fn wait(&self, id: &str) -> (State, Option<String>) {
        let entry = self.actions.lock().unwrap().get(id).cloned();
        let (_, done) = entry.expect("known id");
        let state = *done.subscribe().wait_for(Option::is_some).await.unwrap();
        (state.unwrap(), None)
    }
}

fn step(number: usize, at: u64, duration: u64, params: serde_json::Value) -> Step {
    let mut params = params.as_object().unwrap().clone();
    let kind =
        crate::actions::Kind::parse(params.remove("kind").unwrap().as_str().unwrap()).unwrap();
    let action =
        crate::actions::Params::from_value(kind, &serde_json::Value::Object(params.clone()))
            .expect("test step params decode");
    Step {
        number,
        id: None,
        at: Duration::from_secs(at),
        duration: Duration::from_secs(duration),
        kind,
        params,
        action,
        note: Some(format!("note {number}")),
        timed: kind != crate::actions::Kind::Disk,
    }
}

fn scenario() -> Arc<Scenario> {
    Arc::new(Scenario {
        name: "test".into(),
        title: "Test".into(),
        description: String::new(),
        duration: Duration::from_secs(60),
        steps: vec![
            step(1, 0, 30, json!({"kind": "cpu", "percent": 10})),
            step(2, 10, 20, json!({"kind": "disk"})),
            step(
                3,
                30,
                30,
                json!({"kind": "memory", "size": 1000, "ramp": "30s"}),
            ),
        ],
        builtin: false,
        checks: vec![],
    })
}

fn new_run(speed: f64) -> (Arc<Run>, Events) {
    let mut reg = prometheus_client::registry::Registry::default();
    let events = Events::new(&mut reg);
    let out = Outputs {
        events: events.clone(),
        metrics: ScenarioMetrics::new(&mut reg),
    };
    let run = Run::new(
        "run-1".into(),
        scenario(),
        speed,
        CancellationToken::new(),
        out,
    );
    run.announce();
    (Arc::new(run), events)
}

#[tokio::test(start_paused = true)]
async fn steps_start_and_end_at_their_offsets_compressed_by_speed() {
    let fake = Fake::new();
    let (run, events) = new_run(10.0);
    drive(run.clone(), fake.clone()).await;
    let log = fake.log();
    let at = |what: &str| {
        log.iter()
            .find(|(_, w)| w.starts_with(what))
            .unwrap_or_else(|| panic!("{what} not in {log:?}"))
            .0
    };
    // Offsets 0, 10 s and 30 s at speed 10: 0, 1 s and 3 s; durations compressed too.
    assert_eq!(at("start cpu-1 Some(3s)"), 0);
    assert!((1000..1010).contains(&at("start disk-2 None")), "{log:?}");
    assert!((3000..3010).contains(&at("end disk-2 Stopped")), "{log:?}");
    assert!((3000..3010).contains(&at("end cpu-1 Completed")), "{log:?}");
    assert!(
        (3000..3010).contains(&at("start memory-3 Some(3s)")),
        "{log:?}"
    );
    assert!(
        (6000..6020).contains(&at("end memory-3 Completed")),
        "{log:?}"
    );
    let v = run.snapshot();
    assert_eq!(v.state, RunState::Completed);
    assert!(v.steps.iter().all(|s| s.state == StepState::Done));
    assert_eq!(v.current, Some(2), "the third step is the chapter");
    let kinds: Vec<_> = events.since(0).into_iter().map(|e| e.kind).collect();
    assert_eq!(kinds.iter().filter(|k| *k == "run_step").count(), 3);
    assert_eq!(kinds.first().unwrap(), "run_started");
    assert_eq!(kinds.last().unwrap(), "run_completed");
}

#[tokio::test(start_paused = true)]
async fn pause_holds_the_timeline_and_pauses_running_actions() {
    let fake = Fake::new();
    let (run, _) = new_run(10.0);
    let task = tokio::spawn(drive(run.clone(), fake.clone()));
    tokio::time::sleep(Duration::from_millis(500)).await;
    run.pause(&fake).unwrap();
    assert!(run.pause(&fake).is_err(), "pausing twice is a conflict");
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(run.state(), RunState::Paused);
    assert!(
        run.position() < Duration::from_secs(6),
        "the timeline stood still"
    );
    run.resume(&fake).unwrap();
    task.await.unwrap();
    let log = fake.log();
    assert!(
        log.iter()
            .any(|(t, w)| *t == 500 && w == "paused cpu-1 true"),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|(t, w)| *t == 2500 && w == "paused cpu-1 false"),
        "{log:?}"
    );
    // The disk step was due at 1 s; the 2 s pause moved it to 3 s.
    let disk = log
        .iter()
        .find(|(_, w)| w.starts_with("start disk-2"))
        .unwrap();
    assert!((3000..3010).contains(&disk.0), "{log:?}");
}

#[tokio::test(start_paused = true)]
async fn stop_cancels_actions_and_skips_pending_steps() {
    let fake = Fake::new();
    let (run, _) = new_run(10.0);
    let task = tokio::spawn(drive(run.clone(), fake.clone()));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    run.token.cancel();
    task.await.unwrap();
    let v = run.snapshot();
    assert_eq!(v.state, RunState::Stopped);
    let states: Vec<_> = v.steps.iter().map(|s| s.state).collect();
    assert_eq!(
        states,
        [StepState::Done, StepState::Done, StepState::Skipped]
    );
    let log = fake.log();
    assert!(
        log.iter()
            .any(|(t, w)| *t == 1500 && w == "end cpu-1 Stopped"),
        "{log:?}"
    );
    assert!(
        log.iter()
            .any(|(t, w)| *t == 1500 && w == "end disk-2 Stopped"),
        "{log:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_refused_step_fails_but_the_run_goes_on() {
    let fake = Fake::new();
    fake.refuse.lock().unwrap().push("disk".into());
    let (run, events) = new_run(20.0);
    drive(run.clone(), fake.clone()).await;
    let v = run.snapshot();
    assert_eq!(v.state, RunState::Failed);
    assert_eq!(v.steps[1].state, StepState::Failed);
    assert!(v.steps[1].error.as_deref().unwrap().contains("cap reached"));
    assert_eq!(v.steps[2].state, StepState::Done, "later steps still ran");
    assert!(events.since(0).iter().any(|e| e.kind == "run_step_failed"));
}
