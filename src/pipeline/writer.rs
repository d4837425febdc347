//! The single writer: the database connection and the story index, changed together under one lock, so that the
//! index always describes what is stored.

use std::sync::{Arc, Mutex, MutexGuard};

use crate::config::Config;
use crate::dedup::{self, ItemFeatures, StoryIndex};
use crate::error::{Error, Result};
use crate::regions::Gazetteer;
use crate::store::{IncomingItem, IngestGroup, Store, StoryPlacer, WindowItem, WriterLock};
use chrono::{DateTime, Utc};

use super::write_queue::QueuedFetch;
pub(crate) use super::write_queue::WriteQueue;

/// The single writer: the database connection together with the story index, which must change in step with it.
pub(crate) struct Writer {
    pub store: Store,
    /// This process is the database's only writer while the writer lives.
    _lock: WriterLock,
    index: StoryIndex,
    gazetteer: Arc<Gazetteer>,
    window: chrono::Duration,
    /// How often the index was rebuilt from the store (logged; a failing disk must not make it one per fetch).
    rebuilds: u64,
    /// How many transactions of fetches it committed (logged).
    commits: u64,
}

/// Opens the configured database with every configured source registered.
pub(crate) fn open_store(config: &Config) -> Result<Store> {
    let mut store = Store::open(&config.storage.database)?;
    store.sync_sources(config.sources.iter().map(|s| (s.id(), s.url.as_str())))?;
    Ok(store)
}

impl Writer {
    /// Opens the store, re-tags items if the gazetteer changed, and rebuilds the story index from recent items.
    pub(crate) fn open(config: &Config, gazetteer: Arc<Gazetteer>) -> Result<Writer> {
        Writer::open_making(config, || gazetteer)
    }

    /// [`Writer::open`] with the gazetteer `make` gives, asked for once the database is open and migrated (it
    /// may be built meanwhile, see `startup::engine`). The source list and the re-tagging are written in the
    /// migrations' transaction: one commit for the whole start ([`Store::open_and`]).
    pub(crate) fn open_making(
        config: &Config,
        make: impl FnOnce() -> Arc<Gazetteer>,
    ) -> Result<Writer> {
        let path = &config.storage.database;
        // Before anything is written (even the source list): a second writer must change nothing.
        let lock = WriterLock::acquire(path)?;
        let mut made = None;
        let mut retagged = 0;
        let store = Store::open_and(path, |tx| {
            let sources = config.sources.iter().map(|s| (s.id(), s.url.as_str()));
            crate::store::register_sources(tx, path, sources)?;
            let g = made.insert(make()).clone();
            let fingerprint = g.fingerprint();
            let tag = move |title: &str, summary: Option<&str>, content: Option<&str>| {
                // Tags never depend on an item's boilerplate (see `dedup::Boilerplate`).
                dedup::item_features(title, summary, content, None, &g).region_tags()
            };
            retagged = crate::store::retag_in(tx, path, &fingerprint, &tag)?;
            Ok(())
        })?;
        let gazetteer = made.ok_or_else(|| {
            Error::Internal("the database opened without its start-up writes".into())
        })?;
        if retagged > 0 {
            tracing::info!(
                items = retagged,
                "re-evaluated region tags after a gazetteer change"
            );
        }
        let window = chrono::Duration::hours(i64::from(config.dedup.window_hours));
        let mut writer = Writer {
            store,
            _lock: lock,
            index: StoryIndex::new(config.dedup.clone()),
            gazetteer,
            window,
            rebuilds: 0,
            commits: 0,
        };
        writer.rebuild_index(Utc::now())?;
        // Last, so that opening never fails for the size cap: only new data can.
        writer
            .store
            .set_max_size(config.storage.max_database_bytes)?;
        Ok(writer)
    }

    /// The gazetteer the items are tagged with.
    pub(crate) fn gazetteer(&self) -> Arc<Gazetteer> {
        self.gazetteer.clone()
    }

