//! Where the database's bytes go, table by table and index by index (SQLite's `dbstat` table, which the bundled
//! SQLite is built with): the search bench reports the search index's share of the database from it.

use super::Store;
use crate::error::{Error, Result};

impl Store {
    /// Bytes of pages held by each table and index (FTS5 shadow tables under their own names), by name.
    pub(crate) fn space_by_name(&self) -> Result<Vec<(String, u64)>> {
        let e = |source| Error::from_db(&self.path, source);
        let mut stmt = self
            .conn
            .prepare("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY name")
            .map_err(e)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .map_err(e)?;
        rows.map(|row| row.map(|(name, bytes)| (name, bytes.max(0) as u64)))
            .collect::<rusqlite::Result<_>>()
            .map_err(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_byte_of_the_file_belongs_to_a_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("q.db")).unwrap();
        let space = store.space_by_name().unwrap();
        let total: u64 = space.iter().map(|(_, b)| b).sum();
        assert_eq!(total, store.size_bytes().unwrap());
        for name in ["items", "item_search_data", "items_search_key"] {
            assert!(
                space.iter().any(|(n, b)| n == name && *b > 0),
                "{name}: {space:?}"
            );
        }
    }
}
