//! Everything qafila keeps: sources' fetch state, items, and the stories items belong to, in one SQLite file.
//!
//! Only this module talks to the database. It runs in WAL mode with `synchronous = FULL`, so a committed
//! transaction survives a SIGKILL or a power cut, and readers (the CLI's `stories`, `sources`) never block the
//! writer. The schema is an append-only list of migrations checked against `PRAGMA user_version` and applied in
//! one transaction (after cargo's `util/sqlite.rs`); a database from a newer qafila is refused rather than
//! misread. All writes of one fetched source are in one transaction (`ingest`), never one per item; the fetches
//! of several sources that are ready together share one (`begin_group`, used by the writer's group commit): one
//! sync of the log for all of them, each source's items and fetch state still committed together. `synchronous`
//! stays `FULL`: a poll is reported stored only once its commit is durable, and grouping already takes the sync
//! off the per-source path, so `NORMAL` (which may lose the last commits on a power cut) would buy little.

mod day;
mod delivered;
mod ingest;
mod known;
mod maintenance;
mod query;
mod search;
mod search_rows;
mod space;
mod writer_lock;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};

use crate::error::{Error, Result};

pub(crate) use crate::model::RegionTags;
pub(crate) use day::DayReader;
pub(crate) use ingest::register_sources;
#[cfg(test)]
pub(crate) use ingest::EachItemItsOwnStory;
pub(crate) use ingest::{
    Discovery, FetchRecord, IncomingItem, IngestCounts, IngestGroup, StateChange, StoryPlacer,
};
pub(crate) use known::KnownReader;
pub(crate) use maintenance::{restore, PruneReport};
pub(crate) use query::{retag_in, SourceState, StoredItem, StoredStory, WindowItem};
pub(crate) use search::{SearchHit, SearchReader};
pub(crate) use writer_lock::WriterLock;

