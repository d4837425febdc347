//! How the work of a round shares the machine: how many sources are fetched at once, and how many CPU-bound
//! stages (parsing a body, preparing its items' features) run at once.
//!
//! A round is a pipeline: fetch (I/O, on the async threads) → parse and prepare (CPU, on blocking threads) →
//! store (the single writer, CPU and SQLite, one group at a time). Only the last is serial, so a round can go no
//! faster than the writer, and the rest is scheduled to keep it busy and undisturbed:
//! - A source's *fetch slot* (`[fetch] concurrency` per round) is held from its fetch until its result is queued
//!   for the writer, not until the result is stored. Holding it until the commit (as before) meant that while
//!   the writer was busy every slot sat waiting for it and nothing was fetched, parsed or prepared; then a commit
//!   freed a dozen slots at once and they all parsed while the writer idled. The write queue bounds what waits
//!   for the writer (see [`super::WriteQueue`]); the poll still reports only once its result is durable.
//! - The CPU-bound stages take a *CPU slot* each, and there are as many as cores *minus one* (at least one): the
//!   writer keeps a core of its own. Unbounded, a burst of fetches finishing together starts as many parser and
//!   feature tasks as there are fetches, which on two cores time-slice the writer's thread (measured: a 50-item
//!   commit taking 17–20 ms of wall for ~2 ms of the writer's CPU). Parsing and preparing an item cost well
//!   under half of storing it, so the other cores keep the stages ahead of the writer; the write queue absorbs
//!   their bursts.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, Result};

/// The fetch slots of one round.
#[derive(Clone, Debug)]
pub(crate) struct FetchSlots {
    slots: Arc<Semaphore>,
}

/// A source's turn to fetch, given back once its result is queued for the writer (or it failed before).
pub(crate) struct FetchSlot {
    _permit: OwnedSemaphorePermit,
}

impl FetchSlots {
    /// `count` fetches at once (at least one).
    pub(crate) fn new(count: usize) -> FetchSlots {
        FetchSlots {
            slots: Arc::new(Semaphore::new(count.max(1))),
        }
    }

    /// Waits for a slot (slots are handed out in the order they were asked for: sources start in config order).
    pub(crate) async fn take(&self) -> FetchSlot {
        let permit = self.slots.clone().acquire_owned().await;
        FetchSlot {
            _permit: permit.expect("fetch slots are never closed"),
        }
    }
}

/// Slots for the CPU-bound stages of the polls; cloning shares them.
#[derive(Clone, Debug)]
pub(crate) struct CpuSlots {
    slots: Arc<Semaphore>,
}

impl CpuSlots {
    /// `count` stages at once (at least one).
    pub(crate) fn new(count: usize) -> CpuSlots {
        CpuSlots {
            slots: Arc::new(Semaphore::new(count.max(1))),
        }
    }

    /// One slot per core but one, left to the writer (one slot on a one- or two-core machine).
    pub(crate) fn beside_the_writer() -> CpuSlots {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        CpuSlots::new(cores.saturating_sub(1))
    }

    /// Runs `f` on a blocking thread once a slot is free (slots are handed out in the order they were asked
    /// for). `task` names it in the error a panic becomes.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        task: &'static str,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let slot = self
            .slots
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Internal(format!("{task} task: no CPU slots (closed)")))?;
        tokio::task::spawn_blocking(move || {
            let _slot = slot; // held until `f` returns, panics included
            f()
        })
        .await
        .map_err(|e| Error::Internal(format!("{task} task: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_stages_run_at_once_than_there_are_slots() {
        let slots = CpuSlots::new(2);
        let (running, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (slots, running, most) = (slots.clone(), running.clone(), most.clone());
                tokio::spawn(async move {
                    slots
                        .run("test", move || {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            std::thread::sleep(Duration::from_millis(20));
                            running.fetch_sub(1, Ordering::SeqCst);
                        })
                        .await
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_panicking_stage_is_an_error_and_frees_its_slot() {
        let slots = CpuSlots::new(1);
        let e = slots
            .run("parser", || -> () { panic!("a bug in a parser") })
            .await
            .expect_err("the panic is an error");
        assert!(e.to_string().contains("parser task"), "{e}");
        let after = tokio::time::timeout(Duration::from_secs(10), slots.run("parser", || 7))
            .await
            .expect("the slot was freed");
        assert_eq!(after.unwrap(), 7);
    }

    #[test]
    fn there_is_always_a_slot() {
        assert_eq!(CpuSlots::new(0).slots.available_permits(), 1);
        assert!(CpuSlots::beside_the_writer().slots.available_permits() >= 1);
    }
}
