//! A registry of jobs with ids (actions, scenario runs): the active ones, and a bounded
//! history of finished ones so asking about a finished id still answers without unbounded
//! memory. A std `Mutex` guards it, held only for the bookkeeping itself: never across an
//! `.await`, and never around a call into an engine.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

/// What the registry needs to know of an entry.
pub trait Job {
    /// Its unique id.
    fn id(&self) -> &str;
}

/// One entry and its place in creation order.
struct Slot<T> {
    seq: u64,
    job: Arc<T>,
}

impl<T> Clone for Slot<T> {
    fn clone(&self) -> Self {
        Slot {
            seq: self.seq,
            job: self.job.clone(),
        }
    }
}

struct Inner<T> {
    /// Creation sequence of the next entry.
    seq: u64,
    /// Next number for generated ids (`cpu-3`, `run-2`), counted only when one is generated.
    number: u64,
    /// Oldest first.
    active: Vec<Slot<T>>,
    /// Most recently finished first.
    history: VecDeque<Slot<T>>,
}

/// Active jobs and a bounded history of finished ones.
pub struct Registry<T> {
    inner: Mutex<Inner<T>>,
    /// How many finished jobs are remembered (at least the last one).
    keep: usize,
}

/// The registry as an admission decision sees it, under the lock.
pub struct Slots<'a, T> {
    inner: &'a mut Inner<T>,
}

impl<T: Job> Slots<'_, T> {
    /// How many jobs are active.
    pub fn active(&self) -> usize {
        self.inner.active.len()
    }

    /// True when an active or remembered job has this id.
    pub fn contains(&self, id: &str) -> bool {
        self.inner
            .active
            .iter()
            .chain(self.inner.history.iter())
            .any(|s| s.job.id() == id)
    }

    /// A fresh number for a generated id (1, 2, ...).
    pub fn number(&mut self) -> u64 {
        self.inner.number += 1;
        self.inner.number
    }
}

impl<T: Job> Registry<T> {
    /// An empty registry remembering `keep` finished jobs.
    pub fn new(keep: usize) -> Self {
        Registry {
            inner: Mutex::new(Inner {
                seq: 0,
                number: 0,
                active: Vec::new(),
                history: VecDeque::new(),
            }),
            keep,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner<T>> {
        self.inner.lock().expect("registry poisoned")
    }

    /// Adds a job if `admit` accepts it. `admit` runs under the lock so that two concurrent
    /// admissions see each other (caps, reservations); it must only do bookkeeping.
    pub fn admit<E>(
        &self,
        admit: impl FnOnce(&mut Slots<'_, T>) -> Result<T, E>,
    ) -> Result<Arc<T>, E> {
        let mut inner = self.lock();
        let job = Arc::new(admit(&mut Slots { inner: &mut inner })?);
        inner.seq += 1;
        let seq = inner.seq;
        inner.active.push(Slot {
            seq,
            job: job.clone(),
        });
        Ok(job)
    }

    /// Makes generated numbers continue after `highest` (ids recorded by an earlier process).
    pub fn number_after(&self, highest: u64) {
        let mut inner = self.lock();
        inner.number = inner.number.max(highest);
    }

    /// Moves a job to the history; returns the job the bound pushed out, if any.
    pub fn finish(&self, job: &Arc<T>) -> Option<Arc<T>> {
        let mut inner = self.lock();
        let pos = inner.active.iter().position(|s| Arc::ptr_eq(&s.job, job))?;
        let slot = inner.active.remove(pos);
        let gone = if inner.history.len() >= self.keep {
            inner.history.pop_back().map(|s| s.job)
        } else {
            None
        };
        inner.history.push_front(slot);
        gone
    }

    /// A job by id, and whether it is still active.
    pub fn find(&self, id: &str) -> Option<(Arc<T>, bool)> {
        let inner = self.lock();
        if let Some(s) = inner.active.iter().find(|s| s.job.id() == id) {
            return Some((s.job.clone(), true));
        }
        inner
            .history
            .iter()
            .find(|s| s.job.id() == id)
            .map(|s| (s.job.clone(), false))
    }

    /// The active jobs, oldest first.
    pub fn active(&self) -> Vec<Arc<T>> {
        self.lock().active.iter().map(|s| s.job.clone()).collect()
    }

    /// Active jobs (oldest first), then finished ones (most recently finished first).
    pub fn active_then_finished(&self) -> Vec<Arc<T>> {
        let inner = self.lock();
        inner
            .active
            .iter()
            .chain(inner.history.iter())
            .map(|s| s.job.clone())
            .collect()
    }

    /// Every job, newest first by creation.
    pub fn newest_first(&self) -> Vec<Arc<T>> {
        let mut slots: Vec<Slot<T>> = {
            let inner = self.lock();
            inner
                .active
                .iter()
                .chain(inner.history.iter())
                .cloned()
                .collect()
        };
        slots.sort_by_key(|s| std::cmp::Reverse(s.seq));
        slots.into_iter().map(|s| s.job).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct J(String);
    impl Job for J {
        fn id(&self) -> &str {
            &self.0
        }
    }

    fn ids(jobs: &[Arc<J>]) -> Vec<&str> {
        jobs.iter().map(|j| j.id()).collect()
    }

    #[test]
    fn finished_jobs_move_to_a_bounded_history() {
        let r = Registry::new(2);
        let mk = |r: &Registry<J>| {
            r.admit(|s| Ok::<_, ()>(J(format!("j-{}", s.number()))))
                .unwrap()
        };
        let (a, b, c, d) = (mk(&r), mk(&r), mk(&r), mk(&r));
        assert!(r.finish(&b).is_none());
        assert!(r.finish(&a).is_none());
        assert_eq!(ids(&r.active_then_finished()), ["j-3", "j-4", "j-1", "j-2"]);
        assert_eq!(ids(&r.newest_first()), ["j-4", "j-3", "j-2", "j-1"]);
        let gone = r.finish(&c).expect("the oldest-finished one is forgotten");
        assert_eq!(gone.id(), "j-2");
        assert!(r.find("j-2").is_none());
        assert_eq!(r.find("j-1").map(|(_, active)| active), Some(false));
        assert_eq!(r.find("j-4").map(|(_, active)| active), Some(true));
        assert!(r.finish(&c).is_none(), "finishing twice changes nothing");
        drop(d);
    }

    #[test]
    fn admission_sees_the_active_jobs_and_ids_and_may_refuse() {
        let r = Registry::new(10);
        let cap = |s: &mut Slots<'_, J>, id: &str| {
            if s.active() >= 2 || s.contains(id) {
                return Err(id.to_string());
            }
            Ok(J(id.into()))
        };
        assert!(r.admit(|s| cap(s, "a")).is_ok());
        assert_eq!(r.admit(|s| cap(s, "a")).err().as_deref(), Some("a"));
        let b = r.admit(|s| cap(s, "b")).unwrap();
        assert!(r.admit(|s| cap(s, "c")).is_err(), "the cap is reached");
        r.finish(&b);
        assert!(
            r.admit(|s| cap(s, "b")).is_err(),
            "a remembered id is taken"
        );
        assert!(r.admit(|s| cap(s, "c")).is_ok());
        assert_eq!(ids(&r.active()), ["a", "c"]);
    }
}
