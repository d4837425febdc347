//! The day archive's reads: the stories of one UTC day and the nearest days before and after it that have any,
//! on a read-only connection of the HTTP server's own.
//!
//! A story belongs to the day of its `published` time (the date the feeds and pages show for it), so every
//! question here is a range on the `stories_published` index, never a scan of the table: the day's stories are one
//! bounded range, and the previous or next day with stories is the first visible story met walking the index away
//! from the day. Visibility is the main feed's rule (`Store::latest_stories`): a story shows when one of its items
//! is about the region or comes from a source without the region filter.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::query::{fill_visible_items, story_from_row, VISIBLE};
use super::{from_secs, to_secs, StoredStory};
use crate::error::{Error, Result};

/// The day's stories, newest first: one range of `stories_published`.
fn stories_sql() -> String {
    format!(
        "SELECT s.id, s.guid, s.published FROM stories s
         WHERE s.published >= ?2 AND s.published < ?3
           AND EXISTS (SELECT 1 FROM items i WHERE i.story_id = s.id AND {VISIBLE})
         ORDER BY s.published DESC, s.id DESC LIMIT ?4"
    )
}

/// The newest visible story before `?2`, walking `stories_published` backwards.
fn before_sql() -> String {
    format!(
        "SELECT s.published FROM stories s
         WHERE s.published < ?2 AND EXISTS (SELECT 1 FROM items i WHERE i.story_id = s.id AND {VISIBLE})
         ORDER BY s.published DESC LIMIT 1"
    )
}

/// The oldest visible story at or after `?2`, walking `stories_published` forwards.
fn from_sql() -> String {
    format!(
        "SELECT s.published FROM stories s
         WHERE s.published >= ?2 AND EXISTS (SELECT 1 FROM items i WHERE i.story_id = s.id AND {VISIBLE})
         ORDER BY s.published ASC LIMIT 1"
    )
}

/// The archive's read-only connection: it can read the day pages' stories and nothing else, and it cannot write
/// (the file is opened read-only), so the server keeps its promise never to write the database by type.
pub(crate) struct DayReader {
    conn: Connection,
    path: PathBuf,
}

/// One day's stories and where a reader goes from there.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DayStories {
    /// Newest first, at most the limit asked for.
    pub stories: Vec<StoredStory>,
    /// Whether the day has more stories than were read.
    pub truncated: bool,
    /// The time of the newest visible story before the day, if any.
    pub before: Option<DateTime<Utc>>,
    /// The time of the oldest visible story after the day, if any.
    pub after: Option<DateTime<Utc>>,
}

impl DayReader {
    /// Opens the database read-only; the writer must have created and migrated it.
    pub(crate) fn open(path: &Path) -> Result<DayReader> {
        Ok(DayReader {
            conn: super::open_read_only(path, Duration::from_secs(5))?,
            path: path.to_owned(),
        })
    }

    /// The store's change counter (moved by every stored, pruned or re-tagged item): a page rendered at one
    /// generation is still right while it stays.
    pub(crate) fn generation(&self) -> Result<i64> {
        self.conn
            .prepare_cached("SELECT generation FROM search_state")
            .and_then(|mut s| s.query_row([], |r| r.get(0)))
            .map_err(|e| Error::from_db(&self.path, e))
    }

    /// The visible stories published in `[from, to)` (newest first, at most `limit`), and the times of the
    /// nearest visible stories before `from` and at or after `to`. One read transaction, so the three answers agree
    /// even while the writer commits.
    pub(crate) fn day(
        &mut self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: usize,
        filtered_sources: &[String],
    ) -> Result<DayStories> {
        let path = self.path.clone();
        let e = |source| Error::from_db(&path, source);
        let filtered = serde_json::to_string(filtered_sources).expect("strings serialize");
        let tx = self.conn.transaction().map_err(e)?;
        let mut stories: Vec<StoredStory> = tx
            .prepare_cached(&stories_sql())
            .map_err(e)?
            .query_map(
                params![filtered, to_secs(from), to_secs(to), limit as i64 + 1],
                story_from_row,
            )
            .map_err(e)?
            .collect::<rusqlite::Result<_>>()
            .map_err(e)?;
        let truncated = stories.len() > limit;
        stories.truncate(limit);
        fill_visible_items(&tx, &mut stories, &filtered).map_err(e)?;
        let nearest = |sql: &str, at: DateTime<Utc>| {
            tx.prepare_cached(sql)?
                .query_row(params![filtered, to_secs(at)], |r| r.get::<_, i64>(0))
                .optional()
                .map(|t| t.map(from_secs))
        };
        let before = nearest(&before_sql(), from).map_err(e)?;
        let after = nearest(&from_sql(), to).map_err(e)?;
        drop(tx);
        Ok(DayStories {
            stories,
            truncated,
            before,
            after,
        })
    }
}

#[cfg(test)]
#[path = "day_tests.rs"]
mod tests;
