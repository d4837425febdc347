//! The full-text search index: an FTS5 table over the folded words of every item, kept in step with `items`, and
//! the query that turns matches into stories, newest first.
//!
//! `item_search` is *contentless* (the text is already in `items`; the index holds only its folded words, see
//! `search::words`) with `contentless_delete=1` so rows can be removed, and the `ascii` tokenizer: the folded text
//! is letters, digits and `.` separated by single spaces, so FTS5 cuts exactly our words and nothing else. Columns:
//! `title`, `body` (summary and content as text, capped) and `entities` (the item's region ids, for `country:`).
//!
//! **Rowids are time keys, not item ids.** A search asks for the newest stories among possibly hundreds of
//! thousands of matches; with rowids ordered newest first, FTS5 streams matches in that order and the search stops
//! as soon as no later match can belong to a newer story. An item's key lies in the slots of its second
//! (`(BASE - sort_time) << SHIFT`, 16 slots a second, filled from the top down); a second whose slots are full
//! spills into the slots of the next *newer* second. So a key never sorts after its own second's slots, and every
//! match after key `K` has `sort_time <= BASE - (K >> SHIFT)`: a story not yet met is at most that new (its
//! `published` is its earliest item's time). The key is stored in `items.search_key`, indexed together with what a
//! match is resolved to (story, visibility), so streaming matches never reads the items' text.
//!
//! The writer indexes an item in the transaction that inserts it (`ingest`); a trigger removes its row when the
//! item is deleted (retention), and `retag` re-indexes items whose region tags changed. `search_state` records the
//! tokenization the index was built with (rebuilt when the database is opened by a qafila that folds differently)
//! and a generation counter that every change of items bumps (triggers on delete and re-tagging; an ingest commit
//! that stored new items, once), so that the server knows when cached results are stale without comparing them.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};
use rustc_hash::FxHashMap;

use super::query::{item_from_row, ITEM_COLUMNS, VISIBLE};
use super::{Store, StoredStory};
use crate::error::{Error, Result};
use crate::normalize::{self, FoldedItem};
use crate::search::{words, Query};

/// Slots per second are `1 << SHIFT`.
const SHIFT: u32 = 4;
/// Times are counted down from here so that newer items get smaller keys (FTS5 reads rowids upward best).
const BASE: i64 = 1 << 40;

/// Most body words indexed per item: enough for any news article, a bound for a hostile one.
pub(super) const MAX_BODY_WORDS: usize = 4000;

/// A story a search found, with its visible items (first first) and which of them matched.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SearchHit {
    pub story: StoredStory,
    /// Index in `story.items` of the newest item that matched the query; only that item carries its summary and
    /// content (it leads the story; the other reports are listed, not shown).
    pub matched: usize,
}

/// The newest `sort_time` any match after `key` can have (see the module doc).
fn newest_after(key: i64) -> i64 {
    BASE - (key >> SHIFT)
}

/// The lowest key taken in each second's slots, so that allocating asks the database once a second, not once an
/// item: keys are only taken downwards from the lowest.
///
/// **Why it outlives a transaction.** The writer's store keeps one for its whole life (a poll round's items share
/// their seconds across many transactions: in a 10 000-item first round the store was asked ~9 300 times, once per
/// second per transaction, instead of ~1 400). A remembered key may be lower than the database's lowest, never
/// higher, and a key below it is free either way: keys of a second are taken only here (this process is the
/// database's only writer, `WriterLock`), downwards, and every entry started from the database's own lowest when
/// it was first asked. A transaction rolled back leaves entries lower than what is stored, and retention deleting
/// items only frees keys; neither makes a taken key look free. (`ensure_index` keys unkeyed items before any store
/// exists, with a map of its own.) Bounded: with more seconds than [`TakenKeys::MAX_SECONDS`] it forgets them all
/// and asks the database again.
#[derive(Default)]
pub(super) struct TakenKeys(FxHashMap<i64, i64>);

impl TakenKeys {
    /// Seconds remembered at most (~1 MB): a daemon's items keep bringing new seconds.
    const MAX_SECONDS: usize = 1 << 16;

    fn remember(&mut self, second: i64, lowest: i64) {
        if self.0.len() >= Self::MAX_SECONDS && !self.0.contains_key(&second) {
            self.0.clear();
        }
        self.0.insert(second, lowest);
    }
}