    /// Refills the index with the stored items of the recent horizon; older days are read back when a backlog
    /// item needs them.
    fn rebuild_index(&mut self, now: DateTime<Utc>) -> Result<()> {
        self.rebuilds += 1;
        tracing::debug!(rebuilds = self.rebuilds, "rebuilding the story index");
        self.index.clear();
        let since = now - self.horizon();
        // On an error the index stays empty and covers no time, so every day a new item needs is read back from
        // the store: placement stays right.
        let stored = self.store.items_since(since)?;
        for item in stored {
            let f = stored_features(&item, &self.gazetteer);
            self.index
                .insert(item.id, item.story_id, &f, item.sort_time);
        }
        self.index.covered(since, DateTime::<Utc>::MAX_UTC);
        Ok(())
    }

    /// Takes the writer's lock. A panic while the lock was held (a bug) leaves the lock poisoned; rather than
    /// failing every later write until a restart, the writer goes on: the transaction the panic interrupted was
    /// rolled back when it unwound, so the store is intact, but the index may hold what was never committed, so
    /// it is rebuilt from the store first.
    pub(crate) fn lock(writer: &Mutex<Writer>) -> MutexGuard<'_, Writer> {
        match writer.lock() {
            Ok(w) => w,
            Err(poisoned) => {
                writer.clear_poison();
                let mut w = poisoned.into_inner();
                tracing::error!(
                    "a write panicked (a bug in qafila); rebuilding the story index and going on"
                );
                if let Err(e) = w.rebuild_index(Utc::now()) {
                    // Left empty, the index covers no time: every day a new item needs is read from the store.
                    tracing::error!(error = %e, "cannot rebuild the story index after a panic");
                    w.index.clear();
                }
                w
            }
        }
    }

    /// What the index keeps once it holds more than `INDEX_CAPACITY` items: the items published in the last two
    /// windows (what new reports meet). Whether two items are compared never depends on it: an item whose window
    /// reaches further back has those days read from the store.
    fn horizon(&self) -> chrono::Duration {
        self.window * 2
    }

    /// Retention: prunes items older than `retention_days` except those of `keep` (the published stories),
    /// rebuilds the story index so it never points at a pruned story, then runs `PRAGMA optimize` and a WAL
    /// checkpoint.
    pub(crate) fn maintain(
        &mut self,
        retention_days: u32,
        keep: &[String],
        now: DateTime<Utc>,
    ) -> Result<crate::store::PruneReport> {
        let cutoff = now - chrono::Duration::days(i64::from(retention_days));
        let report = self.store.prune(cutoff, keep)?;
        // Right after the prune commits: should optimizing fail, the index must not keep pruned stories (the next
        // item placed into one would fail its insert).
        self.rebuild_index(now)?;
        self.store.optimize()?;
        Ok(report)
    }

    /// Stores every fetch waiting in `queue` and answers each (what the drainer does with one group).
    #[cfg(test)]
    pub(super) fn store_queued(&mut self, queue: &WriteQueue) {
        self.store_fetches(queue.take());
    }

    /// The drainer of `queue` (see [`WriteQueue`]): stores the queued fetches group after group until none is
    /// left. The groups of a busy round share one transaction ([`Writer::store_while_busy`]), committed once
    /// nothing more is queued or coming, someone waits for the writer's lock, or it is large or old enough. It
    /// takes the writer's lock for one transaction only, and lets whoever waits for it meanwhile
    /// ([`Writer::lock_between_groups`]: the watchdog's ping, the scheduler's read of due times, the stories to
    /// publish) have it before the next one; and it takes a group only once it holds the lock, so what was queued
    /// while it waited joins the group.
    ///
    /// A panic while storing a group (a bug) fails that group's fetches (their answers are dropped unsent) and
    /// the drainer goes on with the next; one anywhere else in a transaction fails the fetches it held. The lock
    /// it poisoned is taken back by [`Writer::lock`], which rebuilds the index, and the queue is never left with
    /// a drainer that is gone.
    pub(super) fn drain(writer: &Mutex<Writer>, queue: &WriteQueue) {
        loop {
            queue.let_others_in();
            let stored = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut w = Writer::lock(writer);
                let fetches = queue.take_or_stop_draining();
                let any = !fetches.is_empty();
                if any {
                    w.store_while_busy(queue, fetches);
                }
                any
            }));
            match stored {
                Ok(true) => {}
                Ok(false) => return,
                Err(_) => tracing::error!(
                    "storing fetches panicked (a bug in qafila); they failed, the writer goes on"
                ),
            }
        }
    }

    /// Takes the writer's lock for something other than storing queued fetches: it waits for the group being
    /// stored, if any, and the commit of the writer's open transaction (which it asks for), then gets in before
    /// the next one. So no one else ever runs inside the writer's transaction. (The lock is not fair: a drainer that let go of it and
    /// took it back at once would keep everyone else waiting until the queue is empty, which in a long backlog
    /// could outlast the systemd watchdog.)
    pub(crate) fn lock_between_groups<'a>(
        writer: &'a Mutex<Writer>,
        queue: &WriteQueue,
    ) -> MutexGuard<'a, Writer> {
        let _waiting = queue.waiting();
        Writer::lock(writer)
    }

    /// Stores a group of queued fetches and answers each.
    ///
    /// They are written in one transaction (group commit): one sync of the log for all of them instead of one
    /// each, and the search index flushes its pending words once. Each source's items and its fetch state
    /// (validators, next poll) still commit together, so a crash loses nothing that the next poll would not
    /// fetch again, and an answer is sent only once its fetch is durable. If anything in the group fails, the
    /// group is rolled back and its fetches are stored one by one, so that one source's failure (the size cap
    /// reached by a large feed) is its own, as if each had its own transaction from the start.
    fn store_fetches(&mut self, fetches: Vec<QueuedFetch>) {
        if fetches.is_empty() {
            return;
        }
        let results = match self.store_group(&fetches) {
            Ok(stored) => {
                tracing::debug!(fetches = fetches.len(), "stored in one commit");
                stored.into_iter().map(Ok).collect()
            }
            Err(e) if fetches.len() == 1 => vec![Err(e)],
            Err(e) => {
                tracing::debug!(fetches = fetches.len(), error = %e, "group commit failed; storing its fetches one by one");
                self.store_one_by_one(&fetches)
            }
        };
        for (fetch, result) in fetches.into_iter().zip(results) {
            answer(fetch, result);
        }
    }

    /// Stores each fetch of a group that failed in a transaction of its own, smallest first, and returns the
    /// results in the group's order. A failure that is the database's rather than the fetch's — the disk or the
    /// size cap full (every fetch left is at least as large), the file read-only, unreadable, locked — fails the
    /// fetches left without trying them: each is answered with the same error and keeps its stored state (its
    /// poll backs off and fetches the same items again), instead of costing a transaction and an index rebuild.
    fn store_one_by_one(&mut self, fetches: &[QueuedFetch]) -> Vec<Result<Stored>> {
        let mut order: Vec<usize> = (0..fetches.len()).collect();
        order.sort_by_key(|&i| fetches[i].text_bytes());
        let mut results: Vec<Option<Result<Stored>>> = fetches.iter().map(|_| None).collect();
        let mut shared: Option<Error> = None;
        for i in order {
            let result = match &shared {
                Some(e) => Err(same_failure(e)),
                None => self
                    .store_group(std::slice::from_ref(&fetches[i]))
                    .map(|mut one| one.remove(0)),
            };
            if let (None, Err(e)) = (&shared, &result) {
                if fails_every_fetch(e) {
                    tracing::debug!(error = %e, "the database takes no fetch now; failing the rest of the group untried");
                    shared = Some(same_failure(e));
                }
            }
            results[i] = Some(result);
        }
        results
            .into_iter()
            .map(|r| r.expect("every fetch has a result"))
            .collect()
    }

    /// Stores `fetches` in one transaction; new items are placed into stories through the index. On an error
    /// nothing of them is stored and, if the attempt had placed items into the index, the index is rebuilt from
    /// what is stored.
    fn store_group(&mut self, fetches: &[QueuedFetch]) -> Result<Vec<Stored>> {
        let horizon = self.horizon();
        let mut group = self.store.begin_group()?;
        let (result, placed_any) = ingest_into(
            &mut group,
            &mut self.index,
            &self.gazetteer,
            horizon,
            fetches,
        );
        let result = match result {
            Ok(stored) => group.commit().map(|()| {
                self.commits += 1;
                stored
            }),
            Err(e) => {
                drop(group); // rolls it back
                Err(e)
            }
        };
        if let Err(e) = result {
            // The index already holds the group's items, which are not stored.
            if placed_any {
                self.rebuild_after_failure(fetches[0].record.at, &e);
            }
            return Err(e);
        }
        result
    }

    /// Rebuilds the index after a write that had placed items into it failed (so they are not stored).
    pub(super) fn rebuild_after_failure(&mut self, now: DateTime<Utc>, e: &dyn std::fmt::Display) {
        if let Err(rebuild) = self.rebuild_index(now) {
            // The write's error is what the source reports; the index, covering nothing now, reads every day it
            // needs back from the store.
            tracing::error!(error = %rebuild, write_error = %e, "cannot rebuild the story index after a failed write");
        }
    }
}