/// The schema, one migration per entry. Append only: never edit or reorder a shipped entry.
const MIGRATIONS: &[&str] = &[
    // 1: sources, stories, items and which sources delivered which item.
    r#"
    CREATE TABLE sources (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        moved_to TEXT,
        redirect_candidate TEXT,
        redirect_streak INTEGER NOT NULL DEFAULT 0,
        etag TEXT,
        last_modified TEXT,
        last_status INTEGER,
        last_error TEXT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        last_attempt INTEGER,
        last_success INTEGER,
        next_due INTEGER
    );
    CREATE TABLE stories (
        id INTEGER PRIMARY KEY,
        guid TEXT NOT NULL UNIQUE,
        published INTEGER NOT NULL,
        created INTEGER NOT NULL,
        updated INTEGER NOT NULL
    );
    CREATE INDEX stories_published ON stories(published);
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        url_key TEXT UNIQUE,
        story_id INTEGER NOT NULL REFERENCES stories(id),
        source_id TEXT NOT NULL,
        guid TEXT,
        link TEXT,
        title TEXT NOT NULL,
        summary TEXT,
        content TEXT,
        author TEXT,
        published INTEGER,
        first_seen INTEGER NOT NULL,
        sort_time INTEGER NOT NULL,
        entities TEXT NOT NULL DEFAULT '',
        region_match INTEGER NOT NULL DEFAULT 1,
        gazetteer TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX items_story ON items(story_id, sort_time);
    CREATE INDEX items_sort_time ON items(sort_time);
    CREATE TABLE item_sources (
        source_id TEXT NOT NULL,
        source_key TEXT NOT NULL,
        item_id INTEGER NOT NULL REFERENCES items(id) ON DELETE CASCADE,
        first_seen INTEGER NOT NULL,
        PRIMARY KEY (source_id, source_key)
    ) WITHOUT ROWID;
    CREATE INDEX item_sources_item ON item_sources(item_id);
    "#,
    // 2: the feed found on a source's HTML page (feed discovery), polled instead of the page from then on.
    r#"
    ALTER TABLE sources ADD COLUMN discovered TEXT;
    "#,
    // 3: the full-text search index (store/search.rs): each item's time key, the contentless FTS5 table of folded
    // words, the tokenization it was built with and a generation counter, triggers that remove an item's row with
    // the item and count changes. Filled by `search::ensure_index` right after the migrations, in their transaction.
    r#"
    ALTER TABLE items ADD COLUMN search_key INTEGER;
    CREATE UNIQUE INDEX items_search_key ON items(search_key);
    CREATE VIRTUAL TABLE item_search USING fts5(
        title, body, entities,
        content = '', contentless_delete = 1,
        tokenize = "ascii tokenchars '.-_'"
    );
    CREATE TABLE search_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        version TEXT NOT NULL,
        generation INTEGER NOT NULL
    );
    INSERT INTO search_state (id, version, generation) VALUES (1, '', 0);
    CREATE TRIGGER items_search_insert AFTER INSERT ON items BEGIN
        UPDATE search_state SET generation = generation + 1;
    END;
    CREATE TRIGGER items_search_delete AFTER DELETE ON items BEGIN
        DELETE FROM item_search WHERE rowid = old.search_key;
        UPDATE search_state SET generation = generation + 1;
    END;
    CREATE TRIGGER items_search_update AFTER UPDATE OF entities, region_match ON items BEGIN
        UPDATE search_state SET generation = generation + 1;
    END;
    "#,
    // 4: each item's pictures, sound and video (`model::Media` as a JSON array; a handful per item, read only
    // with the item, so a column rather than a table).
    r#"
    ALTER TABLE items ADD COLUMN media TEXT NOT NULL DEFAULT '[]';
    "#,
    // 5: a search match is resolved to its story from the index alone: an item row holds its text before
    // `region_match`, so reading the row meant walking its overflow pages for every match streamed.
    r#"
    DROP INDEX items_search_key;
    CREATE INDEX items_search_key ON items(search_key, story_id, region_match, source_id);
    "#,
    // 6: ingest moves the search generation once per commit (`IngestGroup::commit`) instead of a trigger once per
    // inserted item: a trigger makes every item insert a multi-statement write, which SQLite journals page by
    // page in case it must undo it — a tenth of the writer's time, for a counter that readers only compare.
    r#"
    DROP TRIGGER items_search_insert;
    "#,
    // 7: the boilerplate words dropped from an item's matching tokens when it was stored (`dedup::Dropped`, token
    // forms separated by spaces; NULL for none), so that its features are the same when the story index is
    // rebuilt or `explain` looks at it: they were decided from the document it came in, which is gone.
    r#"
    ALTER TABLE items ADD COLUMN boilerplate TEXT;
    "#,
    // 8: `stories` without the UNIQUE index on `guid`. Guids are hashes, so every new story landed on a random
    // page of that index (the largest share of the pages a poll round's commits wrote) for a lookup nothing
    // needs: a guid is derived from its first item's key, which is itself unique while that item is stored (see
    // `ingest`). Only retention can remove the first item of a story that lives on; `story_origins` records
    // those stories (`prune`), so that the item, should a feed bring it again, rejoins its story rather than
    // start a second one under the same guid. (Rebuilding the table is SQLite's way to drop a constraint; see
    // `migrate` for the foreign keys.)
    r#"
    CREATE TABLE stories_v8 (
        id INTEGER PRIMARY KEY,
        guid TEXT NOT NULL,
        published INTEGER NOT NULL,
        created INTEGER NOT NULL,
        updated INTEGER NOT NULL
    );
    INSERT INTO stories_v8 (id, guid, published, created, updated)
        SELECT id, guid, published, created, updated FROM stories;
    DROP TABLE stories;
    ALTER TABLE stories_v8 RENAME TO stories;
    CREATE INDEX stories_published ON stories(published);
    CREATE TABLE story_origins (
        guid TEXT PRIMARY KEY,
        story_id INTEGER NOT NULL REFERENCES stories(id) ON DELETE CASCADE
    ) WITHOUT ROWID;
    CREATE INDEX story_origins_story ON story_origins(story_id);
    "#,
    // 9: which gazetteer the stored items' region tags come from, once for the database (`tagging`) rather than
    // a 64-character fingerprint in every item (`items.gazetteer`, no longer written or read): every item is
    // tagged with the same one, as `retag` re-evaluates all of them in one transaction when it changes and
    // ingest marks the database for re-evaluation if it ever stores items tagged with another. Opening the
    // database then compares one row instead of scanning every item for stale fingerprints. Items tagged with
    // more than one gazetteer (or never) so far leave it unknown (''), so that the next start re-tags them all.
    r#"
    CREATE TABLE tagging (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        gazetteer TEXT NOT NULL
    );
    INSERT INTO tagging (id, gazetteer)
        SELECT 1, CASE WHEN COUNT(DISTINCT gazetteer) = 1 THEN MIN(gazetteer) ELSE '' END FROM items;
    "#,
    // 10: the boilerplate words of migration 7 stored once per distinct list (`boilerplates`), each item pointing
    // at its list (`items.boilerplate_id`). An outlet's items share one list, and a copy in every item was a fifth
    // of the items table: bytes the single writer copied, inserted and logged for each new item.
    // `items.boilerplate` is no longer written or read (NULL from here on). `last_seen` is the newest time of an
    // item pointing at the list, so that retention finds the lists no item uses any more within the range of
    // `items_sort_time` it prunes (`prune`), with no index on `boilerplate_id` for every insert to maintain.
    r#"
    CREATE TABLE boilerplates (
        id INTEGER PRIMARY KEY,
        words TEXT NOT NULL UNIQUE,
        last_seen INTEGER NOT NULL
    );
    ALTER TABLE items ADD COLUMN boilerplate_id INTEGER;
    INSERT INTO boilerplates (words, last_seen)
        SELECT boilerplate, MAX(sort_time) FROM items WHERE boilerplate IS NOT NULL GROUP BY boilerplate;
    UPDATE items SET boilerplate_id = (SELECT b.id FROM boilerplates b WHERE b.words = items.boilerplate),
        boilerplate = NULL
        WHERE boilerplate IS NOT NULL;
    "#,
];

