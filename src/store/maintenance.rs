//! Keeping the database small and safe: pruning old items, `PRAGMA optimize` with a WAL checkpoint, online
//! backups and restoring one.
//!
//! Pruning never touches a story that is still in a published feed, so a reader never sees an item vanish from a
//! feed it is polling. Backups use SQLite's online backup API in one step: the copy is one read transaction, so it
//! is a consistent snapshot even while the daemon keeps writing (WAL readers never block the writer). A backup is
//! written beside its destination and only then linked into place, so an interrupted backup never leaves a
//! half-written file under the name the operator asked for. Restoring replaces the live file and therefore needs
//! the daemon stopped; it validates the backup before touching anything.

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::backup::{Backup, StepResult};
use rusqlite::{params, Connection, ErrorCode, OpenFlags, TransactionBehavior};

use super::{to_secs, Store, MIGRATIONS};
use crate::error::{Error, Result};

/// What one `prune` removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub items: usize,
    pub stories: usize,
}

/// How often a backup step that found the source busy is retried (50 ms apart). In WAL mode a reader is only
/// ever busy while another connection recovers the WAL, which takes milliseconds.
const BACKUP_BUSY_RETRIES: u32 = 200;

impl Store {
    /// Deletes items older than `cutoff` (by sort_time) and stories left without items — but never an item of a
    /// story in `keep_story_guids` (the stories currently in a published feed) — all in one transaction.
    ///
    /// `item_sources` rows go with their items, `story_origins` rows with their stories (ON DELETE CASCADE). A story that keeps some of its items gets its
    /// `published` recomputed as the earliest remaining item, the invariant `ingest` maintains. The caller must
    /// not hold story ids of pruned stories afterwards (the daemon's story index): keep `cutoff` older than the
    /// dedup window, or rebuild the index after pruning.
    pub(crate) fn prune(
        &mut self,
        cutoff: DateTime<Utc>,
        keep_story_guids: &[String],
    ) -> Result<PruneReport> {
        let path = self.path.clone();
        let e = |source| Error::from_db(&path, source);
        let keep = serde_json::to_string(keep_story_guids).expect("strings serialize");
        let cutoff = to_secs(cutoff);
        // Immediate: take the write lock up front rather than fail half-way on a busy upgrade.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(e)?;
        // Cascading deletes silently do nothing without this; it is on per connection in `open`, but a prune
        // that leaves orphan `item_sources` rows would make those entries "seen" forever, so check.
        let fk: bool = tx
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .map_err(e)?;
        if !fk {
            return Err(Error::Internal(
                "foreign keys are off; refusing to prune".into(),
            ));
        }
        // Only a story whose earliest item is older than the cutoff can lose items, and its `published` (that
        // earliest item's time) is then older than the cutoff too: this bounds every statement to a range of
        // `stories_published` (there is no index on guids, see migration 8).
        // A story that loses items but lives on may lose the first one, whose key its guid was derived from:
        // recorded, so that this item rejoins the story if a feed brings it again (`ingest`).
        tx.execute(
            "INSERT OR IGNORE INTO story_origins (guid, story_id)
             SELECT s.guid, s.id FROM stories s
             WHERE s.published < ?1 AND s.guid NOT IN (SELECT value FROM json_each(?2))
               AND EXISTS (SELECT 1 FROM items i WHERE i.story_id = s.id AND i.sort_time >= ?1)",
            params![cutoff, keep],
        )
        .map_err(e)?;
        let items = tx
            .execute(
                "DELETE FROM items WHERE sort_time < ?1 AND story_id NOT IN
                     (SELECT id FROM stories WHERE published < ?1 AND guid IN (SELECT value FROM json_each(?2)))",
                params![cutoff, keep],
            )
            .map_err(e)?;
        // The boilerplate lists no item points at any more: every item pointing at a list is at most as new as
        // its `last_seen`, so one older than the cutoff can be used only by an item older than the cutoff, which
        // after the deletion above is one of a kept story (migration 10).
        tx.execute(
            "DELETE FROM boilerplates WHERE last_seen < ?1 AND id NOT IN
                 (SELECT boilerplate_id FROM items WHERE sort_time < ?1 AND boilerplate_id IS NOT NULL)",
            [cutoff],
        )
        .map_err(e)?;
        let stories = tx
            .execute(
                "DELETE FROM stories WHERE published < ?1
                     AND NOT EXISTS (SELECT 1 FROM items i WHERE i.story_id = stories.id)",
                [cutoff],
            )
            .map_err(e)?;
        tx.execute(
            "UPDATE stories SET published = (SELECT MIN(i.sort_time) FROM items i WHERE i.story_id = stories.id)
             WHERE published < ?1
               AND published <> (SELECT MIN(i.sort_time) FROM items i WHERE i.story_id = stories.id)",
            [cutoff],
        )
        .map_err(e)?;
        tx.commit().map_err(e)?;
        Ok(PruneReport { items, stories })
    }

