//! How the work of a round shares the machine: how many sources are fetched at once, and how many CPU-bound
//! stages (parsing a body, preparing its items' features) run at once.
//!
//! A round is a pipeline: fetch (I/O, on the async threads) → parse and prepare (CPU, one stage per fetch on the
//! CPU slots' threads) → store (the single writer, CPU and SQLite, one group at a time). Only the last is serial, so a round can go no
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

use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

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

/// Slots for the CPU-bound stages of the polls: as many threads of their own as slots, fed in the order the stages
/// were asked for; cloning shares them.
///
/// Threads of their own rather than the runtime's blocking pool: the pool hands each task to the thread that has
/// been idle longest, so one slot's stages went round half a dozen threads in turn, each with its own cold caches
/// and its own malloc arena to grow (page faults), and the pool kept starting threads for tasks that came while
/// the last one was still being handed back. A slot's thread keeps its caches and arena from one stage to the next.
/// The threads are started with the first stage and end once every clone is dropped.
#[derive(Clone)]
pub(crate) struct CpuSlots {
    pool: Arc<Pool>,
}

struct Pool {
    count: usize,
    /// Where stages are queued for the threads; set when the first stage comes. Not set if no thread could be
    /// started (the OS may refuse one for a moment): the next stage tries again.
    queue: std::sync::Mutex<Option<std::sync::mpsc::Sender<Stage>>>,
    /// How a slot's thread is started (a test makes it fail).
    spawn: Spawn,
}

/// A stage as its thread runs it.
type Stage = Box<dyn FnOnce() + Send>;

/// Starts a thread named as given, running the body.
type Spawn = fn(String, Box<dyn FnOnce() + Send>) -> std::io::Result<()>;

fn spawn_thread(name: String, body: Box<dyn FnOnce() + Send>) -> std::io::Result<()> {
    std::thread::Builder::new().name(name).spawn(body).map(drop)
}

impl std::fmt::Debug for CpuSlots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CpuSlots")
            .field("count", &self.pool.count)
            .finish()
    }
}

impl CpuSlots {
    /// `count` stages at once (at least one).
    pub(crate) fn new(count: usize) -> CpuSlots {
        CpuSlots::spawning_with(count, spawn_thread)
    }

    fn spawning_with(count: usize, spawn: Spawn) -> CpuSlots {
        CpuSlots {
            pool: Arc::new(Pool {
                count: count.max(1),
                queue: std::sync::Mutex::new(None),
                spawn,
            }),
        }
    }

    /// One slot per core but one, left to the writer (one slot on a one- or two-core machine).
    pub(crate) fn beside_the_writer() -> CpuSlots {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        CpuSlots::new(cores.saturating_sub(1))
    }

    /// Runs `f` on a slot's thread once one is free (stages run in the order they were asked for); a stage whose
    /// caller stopped waiting before it started is skipped. `task` names it in the error a panic becomes.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        task: &'static str,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let (done, result) = oneshot::channel();
        let stage: Stage = Box::new(move || {
            if done.is_closed() {
                return; // cancelled while queued, as a task waiting for a slot would be
            }
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = done.send(outcome);
        });
        self.pool.queue(stage).map_err(|e| {
            Error::Internal(format!("{task} task: cannot start a thread for it: {e}"))
        })?;
        match result.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(panic)) => Err(Error::Internal(format!(
                "{task} task panicked: {}",
                crate::error::panic_message(panic.as_ref())
            ))),
            Err(_) => Err(Error::Internal(format!("{task} task: its thread is gone"))),
        }
    }
}

impl Pool {
    /// Queues `stage` for the threads, started on the first call.
    fn queue(&self, stage: Stage) -> std::result::Result<(), String> {
        let mut queue = self
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if queue.is_none() {
            *queue = Some(self.start()?);
        }
        let queue = queue.as_ref().expect("started above");
        // The threads end only once this sender is dropped.
        queue
            .send(stage)
            .map_err(|_| "no CPU slot threads (ended)".to_string())
    }

    fn start(&self) -> std::result::Result<std::sync::mpsc::Sender<Stage>, String> {
        let (send, receive) = std::sync::mpsc::channel::<Stage>();
        let receive = Arc::new(std::sync::Mutex::new(receive));
        for i in 0..self.count {
            let receive = receive.clone();
            let started = (self.spawn)(
                format!("qafila-cpu-{i}"),
                Box::new(move || loop {
                    // The lock is held only while waiting for the next stage, not while running it.
                    let next = receive.lock().map(|r| r.recv());
                    match next {
                        Ok(Ok(stage)) => stage(),
                        // Every clone of the slots is dropped (or a thread panicked holding the lock: it cannot).
                        _ => return,
                    }
                }),
            );
            if let Err(e) = started {
                if i == 0 {
                    return Err(e.to_string());
                }
                break; // fewer threads than slots: still correct, only slower
            }
        }
        Ok(send)
    }
}

/// The message a panic carried, if it is text.
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

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slot_runs_its_stages_on_one_thread_of_its_own() {
        let slots = CpuSlots::new(1);
        let mut names = Vec::new();
        for _ in 0..3 {
            let name = slots
                .run("test", || std::thread::current().name().map(String::from))
                .await
                .unwrap();
            names.push(name.expect("a named thread"));
        }
        assert_eq!(names, ["qafila-cpu-0"; 3]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_stage_no_one_waits_for_any_more_is_skipped() {
        use futures_util::FutureExt;
        let slots = CpuSlots::new(1);
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let (started, running) = tokio::sync::oneshot::channel::<()>();
        let busy = tokio::spawn({
            let slots = slots.clone();
            async move {
                slots
                    .run("test", move || {
                        started.send(()).unwrap();
                        hold.recv().unwrap()
                    })
                    .await
            }
        });
        running.await.unwrap();
        // Queued behind the busy stage, then given up (as a cancelled poll's would be).
        let ran = Arc::new(AtomicUsize::new(0));
        let queued = slots.run("test", {
            let ran = ran.clone();
            move || ran.fetch_add(1, Ordering::SeqCst)
        });
        assert!(
            queued.now_or_never().is_none(),
            "it waits behind the busy stage"
        );
        release.send(()).unwrap();
        busy.await.unwrap().unwrap();
        // Stages run in order: once this one is done, the given-up one had its turn.
        slots.run("test", || ()).await.unwrap();
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_thread_that_could_not_be_started_is_tried_again_at_the_next_stage() {
        // The OS may refuse a thread for a moment (EAGAIN: a process or memory limit); that must fail the stage
        // that came then, not every stage of the daemon's life.
        static REFUSED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
        fn refused_once(name: String, body: Box<dyn FnOnce() + Send>) -> std::io::Result<()> {
            if !REFUSED.swap(true, Ordering::SeqCst) {
                return Err(std::io::Error::from(std::io::ErrorKind::WouldBlock));
            }
            spawn_thread(name, body)
        }
        let slots = CpuSlots::spawning_with(1, refused_once);
        let e = slots.run("parser", || 1).await.expect_err("no thread");
        assert!(e.to_string().contains("cannot start a thread"), "{e}");
        assert_eq!(slots.run("parser", || 7).await.unwrap(), 7);
    }

    #[test]
    fn there_is_always_a_slot() {
        assert_eq!(CpuSlots::new(0).pool.count, 1);
        assert!(CpuSlots::beside_the_writer().pool.count >= 1);
    }
}
