//! What can go wrong with a scenario or a run, said in the domain's words. The API layer maps
//! each variant to a status and adds where to look (`From<ScenarioError> for ApiError`).

/// What the action engine returned when it refused an action; the API keeps its status.
pub type ActionFailure = Box<dyn std::error::Error + Send + Sync>;

/// An error of the scenario catalog or of a run.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// Input of the wrong shape: a name, a file that does not parse, a field that does not
    /// decode (`field` names it when there is one).
    #[error("{message}")]
    Malformed {
        /// The field at fault.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// Well-formed but impossible: out of range, past the end, over the action cap.
    #[error("{message}")]
    Invalid {
        /// The field at fault.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// No scenario has this name.
    #[error("no scenario named `{0}`")]
    UnknownScenario(String),
    /// A built-in scenario cannot be replaced.
    #[error("`{0}` is a built-in scenario and cannot be replaced")]
    Builtin(String),
    /// The run is not in a state that allows this (pause a paused run, resume a running one).
    #[error("cannot {verb} {run}: {why}")]
    NotNow {
        /// The run's id.
        run: String,
        /// What was asked: pause, resume.
        verb: &'static str,
        /// Why not.
        why: String,
    },
    /// No run has this id (live or in the bounded history).
    #[error("no run with id `{0}`")]
    UnknownRun(String),
    /// A run asked for an id another run has.
    #[error("a run with id `{0}` exists already; choose another id")]
    RunIdTaken(String),
    /// The run has ended already: there is nothing left to stop.
    #[error("run {0} already ended; nothing to stop")]
    Ended(String),
    /// A custom scenario could not be written to its directory.
    #[error("cannot save scenario {name}: {message}")]
    Save {
        /// The scenario.
        name: String,
        /// The I/O failure.
        message: String,
    },
    /// An `expect:` check that cannot be checked, or a preflight that failed.
    #[error(transparent)]
    Verify(#[from] super::verify::Error),
    /// The action engine refused a step's action.
    #[error("{0}")]
    Action(ActionFailure),
    /// The action engine refused the action of the step at `field` (`steps[N]`).
    #[error("{field}.action: {source}")]
    StepAction {
        /// `steps[N]`, as the file numbers them.
        field: String,
        /// The engine's refusal.
        source: ActionFailure,
    },
}

impl ScenarioError {
    /// A malformed `field`.
    pub fn malformed(field: impl Into<String>, message: impl Into<String>) -> Self {
        ScenarioError::Malformed {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// An impossible `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ScenarioError::Invalid {
            field: Some(field.into()),
            message: message.into(),
        }
    }
}
