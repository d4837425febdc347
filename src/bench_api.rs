//! The few doors benchmarks need into the private store and search: open a database, store a source's batch
//! through the real ingest path (one transaction, every item indexed for search as the daemon does it), run a
//! query as `qafila search` does, and see how the database's bytes split between tables and the search index.
//! `benches/search.rs` builds a million items with it and measures query latency and the index's share; the
//! search's word-form tests (`search/forms_tests.rs`) store their items through it too.
//!
//! Why a small always-built module rather than making `store`/`search` public or gating this behind a cargo
//! feature: the store's types (`IncomingItem`, `FetchRecord`, `StoryPlacer`, the query's compiled form) are
//! internal and keep changing with the writer; exposing them would make every such change a public API change.
//! A feature would have to be named on every `cargo bench`, and `cargo clippy --all-targets` / `cargo bench
//! --no-run` without it would silently skip the bench, so it would rot unnoticed. This module is a thin wrapper
//! (no logic of its own beyond deriving item keys the way the poller does), compiled and checked with the
//! library. It is not a stable interface for other programs: it follows what the benches need.

pub mod feeds;

use std::path::Path;

use chrono::{DateTime, Utc};

use crate::error::{Error, Result};
use crate::identity;
use crate::model::{ParsedItem, RegionTags};
use crate::regions::Gazetteer;
use crate::store::{FetchRecord, IncomingItem, Store, StoryPlacer};

/// One entry of a source's batch, with the story it joins.
#[derive(Debug, Clone)]
pub struct BenchItem {
    /// The entry as a feed parser delivers it; its identity keys and date are derived as the poller derives them.
    pub item: ParsedItem,
    /// The region ids it mentions and whether it is about the region (the bench decides, not the matcher).
    pub tags: RegionTags,
    /// An existing story to join (an id an earlier [`BenchStore::ingest`] returned), or `None` for a new story.
    pub joins: Option<i64>,
}

/// Bytes of the database and where they are, from SQLite's `dbstat` (pages, so free space inside them counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpaceReport {
    /// The whole main database file (without its WAL).
    pub database: u64,
    /// The FTS5 full-text index (all its shadow tables).
    pub fulltext: u64,
    /// The index resolving a full-text match (its time key) to the item's story.
    pub key_index: u64,
    /// The items table (titles, summaries, contents).
    pub items: u64,
}

impl SpaceReport {
    /// The search index: the full-text index plus the key index.
    pub fn search_index(&self) -> u64 {
        self.fulltext + self.key_index
    }

    /// The search index's share of the database, in percent.
    pub fn search_share_percent(&self) -> f64 {
        100.0 * self.search_index() as f64 / self.database.max(1) as f64
    }
}

/// A qafila database opened for building and querying by a benchmark.
pub struct BenchStore {
    store: Store,
    gazetteer: Gazetteer,
}

impl BenchStore {
    /// Opens (creating and migrating) the database at `path`, with the built-in gazetteer for queries.
    pub fn open(path: &Path) -> Result<BenchStore> {
        Ok(BenchStore {
            store: Store::open(path)?,
            gazetteer: Gazetteer::builtin(),
        })
    }

    /// Registers sources by id (each with a placeholder feed URL), so that batches can be stored for them.
    pub fn add_sources(&mut self, ids: &[&str]) -> Result<()> {
        let urls: Vec<String> = ids
            .iter()
            .map(|id| format!("https://{id}.invalid/feed"))
            .collect();
        self.store
            .sync_sources(ids.iter().copied().zip(urls.iter().map(String::as_str)))
    }

    /// Stores one successful fetch of `source` at `at` through the real ingest path: one transaction, each new
    /// item keyed as the poller keys it, placed in its story and indexed for search. Returns, for each entry of
    /// `items`, the story it was stored in, or `None` when the source (or its URL) was already known.
    pub fn ingest(
        &mut self,
        source: &str,
        items: &[BenchItem],
        at: DateTime<Utc>,
    ) -> Result<Vec<Option<i64>>> {
        let incoming: Vec<IncomingItem> = items
            .iter()
            .map(|b| {
                let it = &b.item;
                IncomingItem {
                    boilerplate: None,
                    source_key: identity::source_key(
                        it.guid.as_deref(),
                        it.link.as_deref(),
                        &it.title,
                        it.content.as_deref().or(it.summary.as_deref()),
                    ),
                    url_key: identity::url_key(it.link.as_deref()),
                    sort_time: crate::pipeline::sort_time(it, at),
                    item: it.clone(),
                    tags: b.tags.clone(),
                    folded: None,
                }
            })
            .collect();
        let mut placer = ChosenStories {
            items,
            stored: vec![None; items.len()],
        };
        let record = FetchRecord {
            at,
            status: Some(200),
            ..Default::default()
        };
        self.store
            .ingest(source, &incoming, &record, "bench", &mut placer)?;
        Ok(placer.stored)
    }

    /// How many items are stored.
    pub fn item_count(&self) -> Result<u64> {
        Ok(self.store.counts()?.0)
    }

    /// What the daemon does after a round of writes: `PRAGMA optimize` and a WAL checkpoint.
    pub fn optimize(&mut self) -> Result<()> {
        self.store.optimize()
    }

    /// Parses `query` as `qafila search` does (against the built-in gazetteer) and returns how many stories the
    /// newest `limit` matches make (0: all). A bad query is [`Error::Usage`] with the reason.
    pub fn search(&self, query: &str, limit: usize) -> Result<usize> {
        let query = crate::search::parse(query, &self.gazetteer)
            .map_err(|e| Error::Usage(format!("bad query: {e}")))?;
        Ok(self.store.search(&query, limit, &[])?.len())
    }

