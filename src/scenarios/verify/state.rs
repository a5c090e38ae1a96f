//! One run's verification: its checks, what was recorded, each check's outcome, the verdict
//! and the score, as plain data for the run object (and run reports).

use super::check::{Check, What};
use super::eval::{self, Outcome, Verdict};
use super::timeline::{Recording, Transition};
use crate::prom::Prom;
use crate::scenarios::format::clock;
use serde::Serialize;
use std::sync::{Mutex, MutexGuard};

/// A run's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunVerdict {
    /// Checks still undecided.
    Pending,
    /// Every check passed.
    Pass,
    /// At least one check failed.
    Fail,
    /// None failed, at least one could not be decided.
    Inconclusive,
    /// The scenario has checks but jolt has no `--prometheus-url`: nothing was verified.
    Unverified,
}

impl RunVerdict {
    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            RunVerdict::Pending => "pending",
            RunVerdict::Pass => "pass",
            RunVerdict::Fail => "fail",
            RunVerdict::Inconclusive => "inconclusive",
            RunVerdict::Unverified => "unverified",
        }
    }
}

/// A verified run's checks and what they found, at one moment.
#[derive(Debug, Clone)]
pub struct VerifySnapshot {
    /// The run's verdict.
    pub verdict: RunVerdict,
    /// 0–100.
    pub score: u8,
    /// Each check with its outcome so far.
    pub checks: Vec<(Check, Outcome)>,
    /// The checked alerts' transitions (check-clock seconds).
    pub transitions: Vec<Transition>,
}

struct Inner {
    rec: Recording,
    outcomes: Vec<Outcome>,
    finished: bool,
}

/// A run's verification, shared by the follower and the API.
pub struct Verification {
    /// The checks.
    pub checks: Vec<Check>,
    /// Where to look; `None` means unverified.
    pub prom: Option<Prom>,
    inner: Mutex<Inner>,
}