/// Writes `fetches` into the open `group`, placing their new items into stories through `index` (which forgets
/// what is older than `horizon` when it is full). Returns what was stored, or the first error (the group must
/// then be rolled back), and whether an item was placed into the index (which must then be rebuilt if the group
/// is not committed).
pub(super) fn ingest_into(
    group: &mut IngestGroup<'_>,
    index: &mut StoryIndex,
    gazetteer: &Gazetteer,
    horizon: chrono::Duration,
    fetches: &[QueuedFetch],
) -> (Result<Vec<Stored>>, bool) {
    let fingerprint = gazetteer.fingerprint();
    let mut stored = Vec::with_capacity(fetches.len());
    // Whether the index holds items of this attempt (not stored if it fails). Recalled days are read in the
    // attempt's transaction, so they may hold its items only once it placed one.
    let mut placed_any = false;
    for fetch in fetches {
        if index.len() > INDEX_CAPACITY {
            index.evict_older_than(fetch.record.at - horizon);
        }
        let mut placer = IndexPlacer {
            index: &mut *index,
            items: &fetch.items,
            features: &fetch.features,
            gazetteer,
            placed_any: false,
            kept: None,
        };
        let one = group.ingest(
            &fetch.source_id,
            &fetch.items,
            &fetch.record,
            &fingerprint,
            &mut placer,
        );
        placed_any |= placer.placed_any;
        match one {
            Ok(one) => stored.push(one),
            Err(e) => return (Err(e), placed_any),
        }
    }
    (Ok(stored), placed_any)
}

