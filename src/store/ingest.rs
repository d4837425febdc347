//! Writing one fetched source: its new items, the stories they join, and its fetch state, in one transaction.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};
use rustc_hash::FxHashMap;

use super::delivered::{Delivered, Known};
use super::query::items_between;
use super::search;
use super::search_rows::PendingRows;
use super::{to_secs, Store, WindowItem};
use crate::error::{Error, Result};
use crate::identity;
use crate::model::{ParsedItem, RegionTags};
use crate::normalize::FoldedItem;

/// How many polls in a row must see the same permanent redirect before the stored URL follows it: one odd answer
/// from a misconfigured server must not move a source for good.
pub(super) const STABLE_REDIRECT_POLLS: i64 = 3;

/// One entry of a fetched feed, ready to store.
#[derive(Debug, Clone)]
pub(crate) struct IncomingItem {
    /// Identity within the source (`identity::source_key`).
    pub source_key: String,
    /// Identity across sources (`identity::url_key`), when the item has a link.
    pub url_key: Option<String>,
    pub item: ParsedItem,
    /// The item's date, else now; never in the future.
    pub sort_time: DateTime<Utc>,
    /// Region entity ids it mentions, and whether it is about the region.
    pub tags: RegionTags,
    /// The boilerplate words dropped from its matching tokens (`dedup::Dropped::stored`), stored with it.
    pub boilerplate: Option<String>,
    /// Its texts as computing its features folded them, reused for its search index row (`None`: the index
    /// folds them itself). Shared, so that handing it to the search index row costs the writer no copy.
    pub folded: Option<Arc<FoldedItem>>,
}

/// Decides which story a *new* item joins. Implemented by the story index (`dedup`), so that the store does not
/// need to know how stories are recognised and the index is updated in step with what is stored.
pub(crate) trait StoryPlacer {
    /// Spans of publication time whose stored items the placer must see before it can place the new item at
    /// `index`, because it does not hold them (a backlog reaching back past what it keeps in memory). The store
    /// reads them with an indexed range query and hands them over through `recall`.
    fn needs(&mut self, _index: usize) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        Vec::new()
    }
    /// The stored items published in `[from, to)` (including ones stored earlier in this batch).
    fn recall(&mut self, _from: DateTime<Utc>, _to: DateTime<Utc>, _items: Vec<WindowItem>) {}
    /// The existing story the new item at `index` of the batch belongs to, if any.
    fn place(&mut self, index: usize) -> Option<i64>;
    /// The new item at `index` is now stored as `item_id` in `story_id`.
    fn placed(&mut self, index: usize, item_id: i64, story_id: i64);
}

/// [`Store::sync_sources`] within `tx` (see [`Store::open_and`]).
pub(crate) fn register_sources<'a>(
    tx: &rusqlite::Transaction<'_>,
    path: &std::path::Path,
    sources: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> Result<()> {
    let e = |source| Error::from_db(path, source);
    // Prepared once for every source (a start with hundreds of sources prepared it hundreds of times).
    let mut register = tx
        .prepare(
            "INSERT INTO sources (id, url) VALUES (?1, ?2)
             ON CONFLICT(id) DO UPDATE SET url = excluded.url, moved_to = NULL, redirect_candidate = NULL,
                 redirect_streak = 0, etag = NULL, last_modified = NULL, discovered = NULL
             WHERE sources.url <> excluded.url",
        )
        .map_err(e)?;
    for (id, url) in sources {
        register.execute(params![id, url]).map_err(e)?;
    }
    Ok(())
}

/// A placer that starts a new story for every item: the store's own tests use it to check storing without the
/// story index.
#[cfg(test)]
pub(crate) struct EachItemItsOwnStory;

#[cfg(test)]
impl StoryPlacer for EachItemItsOwnStory {
    fn place(&mut self, _: usize) -> Option<i64> {
        None
    }
    fn placed(&mut self, _: usize, _: i64, _: i64) {}
}

/// The outcome of one fetch, for the source's state row.
#[derive(Debug, Clone, Default)]
pub(crate) struct FetchRecord {
    pub at: DateTime<Utc>,
    /// HTTP status, if the server answered.
    pub status: Option<u16>,
    /// `None` on success (including 304).
    pub error: Option<String>,
    /// Validators to send next time; `None` keeps the stored ones (on failure) or clears them (on a 200 without).
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub next_due: Option<DateTime<Utc>>,
    /// Where every hop of this fetch permanently redirected to, if it did.
    pub permanent_redirect: Option<String>,
    /// What this fetch found out about the source's discovered feed.
    pub discovered: Discovery,
}

