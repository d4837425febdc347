//! Fetch results waiting for the single writer, the backlog that bounds them, and what tells the writer whether
//! more are coming (so that it keeps its transaction open for them) or someone else waits for its lock (so that it
//! commits and lets them in).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::writer::Answer;
use crate::dedup::ItemFeatures;
use crate::store::{FetchRecord, IncomingItem};

/// One source's fetch result waiting for the writer.
pub(super) struct QueuedFetch {
    pub source_id: String,
    pub items: Vec<IncomingItem>,
    pub features: Vec<ItemFeatures>,
    pub record: FetchRecord,
    pub reply: oneshot::Sender<Answer>,
    /// Where its features go once it is stored in the writer's open transaction, before the commit: to the poll,
    /// which frees them while it waits for the answer (the index keeps what it needs of them). A failure that
    /// stores the fetch again computes them again from its items (`writer_batch`).
    pub features_back: Option<oneshot::Sender<Vec<ItemFeatures>>>,
    /// Its place in the backlog, given back once it is stored in the writer's open transaction (its answer waits
    /// for the commit, but it no longer waits for the writer).
    pub room: Option<Room>,
}

impl QueuedFetch {
    /// Roughly what storing it writes: the text of its items (the search index grows with it too).
    pub(super) fn text_bytes(&self) -> usize {
        self.items
            .iter()
            .map(|i| {
                let it = &i.item;
                it.title.len()
                    + it.summary.as_deref().map_or(0, str::len)
                    + it.content.as_deref().map_or(0, str::len)
            })
            .sum()
    }
}

/// Fetch results waiting to be stored, at most `backlog` of them, and who stores them.
///
/// Each poll queues its result and goes on at once (its fetch slot is free for the next source while its result
/// waits); its answer comes once the result is durable. Whoever queues a result into a queue that no one drains
/// starts the *drainer* ([`super::Writer::drain`]): one thread that takes the writer and stores everything queued
/// by then, then the next group gathered meanwhile, and so on until the queue is empty. So the single writer works
/// without a pause while there is work, results gather into groups while it is busy, a lone fetch in a quiet
/// daemon is stored at once, and no thread waits when there is nothing to do.
///
/// The groups of a busy round share one transaction (see `Writer::store_while_busy`): the queue tells the
/// drainer whether more results are *coming* (polls of a round that have not queued theirs yet, counted by
/// [`Coming`]), whether someone else waits for the writer's lock ([`WriteQueue::waiting`]), and wakes it when
/// either changes or a result is queued.
///
/// The backlog bounds memory: a result holds its room from when it is queued until it is stored, and a poll
/// whose result finds no room waits (holding its fetch slot, so fetching pauses too). In-flight results are thus
/// at most the fetch concurrency plus the backlog, plus what the writer's open transaction holds (capped there).
pub(crate) struct WriteQueue {
    pending: std::sync::Mutex<Pending>,
    /// Signalled whenever a result is queued, a coming one is no longer coming, or someone starts waiting for the
    /// writer's lock: what the drainer waits on while its transaction is open.
    changed: Condvar,
    room: Arc<tokio::sync::Semaphore>,
    /// How many wait for the writer's lock for something else than storing (see
    /// [`super::Writer::lock_between_groups`]).
    others_waiting: AtomicUsize,
    caps: TransactionCaps,
}

/// Someone counted in [`WriteQueue::others_waiting`] until dropped.
pub(super) struct Waiting<'a>(&'a WriteQueue);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.others_waiting.fetch_sub(1, Ordering::SeqCst);
        // As in `waiting`: the drainer either sees the count, or waits in `let_others_in` and is woken.
        drop(self.0.lock());
        self.0.changed.notify_all();
    }
}

/// A result that a poll will queue: counted from the start of its round until it is queued (or the poll ends
/// without queueing one, e.g. cancelled), so that the writer knows whether to wait for it with its transaction
/// open (see [`WriteQueue`]).
pub(crate) struct Coming {
    queue: Arc<WriteQueue>,
}

impl Drop for Coming {
    fn drop(&mut self) {
        let mut pending = self.queue.lock();
        pending.coming -= 1;
        drop(pending);
        self.queue.changed.notify_all();
    }
}