/// What storing one fetch found: its counts and what changed in its source's state.
pub(super) type Stored = (crate::store::IngestCounts, crate::store::StateChange);

/// What storing a queued fetch came to.
pub(super) struct Answer {
    pub result: Result<Stored>,
    /// The fetch's items and features, handed back with the answer so that freeing them (thousands of small
    /// allocations a group) is the poll's work, beside the writer, not the single writer's.
    _spent: (Vec<IncomingItem>, Vec<ItemFeatures>),
}

/// Answers the poll that queued `fetch` (once what it stored is durable, or it failed).
pub(super) fn answer(fetch: QueuedFetch, result: Result<Stored>) {
    let QueuedFetch {
        items,
        features,
        reply,
        ..
    } = fetch;
    // The poll that queued it may have been cancelled (shutdown): its result is stored all the same.
    let _ = reply.send(Answer {
        result,
        _spent: (items, features),
    });
}

/// Whether a failed store says nothing about the fetch but about the database: no other fetch of the group will
/// get in now (a full disk or size cap, for fetches tried smallest first).
fn fails_every_fetch(e: &Error) -> bool {
    use rusqlite::ErrorCode::*;
    match e {
        Error::Database {
            source: rusqlite::Error::SqliteFailure(failure, _),
            ..
        } => matches!(
            failure.code,
            DiskFull
                | ReadOnly
                | SystemIoFailure
                | DatabaseCorrupt
                | NotADatabase
                | CannotOpen
                | PermissionDenied
                | OutOfMemory
                | DatabaseBusy
                | DatabaseLocked
        ),
        _ => false,
    }
}

