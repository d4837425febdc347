//! Writing one fetched source: its new items, the stories they join, and its fetch state, in one transaction.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::query::items_between;
use super::{to_secs, Store, WindowItem};
use crate::error::{Error, Result};
use crate::identity;
use crate::model::{ParsedItem, RegionTags};

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
        let tx = self
            .conn
            .transaction()
            .map_err(|e| Error::from_db(&self.path, e))?;
        for (id, url) in sources {
            tx.execute(
                "INSERT INTO sources (id, url) VALUES (?1, ?2)
                 ON CONFLICT(id) DO UPDATE SET url = excluded.url, moved_to = NULL, redirect_candidate = NULL,
                     redirect_streak = 0, etag = NULL, last_modified = NULL, discovered = NULL
                 WHERE sources.url <> excluded.url",
                params![id, url],
            )
            .map_err(|e| Error::from_db(&self.path, e))?;
        }
        tx.commit().map_err(|e| Error::from_db(&self.path, e))
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
        let path = self.path.clone();
        let e = |source| Error::from_db(&path, source);
        let now = to_secs(record.at);
        let tx = self.conn.transaction().map_err(e)?;
        let mut counts = IngestCounts::default();
        for (index, incoming) in items.iter().enumerate() {
            let known: Option<i64> = tx
                .query_row(
                    "SELECT item_id FROM item_sources WHERE source_id = ?1 AND source_key = ?2",
                    params![source_id, incoming.source_key],
                    |r| r.get(0),
                )
                .optional()
                .map_err(e)?;
            if known.is_some() {
                counts.seen += 1;
                continue;
            }
            let same_url: Option<i64> = match &incoming.url_key {
                Some(key) => tx
                    .query_row("SELECT id FROM items WHERE url_key = ?1", [key], |r| {
                        r.get(0)
                    })
                    .optional()
                    .map_err(e)?,
                None => None,
            };
            if let Some(item_id) = same_url {
                tx.execute(
                    "INSERT INTO item_sources (source_id, source_key, item_id, first_seen) VALUES (?1, ?2, ?3, ?4)",
                    params![source_id, incoming.source_key, item_id, now],
                )
                .map_err(e)?;
                counts.seen += 1;
                continue;
            }
            let sort_time = to_secs(incoming.sort_time);
            for (from, to) in placer.needs(index) {
                let stored = items_between(&tx, from, to).map_err(e)?;
                placer.recall(from, to, stored);
            }
            let story_id = match placer.place(index) {
                Some(story_id) => {
                    tx.execute(
                        "UPDATE stories SET updated = ?2, published = MIN(published, ?3) WHERE id = ?1",
                        params![story_id, now, sort_time],
                    )
                    .map_err(e)?;
                    counts.merged += 1;
                    story_id
                }
                None => {
                    let first_key = incoming
                        .url_key
                        .clone()
                        .unwrap_or_else(|| format!("{source_id}/{}", incoming.source_key));
                    tx.execute(
                        "INSERT INTO stories (guid, published, created, updated) VALUES (?1, ?2, ?3, ?3)",
                        params![identity::story_guid(&first_key), sort_time, now],
                    )
                    .map_err(e)?;
                    tx.last_insert_rowid()
                }
            };
            let it = &incoming.item;
            let entities = incoming.tags.entities.join(",");
            let search_key = super::search::index_new_item(
                &tx,
                sort_time,
                &it.title,
                it.summary.as_deref(),
                it.content.as_deref(),
                &entities,
            )
            .map_err(e)?;
            tx.execute(
                "INSERT INTO items (url_key, story_id, source_id, guid, link, title, summary, content, author,
                                    published, first_seen, sort_time, entities, region_match, gazetteer,
                                    search_key, media)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                params![
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
                    gazetteer,
                    search_key,
                    serde_json::to_string(&it.media).expect("media serialize"),
                ],
            )
            .map_err(e)?;
            let item_id = tx.last_insert_rowid();
            tx.execute(
                "INSERT INTO item_sources (source_id, source_key, item_id, first_seen) VALUES (?1, ?2, ?3, ?4)",
                params![source_id, incoming.source_key, item_id, now],
            )
            .map_err(e)?;
            placer.placed(index, item_id, story_id);
            counts.new += 1;
        }
        let change = record_fetch(&tx, source_id, record).map_err(e)?;
        tx.commit().map_err(e)?;
        Ok((counts, change))
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
            tx.execute(
                "UPDATE sources SET discovered = ?2 WHERE id = ?1",
                params![source_id, url],
            )?;
        }
        Discovery::Forget => {
            tx.execute(
                "UPDATE sources SET discovered = NULL, etag = NULL, last_modified = NULL WHERE id = ?1",
                [source_id],
            )?;
        }
    }
    if let Some(error) = &r.error {
        tx.execute(
            "UPDATE sources SET last_status = ?2, last_error = ?3, consecutive_failures = consecutive_failures + 1,
                 last_attempt = ?4, next_due = ?5 WHERE id = ?1",
            params![source_id, r.status, error, at, next_due],
        )?;
        return Ok(StateChange::default());
    }
    tx.execute(
        "UPDATE sources SET last_status = ?2, last_error = NULL, consecutive_failures = 0, last_attempt = ?3,
             last_success = ?3, next_due = ?4,
             etag = CASE WHEN ?2 = 304 THEN COALESCE(?5, etag) ELSE ?5 END,
             last_modified = CASE WHEN ?2 = 304 THEN COALESCE(?6, last_modified) ELSE ?6 END
         WHERE id = ?1",
        params![source_id, r.status, at, next_due, r.etag, r.last_modified],
    )?;
    let (candidate, streak): (Option<String>, i64) = tx.query_row(
        "SELECT redirect_candidate, redirect_streak FROM sources WHERE id = ?1",
        [source_id],
        |row| Ok((row.get(0)?, row.get(1)?)),
    )?;
    let Some(target) = &r.permanent_redirect else {
        tx.execute(
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
        tx.execute(
            "UPDATE sources SET moved_to = ?2, redirect_candidate = NULL, redirect_streak = 0 WHERE id = ?1",
            params![source_id, target],
        )?;
        return Ok(StateChange {
            moved_to: Some(target.clone()),
        });
    }
    tx.execute(
        "UPDATE sources SET redirect_candidate = ?2, redirect_streak = ?3 WHERE id = ?1",
        params![source_id, target, streak],
    )?;
    Ok(StateChange::default())
}