impl Verification {
    /// Checks waiting to be judged (or, without Prometheus, inconclusive at once).
    pub fn new(checks: Vec<Check>, prom: Option<Prom>) -> Verification {
        let outcomes = checks
            .iter()
            .map(|_| match prom {
                Some(_) => Outcome {
                    result: Verdict::Pending,
                    observed: "not decided yet".into(),
                    decided_at: None,
                    delay: None,
                },
                None => Outcome {
                    result: Verdict::Inconclusive,
                    observed: "not verified: jolt runs without --prometheus-url".into(),
                    decided_at: Some(0.0),
                    delay: None,
                },
            })
            .collect();
        Verification {
            checks,
            inner: Mutex::new(Inner {
                rec: Recording::default(),
                outcomes,
                finished: prom.is_none(),
            }),
            prom,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().expect("verification poisoned")
    }

    /// Runs `f` on the recording.
    pub fn record<T>(&self, f: impl FnOnce(&mut Recording) -> T) -> T {
        f(&mut self.lock().rec)
    }

    /// Judges every undecided check at `now`; returns the ones decided by this call.
    pub fn judge(&self, now: eval::Now) -> Vec<(usize, Outcome)> {
        let mut inner = self.lock();
        let mut newly = Vec::new();
        for (i, c) in self.checks.iter().enumerate() {
            if inner.outcomes[i].result != Verdict::Pending {
                continue;
            }
            let o = eval::judge(c, &inner.rec, now);
            if o.result != Verdict::Pending {
                inner.outcomes[i] = o.clone();
                newly.push((i, o));
            }
        }
        newly
    }

    /// Decides every still-pending check as inconclusive (the follower gave up or shut down).
    pub fn give_up(&self, now: f64, why: &str) -> Vec<(usize, Outcome)> {
        let mut inner = self.lock();
        let mut newly = Vec::new();
        for o in inner
            .outcomes
            .iter_mut()
            .filter(|o| o.result == Verdict::Pending)
        {
            *o = Outcome {
                result: Verdict::Inconclusive,
                observed: why.to_string(),
                decided_at: Some(now),
                delay: None,
            };
        }
        for (i, o) in inner.outcomes.iter().enumerate() {
            if o.decided_at == Some(now) && o.observed == why {
                newly.push((i, o.clone()));
            }
        }
        newly
    }

    /// Marks the verification as complete (the verdict is final).
    pub fn finish(&self) {
        self.lock().finished = true;
    }

    /// The run's verdict.
    pub fn verdict(&self) -> RunVerdict {
        self.verdict_of(&self.lock())
    }

    fn verdict_of(&self, inner: &Inner) -> RunVerdict {
        if self.prom.is_none() {
            return RunVerdict::Unverified;
        }
        let results: Vec<Verdict> = inner.outcomes.iter().map(|o| o.result).collect();
        match eval::verdict(&results) {
            _ if !inner.finished && !results.contains(&Verdict::Fail) => RunVerdict::Pending,
            Verdict::Fail => RunVerdict::Fail,
            Verdict::Inconclusive => RunVerdict::Inconclusive,
            Verdict::Pass => RunVerdict::Pass,
            Verdict::Pending => RunVerdict::Pending,
        }
    }

    /// True once the verdict is final.
    pub fn is_finished(&self) -> bool {
        self.lock().finished
    }

    /// The 0–100 score (0 while unverified).
    pub fn score(&self) -> u8 {
        self.score_of(&self.lock())
    }

    fn score_of(&self, inner: &Inner) -> u8 {
        let pairs: Vec<(&Check, &Outcome)> = self.checks.iter().zip(&inner.outcomes).collect();
        eval::score(&pairs)
    }

    /// The verdict, the score, each check with its outcome and the alert transitions.
    /// All of it read under one lock, so the verdict agrees with the outcomes shown.
    pub fn snapshot(&self) -> VerifySnapshot {
        let inner = self.lock();
        let checks = self.checks.iter().cloned().zip(inner.outcomes.clone());
        VerifySnapshot {
            verdict: self.verdict_of(&inner),
            score: self.score_of(&inner),
            checks: checks.collect(),
            transitions: inner.rec.transitions.clone(),
        }
    }

    /// True when no check is pending.
    pub fn all_decided(&self) -> bool {
        self.lock()
            .outcomes
            .iter()
            .all(|o| o.result != Verdict::Pending)
    }

    /// Each check's name with its current result (the `check_result` series).
    pub fn results(&self) -> Vec<(String, Verdict)> {
        let inner = self.lock();
        self.checks
            .iter()
            .zip(&inner.outcomes)
            .map(|(c, o)| (c.name.clone(), o.result))
            .collect()
    }

    /// The alert transitions recorded so far.
    pub fn transitions(&self) -> Vec<Transition> {
        self.lock().rec.transitions.clone()
    }
}

/// The check's type name.
pub fn kind(c: &Check) -> &'static str {
    match c.what {
        What::Fires { .. } => "fires",
        What::Notified { .. } => "notified",
        What::Resolves { .. } => "resolves",
        What::Never { .. } => "never",
        What::Query { .. } => "query",
    }
}

/// What a check expects, in a sentence.
pub fn expected(c: &Check, speed: f64) -> String {
    let at = |p: &super::check::Point| {
        let wall = if speed != 1.0 {
            format!(
                ", {:.1} s of wall time into the run",
                p.at.as_secs_f64() / speed
            )
        } else {
            String::new()
        };
        format!("{} ({}{wall})", p.label, clock(p.at))
    };
    match &c.what {
        What::Fires {
            alert,
            after,
            within,
        } => {
            format!(
                "{} fires within {} s of {}",
                alert.name,
                within.as_secs_f64(),
                at(after)
            )
        }
        What::Notified {
            alert,
            after,
            within,
        } => format!(
            "Alertmanager delivers {} within {} s of {}",
            alert.name,
            within.as_secs_f64(),
            at(after)
        ),
        What::Resolves {
            alert,
            after,
            within,
        } => {
            format!(
                "{} resolved within {} s of {}",
                alert.name,
                within.as_secs_f64(),
                at(after)
            )
        }
        What::Never { alert } => format!("{} never fires during the run", alert.name),
        What::Query {
            expr,
            bound,
            from,
            to,
            mode,
        } => format!(
            "{expr} {} {bound} from {} to {}",
            match mode {
                super::spec::Mode::Always => "always",
                super::spec::Mode::Eventually => "eventually",
                super::spec::Mode::AtEnd => "at the end",
            },
            at(from),
            at(to)
        ),
    }
}
