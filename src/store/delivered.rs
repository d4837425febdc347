//! Ingest's first question about each entry of a fetch: did the source deliver it before, and else did another
//! source (the same URL)?
//!
//! **Why a source's first fetch asks only about the URL.** Asking both is the most a first poll asks of the store
//! per entry after the inserts: in a 10 000-item first round ~7 300 instructions an entry (one statement with both
//! lookups as subqueries), where the URL lookup alone is ~3 000. A source that has delivered nothing (one query a
//! fetch) can only have delivered an entry earlier in this same fetch (a feed may list one twice), which the fetch
//! remembers itself.
//!
//! **Why two statements otherwise.** A later fetch of a source that is not wholly known (the pipeline skips those)
//! mostly brings entries the source delivered before: asked one statement at a time, such an entry costs the
//! source's lookup alone (~4 900 instructions, where the one statement with both subqueries cost ~8 300), and a
//! new one costs the same either way (both measured over a 10 000-item round's entries).

use rusqlite::{params, CachedStatement, OptionalExtension, Transaction};
use rustc_hash::FxHashSet;

/// What the store knows of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Known {
    /// Neither the source nor, by URL, another one delivered it.
    New,
    /// The source delivered it before.
    FromThisSource,
    /// Another source delivered the item of this id (the same URL).
    SameUrl(i64),
}

/// Asks [`Known`] for the entries of one fetch of one source, in the caller's transaction.
pub(super) struct Delivered<'a> {
    source_id: &'a str,
    ask: Ask<'a>,
}

enum Ask<'a> {
    /// The source has delivered entries before: ask the store about the source's key, then about the URL.
    Both {
        here: CachedStatement<'a>,
        url: CachedStatement<'a>,
    },
    /// The source had delivered nothing when the fetch began: ask the store about the URL, and remember the
    /// source's keys this fetch stored.
    UrlOnly {
        url: CachedStatement<'a>,
        stored: FxHashSet<&'a str>,
    },
}

impl<'a> Delivered<'a> {
    pub(super) fn new(tx: &'a Transaction, source_id: &'a str) -> rusqlite::Result<Delivered<'a>> {
        let any: bool = tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM item_sources WHERE source_id = ?1)")?
            .query_row([source_id], |r| r.get(0))?;
        let url = tx.prepare_cached("SELECT id FROM items WHERE url_key = ?1")?;
        let ask = match any {
            true => Ask::Both {
                here: tx.prepare_cached(
                    "SELECT 1 FROM item_sources WHERE source_id = ?1 AND source_key = ?2",
                )?,
                url,
            },
            false => Ask::UrlOnly {
                url,
                stored: FxHashSet::default(),
            },
        };
        Ok(Delivered { source_id, ask })
    }

    /// What the store knows of the entry `source_key` (with `url_key`) of this fetch's source.
    pub(super) fn known(
        &mut self,
        source_key: &str,
        url_key: Option<&str>,
    ) -> rusqlite::Result<Known> {
        let (here, url) = match &mut self.ask {
            Ask::Both { here, url } => (here.exists(params![self.source_id, source_key])?, url),
            Ask::UrlOnly { url, stored } => (stored.contains(source_key), url),
        };
        if here {
            return Ok(Known::FromThisSource);
        }
        let same_url = match url_key {
            Some(url_key) => url.query_row([url_key], |r| r.get(0)).optional()?,
            None => None,
        };
        Ok(same_url.map_or(Known::New, Known::SameUrl))
    }

    /// The source's entry `source_key` is now stored (an `item_sources` row of this fetch).
    pub(super) fn stored(&mut self, source_key: &'a str) {
        if let Ask::UrlOnly { stored, .. } = &mut self.ask {
            stored.insert(source_key);
        }
    }
}