/// The lowest key taken among the slots `?1..=?2` of one second: prepared once per fetch (see [`allocate_key`]).
pub(super) const LOWEST_KEY: &str =
    "SELECT MIN(search_key) FROM items WHERE search_key BETWEEN ?1 AND ?2";

/// A free key for an item of `sort_time` (see the module doc for the layout); `lowest` is [`LOWEST_KEY`] prepared.
fn allocate_key(
    lowest: &mut rusqlite::Statement,
    sort_time: i64,
    taken: &mut TakenKeys,
) -> rusqlite::Result<i64> {
    let mut second = BASE - sort_time.clamp(1 - BASE, BASE - 1);
    loop {
        let low = second << SHIFT;
        let high = low + (1 << SHIFT) - 1;
        let lowest: Option<i64> = match taken.0.get(&second) {
            Some(&lowest) => Some(lowest),
            None => lowest.query_row([low, high], |r| r.get(0))?,
        };
        let candidate = lowest.map_or(high, |k| k - 1);
        if candidate >= low {
            taken.remember(second, candidate);
            return Ok(candidate);
        }
        taken.remember(second, low);
        // Full: the next newer second's slots keep the bound true (a key may sort earlier, never later).
        second -= 1;
    }
}

/// The folded words to index for an item: (title, body).
pub(super) fn index_texts(
    title: &str,
    summary: Option<&str>,
    content: Option<&str>,
) -> (String, String) {
    index_row(title, summary, content, None)
}

/// [`index_texts`], reading the texts that `folded` holds already folded (see [`FoldedItem`]) instead of folding
/// them again.
pub(super) fn index_row(
    title: &str,
    summary: Option<&str>,
    content: Option<&str>,
    folded: Option<&FoldedItem>,
) -> (String, String) {
    let words = |ready: Option<&String>, text: Option<&str>, html: bool| match (ready, text) {
        (Some(ready), _) => words::index_line(ready),
        (None, Some(text)) if html => {
            words::index_line(&normalize::normalize(&crate::text::plain_text(text)))
        }
        (None, Some(text)) => words::index_line(&normalize::normalize(text)),
        (None, None) => String::new(),
    };
    let title = words(folded.map(|f| &f.title), Some(title), false);
    let summary = words(folded.and_then(|f| f.summary.as_ref()), summary, true);
    let content = words(folded.and_then(|f| f.content.as_ref()), content, true);
    // The summary is usually the content's opening or the same text: index it only when it adds words.
    let mut body = if summary.is_empty() || content.contains(&summary) {
        content
    } else if content.is_empty() {
        summary
    } else {
        format!("{summary} {content}")
    };
    // Fewer bytes than words to keep: nothing to cut, and no need to look for the spaces of every body.
    if body.len() > MAX_BODY_WORDS {
        if let Some((cut, _)) = body.match_indices(' ').nth(MAX_BODY_WORDS - 1) {
            body.truncate(cut);
        }
    }
    (title, body)
}

fn insert_row(
    conn: &Connection,
    key: i64,
    title: &str,
    summary: Option<&str>,
    content: Option<&str>,
    entities: &str,
) -> rusqlite::Result<()> {
    let (title, body) = index_texts(title, summary, content);
    conn.prepare_cached(INSERT_ROW)?.execute(params![
        key,
        title,
        body,
        entities.replace(',', " ")
    ])?;
    Ok(())
}

pub(super) const INSERT_ROW: &str =
    "INSERT INTO item_search (rowid, title, body, entities) VALUES (?1, ?2, ?3, ?4)";

/// Reserves the key of a new item of `sort_time`; the caller stores it with the item and queues its text in
/// [`super::search_rows::PendingRows`], all in the same transaction. `lowest`: [`LOWEST_KEY`] prepared.
pub(super) fn new_item_key(
    lowest: &mut rusqlite::Statement,
    sort_time: i64,
    taken: &mut TakenKeys,
) -> rusqlite::Result<i64> {
    allocate_key(lowest, sort_time, taken)
}