/// A change to the feed discovered on a source's HTML page.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Discovery {
    #[default]
    Unchanged,
    /// The page's feed is at this URL: poll it from now on.
    Found(String),
    /// The discovered feed is gone: look again on the page next time.
    Forget,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IngestCounts {
    /// Items stored for the first time.
    pub new: usize,
    /// Items already known (from this source or, by URL, another one).
    pub seen: usize,
    /// New items that joined an existing story.
    pub merged: usize,
}

/// What the state update found out beyond the counts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct StateChange {
    /// The source's stored URL moved here (after a stable permanent redirect).
    pub moved_to: Option<String>,
}

impl Store {
    /// Registers the configured sources (new ones are due at once); a source whose configured URL changed forgets
    /// its redirect and validators. Sources no longer configured keep their rows and items.
    pub(crate) fn sync_sources<'a>(
        &mut self,
        sources: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<()> {
        let e = |source| Error::from_db(&self.path, source);
        let tx = self.conn.transaction().map_err(e)?;
        register_sources(&tx, &self.path, sources)?;
        tx.commit().map_err(e)
    }

    /// Stores one fetch of one source: the items (new ones placed into stories by `placer`) and the fetch state,
    /// all in one transaction. On any error nothing of it is stored and the placer must be rebuilt.
    pub(crate) fn ingest(
        &mut self,
        source_id: &str,
        items: &[IncomingItem],
        record: &FetchRecord,
        gazetteer: &str,
        placer: &mut dyn StoryPlacer,
    ) -> Result<(IngestCounts, StateChange)> {
        let mut group = self.begin_group()?;
        let stored = group.ingest(source_id, items, record, gazetteer, placer)?;
        group.commit()?;
        Ok(stored)
    }

    /// Starts a transaction that stores the fetches of several sources at once (group commit: one sync of the
    /// log for all of them). Each source's items and its fetch state are still written together; nothing of the
    /// group is stored until [`IngestGroup::commit`], and dropping the group rolls all of it back.
    pub(crate) fn begin_group(&mut self) -> Result<IngestGroup<'_>> {
        let tx = self
            .conn
            .transaction()
            .map_err(|e| Error::from_db(&self.path, e))?;
        let keys = &mut self.search_keys;
        // Read once a group rather than once a new item: the table is empty unless retention pruned the first
        // item of a story that lived on, and nothing but `prune` writes it.
        let origins = tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM story_origins)")
            .and_then(|mut any| any.query_row([], |r| r.get(0)))
            .map_err(|e| Error::from_db(&self.path, e))?;
        Ok(IngestGroup {
            tx,
            path: &self.path,
            search: GroupSearch {
                rows: PendingRows::default(),
                keys,
            },
            stored_new: false,
            origins,
        })
    }
}

/// The fetches of several sources being stored in one transaction (see [`Store::begin_group`]).
pub(crate) struct IngestGroup<'s> {
    tx: rusqlite::Transaction<'s>,
    path: &'s std::path::Path,
    /// What the group writes into the search index.
    search: GroupSearch<'s>,
    /// Whether the group stored a new item, so that the commit moves the search generation.
    stored_new: bool,
    /// Whether `story_origins` holds any story (see `ingest_items`).
    origins: bool,
}

/// The search index side of a group of fetches.
struct GroupSearch<'s> {
    /// The new items' index rows, written just before the commit (see `search_rows`).
    rows: PendingRows,
    /// The keys taken so far, by this group and the store's earlier ones (see `search::TakenKeys`).
    keys: &'s mut search::TakenKeys,
}

/// Search index rows a group keeps folded in memory before it writes them, and the text they were folded from: a
/// bound for a group of long articles or a large backlog. Written once, at the commit, the index flushes the
/// group's words as one segment; each write before that is one segment more, flushed and later merged (in a
/// 10 000-item round with 2 500 items a transaction, a bound of 2 000 rows cost ~8 ms of the writer's ~270 ms).
/// So the bound lies above what the writer puts in one transaction (`TransactionCaps`: 2 500 items and 8 MB of
/// text, checked between groups, plus a group), and still holds memory to tens of MB.
/// (Tiny under test, so that the store's tests also write rows in the middle of a group.)
const MAX_PENDING_SEARCH_ROWS: usize = if cfg!(test) { 3 } else { 10_000 };
const MAX_PENDING_SEARCH_TEXT: usize = if cfg!(test) { 1 << 20 } else { 32 << 20 };