/// The page size of a new database: 16 KiB rather than SQLite's 4 KiB. A commit writes every page it changed to
/// the log, one `pwrite` per page, and a poll round's items land all over the indexes keyed by hashes (URL, story
/// guid) and times, so a commit touches most of their pages whatever their size: with pages four times larger the
/// writer makes about a third of the log writes and syscalls for a third more bytes, and spends ~10 % less CPU
/// storing a 10 000-item round (`bench/poll_compare.py`). Larger pages bring no more (32 KiB) or cost more
/// (64 KiB: whole pages rewritten for a few changed rows).
const PAGE_SIZE: u32 = 16 * 1024;

/// An open database.
pub(crate) struct Store {
    conn: Connection,
    path: PathBuf,
    /// The search keys ingest took, kept from one transaction to the next (see `search::TakenKeys`).
    search_keys: search::TakenKeys,
}

impl Store {
    /// Opens (creating it and its directory if needed) and migrates the database.
    pub(crate) fn open(path: &Path) -> Result<Store> {
        Store::open_and(path, |_| Ok(()))
    }

    /// [`Store::open`], doing `first` in the transaction that migrates the file, before it commits: what a start
    /// writes (the source list, the region tags) then shares one commit, one sync of the log, instead of one each
    /// (the first commit to a new file syncs it twice: the log's header, then its frames). Should `first` fail,
    /// nothing of it or of the migrations is committed.
    pub(crate) fn open_and(
        path: &Path,
        first: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<()>,
    ) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| Error::DatabaseDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        let db_err = |source| Error::from_db(path, source);
        let mut conn = Connection::open(path).map_err(db_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db_err)?;
        // Ingest alone keeps about 15 statements prepared (`prepare_cached`); the default cache of 16 would
        // evict and re-prepare them as soon as a query or maintenance statement came between two fetches.
        conn.set_prepared_statement_cache_capacity(64);
        // `page_size` takes effect only on a new, empty database (before WAL mode is set); an existing file keeps
        // the size it was created with. See `PAGE_SIZE`.
        conn.execute_batch(&format!("PRAGMA page_size = {PAGE_SIZE};"))
            .map_err(db_err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             PRAGMA foreign_keys = OFF;",
        )
        .map_err(db_err)?;
        migrate(&mut conn, path, first)?;
        conn.execute_batch("PRAGMA foreign_keys = ON;")
            .map_err(db_err)?;
        Ok(Store {
            conn,
            path: path.to_owned(),
            search_keys: search::TakenKeys::default(),
        })
    }

    /// Closes the database file for a process that is done with it (`qafila poll`), saying whether it went well,
    /// and leaves the log (`-wal`) for the next open to read instead of checkpointing it into the file first.
    ///
    /// Skipping that checkpoint is safe: with `synchronous = FULL` every commit was fsynced into the log before it
    /// was reported, so the log already holds every committed transaction durably, and the next connection to open
    /// the file (the next `poll`, the daemon, the read-only CLI views, `backup`) reads it — SQLite rebuilds its
    /// index of the log from the log itself when no connection has it open — and sees exactly what was committed.
    /// A checkpoint would copy every page of the round into the file and fsync it: at the end of a first round of
    /// 10 000 items, the longest part of `poll`'s tail, and work the next writer does anyway, once the log has grown
    /// to SQLite's automatic checkpoint (every 1 000 pages), or the daemon's daily maintenance
    /// (`PRAGMA wal_checkpoint(TRUNCATE)`), each page once however many rounds changed it. (The daemon's writer
    /// is never closed this way: dropping it checkpoints as SQLite always does.)
    ///
    /// The store answers nothing afterwards (it is left on an empty in-memory database), so that the process can
    /// leave the rest of its memory to the OS.
    pub(crate) fn close(&mut self) -> Result<()> {
        let db_err = |source| Error::from_db(&self.path, source);
        let closed = Connection::open_in_memory().map_err(db_err)?;
        self.conn
            .set_db_config(
                rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
                true,
            )
            .map_err(db_err)?;
        std::mem::replace(&mut self.conn, closed)
            .close()
            .map_err(|(_, source)| db_err(source))
    }

    /// `PRAGMA integrity_check`: "ok" when the file is sound.
    #[cfg(test)]
    pub(crate) fn integrity_check(&self) -> Result<String> {
        self.conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| Error::from_db(&self.path, e))
    }

    /// Cheap liveness probe for `/healthz`.
    pub(crate) fn ping(&self) -> Result<()> {
        self.conn
            .query_row("SELECT 1", [], |_| Ok(()))
            .map_err(|e| Error::from_db(&self.path, e))
    }
}

