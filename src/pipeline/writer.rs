//! The single writer: the database connection and the story index, changed together under one lock, so that the
//! index always describes what is stored.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::dedup::{self, ItemFeatures, StoryIndex};
use crate::error::Result;
use crate::regions::Gazetteer;
use crate::store::{FetchRecord, IncomingItem, Store, StoryPlacer, WindowItem, WriterLock};

/// The single writer: the database connection together with the story index, which must change in step with it.
pub struct Writer {
    pub store: Store,
    /// This process is the database's only writer while the writer lives.
    _lock: WriterLock,
    index: StoryIndex,
    gazetteer: Arc<Gazetteer>,
    settings: dedup::DedupSettings,
    window: chrono::Duration,
}

/// Opens the configured database with every configured source registered.
pub(crate) fn open_store(config: &Config) -> Result<Store> {
    let mut store = Store::open(&config.storage.database)?;
    store.sync_sources(config.sources.iter().map(|s| (s.id(), s.url.as_str())))?;
    Ok(store)
}

impl Writer {
    /// Opens the store, re-tags items if the gazetteer changed, and rebuilds the story index from recent items.
    pub fn open(config: &Config, gazetteer: Arc<Gazetteer>) -> Result<Writer> {
        // Before anything is written (even the source list): a second writer must change nothing.
        let lock = WriterLock::acquire(&config.storage.database)?;
        let mut store = open_store(config)?;
        let g = gazetteer.clone();
        let retagged = store.retag(&gazetteer.fingerprint(), &move |title, summary, content| {
            dedup::item_features(title, summary, content, &g).region_tags()
        })?;
        if retagged > 0 {
            tracing::info!(
                items = retagged,
                "re-evaluated region tags after a gazetteer change"
            );
        }
        let window = chrono::Duration::hours(i64::from(config.dedup.window_hours));
        let settings = config.dedup.clone();
        let mut writer = Writer {
            store,
            _lock: lock,
            index: StoryIndex::new(settings.clone()),
            gazetteer,
            settings,
            window,
        };
        writer.rebuild_index(Utc::now())?;
        // Last, so that opening never fails for the size cap: only new data can.
        writer
            .store
            .set_max_size(config.storage.max_database_bytes)?;
        Ok(writer)
    }

    /// Refills the index with the stored items of the recent horizon; older days are read back when a backlog
    /// item needs them.
    fn rebuild_index(&mut self, now: DateTime<Utc>) -> Result<()> {
        self.index = StoryIndex::new(self.settings.clone());
        let since = now - self.horizon();
        for item in self.store.items_since(since)? {
            let f = stored_features(&item, &self.gazetteer);
            self.index.insert(item.id, item.story_id, f, item.sort_time);
        }
        self.index.covered(since, DateTime::<Utc>::MAX_UTC);
        Ok(())
    }

    /// What the index keeps once it holds more than `INDEX_CAPACITY` items: the items published in the last two
    /// windows (what new reports meet). Whether two items are compared never depends on it: an item whose window
    /// reaches further back has those days read from the store.
    fn horizon(&self) -> chrono::Duration {
        self.window * 2
    }

    /// Retention: prunes items older than `retention_days` except those of `keep` (the published stories), runs
    /// `PRAGMA optimize` and a WAL checkpoint, and rebuilds the story index so it never points at a pruned story.
    pub fn maintain(
        &mut self,
        retention_days: u32,
        keep: &[String],
        now: DateTime<Utc>,
    ) -> Result<crate::store::PruneReport> {
        let cutoff = now - chrono::Duration::days(i64::from(retention_days));
        let report = self.store.prune(cutoff, keep)?;
        self.store.optimize()?;
        self.rebuild_index(now)?;
        Ok(report)
    }

    /// Stores one source's fetch; new items are placed into stories through the index.
    pub(super) fn ingest(
        &mut self,
        source_id: &str,
        items: Vec<(IncomingItem, ItemFeatures)>,
        record: &FetchRecord,
    ) -> Result<(crate::store::IngestCounts, crate::store::StateChange)> {
        if self.index.len() > INDEX_CAPACITY {
            self.index.evict_older_than(record.at - self.horizon());
        }
        let (incoming, features): (Vec<IncomingItem>, Vec<ItemFeatures>) =
            items.into_iter().unzip();
        let mut placer = IndexPlacer {
            index: &mut self.index,
            items: &incoming,
            features: features.into_iter().map(Some).collect(),
            gazetteer: &self.gazetteer,
        };
        let fingerprint = self.gazetteer.fingerprint();
        let result = self
            .store
            .ingest(source_id, &incoming, record, &fingerprint, &mut placer);
        if result.is_err() {
            // The transaction rolled back, but the index may already hold the batch's items.
            self.rebuild_index(record.at)?;
        }
        result
    }
}

/// Items the story index may hold before it forgets everything older than its horizon. A month of backlog from
/// a few hundred outlets stays in memory through a first poll (so each source's backlog does not read the same
/// days back again); a steady daemon holds only its horizon.
const INDEX_CAPACITY: usize = 100_000;

/// The matching features of a stored item, computed as at ingest.
fn stored_features(item: &WindowItem, gazetteer: &Gazetteer) -> ItemFeatures {
    dedup::item_features(
        &item.title,
        item.summary.as_deref(),
        item.content.as_deref(),
        gazetteer,
    )
}

struct IndexPlacer<'a> {
    index: &'a mut StoryIndex,
    items: &'a [IncomingItem],
    /// Taken by the index once the item is placed (no copy).
    features: Vec<Option<ItemFeatures>>,
    gazetteer: &'a Gazetteer,
}

impl StoryPlacer for IndexPlacer<'_> {
    fn needs(&mut self, i: usize) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        self.index.missing(self.items[i].sort_time)
    }
    fn recall(&mut self, from: DateTime<Utc>, to: DateTime<Utc>, items: Vec<WindowItem>) {
        for item in items {
            let f = stored_features(&item, self.gazetteer);
            self.index.insert(item.id, item.story_id, f, item.sort_time);
        }
        self.index.covered(from, to);
    }
    fn place(&mut self, i: usize) -> Option<i64> {
        let f = self.features[i]
            .as_ref()
            .expect("the store places an item before it is placed");
        self.index.place(f, self.items[i].sort_time)
    }
    fn placed(&mut self, i: usize, item_id: i64, story_id: i64) {
        if let Some(f) = self.features[i].take() {
            self.index
                .insert(item_id, story_id, f, self.items[i].sort_time);
        }
    }
}
