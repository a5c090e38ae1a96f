//! A validated scenario: steps sorted, each with its resolved start and length, checked
//! against the rules that span steps (the scenario's length, the action cap). Also builds a
//! step's action parameters at a given speed.

use super::error::{ActionFailure, ScenarioError};
use super::format::{ScenarioFile, clock};
use super::verify::check::StepSpan;
use crate::actions::{Kind, Params};
use crate::units::HumanDuration;
use serde_json::{Map, Value};
use std::time::Duration;

/// Longest name of a scenario.
pub const MAX_NAME: usize = 64;

/// A scenario ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// `[a-z0-9-]{1,64}`.
    pub name: String,
    /// What people see.
    pub title: String,
    /// The story.
    pub description: String,
    /// Length of the timeline.
    pub duration: Duration,
    /// Steps sorted by start.
    pub steps: Vec<Step>,
    /// Shipped with jolt (cannot be replaced).
    pub builtin: bool,
    /// What a verified run checks (`expect:`), compiled; empty for a plain scenario.
    pub checks: Vec<super::verify::Check>,
}

/// One resolved step.
#[derive(Debug, Clone)]
pub struct Step {
    /// 1-based position in the sorted timeline (the `step` label).
    pub number: usize,
    /// The `id` checks refer to it by.
    pub id: Option<String>,
    /// Start offset.
    pub at: Duration,
    /// How long it lasts.
    pub duration: Duration,
    /// Action kind.
    pub kind: Kind,
    /// Parameters as written, minus `duration` (the step's length replaces it): what the API
    /// shows.
    pub params: Map<String, Value>,
    /// The parameters decoded once, when the file was read.
    pub action: Params,
    /// The story at this point.
    pub note: Option<String>,
    /// The kind has its own `duration` (it ends by itself); otherwise the runner stops it.
    pub timed: bool,
}

impl Step {
    /// End offset.
    pub fn end(&self) -> Duration {
        self.at + self.duration
    }

    /// The action's parameters with the step's length and ramps compressed by `speed`.
    pub fn params(&self, speed: f64) -> Params {
        let mut params = self.action.clone();
        if self.timed {
            params = params.with_duration(self.duration);
        }
        params.scaled(speed)
    }
}

/// Checks a scenario name: `[a-z0-9-]{1,64}`, so it is always a safe file name.
pub fn check_name(name: &str) -> Result<(), ScenarioError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(ScenarioError::malformed(
            "name",
            format!(
                "`{}` is not a scenario name: use 1 to {MAX_NAME} of a-z, 0-9 and -",
                name.escape_default()
            ),
        ))
    }
}

/// The engine's range checks of one action (`Params::validate` against the live engine).
pub type Check<'a> = &'a dyn Fn(&mut Params) -> Result<(), ActionFailure>;