/// The HTTP server's view of the database: a read-only connection that answers the health questions and nothing
/// else, so that "the server never writes the database" holds by type. Open it after the writer has created and
/// migrated the file.
pub(crate) struct HealthReader(Store);

/// A read-only connection for one of the HTTP server's readers (health, the day archive, search): it cannot write
/// the file. `busy` is how long a read waits behind the writer's commit before it fails.
pub(super) fn open_read_only(path: &Path, busy: std::time::Duration) -> Result<Connection> {
    let db_err = |source| Error::from_db(path, source);
    let conn = Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(db_err)?;
    conn.busy_timeout(busy).map_err(db_err)?;
    Ok(conn)
}

impl HealthReader {
    pub(crate) fn open(path: &Path) -> Result<HealthReader> {
        let conn = open_read_only(path, std::time::Duration::from_secs(10))?;
        Ok(HealthReader(Store {
            conn,
            path: path.to_owned(),
            search_keys: search::TakenKeys::default(),
        }))
    }

    /// See [`Store::ping`].
    pub(crate) fn ping(&self) -> Result<()> {
        self.0.ping()
    }

    /// See [`Store::failing_among`].
    pub(crate) fn failing_among(&self, ids: &[String]) -> Result<usize> {
        self.0.failing_among(ids)
    }

    /// See [`Store::counts`].
    pub(crate) fn counts(&self) -> Result<(u64, u64)> {
        self.0.counts()
    }
}