impl IngestGroup<'_> {
    /// Writes one fetch of one source into the group: the items (new ones placed into stories by `placer`) and
    /// the fetch state. On an error the whole group must be dropped (rolled back) and the placer rebuilt: the
    /// statements before the failing one are part of the open transaction.
    pub(crate) fn ingest(
        &mut self,
        source_id: &str,
        items: &[IncomingItem],
        record: &FetchRecord,
        gazetteer: &str,
        placer: &mut dyn StoryPlacer,
    ) -> Result<(IngestCounts, StateChange)> {
        let path = self.path;
        let e = |source| Error::from_db(path, source);
        let counts = ingest_items(
            &self.tx,
            source_id,
            items,
            record,
            placer,
            &mut self.search,
            self.origins,
        )
        .map_err(e)?;
        if counts.new > 0 {
            same_tagging(&self.tx, gazetteer).map_err(e)?;
        }
        self.stored_new |= counts.new > 0;
        self.search.rows.hand_over();
        let change = record_fetch(&self.tx, source_id, record).map_err(e)?;
        if self.search.rows.len() >= MAX_PENDING_SEARCH_ROWS
            || self.search.rows.text_bytes() >= MAX_PENDING_SEARCH_TEXT
        {
            self.search.rows.write(&self.tx).map_err(e)?;
        }
        Ok((counts, change))
    }

    /// Makes everything written into the group durable at once.
    pub(crate) fn commit(mut self) -> Result<()> {
        let path = self.path;
        let e = |source| Error::from_db(path, source);
        self.search.rows.write(&self.tx).map_err(e)?;
        if self.stored_new {
            // Readers' caches of search results and day pages are stale from this commit on (migration 6).
            execute_cached(
                &self.tx,
                "UPDATE search_state SET generation = generation + 1",
                [],
            )
            .map_err(e)?;
        }
        self.tx.commit().map_err(e)
    }
}

/// New items are tagged with `gazetteer`: if the stored ones are tagged with another (migration 9), the database no
/// longer knows one gazetteer for all of them, and the next `retag` re-evaluates every item.
///
/// The row is named by its id: an update that may touch several rows runs in a statement savepoint, and a
/// savepoint makes the search index (FTS5) flush the words it holds in memory into a new segment — once per
/// fetch with new items, instead of once per transaction.
fn same_tagging(tx: &rusqlite::Transaction, gazetteer: &str) -> rusqlite::Result<()> {
    execute_cached(
        tx,
        "UPDATE tagging SET gazetteer = '' WHERE id = 1 AND gazetteer <> ?1",
        [gazetteer],
    )?;
    Ok(())
}

