//! What can go wrong when starting, finding or stopping an action, in the engine's words. The
//! control API maps each variant to a status (`api::error`) and adds where to look; nothing
//! here knows about HTTP.

/// An action engine error; the message is a sentence a person can act on.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    /// The parameters are not well-formed: not UTF-8, not an object, an unknown parameter, a
    /// wrong type. Decided while decoding.
    #[error("{message}")]
    Malformed {
        /// The parameter at fault, when known.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// Well-formed but out of range or unsafe on this host. Decided by `validate()`.
    #[error("{message}")]
    Invalid {
        /// The parameter at fault, when there is one.
        field: Option<String>,
        /// What is wrong and what is allowed.
        message: String,
    },
    /// No running or remembered action has this id.
    #[error("no action with id `{0}`")]
    NotFound(String),
    /// The action has already ended.
    #[error("action {id} already ended ({outcome}); nothing to stop")]
    Ended {
        /// The action.
        id: String,
        /// How it ended.
        outcome: &'static str,
    },
    /// As many actions as `actions.max_active` allows are running.
    #[error(
        "{active} actions are already running (the limit is actions.max_active = {max}); stop one first"
    )]
    Busy {
        /// Running now.
        active: usize,
        /// The limit.
        max: usize,
    },
    /// The host could not be read to judge the request (e.g. `/proc/meminfo`).
    #[error("{0}")]
    Host(String),
}

impl ActionError {
    /// Out of range or unsafe, about one parameter.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ActionError::Invalid {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// The parameter at fault, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            ActionError::Malformed { field, .. } | ActionError::Invalid { field, .. } => {
                field.as_deref()
            }
            _ => None,
        }
    }
}

/// A [`Given`](crate::units::Given) value's range problem as an `Invalid` error naming `field`.
pub fn in_range<'a, T>(
    field: &str,
    given: &'a crate::units::Given<T>,
) -> Result<&'a T, ActionError> {
    given
        .checked()
        .map_err(|why| ActionError::invalid(field, format!("{field}: {why}")))
}
