//! Reading what is stored: the latest stories for publishing, sources' state, and the recent items the story
//! index is rebuilt from.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension, Row};

use super::{from_secs, to_secs, RegionTags, Store};
use crate::error::{Error, Result};

/// A stored item, as the publisher and the CLI need it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredItem {
    pub id: i64,
    pub story_id: i64,
    pub source_id: String,
    pub guid: Option<String>,
    pub link: Option<String>,
    pub title: String,
    pub summary: Option<String>,
    pub content: Option<String>,
    pub author: Option<String>,
    pub sort_time: DateTime<Utc>,
    pub first_seen: DateTime<Utc>,
    pub entities: Vec<String>,
    pub region_match: bool,
    /// Pictures, sound and video (empty for items stored before media were kept).
    pub media: Vec<crate::model::Media>,
    /// The boilerplate words dropped from its matching tokens when it was stored (`dedup::Dropped`).
    pub boilerplate: Option<String>,
}

/// A story with its visible items, first report first.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StoredStory {
    pub id: i64,
    pub guid: String,
    pub published: DateTime<Utc>,
    pub items: Vec<StoredItem>,
}

/// A source's fetch state, for `qafila sources` and the scheduler.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SourceState {
    pub id: String,
    pub url: String,
    pub moved_to: Option<String>,
    /// The feed found on the source's HTML page, polled instead of the configured URL.
    pub discovered: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub last_status: Option<u16>,
    pub last_error: Option<String>,
    pub consecutive_failures: u32,
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub next_due: Option<DateTime<Utc>>,
    /// Items this source delivered that the store holds (including those another source delivered too).
    pub items_stored: u64,
}

/// A recent item, enough to recompute its matching features when the story index is rebuilt.
#[derive(Debug, Clone)]
pub(crate) struct WindowItem {
    pub id: i64,
    pub story_id: i64,
    pub title: String,
    pub summary: Option<String>,
    pub content: Option<String>,
    /// The boilerplate words dropped from its matching tokens when it was stored.
    pub boilerplate: Option<String>,
    pub sort_time: DateTime<Utc>,
}

/// An item is shown when it is about the region or its source publishes everything (`?1`: the region-filtered
/// sources as a JSON array). The main feed, its pages and the day archive all use this one rule.
pub(super) const VISIBLE: &str =
    "(i.region_match = 1 OR i.source_id NOT IN (SELECT value FROM json_each(?1)))";

/// A story row of `SELECT s.id, s.guid, s.published`, its items not read yet.
pub(super) fn story_from_row(r: &Row) -> rusqlite::Result<StoredStory> {
    Ok(StoredStory {
        id: r.get(0)?,
        guid: r.get(1)?,
        published: from_secs(r.get(2)?),
        items: vec![],
    })
}

/// A story's visible items, first report first: one range of `items_story` (`?1` filtered sources, `?2` story).
pub(super) fn visible_items_sql() -> String {
    format!(
        "SELECT {ITEM_COLUMNS} FROM items i WHERE i.story_id = ?2 AND {VISIBLE} ORDER BY i.sort_time, i.id"
    )
}

/// Reads each story's visible items (see [`VISIBLE`]; `filtered` is its `?1`), first report first.
pub(super) fn fill_visible_items(
    conn: &rusqlite::Connection,
    stories: &mut [StoredStory],
    filtered: &str,
) -> rusqlite::Result<()> {
    let mut items = conn.prepare_cached(&visible_items_sql())?;
    for story in stories {
        story.items = items
            .query_map(params![filtered, story.id], item_from_row)?
            .collect::<rusqlite::Result<_>>()?;
    }
    Ok(())
}

/// An item's boilerplate words, from the list it points at (migration 10).
macro_rules! boilerplate_words {
    () => {
        "(SELECT b.words FROM boilerplates b WHERE b.id = boilerplate_id)"
    };
}

