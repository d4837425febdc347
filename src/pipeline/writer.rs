//! The single writer: the database connection and the story index, changed together under one lock, so that the
//! index always describes what is stored.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::dedup::{self, ItemFeatures, StoryIndex};
use crate::error::Result;
use crate::regions::Gazetteer;
use crate::store::{FetchRecord, IncomingItem, Store, StoryPlacer};

/// The single writer: the database connection together with the story index, which must change in step with it.
pub struct Writer {
    pub store: Store,
    index: StoryIndex,
    gazetteer: Arc<Gazetteer>,
    settings: dedup::DedupSettings,
    window: chrono::Duration,
}

/// Opens the configured database with every configured source registered.
pub fn open_store(config: &Config) -> Result<Store> {
    let mut store = Store::open(&config.storage.database)?;
    store.sync_sources(
        config
            .sources
            .iter()
            .map(|s| (s.id(), s.url.get_ref().as_str())),
    )?;
    Ok(store)
}

impl Writer {
    /// Opens the store, re-tags items if the gazetteer changed, and rebuilds the story index from recent items.
    pub fn open(config: &Config, gazetteer: Arc<Gazetteer>) -> Result<Writer> {
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
            index: StoryIndex::new(settings.clone()),
            gazetteer,
            settings,
            window,
        };
        writer.rebuild_index(Utc::now())?;
        Ok(writer)
    }

    fn rebuild_index(&mut self, now: DateTime<Utc>) -> Result<()> {
        self.index = StoryIndex::new(self.settings.clone());
        for item in self.store.items_since(now - self.retained())? {
            let f = dedup::item_features(
                &item.title,
                item.summary.as_deref(),
                item.content.as_deref(),
                &self.gazetteer,
            );
            self.index.insert(item.id, item.story_id, f, item.sort_time);
        }
        Ok(())
    }

    /// How far back the index reaches: twice the matching window, so that a backlog arriving late (a new source's
    /// first poll, a source back from an outage) still meets the reports of its own days.
    fn retained(&self) -> chrono::Duration {
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
        self.index.evict_older_than(record.at - self.retained());
        let (incoming, features): (Vec<IncomingItem>, Vec<ItemFeatures>) =
            items.into_iter().unzip();
        let mut placer = IndexPlacer {
            index: &mut self.index,
            items: &incoming,
            features,
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

struct IndexPlacer<'a> {
    index: &'a mut StoryIndex,
    items: &'a [IncomingItem],
    features: Vec<ItemFeatures>,
}

impl StoryPlacer for IndexPlacer<'_> {
    fn place(&mut self, i: usize) -> Option<i64> {
        self.index.place(&self.features[i], self.items[i].sort_time)
    }
    fn placed(&mut self, i: usize, item_id: i64, story_id: i64) {
        self.index.insert(
            item_id,
            story_id,
            self.features[i].clone(),
            self.items[i].sort_time,
        );
    }
}