/// Rewrites the index row of a stored item (after its region tags changed).
pub(super) fn reindex_item(conn: &Connection, item_id: i64) -> rusqlite::Result<()> {
    type Row = (Option<i64>, String, Option<String>, Option<String>, String);
    let row: Option<Row> = conn
        .query_row(
            "SELECT search_key, title, summary, content, entities FROM items WHERE id = ?1",
            [item_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .optional()?;
    let Some((Some(key), title, summary, content, entities)) = row else {
        return Ok(());
    };
    conn.execute("DELETE FROM item_search WHERE rowid = ?1", [key])?;
    insert_row(
        conn,
        key,
        &title,
        summary.as_deref(),
        content.as_deref(),
        &entities,
    )
}

/// Builds the index from scratch when it was built with another tokenization (or never: a database from before
/// the index), in the caller's transaction. Returns how many items were indexed, if it rebuilt.
pub(super) fn ensure_index(conn: &Connection) -> rusqlite::Result<Option<usize>> {
    let version: String = conn.query_row("SELECT version FROM search_state", [], |r| r.get(0))?;
    let wanted = words::index_version();
    if version == wanted {
        return Ok(None);
    }
    conn.execute(
        "INSERT INTO item_search (item_search) VALUES ('delete-all')",
        [],
    )?;
    let unkeyed: Vec<(i64, i64)> = conn
        .prepare("SELECT id, sort_time FROM items WHERE search_key IS NULL ORDER BY sort_time, id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut taken = TakenKeys::default();
    let mut lowest = conn.prepare_cached(LOWEST_KEY)?;
    for (id, sort_time) in unkeyed {
        let key = allocate_key(&mut lowest, sort_time, &mut taken)?;
        conn.prepare_cached("UPDATE items SET search_key = ?2 WHERE id = ?1")?
            .execute([id, key])?;
    }
    // In key order, as FTS5 wants rowids (see `search_rows`): unordered, every row was its own segment.
    let mut stmt = conn.prepare(
        "SELECT search_key, title, summary, content, entities FROM items ORDER BY search_key",
    )?;
    let mut rows = stmt.query([])?;
    let mut indexed = 0;
    while let Some(r) = rows.next()? {
        let (summary, content): (Option<String>, Option<String>) = (r.get(2)?, r.get(3)?);
        insert_row(
            conn,
            r.get(0)?,
            &r.get::<_, String>(1)?,
            summary.as_deref(),
            content.as_deref(),
            &r.get::<_, String>(4)?,
        )?;
        indexed += 1;
    }
    conn.execute(
        "INSERT INTO item_search (item_search) VALUES ('optimize')",
        [],
    )?;
    conn.execute(
        "UPDATE search_state SET version = ?1, generation = generation + 1",
        [wanted],
    )?;
    Ok(Some(indexed))
}

/// The item columns with the summary and content of the matched item (`?3`) only: a hit is led by it and only a
/// lead's description is published, and reading every report's text would cost more than the search itself.
fn lead_text_only() -> String {
    let columns = ITEM_COLUMNS.replacen(
        "summary, content",
        "CASE WHEN id = ?3 THEN summary END, CASE WHEN id = ?3 THEN content END",
        1,
    );
    assert_ne!(columns, ITEM_COLUMNS, "ITEM_COLUMNS lists summary, content");
    columns
}

/// A story met while streaming matches.
struct Found {
    story_id: i64,
    guid: String,
    published: i64,
    matched_item: i64,
}

/// The newest `limit` stories (0: all) with a visible item matching `query`, newest first by the story's date.
fn run(
    conn: &Connection,
    query: &Query,
    limit: usize,
    filtered_sources: &[String],
) -> rusqlite::Result<Vec<SearchHit>> {
    let filtered: HashSet<&str> = filtered_sources.iter().map(String::as_str).collect();
    let mut matches = conn.prepare_cached(
        "SELECT rowid FROM item_search WHERE item_search MATCH ?1 ORDER BY rowid",
    )?;
    let mut item_of = conn.prepare_cached(
        "SELECT id, story_id, source_id, region_match FROM items WHERE search_key = ?1",
    )?;
    let mut story_of = conn.prepare_cached("SELECT guid, published FROM stories WHERE id = ?1")?;
    let mut found: Vec<Found> = Vec::new();
    let mut seen = HashSet::new();
    // The `limit` newest story dates met so far; its minimum is the date a new story must beat.
    let mut newest: BinaryHeap<Reverse<i64>> = BinaryHeap::new();
    let mut held =
        conn.prepare_cached("SELECT 1 FROM item_search WHERE item_search MATCH ?1 LIMIT 1")?;
    // Asked in the columns the phrase is matched in (a form only among entity ids would use up a phrase slot).
    // An error here shows again when the whole expression runs; keep the form meanwhile.
    let expr = query.to_match_in(&mut |word| {
        held.exists([format!("{{title body}} : \"{word}\"")])
            .unwrap_or(true)
    });
    let mut rows = matches.query([expr])?;
    while let Some(row) = rows.next()? {
        let key: i64 = row.get(0)?;
        if limit > 0
            && newest.len() == limit
            && newest.peek().is_some_and(|d| d.0 > newest_after(key))
        {
            break;
        }
        let item: Option<(i64, i64, String, bool)> = item_of
            .query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?;
        let Some((item_id, story_id, source_id, region_match)) = item else {
            continue;
        };
        if (!region_match && filtered.contains(source_id.as_str())) || !seen.insert(story_id) {
            continue;
        }
        let (guid, published) = story_of.query_row([story_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
        found.push(Found {
            story_id,
            guid,
            published,
            matched_item: item_id,
        });
        newest.push(Reverse(published));
        if limit > 0 && newest.len() > limit {
            newest.pop();
        }
    }
    found.sort_by_key(|f| Reverse((f.published, f.story_id)));
    if limit > 0 {
        found.truncate(limit);
    }
    let filtered_json = serde_json::to_string(filtered_sources).expect("strings serialize");
    let mut items_of = conn.prepare_cached(&format!(
        "SELECT {} FROM items i WHERE i.story_id = ?2 AND {VISIBLE} ORDER BY i.sort_time, i.id",
        lead_text_only()
    ))?;
    let mut hits = Vec::with_capacity(found.len());
    for f in found {
        let items: Vec<_> = items_of
            .query_map(
                params![filtered_json, f.story_id, f.matched_item],
                item_from_row,
            )?
            .collect::<rusqlite::Result<_>>()?;
        let matched = items
            .iter()
            .position(|i| i.id == f.matched_item)
            .unwrap_or(0);
        hits.push(SearchHit {
            story: StoredStory {
                id: f.story_id,
                guid: f.guid,
                published: super::from_secs(f.published),
                items,
            },
            matched,
        });
    }
    Ok(hits)
}

impl Store {
    /// The newest `limit` stories (0: all) matching `query`, newest first; items of `filtered_sources` count only
    /// when they mention the region (as in the feeds).
    pub(crate) fn search(
        &self,
        query: &Query,
        limit: usize,
        filtered_sources: &[String],
    ) -> Result<Vec<SearchHit>> {
        run(&self.conn, query, limit, filtered_sources).map_err(|e| Error::from_db(&self.path, e))
    }

    /// Changes whenever items are added, removed or re-tagged.
    #[cfg(test)]
    pub(crate) fn search_generation(&self) -> Result<i64> {
        generation(&self.conn).map_err(|e| Error::from_db(&self.path, e))
    }
}

fn generation(conn: &Connection) -> rusqlite::Result<i64> {
    conn.prepare_cached("SELECT generation FROM search_state")?
        .query_row([], |r| r.get(0))
}

/// A read-only connection for searching beside the writer (the HTTP server never writes the database).
pub(crate) struct SearchReader {
    conn: Connection,
    path: PathBuf,
}

impl SearchReader {
    /// Opens the database read-only; the writer must have created and migrated it.
    pub(crate) fn open(path: &Path) -> Result<SearchReader> {
        Ok(SearchReader {
            conn: super::open_read_only(path, Duration::from_secs(5))?,
            path: path.to_owned(),
        })
    }

    /// See [`Store::search`].
    pub(crate) fn search(
        &self,
        query: &Query,
        limit: usize,
        filtered_sources: &[String],
    ) -> Result<Vec<SearchHit>> {
        run(&self.conn, query, limit, filtered_sources).map_err(|e| Error::from_db(&self.path, e))
    }

    /// See [`Store::search_generation`].
    pub(crate) fn generation(&self) -> Result<i64> {
        generation(&self.conn).map_err(|e| Error::from_db(&self.path, e))
    }
}

#[cfg(test)]
#[path = "search_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "search_keys_tests.rs"]
mod keys_tests;
