//! The pipeline's read-only question to the store, asked before an entry's features are computed: did this source
//! deliver these entries before? On a read-only connection of its own, so that it never waits for (or holds up)
//! the writer: a read in WAL mode sees the last commit and blocks no one.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection};

use crate::error::{Error, Result};

/// A read-only connection that answers whether a source's entries are stored, and nothing else.
pub(crate) struct KnownReader {
    conn: Connection,
    path: PathBuf,
}

impl KnownReader {
    /// Opens the database read-only; the writer must have created and migrated it.
    pub(crate) fn open(path: &Path) -> Result<KnownReader> {
        Ok(KnownReader {
            conn: super::open_read_only(path, Duration::from_secs(1))?,
            path: path.to_owned(),
        })
    }

    /// Whether `source_id` delivered an entry under each of `keys` (its key within the source, as ingest stores it
    /// in `item_sources`). Stops at the first key it does not know (the rest are not even made): one indexed
    /// lookup per key until then.
    pub(crate) fn knows_all(
        &self,
        source_id: &str,
        keys: impl IntoIterator<Item = String>,
    ) -> Result<bool> {
        let e = |source| Error::from_db(&self.path, source);
        let mut known = self
            .conn
            .prepare_cached("SELECT 1 FROM item_sources WHERE source_id = ?1 AND source_key = ?2")
            .map_err(e)?;
        for key in keys {
            if !known.exists(params![source_id, key]).map_err(e)? {
                return Ok(false);
            }
        }
        Ok(true)
    }
}