    /// `PRAGMA optimize` and `PRAGMA wal_checkpoint(TRUNCATE)`. A checkpoint that a reader kept from finishing
    /// is not an error: the next one catches up.
    pub(crate) fn optimize(&mut self) -> Result<()> {
        let e = |source| Error::from_db(&self.path, source);
        self.conn.execute_batch("PRAGMA optimize;").map_err(e)?;
        let (busy, log, done): (i64, i64, i64) = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(e)?;
        if busy != 0 {
            tracing::debug!(
                log,
                done,
                "WAL checkpoint could not finish while readers were active"
            );
        }
        Ok(())
    }

    /// A consistent copy of the live database at `dest`, safe while the daemon writes. Refuses to overwrite an
    /// existing file. Returns the bytes written.
    pub(crate) fn backup_to(&self, dest: &Path) -> Result<u64> {
        if dest.symlink_metadata().is_ok() {
            return Err(Error::Usage(format!(
                "{} already exists; a backup never overwrites a file: choose another name",
                dest.display()
            )));
        }
        let tmp = sibling(dest, "partial");
        let result = self.backup_into(&tmp, dest);
        let _ = std::fs::remove_file(&tmp);
        result
    }

    fn backup_into(&self, tmp: &Path, dest: &Path) -> Result<u64> {
        let io_err = |path: &Path| {
            let path = path.to_owned();
            move |source| Error::WriteOutput { path, source }
        };
        let db_err = |source| Error::from_db(tmp, source);
        // A leftover of a crashed backup with our pid would otherwise be backed up into, which is harmless, but
        // its stale journal would not be.
        for stale in [tmp.to_owned(), wal_of(tmp, "-journal")] {
            let _ = std::fs::remove_file(stale);
        }
        let mut to = Connection::open(tmp).map_err(db_err)?;
        {
            let backup = Backup::new(&self.conn, &mut to).map_err(db_err)?;
            let mut retries = 0;
            // -1: all pages in one step, i.e. one read transaction on the source, hence one snapshot. Copying in
            // slices would restart from scratch whenever the daemon commits between two slices.
            loop {
                match backup.step(-1).map_err(db_err)? {
                    StepResult::Done => break,
                    StepResult::More => {}
                    StepResult::Busy | StepResult::Locked if retries < BACKUP_BUSY_RETRIES => {
                        retries += 1;
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    StepResult::Busy | StepResult::Locked => {
                        return Err(Error::from_db(
                            &self.path,
                            rusqlite::Error::SqliteFailure(
                                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                                Some("the database stayed busy during the backup".into()),
                            ),
                        ))
                    }
                    // `StepResult` is non-exhaustive; any future variant is treated as progress.
                    _ => {}
                }
            }
        }
        // A rollback-journal file is self-contained: the backup is one file, with no -wal to forget when copying
        // it elsewhere. `Store::open` switches a restored copy back to WAL.
        let _: String = to
            .query_row("PRAGMA journal_mode = DELETE", [], |r| r.get(0))
            .map_err(db_err)?;
        to.close().map_err(|(_, e)| db_err(e))?;
        File::open(tmp)
            .and_then(|f| f.sync_all())
            .map_err(io_err(tmp))?;
        // A hard link, unlike a rename, fails instead of replacing a file that appeared at `dest` meanwhile.
        match std::fs::hard_link(tmp, dest) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(Error::Usage(format!(
                    "{} already exists; a backup never overwrites a file: choose another name",
                    dest.display()
                )))
            }
            // Filesystems without hard links: rename after the existence check above.
            Err(_) => std::fs::rename(tmp, dest).map_err(io_err(dest))?,
        }
        sync_dir(dest).map_err(io_err(dest))?;
        Ok(std::fs::metadata(dest).map_err(io_err(dest))?.len())
    }

    /// Caps the size of the database file on this connection (`PRAGMA max_page_count`; `None` lifts the cap). A
    /// write that would grow it beyond fails like on a full disk. A cap below the current size holds it there.
    pub(crate) fn set_max_size(&self, bytes: Option<u64>) -> Result<()> {
        // SQLite's own default and largest value.
        const UNCAPPED: i64 = 4_294_967_294;
        let page: i64 = self
            .conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .map_err(|e| Error::from_db(&self.path, e))?;
        let pages = bytes.map_or(UNCAPPED, |b| {
            (i64::try_from(b).unwrap_or(i64::MAX) / page.max(1)).clamp(1, UNCAPPED)
        });
        self.conn
            .pragma_update_and_check(None, "max_page_count", pages, |r| r.get::<_, i64>(0))
            .map(|_| ())
            .map_err(|e| Error::from_db(&self.path, e))
    }

    /// Size in bytes of the database (page_count * page_size), without its WAL.
    pub(crate) fn size_bytes(&self) -> Result<u64> {
        self.conn
            .query_row(
                "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.max(0) as u64)
            .map_err(|e| Error::from_db(&self.path, e))
    }
}