/// Validates a decoded file under `name`: at most `max_active` simultaneous actions, and
/// `check` on every step's action except memory and disk, whose checks depend on what is
/// free at the moment (they run when the step starts).
pub fn compile(
    file: ScenarioFile,
    name: &str,
    max_active: usize,
    check: Check<'_>,
) -> Result<Scenario, ScenarioError> {
    check_name(name)?;
    if let Some(n) = &file.name
        && n != name
    {
        return Err(ScenarioError::malformed(
            "name",
            format!("the file says `name: {n}` but it is stored as `{name}`; make them equal"),
        ));
    }
    if file.title.trim().is_empty() {
        return Err(ScenarioError::invalid("title", "title must not be empty"));
    }
    let total = file.duration.0;
    if total.is_zero() {
        return Err(ScenarioError::invalid(
            "duration",
            "duration must be longer than 0s",
        ));
    }
    if file.steps.is_empty() {
        return Err(ScenarioError::invalid(
            "steps",
            "a scenario needs at least one step",
        ));
    }
    let mut specs: Vec<(usize, _)> = file.steps.into_iter().enumerate().collect();
    specs.sort_by_key(|(_, s)| s.at);
    let starts: Vec<Duration> = specs.iter().map(|(_, s)| s.at.0).collect();
    let mut steps = Vec::with_capacity(specs.len());
    for (number, (orig, spec)) in specs.into_iter().enumerate() {
        let field = format!("steps[{orig}]");
        let at = spec.at.0;
        let mut params = spec.action.params;
        let in_action = match params.remove("duration") {
            Some(v) => Some(serde_json::from_value::<HumanDuration>(v).map_err(|e| {
                ScenarioError::malformed(&field, format!("{field}.action.duration: {e}"))
            })?),
            None => None,
        };
        if at >= total {
            return Err(ScenarioError::invalid(
                format!("{field}.at"),
                format!(
                    "{field} starts at {} which is not before the scenario's end ({}); \
                     lengthen `duration` or move the step",
                    clock(at),
                    clock(total)
                ),
            ));
        }
        let duration = match (spec.duration, in_action) {
            (Some(a), Some(b)) if a != b => {
                return Err(ScenarioError::malformed(
                    format!("{field}.duration"),
                    format!("{field} gives two durations ({a} and {b}); keep the step's"),
                ));
            }
            (Some(d), _) | (None, Some(d)) => d.0,
            (None, None) => starts.iter().copied().find(|s| *s > at).unwrap_or(total) - at,
        };
        if duration.is_zero() {
            return Err(ScenarioError::invalid(
                format!("{field}.duration"),
                format!("{field} lasts 0s; give it a duration"),
            ));
        }
        if at + duration > total {
            return Err(ScenarioError::invalid(
                format!("{field}.duration"),
                format!(
                    "{field} (at {}, lasting {}) runs past the scenario's end at {}; \
                     shorten the step or lengthen the scenario",
                    clock(at),
                    HumanDuration(duration),
                    clock(total)
                ),
            ));
        }
        let timed = spec.action.kind.timed();
        let step = Step {
            number: number + 1,
            id: spec.id.clone(),
            at,
            duration,
            kind: spec.action.kind,
            params,
            action: spec.action.decoded,
            note: spec.note.filter(|n| !n.trim().is_empty()),
            timed,
        };
        let mut resolved = step.params(1.0);
        if !matches!(step.kind, Kind::Memory | Kind::Disk) {
            // Memory and disk checks depend on what is free right now: they run at start.
            check(&mut resolved).map_err(|source| ScenarioError::StepAction {
                field: field.clone(),
                source,
            })?;
        }
        steps.push(step);
    }
    check_overlap(&steps, max_active)?;
    check_ids(&steps)?;
    let spans: Vec<StepSpan<'_>> = steps
        .iter()
        .map(|s| StepSpan {
            id: s.id.as_deref(),
            at: s.at,
            end: s.end(),
        })
        .collect();
    let checks = super::verify::compile(&file.expect, &spans, total)?;
    Ok(Scenario {
        name: name.to_string(),
        title: file.title,
        description: file.description,
        duration: total,
        steps,
        builtin: false,
        checks,
    })
}

/// Step ids are unique names of letters, digits, `-` and `_` (not starting with a digit, so
/// they never read as offsets).
fn check_ids(steps: &[Step]) -> Result<(), ScenarioError> {
    let mut seen = std::collections::HashSet::new();
    for s in steps {
        let Some(id) = &s.id else { continue };
        let ok = id.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && id.len() <= MAX_NAME
            && id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !ok {
            return Err(ScenarioError::invalid(
                "steps",
                format!(
                    "step {} has the id `{}`: use a letter, then letters, digits, - or _",
                    s.number,
                    id.escape_default()
                ),
            ));
        }
        if !seen.insert(id.as_str()) {
            return Err(ScenarioError::invalid(
                "steps",
                format!("two steps have the id `{id}`; ids must be unique"),
            ));
        }
    }
    Ok(())
}

/// Refuses timelines that would need more simultaneous actions than the cap allows.
fn check_overlap(steps: &[Step], cap: usize) -> Result<(), ScenarioError> {
    for s in steps {
        let active = steps
            .iter()
            .filter(|o| o.at <= s.at && s.at < o.end())
            .count();
        if active > cap {
            return Err(ScenarioError::invalid(
                "steps",
                format!(
                    "at {} this scenario runs {active} actions at once, more than \
                     actions.max_active ({cap}); stagger or shorten the steps",
                    clock(s.at)
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