    /// Where the database's bytes are.
    pub fn space(&self) -> Result<SpaceReport> {
        let by_name = self.store.space_by_name()?;
        let sum = |keep: &dyn Fn(&str) -> bool| -> u64 {
            by_name
                .iter()
                .filter(|(name, _)| keep(name))
                .map(|(_, bytes)| bytes)
                .sum()
        };
        Ok(SpaceReport {
            database: self.store.size_bytes()?,
            fulltext: sum(&|n| n.starts_with("item_search")),
            key_index: sum(&|n| n == "items_search_key"),
            items: sum(&|n| n == "items"),
        })
    }
}

/// What the poller's CPU slots do with one fetched feed document before the writer sees it: parse it (with the
/// default [`crate::parse::ParseLimits`]), key, date and prepare the matching features of each entry, and drop the
/// document's boilerplate from them (`pipeline::prepare_all` without its "every entry stored already" look-up).
/// Returns how many entries were prepared; everything prepared is dropped before returning, as the poller drops it
/// once stored. `benches/dedup.rs` (`prepare/feeds`) measures it on the poll benchmark's feeds.
pub fn prepare_fetch(
    body: &[u8],
    content_type: Option<&str>,
    base: &url::Url,
    now: DateTime<Utc>,
    gazetteer: &Gazetteer,
) -> std::result::Result<usize, crate::parse::ParseError> {
    let parsed = crate::parse::parse_feed(body, content_type, base)?;
    let mut prepared: Vec<_> = parsed
        .items
        .into_iter()
        .map(|item| crate::pipeline::prepare(item, now, gazetteer))
        .collect();
    crate::pipeline::drop_boilerplate(&mut prepared);
    Ok(prepared.len())
}

/// Places each new item in the story its [`BenchItem`] names, and remembers where each one went.
struct ChosenStories<'a> {
    items: &'a [BenchItem],
    stored: Vec<Option<i64>>,
}

impl StoryPlacer for ChosenStories<'_> {
    fn place(&mut self, index: usize) -> Option<i64> {
        self.items[index].joins
    }

    fn placed(&mut self, index: usize, _item_id: i64, story_id: i64) {
        self.stored[index] = Some(story_id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn item(n: u32, title: &str, joins: Option<i64>) -> BenchItem {
        BenchItem {
            item: ParsedItem {
                guid: Some(format!("g{n}")),
                link: Some(format!("https://a.example/{n}")),
                title: title.into(),
                summary: Some("<p>وقعت الحكومة اتفاقية جديدة</p>".into()),
                published: Some(Utc.with_ymd_and_hms(2025, 3, 1, 10, 0, n).unwrap()),
                ..Default::default()
            },
            tags: RegionTags {
                entities: vec!["kz".into()],
                region_match: true,
            },
            joins,
        }
    }

    #[test]
    fn stores_searches_and_reports_space() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = BenchStore::open(&dir.path().join("b.db")).unwrap();
        store.add_sources(&["s0", "s1"]).unwrap();
        let at = Utc.with_ymd_and_hms(2025, 3, 2, 0, 0, 0).unwrap();
        let first = store
            .ingest("s0", &[item(1, "الغاز في كازاخستان", None)], at)
            .unwrap();
        let story = first[0].expect("stored");
        let second = store
            .ingest(
                "s1",
                &[
                    item(2, "أسعار الغاز بكازاخستان", Some(story)),
                    item(3, "القمح في أوزبكستان", None),
                    item(
                        1,
                        "the same guid from another source and the same link",
                        None,
                    ),
                ],
                at,
            )
            .unwrap();
        assert_eq!(second[0], Some(story), "joined the chosen story");
        assert!(second[1].is_some_and(|s| s != story));
        assert_eq!(second[2], None, "same URL: already known");
        assert_eq!(store.item_count().unwrap(), 3);
        // Two reports of one story are one hit; the proclitic form is found.
        assert_eq!(store.search("الغاز كازاخستان", 20).unwrap(), 1);
        assert_eq!(store.search("قمح", 20).unwrap(), 1);
        assert_eq!(store.search("باكو", 20).unwrap(), 0);
        assert!(
            matches!(store.search("\"unclosed", 20), Err(Error::Usage(m)) if m.starts_with("bad query"))
        );
        let space = store.space().unwrap();
        assert!(space.fulltext > 0 && space.key_index > 0 && space.items > 0);
        assert!(space.search_index() < space.database);
        assert!(space.search_share_percent() > 0.0 && space.search_share_percent() < 100.0);
    }

    #[test]
    fn entries_are_dated_as_the_poller_dates_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.db");
        let mut store = BenchStore::open(&path).unwrap();
        store.add_sources(&["s0"]).unwrap();
        let at = Utc.with_ymd_and_hms(2025, 3, 2, 0, 0, 0).unwrap();
        let dated = |n: u32, published| {
            let mut b = item(n, "خبر", None);
            b.item.published = published;
            b
        };
        let minutes_ahead = at + chrono::Duration::minutes(3);
        let days_ahead = at + chrono::Duration::days(2);
        let batch = [
            dated(1, Some(minutes_ahead)),
            dated(2, Some(days_ahead)),
            dated(3, None),
        ];
        store.ingest("s0", &batch, at).unwrap();
        let stored: Vec<i64> = rusqlite::Connection::open(&path)
            .unwrap()
            .prepare("SELECT sort_time FROM items ORDER BY guid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let poller: Vec<i64> = batch
            .iter()
            .map(|b| crate::pipeline::sort_time(&b.item, at).timestamp())
            .collect();
        assert_eq!(stored, poller);
        // Minutes ahead is kept (what a clock a little off looks like); days ahead is the fetch time.
        assert_eq!(
            stored,
            [minutes_ahead.timestamp(), at.timestamp(), at.timestamp()]
        );
    }
}
