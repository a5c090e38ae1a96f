//! A run's state machine, pure: events in, transitions out. No clock, no engine, no tokio —
//! the caller ([`super::Run`]) feeds it what happened and turns the transitions into events,
//! metrics and engine calls, so every rule of a run's life is tested here on plain values.

/// The lifecycle state of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    /// The timeline advances.
    Running,
    /// The timeline and the run's actions are paused.
    Paused,
    /// Every step ran and none failed.
    Completed,
    /// Stopped by a request or shutdown.
    Stopped,
    /// Ran to the end, but at least one step's action was refused or failed.
    Failed,
}

impl RunState {
    /// The word the API and the events use.
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Paused => "paused",
            RunState::Completed => "completed",
            RunState::Stopped => "stopped",
            RunState::Failed => "failed",
        }
    }

    /// True once the run has ended.
    pub fn is_final(self) -> bool {
        !matches!(self, RunState::Running | RunState::Paused)
    }
}

/// The state of one step in a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepState {
    /// Not started yet.
    Pending,
    /// Its action runs.
    Running,
    /// Its action ended (completed, or stopped at the step's end).
    Done,
    /// Its action was refused or failed (`error` says why); the run went on.
    Failed,
    /// The run was stopped before the step started.
    Skipped,
}

/// One step's progress in a run.
#[derive(Debug, Clone, PartialEq)]
pub struct StepStatus {
    /// Where the step is.
    pub state: StepState,
    /// Its action's id once started.
    pub action: Option<String>,
    /// Why its action was refused or failed.
    pub error: Option<String>,
}

/// What happened to a run.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A scheduled run's `start_at` arrived: the timeline begins.
    Begin,
    /// Step `step`'s action started as `action`.
    Started { step: usize, action: String },
    /// Step `step`'s action was refused.
    Refused { step: usize, error: String },
    /// Step `step`'s action ended.
    Ended {
        step: usize,
        failed: bool,
        error: Option<String>,
    },
    /// Someone asked to pause.
    Pause,
    /// Someone asked to resume.
    Resume,
    /// The driver ended the run (`stopped`: before its timeline did).
    Finish { stopped: bool },
    /// The driver died; the run will finish failed with this message.
    Crashed { message: String },
}

/// What the caller must make happen.
#[derive(Debug, Clone, PartialEq)]
pub enum Transition {
    /// The story's current chapter moved from `from` to `to` (a step with a note started).
    Chapter { from: Option<usize>, to: usize },
    /// Step `step` runs its action `action`.
    StepRunning { step: usize, action: String },
    /// Step `step`'s action was refused.
    StepRefused { step: usize, error: String },
    /// The run paused: pause these actions.
    Paused { actions: Vec<String> },
    /// The run resumed: resume these actions.
    Resumed { actions: Vec<String> },
    /// An action started after its run had ended: stop it.
    Orphan { action: String },
    /// The run ended.
    Finished {
        /// Its state just before (a paused run no longer counts as running).
        was: RunState,
        /// Completed, stopped or failed.
        state: RunState,
        /// The chapter shown until now.
        chapter: Option<usize>,
        /// Why the run itself failed, when its driver died.
        error: Option<String>,
    },
}

/// Why a pause or resume was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The run is in this state.
    State(RunState),
    /// A scheduled run has not begun yet.
    NotBegun,
}

/// A run's state.
#[derive(Debug, Clone)]
pub struct Machine {
    /// Where the run is.
    pub state: RunState,
    /// Each step's progress, in timeline order.
    pub steps: Vec<StepStatus>,
    /// The latest started step with a note (the story's chapter).
    pub current: Option<usize>,
    /// False while a scheduled run waits for its `start_at`.
    pub begun: bool,
    /// Why the run itself failed (its driver died), as opposed to one of its steps.
    pub error: Option<String>,
    /// Bumped by every pause and resume, so a caller that applied a pause state to the
    /// engine outside the lock can tell whether it was overtaken and must apply again.
    pub epoch: u64,
    /// Which steps carry a note (only those become the chapter over another with one).
    notes: Vec<bool>,
}