pub(super) const ITEM_COLUMNS: &str = concat!(
    "id, story_id, source_id, guid, link, title, summary, content, author, sort_time,
                            first_seen, entities, region_match, media, ",
    boilerplate_words!()
);

pub(super) fn item_from_row(r: &Row) -> rusqlite::Result<StoredItem> {
    let entities: String = r.get(11)?;
    Ok(StoredItem {
        id: r.get(0)?,
        story_id: r.get(1)?,
        source_id: r.get(2)?,
        guid: r.get(3)?,
        link: r.get(4)?,
        title: r.get(5)?,
        summary: r.get(6)?,
        content: r.get(7)?,
        author: r.get(8)?,
        sort_time: from_secs(r.get(9)?),
        first_seen: from_secs(r.get(10)?),
        entities: entities
            .split(',')
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect(),
        region_match: r.get(12)?,
        // A value this version cannot read (written by a newer one) loses the media, never the item.
        media: serde_json::from_str(&r.get::<_, String>(13)?).unwrap_or_default(),
        boilerplate: r.get(14)?,
    })
}

/// Tags one stored item from its title, summary and content (the region gazetteer, seen from the store).
pub(super) type TagItem = dyn Fn(&str, Option<&str>, Option<&str>) -> RegionTags;

impl Store {
    /// The newest stories (by their original date) that have at least one visible item, newest first; `limit` 0
    /// means all. Items of the `filtered_sources` (region filter on) are visible only when they mention the region.
    pub(crate) fn latest_stories(
        &self,
        limit: usize,
        filtered_sources: &[String],
    ) -> Result<Vec<StoredStory>> {
        let e = |source| Error::from_db(&self.path, source);
        let filtered = serde_json::to_string(filtered_sources).expect("strings serialize");
        let limit = if limit == 0 { -1 } else { limit as i64 };
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT s.id, s.guid, s.published FROM stories s
                 WHERE EXISTS (SELECT 1 FROM items i WHERE i.story_id = s.id AND {VISIBLE})
                 ORDER BY s.published DESC, s.id DESC LIMIT ?2"
            ))
            .map_err(e)?;
        let mut stories: Vec<StoredStory> = stmt
            .query_map(params![filtered, limit], story_from_row)
            .map_err(e)?
            .collect::<rusqlite::Result<_>>()
            .map_err(e)?;
        fill_visible_items(&self.conn, &mut stories, &filtered).map_err(e)?;
        Ok(stories)
    }

    /// All items of one story, first first (whatever the region filter says).
    pub(crate) fn story_items(&self, story_id: i64) -> Result<Vec<StoredItem>> {
        let e = |source| Error::from_db(&self.path, source);
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {ITEM_COLUMNS} FROM items WHERE story_id = ?1 ORDER BY sort_time, id"
            ))
            .map_err(e)?;
        let items = stmt
            .query_map([story_id], item_from_row)
            .map_err(e)?
            .collect::<rusqlite::Result<_>>();
        items.map_err(e)
    }

    /// The stored item whose link is `link` (compared canonically), for `qafila explain`.
    pub(crate) fn item_by_link(&self, link: &str) -> Result<Option<StoredItem>> {
        let Some(key) = crate::identity::url_key(Some(link)) else {
            return Ok(None);
        };
        self.conn
            .query_row(
                &format!("SELECT {ITEM_COLUMNS} FROM items WHERE url_key = ?1"),
                [key],
                item_from_row,
            )
            .optional()
            .map_err(|e| Error::from_db(&self.path, e))
    }

    /// Items whose date is at or after `since`, oldest first: what the story index holds.
    pub(crate) fn items_since(&self, since: DateTime<Utc>) -> Result<Vec<WindowItem>> {
        items_between(&self.conn, since, DateTime::<Utc>::MAX_UTC)
            .map_err(|e| Error::from_db(&self.path, e))
    }

    /// Every known source's state, in id order.
    pub(crate) fn source_states(&self) -> Result<Vec<SourceState>> {
        self.query_source_states(None)
    }

    /// How many of `ids` failed their last fetch (cheap: no item counts). Sources no longer configured keep their
    /// rows, so callers pass the enabled ones.
    pub(crate) fn failing_among(&self, ids: &[String]) -> Result<usize> {
        let e = |source| Error::from_db(&self.path, source);
        let ids = serde_json::to_string(ids).expect("strings serialize");
        self.conn
            .prepare_cached(
                "SELECT COUNT(*) FROM sources
                 WHERE consecutive_failures > 0 AND id IN (SELECT value FROM json_each(?1))",
            )
            .map_err(e)?
            .query_row([ids], |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(e)
    }

    /// When each source is due next (cheap: the scheduler asks on every turn).
    pub(crate) fn next_due_times(&self) -> Result<HashMap<String, Option<DateTime<Utc>>>> {
        let e = |source| Error::from_db(&self.path, source);
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, next_due FROM sources")
            .map_err(e)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get::<_, Option<i64>>(1)?.map(from_secs)))
            })
            .map_err(e)?
            .collect::<rusqlite::Result<_>>();
        rows.map_err(e)
    }

    /// One source's state.
    #[cfg(test)]
    pub(crate) fn source_state(&self, id: &str) -> Result<Option<SourceState>> {
        Ok(self.source_states_of(&[id.to_string()])?.pop())
    }

    /// The states of the sources `ids` that are known, in id order, read with one statement: a round reads the
    /// state of each of its sources before it starts (one statement per source cost milliseconds for hundreds).
    pub(crate) fn source_states_of(&self, ids: &[String]) -> Result<Vec<SourceState>> {
        let ids = serde_json::to_string(ids).expect("strings serialize");
        self.query_source_states(Some(&ids))
    }

    /// `only`: a JSON array of source ids, else every source.
    fn query_source_states(&self, only: Option<&str>) -> Result<Vec<SourceState>> {
        let e = |source| Error::from_db(&self.path, source);
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT s.id, s.url, s.moved_to, s.etag, s.last_modified, s.last_status, s.last_error,
                        s.consecutive_failures, s.last_attempt, s.last_success, s.next_due,
                        (SELECT COUNT(*) FROM item_sources x WHERE x.source_id = s.id), s.discovered
                 FROM sources s WHERE ?1 IS NULL OR s.id IN (SELECT value FROM json_each(?1)) ORDER BY s.id",
            )
            .map_err(e)?;
        let states = stmt
            .query_map([only], |r| {
                Ok(SourceState {
                    id: r.get(0)?,
                    url: r.get(1)?,
                    moved_to: r.get(2)?,
                    etag: r.get(3)?,
                    last_modified: r.get(4)?,
                    last_status: r.get(5)?,
                    last_error: r.get(6)?,
                    consecutive_failures: r.get(7)?,
                    last_attempt: r.get::<_, Option<i64>>(8)?.map(from_secs),
                    last_success: r.get::<_, Option<i64>>(9)?.map(from_secs),
                    next_due: r.get::<_, Option<i64>>(10)?.map(from_secs),
                    items_stored: r.get::<_, i64>(11)? as u64,
                    discovered: r.get(12)?,
                })
            })
            .map_err(e)?
            .collect::<rusqlite::Result<_>>();
        states.map_err(e)
    }

    /// [`retag_in`] in a transaction of its own (the writer re-tags in the one that opens the file).
    #[cfg(test)]
    pub(crate) fn retag(&mut self, fingerprint: &str, tag: &TagItem) -> Result<usize> {
        let e = |source| Error::from_db(&self.path, source);
        let tx = self.conn.transaction().map_err(e)?;
        let retagged = retag_in(&tx, &self.path, fingerprint, tag)?;
        tx.commit().map_err(e)?;
        Ok(retagged)
    }

    /// (items, stories) stored.
    pub(crate) fn counts(&self) -> Result<(u64, u64)> {
        self.conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM items), (SELECT COUNT(*) FROM stories)",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
            .map_err(|e| Error::from_db(&self.path, e))
    }

    /// Story id of every item, for tests.
    #[cfg(test)]
    pub(crate) fn story_of_items(&self) -> Result<HashMap<i64, i64>> {
        let e = |source| Error::from_db(&self.path, source);
        let mut stmt = self
            .conn
            .prepare("SELECT id, story_id FROM items")
            .map_err(e)?;
        let map = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(e)?
            .collect::<rusqlite::Result<_>>();
        map.map_err(e)
    }
}