/// When the writer commits a transaction while more results are coming (see `writer_batch`).
#[derive(Clone, Copy, Debug)]
pub(super) struct TransactionCaps {
    /// Items stored in it.
    pub items: usize,
    /// Text of those items (titles, summaries, content), for feeds of long articles.
    pub text_bytes: usize,
    /// How long it has been open.
    pub open_for: Duration,
}

impl TransactionCaps {
    /// The items' answers wait for the commit, and with them the fetched items, which the answers hand back to
    /// the polls to free and which a failure stores again (their features go back to the polls as soon as they
    /// are stored: they were most of what a held item cost). Measured on a 10 000-item first round: a quarter of
    /// it (2 500 items, ~50 fetches) per transaction cuts the round's commits from ~20–40 to 4, the log's syncs by
    /// half and the writer's CPU by ~10 %, for ~4–5 MB more peak memory than a commit per group; 1 000 items saved
    /// ~20 ms less of the writer's CPU, 5 000 little more (`issue-9-commit.md`). A second is short against a poll
    /// interval and long against a commit.
    pub(super) const DEFAULT: TransactionCaps = TransactionCaps {
        items: 2_500,
        text_bytes: 8 << 20,
        open_for: Duration::from_secs(1),
    };
}

/// How long the drainer lets those waiting for the writer's lock get it before it takes it for the next group.
/// (It waits without taking CPU, woken as soon as they have it; on a loaded machine the thread of one just woken
/// may need several milliseconds to run.)
const LET_OTHERS_IN_FOR: Duration = Duration::from_millis(50);

#[derive(Default)]
pub(super) struct Pending {
    pub fetches: Vec<QueuedFetch>,
    /// Whether a drainer is running (it clears this when it finds the queue empty, under the same lock).
    pub draining: bool,
    /// Results announced by [`Coming`] and not queued yet.
    coming: usize,
}

/// Room for one fetch result in a [`WriteQueue`], held until the result is stored.
pub(crate) struct Room {
    _permit: tokio::sync::OwnedSemaphorePermit,
}

/// A result just queued: its answer, and whether the caller must start the drainer.
pub(super) struct Submitted {
    pub answer: oneshot::Receiver<Answer>,
    /// The fetch's features, handed back before the answer (see [`QueuedFetch::features_back`]); an error once
    /// they went back with the answer instead.
    pub spent_features: oneshot::Receiver<Vec<ItemFeatures>>,
    pub start_drainer: bool,
}

/// What the drainer does next with its open transaction.
pub(super) enum Next {
    /// Stores these in it.
    Group(Vec<QueuedFetch>),
    /// Commits it.
    Commit,
}

impl WriteQueue {
    /// A queue holding at most `backlog` results (at least one).
    pub(crate) fn new(backlog: usize) -> WriteQueue {
        WriteQueue::with_caps(backlog, TransactionCaps::DEFAULT)
    }

    /// A queue whose writer commits its transactions at `caps`.
    pub(super) fn with_caps(backlog: usize, caps: TransactionCaps) -> WriteQueue {
        WriteQueue {
            pending: Default::default(),
            changed: Condvar::new(),
            room: Arc::new(tokio::sync::Semaphore::new(backlog.max(1))),
            others_waiting: AtomicUsize::new(0),
            caps,
        }
    }

    /// Announces a result that a poll will queue (see [`Coming`]).
    pub(crate) fn coming(self: &Arc<Self>) -> Coming {
        self.lock().coming += 1;
        Coming {
            queue: self.clone(),
        }
    }

    /// Waits until the backlog has room for one more result (in the order asked).
    pub(super) async fn room(&self) -> Room {
        let permit = self.room.clone().acquire_owned().await;
        // The semaphore is never closed.
        Room {
            _permit: permit.expect("the write queue's room is never closed"),
        }
    }