/// The items of one fetch, in the caller's transaction. Every statement is prepared once per connection
/// (`prepare_cached`): ingest runs them for every item of every round.
fn ingest_items(
    tx: &rusqlite::Transaction,
    source_id: &str,
    items: &[IncomingItem],
    record: &FetchRecord,
    placer: &mut dyn StoryPlacer,
    search: &mut GroupSearch<'_>,
    origins: bool,
) -> rusqlite::Result<IngestCounts> {
    let now = to_secs(record.at);
    let mut counts = IngestCounts::default();
    let mut delivered = Delivered::new(tx, source_id)?;
    let mut add_source = tx.prepare_cached(
        "INSERT INTO item_sources (source_id, source_key, item_id, first_seen) VALUES (?1, ?2, ?3, ?4)",
    )?;
    let mut join_story = tx.prepare_cached(
        "UPDATE stories SET updated = ?2, published = MIN(published, ?3) WHERE id = ?1",
    )?;
    // No index keeps story guids unique: an item's key is unique while it is stored, and so is the guid of the
    // story it starts. Only a story whose first item retention removed while the story lived on keeps a guid no
    // stored key accounts for: `prune` records those in `story_origins` (migration 8).
    let mut origin = tx.prepare_cached("SELECT story_id FROM story_origins WHERE guid = ?1")?;
    let mut new_story = tx.prepare_cached(
        "INSERT INTO stories (guid, published, created, updated) VALUES (?1, ?2, ?3, ?3)",
    )?;
    let mut lowest_key = tx.prepare_cached(search::LOWEST_KEY)?;
    let mut new_item = tx.prepare_cached(
        "INSERT INTO items (url_key, story_id, source_id, guid, link, title, summary, content, author,
                            published, first_seen, sort_time, entities, region_match,
                            search_key, media, boilerplate_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
    )?;
    let mut boilerplates = FetchBoilerplates::of(items);
    for (index, incoming) in items.iter().enumerate() {
        match delivered.known(&incoming.source_key, incoming.url_key.as_deref())? {
            Known::New => {}
            Known::FromThisSource => {
                counts.seen += 1;
                continue;
            }
            Known::SameUrl(item_id) => {
                add_source.execute(params![source_id, incoming.source_key, item_id, now])?;
                delivered.stored(&incoming.source_key);
                counts.seen += 1;
                continue;
            }
        }
        let sort_time = to_secs(incoming.sort_time);
        for (from, to) in placer.needs(index) {
            let stored = items_between(tx, from, to)?;
            placer.recall(from, to, stored);
        }
        let mut join = |story_id: i64| -> rusqlite::Result<i64> {
            join_story.execute(params![story_id, now, sort_time])?;
            counts.merged += 1;
            Ok(story_id)
        };
        let story_id = match placer.place(index) {
            Some(story_id) => join(story_id)?,
            None => {
                let first_key = incoming
                    .url_key
                    .clone()
                    .unwrap_or_else(|| format!("{source_id}/{}", incoming.source_key));
                let guid = identity::story_guid(&first_key);
                // The first item of a story that lives on, pruned and now brought again: it rejoins its story.
                let rejoins = match origins {
                    true => origin.query_row([&guid], |r| r.get(0)).optional()?,
                    false => None,
                };
                match rejoins {
                    Some(story_id) => join(story_id)?,
                    None => {
                        new_story.execute(params![guid, sort_time, now])?;
                        tx.last_insert_rowid()
                    }
                }
            }
        };
        let it = &incoming.item;
        let boilerplate = match incoming.boilerplate.as_deref() {
            Some(words) => Some(boilerplates.id(tx, words)?),
            None => None,
        };
        let entities = incoming.tags.entities.join(",");
        let search_key = search::new_item_key(&mut lowest_key, sort_time, search.keys)?;
        search.rows.push(
            search_key,
            (&it.title, it.summary.as_deref(), it.content.as_deref()),
            incoming.folded.as_ref(),
            &entities,
        );
        new_item.execute(params![
            incoming.url_key,
            story_id,
            source_id,
            it.guid,
            it.link,
            it.title,
            it.summary,
            it.content,
            it.author,
            it.published.map(to_secs),
            now,
            sort_time,
            entities,
            incoming.tags.region_match,
            search_key,
            media_json(&it.media),
            boilerplate,
        ])?;
        let item_id = tx.last_insert_rowid();
        add_source.execute(params![source_id, incoming.source_key, item_id, now])?;
        delivered.stored(&incoming.source_key);
        placer.placed(index, item_id, story_id);
        counts.new += 1;
    }
    Ok(counts)
}

/// An item's media as stored (migration 4): most items have none, written without serializing anything.
fn media_json(media: &[crate::model::Media]) -> std::borrow::Cow<'static, str> {
    match media.is_empty() {
        true => "[]".into(),
        false => serde_json::to_string(media)
            .expect("media serialize")
            .into(),
    }
}

/// The distinct boilerplate word lists of one fetch's items (nearly always one: an outlet's items share it), each
/// with the newest time of an item carrying it and, once stored, the id of its row in `boilerplates` (migration 10).
struct FetchBoilerplates<'a>(FxHashMap<&'a str, (i64, Option<i64>)>);

