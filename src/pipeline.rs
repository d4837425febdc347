//! One poll of one source, start to finish: fetch → parse → normalize/tag → place into stories → store; and
//! publishing what is stored. This file reads as the whole refresh flow (after Miniflux's `handler.go`).
//!
//! A source that fails is a *value* here (`PollReport` with an error): it is recorded against that source, its
//! next try is pushed back exponentially, and nothing else is affected.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::config::{Config, SourceConfig};
use crate::dedup::{self, ItemFeatures, StoryIndex};
use crate::error::{Error, Result};
use crate::fetch::{FetchOutcome, FetchRequest, Fetcher};
use crate::identity;
use crate::metrics::{FetchOutcomeLabel, Metrics};
use crate::model::{ParsedItem, ReportView, StoryView};
use crate::parse;
use crate::regions::Gazetteer;
use crate::store::{FetchRecord, IncomingItem, Store, StoredStory, StoryPlacer};

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
        let retagged = store.retag(&gazetteer.fingerprint(), &move |title, summary| {
            dedup::features(title, summary, &g)
                .entities()
                .iter()
                .map(|e| e.id.clone())
                .collect()
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
            let f = dedup::features(&item.title, item.summary.as_deref(), &self.gazetteer);
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
    fn ingest(
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

/// What one poll of one source did, for the log line and the `poll` summary.
#[derive(Debug, Clone)]
pub struct PollReport {
    pub source_id: String,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub new: usize,
    pub seen: usize,
    pub merged: usize,
    pub bytes: u64,
    pub duration: Duration,
    pub next_due: Option<DateTime<Utc>>,
}

impl PollReport {
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// The one-line summary `qafila poll` prints.
    pub fn summary_line(&self) -> String {
        let status = self.status.map_or("-".to_string(), |s| s.to_string());
        match &self.error {
            Some(e) => format!("{}\t{status}\terror: {e}", self.source_id),
            None => format!(
                "{}\t{status}\tnew {} / seen {}",
                self.source_id, self.new, self.seen
            ),
        }
    }
}

/// Everything a poll needs, shared by the daemon's tasks.
pub struct Engine {
    config: RwLock<Arc<Config>>,
    fetcher: RwLock<Fetcher>,
    pub metrics: Arc<Metrics>,
    /// Wakes the scheduler when the config changed, so added sources start at once.
    pub reloaded: tokio::sync::Notify,
    pub writer: Arc<Mutex<Writer>>,
    pub gazetteer: Arc<Gazetteer>,
}

impl Engine {
    pub fn new(
        config: Arc<Config>,
        fetcher: Fetcher,
        writer: Writer,
        gazetteer: Arc<Gazetteer>,
    ) -> Engine {
        Engine {
            config: RwLock::new(config),
            fetcher: RwLock::new(fetcher),
            metrics: Arc::new(Metrics::default()),
            reloaded: tokio::sync::Notify::new(),
            writer: Arc::new(Mutex::new(writer)),
            gazetteer,
        }
    }

    /// The config in force (replaced whole on reload).
    pub fn config(&self) -> Arc<Config> {
        self.config.read().expect("config lock").clone()
    }

    fn fetcher(&self) -> Fetcher {
        self.fetcher.read().expect("fetcher lock").clone()
    }

    /// Puts a new, already validated config in force: sources are registered (added ones fall due at once), fetch
    /// settings apply to the next fetches. In-flight polls finish with the settings they started with.
    pub async fn reload(&self, config: Arc<Config>, fetcher: Fetcher) -> Result<()> {
        let sources: Vec<(String, String)> = config
            .sources
            .iter()
            .map(|s| (s.id().to_string(), s.url.get_ref().clone()))
            .collect();
        self.blocking(move |w| {
            w.store
                .sync_sources(sources.iter().map(|(i, u)| (i.as_str(), u.as_str())))
        })
        .await?;
        *self.fetcher.write().expect("fetcher lock") = fetcher;
        *self.config.write().expect("config lock") = config;
        self.reloaded.notify_one();
        Ok(())
    }

    /// Polls one source and records the outcome. Never fails for a source's fault; only a database error is `Err`.
    pub async fn poll_source(&self, source: &SourceConfig) -> Result<PollReport> {
        let started = Instant::now();
        let id = source.id().to_string();
        let state = self
            .blocking({
                let id = id.clone();
                move |w| w.store.source_state(&id)
            })
            .await?;
        let url = state
            .as_ref()
            .and_then(|s| s.moved_to.as_deref())
            .and_then(|m| url::Url::parse(m).ok())
            .unwrap_or_else(|| source.url());
        let request = FetchRequest {
            url: url.clone(),
            etag: state.as_ref().and_then(|s| s.etag.clone()),
            last_modified: state.as_ref().and_then(|s| s.last_modified.clone()),
        };
        let failures = state.as_ref().map_or(0, |s| s.consecutive_failures);
        let now = Utc::now();
        let mut record = FetchRecord {
            at: now,
            ..Default::default()
        };
        let mut items = Vec::new();
        let mut bytes = 0;
        let mut floor = None;
        match self.fetcher().fetch(&request).await {
            FetchOutcome::NotModified(meta) => {
                record.status = Some(meta.status);
                record.etag = meta.etag;
                record.last_modified = meta.last_modified;
                record.permanent_redirect = meta.permanent_redirect.map(String::from);
                floor = meta.cache_floor;
            }
            FetchOutcome::Fetched { meta, body } => {
                record.status = Some(meta.status);
                bytes = meta.bytes;
                let base = meta.final_url.clone();
                let content_type = meta.content_type.clone();
                let parsed = tokio::task::spawn_blocking(move || {
                    parse::parse_feed(&body, content_type.as_deref(), &base)
                })
                .await
                .map_err(|e| Error::Internal(format!("parser task: {e}")))?;
                match parsed {
                    Ok(feed) => {
                        record.etag = meta.etag;
                        record.last_modified = meta.last_modified;
                        record.permanent_redirect = meta.permanent_redirect.map(String::from);
                        let ttl = feed
                            .ttl_minutes
                            .map(|m| Duration::from_secs(u64::from(m) * 60));
                        floor = meta.cache_floor.max(ttl);
                        items = feed
                            .items
                            .into_iter()
                            .map(|item| self.prepare(item, now))
                            .collect();
                    }
                    Err(e) => record.error = Some(format!("not a usable feed: {e}")),
                }
            }
            FetchOutcome::Failed(failure) => {
                record.status = failure.status;
                record.error = Some(failure.message.clone());
                floor = failure.retry_after;
            }
        }
        record.next_due = Some(self.next_due(source, now, record.error.is_some(), failures, floor));
        let error = record.error.clone();
        let status = record.status;
        let next_due = record.next_due;
        let (counts, change) = self
            .blocking({
                let id = id.clone();
                move |w| w.ingest(&id, items, &record)
            })
            .await?;
        if let Some(moved) = &change.moved_to {
            tracing::warn!(source = %id, from = %url, to = %moved, "source moved permanently; polling the new URL (config file unchanged: update it)");
        }
        let report = PollReport {
            source_id: id,
            status,
            error,
            new: counts.new,
            seen: counts.seen,
            merged: counts.merged,
            bytes,
            duration: started.elapsed(),
            next_due,
        };
        let outcome = match (&report.error, report.status) {
            (Some(_), _) => FetchOutcomeLabel::Error,
            (None, Some(304)) => FetchOutcomeLabel::NotModified,
            (None, _) => FetchOutcomeLabel::Ok,
        };
        self.metrics
            .record_fetch(&report.source_id, outcome, report.duration);
        let created = (counts.new - counts.merged) as u64;
        self.metrics
            .add_ingested(counts.new as u64, created, counts.merged as u64);
        log_report(&report);
        Ok(report)
    }

    /// Keys, date and matching features of one parsed entry.
    fn prepare(&self, item: ParsedItem, now: DateTime<Utc>) -> (IncomingItem, ItemFeatures) {
        let content = item.content.as_deref().or(item.summary.as_deref());
        let source_key = identity::source_key(
            item.guid.as_deref(),
            item.link.as_deref(),
            &item.title,
            content,
        );
        let url_key = identity::url_key(item.link.as_deref());
        // A date in the future (a wrong time zone at the outlet) would pin the item to the top: use now instead.
        let sort_time = item
            .published
            .or(item.updated)
            .filter(|t| *t <= now + chrono::Duration::minutes(5))
            .unwrap_or(now);
        let features = dedup::features(
            &item.title,
            item.summary.as_deref().or(item.content.as_deref()),
            &self.gazetteer,
        );
        let entities = features.entities().iter().map(|e| e.id.clone()).collect();
        (
            IncomingItem {
                source_key,
                url_key,
                item,
                sort_time,
                entities,
            },
            features,
        )
    }

    /// When to poll again: the schedule's next time (plus jitter), but never before a server's caching floor
    /// (capped), and after a failure not before an exponential backoff (capped) either.
    fn next_due(
        &self,
        source: &SourceConfig,
        now: DateTime<Utc>,
        failed: bool,
        failures_before: u32,
        floor: Option<Duration>,
    ) -> DateTime<Utc> {
        let schedule = self.config().schedule_of(source);
        let scheduled = schedule
            .next_after(now)
            .unwrap_or(now + chrono::Duration::minutes(15));
        let mut due = scheduled + to_chrono(crate::schedule::jitter(schedule.period(now)));
        if let Some(floor) = floor {
            due = due.max(now + to_chrono(floor.min(self.config().fetch.max_cache_floor())));
        }
        if failed {
            due = due.max(
                now + to_chrono(backoff(
                    failures_before + 1,
                    self.config().fetch.backoff_max(),
                )),
            );
        }
        due
    }

    /// Runs `f` on the writer off the async threads (SQLite calls block).
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Writer) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            let mut w = writer
                .lock()
                .map_err(|_| Error::Internal("writer lock poisoned by an earlier panic".into()))?;
            f(&mut w)
        })
        .await
        .map_err(|e| Error::Internal(format!("database task: {e}")))?
    }

    /// The stories to publish, newest first, as the publisher wants them.
    pub async fn stories_to_publish(&self, limit: usize) -> Result<Vec<StoryView>> {
        let filtered: Vec<String> = self
            .config()
            .sources
            .iter()
            .filter(|s| s.region_filter)
            .map(|s| s.id().to_string())
            .collect();
        let stored = self
            .blocking(move |w| w.store.latest_stories(limit, &filtered))
            .await?;
        Ok(story_views(&self.config(), &self.gazetteer, stored))
    }
}

