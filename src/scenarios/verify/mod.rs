//! Verified scenarios: a scenario's `expect:` checks (does the right alert fire in time, reach
//! Alertmanager, resolve; does an expression stay within bounds), checked before the run
//! starts (`preflight`), followed while it plays (`follower`) and judged by a pure function
//! (`eval`) into a verdict and a score.
//!
//! `spec` is the file format, `check` the validated checks, `timeline` what is recorded,
//! `state` one run's verification as the API and metrics show it.

pub mod check;
pub mod eval;
mod follower;
mod preflight;
pub mod spec;
mod state;
pub mod timeline;

#[cfg(test)]
mod check_tests;
#[cfg(test)]
mod eval_tests;

pub use check::{Check, compile};
pub use eval::Outcome;
pub use eval::Verdict;
pub use follower::{follow, forget};
pub use preflight::preflight;
pub use spec::CheckSpec;
pub use state::{RunVerdict, Verification, VerifySnapshot, expected, kind};

/// Errors of checks and preflight.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An `expect:` entry that cannot be checked as written (422, with its path).
    #[error("{message}")]
    Invalid { field: String, message: String },
    /// A check Prometheus cannot meet: unknown alert, bad query, impossible budget (422).
    #[error("{message}")]
    Preflight { field: String, message: String },
    /// Prometheus or Alertmanager did not answer the preflight (503).
    #[error("{0}")]
    Unavailable(String),
}
