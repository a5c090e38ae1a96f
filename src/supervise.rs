//! Supervision of the tasks actions and runs spawn: a panic inside one becomes an error
//! message its owner records (the action or run ends `failed`, its slot and series are freed)
//! instead of a task that vanishes and leaves its record `running` forever.
//!
//! `JOLT_TEST_PANIC=<point>` makes the named point panic, so tests can prove the supervision
//! over real HTTP: `action:<kind>` (an action's task, after it started), `traffic:worker` (a
//! sub-task of a traffic action) or `run` (a run's driver, once its first step started). It is a test hook; nothing sets it in production.

use futures_util::FutureExt;
use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

/// The environment variable of the test hook.
pub const TEST_PANIC_ENV: &str = "JOLT_TEST_PANIC";

/// Awaits `f`; a panic comes back as `Err` with the panic's message.
pub async fn catch_panic<F: Future>(f: F) -> Result<F::Output, String> {
    AssertUnwindSafe(f)
        .catch_unwind()
        .await
        .map_err(panic_message)
}

/// Panics when the test hook names `point`.
pub fn injection_point(point: &str) {
    if std::env::var(TEST_PANIC_ENV).is_ok_and(|v| v == point) {
        panic!("injected panic at {point} ({TEST_PANIC_ENV})");
    }
}

/// The message of a caught panic (a `JoinError::into_panic` or `catch_unwind` payload).
pub fn panic_message(panic: Box<dyn Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic without a message".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_its_message() {
        assert_eq!(catch_panic(async { 7 }).await, Ok(7));
        let r = catch_panic(async {
            let v: Vec<u8> = Vec::new();
            if v.is_empty() {
                panic!("boom {}", 42);
            }
        })
        .await;
        assert_eq!(r, Err("boom 42".to_string()));
    }
}