    /// Room now, if there is any.
    #[cfg(test)]
    pub(super) fn room_now(&self) -> Option<Room> {
        self.room
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|permit| Room { _permit: permit })
    }

    /// How much room the backlog has left.
    #[cfg(test)]
    pub(super) fn room_left(&self) -> usize {
        self.room.available_permits()
    }

    /// Queues one source's fetch into `room`; the answer comes once it is stored (or failed to be).
    pub(super) fn submit(
        &self,
        room: Room,
        source_id: String,
        items: Vec<(IncomingItem, ItemFeatures)>,
        record: FetchRecord,
    ) -> Submitted {
        let (items, features) = items.into_iter().unzip();
        let (reply, answer) = oneshot::channel();
        let (features_back, spent_features) = oneshot::channel();
        let mut pending = self.lock();
        pending.fetches.push(QueuedFetch {
            source_id,
            items,
            features,
            record,
            reply,
            features_back: Some(features_back),
            room: Some(room),
        });
        let start_drainer = !std::mem::replace(&mut pending.draining, true);
        drop(pending);
        self.changed.notify_all();
        Submitted {
            answer,
            spent_features,
            start_drainer,
        }
    }

    /// Whether every result handed to the writer is stored: nothing queued, and no drainer running (it may be
    /// storing the group it took, or hold stored results in a transaction it has not committed yet).
    pub(super) fn is_idle(&self) -> bool {
        let pending = self.lock();
        pending.fetches.is_empty() && !pending.draining
    }

    /// How many results are queued and not yet taken by the writer.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.lock().fetches.len()
    }

    #[cfg(test)]
    pub(super) fn take(&self) -> Vec<QueuedFetch> {
        std::mem::take(&mut self.lock().fetches)
    }

    /// What is queued; none, and the drainer's end, when nothing is.
    pub(super) fn take_or_stop_draining(&self) -> Vec<QueuedFetch> {
        let mut pending = self.lock();
        if pending.fetches.is_empty() {
            pending.draining = false;
        }
        std::mem::take(&mut pending.fetches)
    }

    /// For the drainer with a transaction open since `opened`, holding `items` items of `text_bytes` text: the
    /// next group to store in it, or that it must commit now. It commits when it reached a cap
    /// ([`TransactionCaps`]), when someone waits for the writer's lock, or when nothing is queued and nothing more
    /// is coming; while nothing is queued but more is coming, it waits here (until the first of these).
    pub(super) fn next(&self, opened: Instant, items: usize, text_bytes: usize) -> Next {
        let caps = self.caps;
        let full = items >= caps.items || text_bytes >= caps.text_bytes;
        let mut pending = self.lock();
        loop {
            let left = caps.open_for.saturating_sub(opened.elapsed());
            if full || left.is_zero() || self.others_waiting.load(Ordering::SeqCst) > 0 {
                return Next::Commit;
            }
            if !pending.fetches.is_empty() {
                return Next::Group(std::mem::take(&mut pending.fetches));
            }
            if pending.coming == 0 {
                return Next::Commit;
            }
            pending = match self.changed.wait_timeout(pending, left) {
                Ok((pending, _)) => pending,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    /// Counts someone waiting for the writer's lock until the returned guard is dropped, and wakes the drainer
    /// if it waits with its transaction open (it commits and lets them in).
    pub(super) fn waiting(&self) -> Waiting<'_> {
        self.others_waiting.fetch_add(1, Ordering::SeqCst);
        // Taken after the count moved, the queue's lock orders this with the drainer's check: either the drainer
        // saw the count, or it is waiting on `changed` and gets this notification.
        drop(self.lock());
        self.changed.notify_all();
        Waiting(self)
    }

    /// How many wait for the writer's lock.
    #[cfg(test)]
    pub(super) fn others_waiting(&self) -> usize {
        self.others_waiting.load(Ordering::SeqCst)
    }

    /// Before the drainer takes the lock for its next group: gives those waiting for it a moment to get it
    /// first (they count themselves until they have it). One who waits for someone else (a long maintenance
    /// holds the lock) gets in turn with the drainer after that moment, rather than the drainer waiting for them.
    pub(super) fn let_others_in(&self) {
        if self.others_waiting.load(Ordering::SeqCst) == 0 {
            return;
        }
        let since = Instant::now();
        let mut pending = self.lock();
        while self.others_waiting.load(Ordering::SeqCst) > 0 {
            let left = LET_OTHERS_IN_FOR.saturating_sub(since.elapsed());
            if left.is_zero() {
                break;
            }
            // Not a spin: the one waiting needs this CPU to take the lock (and counts itself out once it has it).
            pending = match self.changed.wait_timeout(pending, left) {
                Ok((pending, _)) => pending,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
    }

    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // A panic while pushing or taking cannot leave the queue half-changed.
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }
}