pub(super) const ITEMS_BETWEEN: &str = concat!(
    "SELECT id, story_id, title, summary, content, sort_time, ",
    boilerplate_words!(),
    " FROM items WHERE sort_time >= ?1 AND sort_time < ?2 ORDER BY sort_time, id"
);

/// Items dated in `[from, to)`, oldest first: one range scan of the `items_sort_time` index, never a table scan
/// (the story index reads a backlog's days through it).
pub(super) fn items_between(
    conn: &rusqlite::Connection,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> rusqlite::Result<Vec<WindowItem>> {
    let mut stmt = conn.prepare_cached(ITEMS_BETWEEN)?;
    let items = stmt.query_map([to_secs(from), to_secs(to)], |r| {
        Ok(WindowItem {
            id: r.get(0)?,
            story_id: r.get(1)?,
            title: r.get(2)?,
            summary: r.get(3)?,
            content: r.get(4)?,
            sort_time: from_secs(r.get(5)?),
            boilerplate: r.get(6)?,
        })
    })?;
    items.collect()
}

/// Re-tags every item when the stored ones were tagged with another gazetteer (or it is not known which, see
/// migration 9), so that a gazetteer change re-evaluates the region filter: nothing filtered out is thrown away.
/// `tag` sees what ingest saw (title, summary, content) and answers the entity ids and whether the item is about
/// the region. Returns how many items were re-evaluated: none, without reading any, when the gazetteer is the one
/// they were tagged with. Done within `tx`: the writer's start does it in the transaction that opens the file
/// (see [`Store::open_and`]).
pub(crate) fn retag_in(
    tx: &rusqlite::Transaction<'_>,
    path: &std::path::Path,
    fingerprint: &str,
    tag: &TagItem,
) -> Result<usize> {
    let e = |source| Error::from_db(path, source);
    let tagged_with: String = tx
        .query_row("SELECT gazetteer FROM tagging", [], |r| r.get(0))
        .map_err(e)?;
    if tagged_with == fingerprint {
        return Ok(0);
    }
    type Row = (i64, String, Option<String>, Option<String>, String);
    let stale: Vec<Row> = {
        let mut stmt = tx
            .prepare("SELECT id, title, summary, content, entities FROM items")
            .map_err(e)?;
        let rows = stmt
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .map_err(e)?;
        rows.collect::<rusqlite::Result<_>>().map_err(e)?
    };
    for (id, title, summary, content, old) in &stale {
        let tags = tag(title, summary.as_deref(), content.as_deref());
        let entities = tags.entities.join(",");
        if entities == *old {
            tx.execute(
                "UPDATE items SET region_match = ?2 WHERE id = ?1 AND region_match <> ?2",
                params![id, tags.region_match],
            )
            .map_err(e)?;
            continue;
        }
        tx.execute(
            "UPDATE items SET entities = ?2, region_match = ?3 WHERE id = ?1",
            params![id, entities, tags.region_match],
        )
        .map_err(e)?;
        super::search::reindex_item(tx, *id).map_err(e)?;
    }
    tx.execute("UPDATE tagging SET gazetteer = ?1", [fingerprint])
        .map_err(e)?;
    Ok(stale.len())
}
