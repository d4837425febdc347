//! Fetches that bring nothing new: a poll each of whose entries its source delivered before is stored as its fetch
//! record alone, without computing the entries' features (most of the CPU of preparing a fetch) or handing the
//! entries to the writer.
//!
//! Nothing stored changes. Ingest stores nothing of an entry whose key it finds under its source: it counts the
//! entry `seen` and goes on, whatever changed in it (`store::ingest`), so such a fetch stores only its fetch record
//! either way. As soon as one entry is not known so — new, or known only by its URL from another source (ingest
//! records that this source carries it too) — the fetch is prepared as before, all of its entries together: an
//! outlet's boilerplate is learnt from every entry of the fetch (`dedup::Boilerplate`).
//!
//! The question is asked on read-only connections of their own ([`KnownReader`]), never the writer's: it neither
//! waits for the group being stored nor delays it. An entry known when asked but pruned before the fetch record is
//! stored is not stored again by this fetch; the next fetch finds it unknown and stores it, as it would had the
//! prune come right after this fetch. Should the question fail (the file cannot be opened, a read is refused), the
//! fetch is prepared as before.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::model::ParsedItem;
use crate::store::KnownReader;

/// Read-only connections for the question, opened when first needed and kept (one per fetch asking at once: at
/// most the CPU slots, since the question is asked in one).
pub(crate) struct KnownEntries {
    path: PathBuf,
    idle: Mutex<Vec<KnownReader>>,
    /// Fetches found stored already, so left unprepared.
    unprepared: AtomicUsize,
}

impl KnownEntries {
    pub(crate) fn new(database: &Path) -> KnownEntries {
        KnownEntries {
            path: database.to_owned(),
            idle: Mutex::new(Vec::new()),
            unprepared: AtomicUsize::new(0),
        }
    }

    /// Whether `source_id` delivered every one of `entries` before; `false` when there are none, or when it cannot
    /// be told.
    pub(crate) fn all_known(&self, source_id: &str, entries: &[ParsedItem]) -> bool {
        if entries.is_empty() {
            return false;
        }
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let reader = match idle.map_or_else(|| KnownReader::open(&self.path), Ok) {
            Ok(reader) => reader,
            Err(e) => {
                tracing::debug!(error = %e, "cannot ask which entries are stored; preparing them all");
                return false;
            }
        };
        let known = reader.knows_all(source_id, entries.iter().map(super::entry_key));
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(reader);
        }
        let known = known.unwrap_or_else(|e| {
            tracing::debug!(error = %e, "cannot ask which entries are stored; preparing them all");
            false
        });
        if known {
            self.unprepared.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(
                source = source_id,
                entries = entries.len(),
                "every entry is stored already"
            );
        }
        known
    }

    /// How many fetches were found stored already.
    #[cfg(test)]
    pub(crate) fn unprepared(&self) -> usize {
        self.unprepared.load(Ordering::Relaxed)
    }

    /// Closes the connections, before the writer's: SQLite checkpoints and removes the log when the last
    /// connection to the file closes (the daemon's engine when dropped: see `Engine`'s fields), and `qafila poll`
    /// is done with the file once its writer is closed (see `Store::close`).
    pub(crate) fn close(&self) {
        if let Ok(mut idle) = self.idle.lock() {
            idle.clear();
        }
    }
}
