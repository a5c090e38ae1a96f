//! Options that let many hosts start one scenario together: a wall-clock `start_at` and a
//! run id chosen by the caller, so `jolt scenario start --fleet` lines steps up across hosts
//! and every host's run carries the same id (and `run` label on /metrics).

use super::error::ScenarioError;
use std::time::{Duration, SystemTime};

/// Furthest ahead a start may be scheduled: far enough for a large fleet, short enough that a
/// forgotten run does not surprise anyone an hour later.
pub const MAX_AHEAD: Duration = Duration::from_secs(600);
/// Longest run id a caller may choose.
const MAX_ID: usize = 64;

/// How a run is to start: when (`None` = now) and under which id (`None` = the next `run-N`).
#[derive(Debug, Clone, Default)]
pub struct Schedule {
    /// Wall-clock start, checked by [`parse_start_at`].
    pub start_at: Option<SystemTime>,
    /// Caller-chosen id, checked by [`check_run_id`].
    pub id: Option<String>,
}

/// Parses an RFC 3339 time (`2026-12-01T07:00:05.250Z`, any offset) and checks it is now or
/// ahead, by at most [`MAX_AHEAD`].
pub fn parse_start_at(text: &str, now: SystemTime) -> Result<SystemTime, ScenarioError> {
    let at = chrono::DateTime::parse_from_rfc3339(text.trim()).map_err(|e| {
        ScenarioError::malformed(
            "start_at",
            format!("`{text}` is not an RFC 3339 time ({e}); e.g. 2026-12-01T07:00:05Z"),
        )
    })?;
    let at = SystemTime::from(at.with_timezone(&chrono::Utc));
    match at.duration_since(now) {
        Err(past) => Err(ScenarioError::invalid(
            "start_at",
            format!(
                "start_at {text} is {:.1} s in the past; give a time a few seconds ahead (check the hosts' clocks agree)",
                past.duration().as_secs_f64()
            ),
        )),
        Ok(ahead) if ahead > MAX_AHEAD => Err(ScenarioError::invalid(
            "start_at",
            format!(
                "start_at {text} is {} s ahead; at most {} s is allowed",
                ahead.as_secs(),
                MAX_AHEAD.as_secs()
            ),
        )),
        Ok(_) => Ok(at),
    }
}

/// A caller-chosen run id: 1 to 64 of a-z, 0-9 and -, and not of the `run-N` form jolt
/// hands out itself (so the two never collide).
pub fn check_run_id(id: &str) -> Result<(), ScenarioError> {
    let charset = !id.is_empty()
        && id.len() <= MAX_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let generated = id
        .strip_prefix("run-")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
    if charset && !generated {
        Ok(())
    } else {
        Err(ScenarioError::malformed(
            "id",
            format!(
                "`{id}` is not a run id to choose: use 1 to {MAX_ID} of a-z, 0-9 and -, not run-N (e.g. fleet-20261201-0700)"
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SystemTime {
        SystemTime::from(chrono::DateTime::parse_from_rfc3339(text).unwrap())
    }

    #[test]
    fn start_at_accepts_offsets_and_the_near_future() {
        let now = at("2026-12-01T07:00:00Z");
        assert_eq!(
            parse_start_at("2026-12-01T08:00:05+01:00", now).unwrap(),
            at("2026-12-01T07:00:05Z")
        );
        assert!(parse_start_at("2026-12-01T07:00:00Z", now).is_ok());
    }

    #[test]
    fn start_at_refuses_the_past_the_far_future_and_garbage() {
        let now = at("2026-12-01T07:00:00Z");
        let past = parse_start_at("2026-12-01T06:59:59Z", now).unwrap_err();
        assert!(past.to_string().contains("in the past"), "{past}");
        let far = parse_start_at("2026-12-01T07:10:01Z", now).unwrap_err();
        assert!(far.to_string().contains("at most 600 s"), "{far}");
        let bad = parse_start_at("tomorrow", now).unwrap_err();
        assert!(bad.to_string().contains("RFC 3339"), "{bad}");
    }

    #[test]
    fn run_ids_avoid_the_generated_form() {
        assert!(check_run_id("fleet-1733036400").is_ok());
        assert!(check_run_id("run-x").is_ok());
        assert!(check_run_id("run-12").is_err());
        assert!(check_run_id("Fleet").is_err());
        assert!(check_run_id("").is_err());
    }
}