impl Machine {
    /// A running run whose steps (`notes[i]`: step i has a note) are all pending.
    pub fn new(notes: Vec<bool>, begun: bool) -> Machine {
        let pending = StepStatus {
            state: StepState::Pending,
            action: None,
            error: None,
        };
        Machine {
            state: RunState::Running,
            steps: vec![pending; notes.len()],
            current: None,
            begun,
            error: None,
            epoch: 0,
            notes,
        }
    }

    /// Ids of the actions of steps still running.
    pub fn running_actions(&self) -> Vec<String> {
        self.steps
            .iter()
            .filter(|s| s.state == StepState::Running)
            .filter_map(|s| s.action.clone())
            .collect()
    }

    /// Applies `event`; the transitions to carry out, or why a pause/resume is refused.
    pub fn on(&mut self, event: Event) -> Result<Vec<Transition>, Refusal> {
        let mut out = Vec::new();
        match event {
            Event::Begin => self.begun = true,
            Event::Started { step, action } if self.state.is_final() => {
                self.steps[step].action = Some(action.clone());
                out.push(Transition::Orphan { action });
            }
            Event::Started { step, action } => {
                out.extend(self.chapter(step));
                let s = &mut self.steps[step];
                s.state = StepState::Running;
                s.action = Some(action.clone());
                out.push(Transition::StepRunning { step, action });
            }
            Event::Refused { step, error } => {
                out.extend(self.chapter(step));
                let s = &mut self.steps[step];
                s.state = StepState::Failed;
                s.error = Some(error.clone());
                out.push(Transition::StepRefused { step, error });
            }
            Event::Ended {
                step,
                failed,
                error,
            } => {
                let s = &mut self.steps[step];
                if failed {
                    s.state = StepState::Failed;
                    s.error = error;
                } else if s.state == StepState::Running {
                    s.state = StepState::Done;
                }
            }
            Event::Pause => {
                if self.state != RunState::Running {
                    return Err(Refusal::State(self.state));
                }
                if !self.begun {
                    return Err(Refusal::NotBegun);
                }
                self.state = RunState::Paused;
                self.epoch += 1;
                out.push(Transition::Paused {
                    actions: self.running_actions(),
                });
            }
            Event::Resume => {
                if self.state != RunState::Paused {
                    return Err(Refusal::State(self.state));
                }
                self.state = RunState::Running;
                self.epoch += 1;
                out.push(Transition::Resumed {
                    actions: self.running_actions(),
                });
            }
            Event::Finish { .. } if self.state.is_final() => {}
            Event::Finish { stopped } => out.push(self.finish(stopped)),
            Event::Crashed { message } => {
                if !self.state.is_final() {
                    self.error = Some(message);
                }
            }
        }
        Ok(out)
    }

    /// The current step is the latest one with a note (the story's chapter); steps without
    /// a note that start alongside it do not replace it.
    fn chapter(&mut self, step: usize) -> Option<Transition> {
        let replaces = self.notes[step] || self.current.is_none_or(|c| !self.notes[c]);
        replaces.then(|| Transition::Chapter {
            from: self.current.replace(step),
            to: step,
        })
    }

    fn finish(&mut self, stopped: bool) -> Transition {
        let was = self.state;
        let any_failed = self.steps.iter().any(|s| s.state == StepState::Failed);
        self.state = match (stopped, any_failed) {
            _ if self.error.is_some() => RunState::Failed,
            (true, _) => RunState::Stopped,
            (false, true) => RunState::Failed,
            (false, false) => RunState::Completed,
        };
        for s in self.steps.iter_mut() {
            match s.state {
                StepState::Pending => s.state = StepState::Skipped,
                StepState::Running => s.state = StepState::Done,
                _ => {}
            }
        }
        Transition::Finished {
            was,
            state: self.state,
            chapter: self.current,
            error: self.error.clone(),
        }
    }
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;
