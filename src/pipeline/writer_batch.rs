//! The writer's transaction across the groups of a busy round: fewer, larger commits.
//!
//! **Why.** In a first round every index keyed by a hash or a time (URL keys, search keys, sort times, the
//! sources of items) gets new rows all over it, so each commit rewrites most of those indexes' pages to the log,
//! flushes a segment of the search index (and merges segments), and syncs the log. A round of 200 sources stored
//! as ~40 groups, one transaction each, wrote ~80 MB of log for a 11 MB database, and committing was a third of
//! the writer's time. So while a round is busy the drainer keeps one transaction open across its groups.
//!
//! **When it commits.** When nothing is queued and no poll of the round is still coming (the round winds down,
//! or the daemon is idle): a result is never held waiting for nothing. When someone waits for the writer's lock
//! (the watchdog's ping, the scheduler, publishing): it commits before letting them in, so no one else runs inside
//! its transaction, and they wait at most for the group being stored. When the transaction holds as many items or
//! as much text as [`TransactionCaps`] allow, which bounds the memory of the results whose answers wait for the
//! commit. When it has been open for the cap's time, so that a slow source cannot hold the others' reports (and
//! their durability) back for long.
//!
//! **What stays as it was.** A poll is answered (and reported) only once its commit is durable, so a crash between
//! groups loses only polls that were never reported, whose sources fetch the same items again. A source's items
//! and its fetch state are still in one transaction. A fetch that fails is its own failure: the transaction is
//! rolled back, the index rebuilt from what is stored, the fetches stored before it in the transaction are stored
//! again (their items are still in memory, as their answers wait for the commit and hand the items back to the
//! polls; their features, handed back as soon as they were stored, are computed again), and its own group one
//! fetch at a time, as before. That costs a second pass on a failure, which is rare, rather than a savepoint per
//! group, which SQLite journals page by page in the normal case: measured, the sub-journal took about as many page
//! copies as the commits saved.

use std::time::Instant;

use super::{answer, ingest_into, Stored, Writer};
use crate::dedup::{self, ItemFeatures};
use crate::error::Error;
#[cfg(doc)]
use crate::pipeline::write_queue::TransactionCaps;
use crate::pipeline::write_queue::{Next, QueuedFetch, WriteQueue};
use crate::regions::Gazetteer;
use crate::store::IncomingItem;

/// Why a transaction across groups was not committed.
enum Broken {
    /// Storing this group failed with this error; the groups before it were stored.
    Group(Vec<QueuedFetch>, Error),
    /// Storing this group panicked (a bug).
    Panicked(Vec<QueuedFetch>),
    /// The transaction could not be committed.
    Commit(Error),
}

impl Writer {
    /// Stores `first` and the groups queued after it in one transaction while more results are coming, commits
    /// it (see the module doc for when), and answers each fetch.
    pub(super) fn store_while_busy(&mut self, queue: &WriteQueue, first: Vec<QueuedFetch>) {
        let mut held = Vec::new();
        match self.hold_while_busy(queue, first, &mut held) {
            Ok(groups) => {
                tracing::debug!(
                    fetches = held.len(),
                    groups,
                    commits = self.commits,
                    "stored in one commit"
                );
                for (fetch, stored) in held {
                    answer(fetch, Ok(stored));
                }
            }
            Err((broken, placed_any)) => self.recover(held, broken, placed_any),
        }
    }