impl<'a> FetchBoilerplates<'a> {
    fn of(items: &'a [IncomingItem]) -> FetchBoilerplates<'a> {
        let mut lists: FxHashMap<&str, (i64, Option<i64>)> = FxHashMap::default();
        for item in items {
            if let Some(words) = item.boilerplate.as_deref() {
                let newest = &mut lists.entry(words).or_insert((i64::MIN, None)).0;
                *newest = (*newest).max(to_secs(item.sort_time));
            }
        }
        FetchBoilerplates(lists)
    }

    /// The row of `words` (a list of this fetch), stored (or its `last_seen` moved on) at its first use.
    fn id(&mut self, tx: &rusqlite::Transaction, words: &str) -> rusqlite::Result<i64> {
        let (newest, id) = self
            .0
            .get_mut(words)
            .expect("every boilerplate list of the fetch is counted");
        if let Some(id) = id {
            return Ok(*id);
        }
        // A lookup, then a plain insert or update, rather than one `INSERT … ON CONFLICT DO UPDATE`: an upsert is a
        // statement that may write twice, so SQLite opens a statement savepoint for it, and a savepoint makes the
        // search index (FTS5) flush the words it holds in memory into a new segment. Once a fetch, that was a
        // flush and merge per fetch instead of one per transaction.
        let found: Option<(i64, i64)> = tx
            .prepare_cached("SELECT id, last_seen FROM boilerplates WHERE words = ?1")?
            .query_row([words], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?;
        let stored = match found {
            Some((stored, last_seen)) => {
                if *newest > last_seen {
                    execute_cached(
                        tx,
                        "UPDATE boilerplates SET last_seen = ?2 WHERE id = ?1",
                        params![stored, *newest],
                    )?;
                }
                stored
            }
            None => {
                execute_cached(
                    tx,
                    "INSERT INTO boilerplates (words, last_seen) VALUES (?1, ?2)",
                    params![words, *newest],
                )?;
                tx.last_insert_rowid()
            }
        };
        *id = Some(stored);
        Ok(stored)
    }
}

fn record_fetch(
    tx: &rusqlite::Transaction,
    source_id: &str,
    r: &FetchRecord,
) -> rusqlite::Result<StateChange> {
    let at = to_secs(r.at);
    let next_due = r.next_due.map(to_secs);
    match &r.discovered {
        Discovery::Unchanged => {}
        Discovery::Found(url) => {
            execute_cached(
                tx,
                "UPDATE sources SET discovered = ?2 WHERE id = ?1",
                params![source_id, url],
            )?;
        }
        Discovery::Forget => {
            execute_cached(
                tx,
                "UPDATE sources SET discovered = NULL, etag = NULL, last_modified = NULL WHERE id = ?1",
                [source_id],
            )?;
        }
    }
    if let Some(error) = &r.error {
        execute_cached(
            tx,
            "UPDATE sources SET last_status = ?2, last_error = ?3, consecutive_failures = consecutive_failures + 1,
                 last_attempt = ?4, next_due = ?5 WHERE id = ?1",
            params![source_id, r.status, error, at, next_due],
        )?;
        return Ok(StateChange::default());
    }
    execute_cached(
        tx,
        "UPDATE sources SET last_status = ?2, last_error = NULL, consecutive_failures = 0, last_attempt = ?3,
             last_success = ?3, next_due = ?4,
             etag = CASE WHEN ?2 = 304 THEN COALESCE(?5, etag) ELSE ?5 END,
             last_modified = CASE WHEN ?2 = 304 THEN COALESCE(?6, last_modified) ELSE ?6 END
         WHERE id = ?1",
        params![source_id, r.status, at, next_due, r.etag, r.last_modified],
    )?;
    let (candidate, streak): (Option<String>, i64) = tx
        .prepare_cached("SELECT redirect_candidate, redirect_streak FROM sources WHERE id = ?1")?
        .query_row([source_id], |row| Ok((row.get(0)?, row.get(1)?)))?;
    let Some(target) = &r.permanent_redirect else {
        execute_cached(
            tx,
            "UPDATE sources SET redirect_candidate = NULL, redirect_streak = 0 WHERE id = ?1",
            [source_id],
        )?;
        return Ok(StateChange::default());
    };
    let streak = if candidate.as_deref() == Some(target) {
        streak + 1
    } else {
        1
    };
    if streak >= STABLE_REDIRECT_POLLS {
        execute_cached(
            tx,
            "UPDATE sources SET moved_to = ?2, redirect_candidate = NULL, redirect_streak = 0 WHERE id = ?1",
            params![source_id, target],
        )?;
        return Ok(StateChange {
            moved_to: Some(target.clone()),
        });
    }
    execute_cached(
        tx,
        "UPDATE sources SET redirect_candidate = ?2, redirect_streak = ?3 WHERE id = ?1",
        params![source_id, target, streak],
    )?;
    Ok(StateChange::default())
}

/// Runs a statement prepared once per connection: the fetch state is written for every source of every round.
fn execute_cached(
    tx: &rusqlite::Transaction,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<usize> {
    tx.prepare_cached(sql)?.execute(params)
}