/// The answer for a fetch left untried because of `e` (see [`fails_every_fetch`]): the same database failure.
fn same_failure(e: &Error) -> Error {
    match e {
        Error::Database {
            path,
            source: rusqlite::Error::SqliteFailure(failure, message),
        } => Error::Database {
            path: path.clone(),
            source: rusqlite::Error::SqliteFailure(*failure, message.clone()),
        },
        other => Error::Internal(other.to_string()),
    }
}

/// Items the story index may hold before it forgets everything older than its horizon. A month of backlog from
/// a few hundred outlets stays in memory through a first poll (so each source's backlog does not read the same
/// days back again); a steady daemon holds only its horizon.
const INDEX_CAPACITY: usize = 100_000;

/// The matching features of a stored item, computed as at ingest.
fn stored_features(item: &WindowItem, gazetteer: &Gazetteer) -> ItemFeatures {
    dedup::item_features(
        &item.title,
        item.summary.as_deref(),
        item.content.as_deref(),
        item.boilerplate.as_deref(),
        gazetteer,
    )
}

struct IndexPlacer<'a> {
    index: &'a mut StoryIndex,
    items: &'a [IncomingItem],
    features: &'a [ItemFeatures],
    gazetteer: &'a Gazetteer,
    /// Whether it put an item of this fetch into the index.
    placed_any: bool,
    /// The token ids of the item placed last (its index in the fetch), for its insertion into the index.
    kept: Option<(usize, dedup::Placed)>,
}

impl StoryPlacer for IndexPlacer<'_> {
    fn needs(&mut self, i: usize) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        self.index.missing(self.items[i].sort_time)
    }
    fn recall(&mut self, from: DateTime<Utc>, to: DateTime<Utc>, items: Vec<WindowItem>) {
        for item in items {
            let f = stored_features(&item, self.gazetteer);
            self.index
                .insert(item.id, item.story_id, &f, item.sort_time);
        }
        self.index.covered(from, to);
    }
    fn place(&mut self, i: usize) -> Option<i64> {
        let (story, placed) = self
            .index
            .place_keeping(&self.features[i], self.items[i].sort_time);
        self.kept = Some((i, placed));
        story
    }
    fn placed(&mut self, i: usize, item_id: i64, story_id: i64) {
        // The index copies only the facts it keeps (a group that fails is stored again one fetch at a time, so
        // the features stay with the fetch).
        self.placed_any = true;
        let (f, t) = (&self.features[i], self.items[i].sort_time);
        match self.kept.take() {
            // The item just placed: its tokens were looked up then.
            Some((j, placed)) if j == i => {
                self.index.insert_placed(placed, item_id, story_id, f, t)
            }
            _ => self.index.insert(item_id, story_id, f, t),
        }
    }
}

#[path = "writer_batch.rs"]
mod batch;

#[cfg(test)]
#[path = "writer_tests.rs"]
mod tests;