fn migrate(
    conn: &mut Connection,
    path: &Path,
    first: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<()>,
) -> Result<()> {
    let db_err = |source| Error::from_db(path, source);
    let known = MIGRATIONS.len() as i64;
    let tx = conn
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let version: i64 = tx
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(db_err)?;
    if version > known {
        return Err(Error::DatabaseTooNew {
            path: path.to_owned(),
            found: version,
            known,
        });
    }
    // Foreign keys are enforced from the end of `migrate` on (`Store::open` turns them off until then, as the bundled
    // SQLite starts with them on): a migration that rebuilds a table
    // drops the old one while other tables still refer to it, which an enforcing connection refuses (or turns
    // into a cascade). Whether every reference still holds is checked here, before the migrations commit.
    for migration in &MIGRATIONS[version as usize..] {
        tx.execute_batch(migration).map_err(db_err)?;
    }
    if version < known {
        let broken: Option<String> = tx
            .query_row(
                "SELECT \"table\" FROM pragma_foreign_key_check LIMIT 1",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(db_err)?;
        if let Some(table) = broken {
            return Err(Error::Internal(format!(
                "upgrading {} left rows of table {table} pointing at missing rows; nothing was changed",
                path.display()
            )));
        }
    }
    // Migration 8 counts on `story_origins` naming every story whose first item is gone (see `ingest`), but the
    // retention of older versions recorded none: a database coming through it has them looked up once here.
    if version < STORY_ORIGINS_SINCE && known >= STORY_ORIGINS_SINCE {
        let found = remember_story_origins(&tx).map_err(db_err)?;
        if found > 0 {
            tracing::info!(
                stories = found,
                "recorded stories whose first item was pruned"
            );
        }
    }
    // Data that needs Rust to compute (folded words) is filled here, in the migrations' transaction; this also
    // rebuilds the index when the folding changed since it was built.
    if let Some(items) = search::ensure_index(&tx).map_err(db_err)? {
        tracing::info!(items, "built the search index");
    }
    if version < known {
        tx.pragma_update(None, "user_version", known)
            .map_err(db_err)?;
    }
    first(&tx)?;
    tx.commit().map_err(db_err)
}

/// The schema version from which `story_origins` exists (migration 8).
const STORY_ORIGINS_SINCE: i64 = 8;

/// Records in `story_origins` every story none of whose stored items has the key its guid was derived from (the
/// first item, pruned by an older version's retention while the story lived on), so that this item, brought
/// again, rejoins its story instead of starting a second one under the same guid. A story's first item, while it
/// is stored, is its item with the smallest id (rowids only grow while it is there), so only that item's keys are
/// compared: its URL key, else its source and its key there. Returns how many stories were recorded.
fn remember_story_origins(tx: &rusqlite::Transaction) -> rusqlite::Result<usize> {
    let mut lost: Vec<(String, i64)> = Vec::new();
    {
        let mut first_items = tx.prepare(
            "SELECT s.id, s.guid, i.url_key, i.source_id, x.source_key FROM stories s
             LEFT JOIN items i ON i.id = (SELECT MIN(id) FROM items WHERE story_id = s.id)
             LEFT JOIN item_sources x ON x.item_id = i.id AND x.source_id = i.source_id
             ORDER BY s.id",
        )?;
        let mut rows = first_items.query([])?;
        // (story, guid, whether a key of its first item gives that guid)
        let mut current: Option<(i64, String, bool)> = None;
        while let Some(r) = rows.next()? {
            let (story, guid): (i64, String) = (r.get(0)?, r.get(1)?);
            let key = match (
                r.get::<_, Option<String>>(2)?,
                r.get::<_, Option<String>>(3)?,
            ) {
                (Some(url_key), _) => Some(url_key),
                (None, Some(source)) => r
                    .get::<_, Option<String>>(4)?
                    .map(|source_key| format!("{source}/{source_key}")),
                (None, None) => None,
            };
            let derived = key.is_some_and(|k| crate::identity::story_guid(&k) == guid);
            match &mut current {
                Some((id, _, found)) if *id == story => *found |= derived,
                _ => {
                    if let Some((id, guid, false)) = current.take() {
                        lost.push((guid, id));
                    }
                    current = Some((story, guid, derived));
                }
            }
        }
        if let Some((id, guid, false)) = current {
            lost.push((guid, id));
        }
    }
    let mut record =
        tx.prepare("INSERT OR IGNORE INTO story_origins (guid, story_id) VALUES (?1, ?2)")?;
    for (guid, story) in &lost {
        record.execute(rusqlite::params![guid, story])?;
    }
    Ok(lost.len())
}

/// Seconds since the epoch, the unit of every time column.
fn to_secs(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp()
}

fn from_secs(s: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(s, 0).unwrap_or_default()
}

#[cfg(test)]
mod tests;

#[cfg(test)]
#[path = "wal_tests.rs"]
mod wal_tests;

#[cfg(test)]
#[path = "boilerplates_tests.rs"]
mod boilerplates_tests;