    /// Stores groups into one transaction until it must commit, and commits it; `held` gets every fetch stored
    /// in it. On an error returns why, and whether the index holds items of the transaction.
    fn hold_while_busy(
        &mut self,
        queue: &WriteQueue,
        first: Vec<QueuedFetch>,
        held: &mut Vec<(QueuedFetch, Stored)>,
    ) -> std::result::Result<usize, (Broken, bool)> {
        let horizon = self.horizon();
        let opened = Instant::now();
        let mut tx = match self.store.begin_group() {
            Ok(tx) => tx,
            Err(e) => return Err((Broken::Group(first, e), false)),
        };
        let (mut items, mut bytes, mut groups, mut placed_any) = (0, 0, 0, false);
        let mut group = first;
        loop {
            let tried = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                ingest_into(&mut tx, &mut self.index, &self.gazetteer, horizon, &group)
            }));
            match tried {
                Ok((Ok(stored), placed)) => {
                    placed_any |= placed;
                    groups += 1;
                    for (mut fetch, stored) in group.into_iter().zip(stored) {
                        items += fetch.items.len();
                        bytes += fetch.text_bytes();
                        // Stored, if not yet committed: its place in the backlog is free for the next result, and
                        // its features go back to its poll (a failure computes them again).
                        fetch.room = None;
                        let features = std::mem::take(&mut fetch.features);
                        if let Some(back) = fetch.features_back.take() {
                            let _ = back.send(features);
                        }
                        held.push((fetch, stored));
                    }
                }
                // Dropping the transaction rolls it back.
                Ok((Err(e), placed)) => return Err((Broken::Group(group, e), placed_any | placed)),
                Err(_) => return Err((Broken::Panicked(group), true)),
            }
            match queue.next(opened, items, bytes) {
                Next::Group(next) => group = next,
                Next::Commit => break,
            }
        }
        tx.commit().map_err(|e| (Broken::Commit(e), placed_any))?;
        self.commits += 1;
        Ok(groups)
    }

    /// After a transaction across groups was rolled back: the index is rebuilt from what is stored, the fetches
    /// stored in it before the break are stored again (in one transaction, else one by one), and the group that
    /// broke it one fetch at a time, as if it had been stored alone from the start (a group that panicked fails,
    /// its answers dropped).
    fn recover(&mut self, held: Vec<(QueuedFetch, Stored)>, broken: Broken, placed_any: bool) {
        if placed_any {
            let why = match &broken {
                Broken::Group(_, e) | Broken::Commit(e) => e.to_string(),
                Broken::Panicked(_) => "a panic".to_string(),
            };
            self.rebuild_after_failure(chrono::Utc::now(), &why);
        }
        let earlier: Vec<QueuedFetch> = held
            .into_iter()
            .map(|(mut fetch, _)| {
                // Its features went back to its poll when it was stored.
                fetch.features = fetch
                    .items
                    .iter()
                    .map(|item| incoming_features(item, &self.gazetteer))
                    .collect();
                fetch
            })
            .collect();
        match broken {
            Broken::Commit(e) => {
                tracing::debug!(fetches = earlier.len(), error = %e, "commit failed; storing its fetches again");
                self.store_fetches(earlier);
            }
            Broken::Group(group, e) => {
                tracing::debug!(earlier = earlier.len(), fetches = group.len(), error = %e, "a group failed; storing the transaction again without it, then the group one by one");
                self.store_fetches(earlier);
                if group.len() == 1 {
                    let fetch = group.into_iter().next().expect("one fetch");
                    answer(fetch, Err(e));
                } else {
                    let results = self.store_one_by_one(&group);
                    for (fetch, result) in group.into_iter().zip(results) {
                        answer(fetch, result);
                    }
                }
            }
            Broken::Panicked(group) => {
                tracing::error!(
                    fetches = group.len(),
                    "storing a group of fetches panicked (a bug in qafila); they failed, the writer goes on"
                );
                drop(group);
                self.store_fetches(earlier);
            }
        }
    }
}

/// The features of a fetched item computed again from what is stored of it (its texts and the boilerplate words
/// dropped from them): the same as when it was prepared, as for an item read back from the store.
pub(super) fn incoming_features(item: &IncomingItem, gazetteer: &Gazetteer) -> ItemFeatures {
    let it = &item.item;
    dedup::item_features(
        &it.title,
        it.summary.as_deref(),
        it.content.as_deref(),
        item.boilerplate.as_deref(),
        gazetteer,
    )
}