/// Exponential backoff with jitter: 1, 2, 4 … minutes after the 1st, 2nd, 3rd failure, capped.
pub fn backoff(failures: u32, cap: Duration) -> Duration {
    let base = Duration::from_secs(60).saturating_mul(1u32 << failures.saturating_sub(1).min(20));
    let capped = base.min(cap);
    // ±10 % so that sources failing together do not retry together.
    let spread = capped.as_millis() as u64 / 10;
    let jittered = capped.as_millis() as u64 - spread + fastrand::u64(0..=spread * 2);
    Duration::from_millis(jittered).min(cap)
}

fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(365))
}

fn log_report(r: &PollReport) {
    let ms = r.duration.as_millis() as u64;
    match &r.error {
        None => {
            tracing::info!(source = %r.source_id, status = r.status, new = r.new, seen = r.seen, merged = r.merged, bytes = r.bytes, ms, "fetched")
        }
        Some(e) => {
            tracing::warn!(source = %r.source_id, status = r.status, bytes = r.bytes, ms, error = %e, "fetch failed")
        }
    }
}

/// Turns stored stories into what the publisher renders: outlet names from the config, entity names from the
/// gazetteer, and one "also reported by" entry per other outlet.
pub fn story_views(
    config: &Config,
    gazetteer: &Gazetteer,
    stories: Vec<StoredStory>,
) -> Vec<StoryView> {
    let sources: HashMap<&str, &SourceConfig> =
        config.sources.iter().map(|s| (s.id(), s)).collect();
    let report = |item: &crate::store::StoredItem| {
        let (name, url) = match sources.get(item.source_id.as_str()) {
            Some(s) => (s.name.clone(), s.url.get_ref().clone()),
            None => (item.source_id.clone(), String::new()),
        };
        ReportView {
            title: item.title.clone(),
            link: item.link.clone(),
            description: item.content.clone().or_else(|| item.summary.clone()),
            author: item.author.clone(),
            published: item.sort_time,
            source_id: item.source_id.clone(),
            source_name: name,
            source_url: url,
        }
    };
    stories
        .into_iter()
        .filter(|s| !s.items.is_empty())
        .map(|story| {
            let lead = &story.items[0];
            let mut outlets = vec![lead.source_id.as_str()];
            let mut also = Vec::new();
            for item in &story.items[1..] {
                if !outlets.contains(&item.source_id.as_str()) {
                    outlets.push(&item.source_id);
                    also.push(report(item));
                }
            }
            let mut lead_view = report(lead);
            lead_view.published = story.published;
            let ids: Vec<&str> = story
                .items
                .iter()
                .flat_map(|i| i.entities.iter().map(String::as_str))
                .collect();
            let entities = gazetteer
                .entities()
                .into_iter()
                .filter(|e| ids.contains(&e.id.as_str()))
                .collect();
            StoryView {
                guid: story.guid,
                lead: lead_view,
                also,
                entities,
            }
        })
        .collect()
}