/// Restore: checks `backup` opens, passes `PRAGMA integrity_check` and has a schema version this binary knows,
/// then copies it into place at `db_path` atomically (write beside, fsync, rename; stale -wal/-shm removed
/// first). The daemon must be stopped: a database another connection holds open is refused with
/// `Error::DatabaseInUse`. On any error before the rename the current database is untouched.
pub(crate) fn restore(backup: &Path, db_path: &Path) -> Result<()> {
    let refuse = |reason: String| Error::Restore {
        backup: backup.to_owned(),
        reason,
    };
    if !backup.is_file() {
        return Err(refuse("no such file".into()));
    }
    if let Some(dir) = db_path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| Error::DatabaseDir {
            path: dir.to_owned(),
            source,
        })?;
    }
    // A running writer (`run`, `poll`, `prune`) holds this lock; holding it here also keeps one from starting
    // while the file is swapped.
    let _lock = super::WriterLock::acquire(db_path).map_err(|e| match e {
        Error::DatabaseLocked { .. } => Error::DatabaseInUse {
            path: db_path.to_owned(),
        },
        other => other,
    })?;
    ensure_unused(db_path)?;
    let tmp = sibling(db_path, "restore");
    let result = (|| {
        std::fs::copy(backup, &tmp)
            .and_then(|_| File::open(&tmp)?.sync_all())
            .map_err(|source| Error::WriteOutput {
                path: tmp.clone(),
                source,
            })?;
        // Check the copy, not the original: what is validated is exactly what gets renamed into place, and
        // opening the operator's backup could leave -wal/-shm files beside it.
        check_backup(&tmp).map_err(refuse)?;
        // Checked again right before the swap: the daemon may have been started while the copy was made.
        ensure_unused(db_path)?;
        // Old WAL frames must never be replayed onto the restored file, so they go first; losing them if we
        // crash right here is fine, as the file they belong to is being replaced anyway.
        for ext in ["-wal", "-shm"] {
            match std::fs::remove_file(wal_of(db_path, ext)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(Error::WriteOutput {
                        path: wal_of(db_path, ext),
                        source,
                    })
                }
            }
        }
        let io_err = |source| Error::WriteOutput {
            path: db_path.to_owned(),
            source,
        };
        std::fs::rename(&tmp, db_path).map_err(io_err)?;
        sync_dir(db_path).map_err(io_err)
    })();
    if result.is_err() {
        for path in [tmp.clone(), wal_of(&tmp, "-wal"), wal_of(&tmp, "-shm")] {
            let _ = std::fs::remove_file(path);
        }
    }
    result
}

/// Fails with `DatabaseInUse` when any other connection has `db_path` open. In WAL mode every open connection
/// keeps a shared lock on the file (even when idle), so an exclusive lock is only granted when nobody else —
/// such as a running daemon between two polls — has it open.
fn ensure_unused(db_path: &Path) -> Result<()> {
    if !db_path.exists() {
        return Ok(());
    }
    let db_err = |source| Error::from_db(db_path, source);
    let conn =
        Connection::open_with_flags(db_path, OpenFlags::SQLITE_OPEN_READ_WRITE).map_err(db_err)?;
    // A live daemon holds its lock for as long as it runs: waiting long would not help.
    conn.busy_timeout(Duration::from_millis(200))
        .map_err(db_err)?;
    let attempt = conn.execute_batch(
        "PRAGMA locking_mode = EXCLUSIVE;
         BEGIN EXCLUSIVE;
         COMMIT;",
    );
    match attempt {
        Ok(()) => conn.close().map_err(|(_, e)| db_err(e)),
        Err(e)
            if matches!(
                e.sqlite_error_code(),
                Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
            ) =>
        {
            Err(Error::DatabaseInUse {
                path: db_path.to_owned(),
            })
        }
        Err(e) => Err(db_err(e)),
    }
}

/// Why `path` is not a backup this binary can restore, if it is not.
fn check_backup(path: &Path) -> std::result::Result<(), String> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE)
        .map_err(|e| format!("it does not open as a database ({e})"))?;
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| format!("it is not a readable SQLite database ({e})"))?;
    if integrity != "ok" {
        return Err(format!("integrity check failed: {integrity}"));
    }
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    let known = MIGRATIONS.len() as i64;
    if version == 0 {
        return Err("it is not a qafila database (no schema version)".into());
    }
    if version > known {
        return Err(format!(
            "it was written by a newer qafila (schema version {version}, this binary knows up to {known})"
        ));
    }
    let tables: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM sqlite_schema WHERE type = 'table'
             AND name IN ('sources', 'stories', 'items', 'item_sources')",
            [],
            |r| r.get(0),
        )
        .map_err(|e| e.to_string())?;
    if tables != 4 {
        return Err("it is not a qafila database (tables missing)".into());
    }
    conn.close().map_err(|(_, e)| e.to_string())
}

/// A hidden file beside `path`, unique to this process.
fn sibling(path: &Path, what: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "qafila.db".into());
    path.with_file_name(format!(".{name}.{what}-{}", std::process::id()))
}

/// `path` with `ext` appended to its file name, as SQLite names its -wal, -shm and -journal files.
fn wal_of(path: &Path, ext: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(ext);
    PathBuf::from(s)
}

/// Makes a rename or link in `path`'s directory durable.
fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    File::open(dir)?.sync_all()
}

#[cfg(test)]
#[path = "maintenance_tests.rs"]
mod tests;
