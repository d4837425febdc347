//! One poll of one source, start to finish: fetch → parse → normalize/tag → place into stories → store; and
//! publishing what is stored. This file reads as the whole refresh flow (after Miniflux's `handler.go`).
//!
//! A source that fails is a *value* here (`PollReport` with an error): it is recorded against that source, its
//! next try is pushed back (when: [`crate::schedule::next_due`]), and nothing else is affected.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::config::{Config, SharedConfig, SourceConfig, SourceKind};
use crate::dedup::{self, ItemFeatures};
use crate::error::{Error, Result};
use crate::fetch::{FailureKind, FetchFailure, FetchOutcome, FetchRequest, Fetcher};
use crate::identity;
use crate::metrics::{FetchOutcomeLabel, Metrics};
use crate::model::{ParsedItem, StoryView};
use crate::regions::Gazetteer;
use crate::schedule::{self, ServerFloor};
use crate::store::{Discovery, FetchRecord, IncomingItem, SourceState, StoredStory};

mod kinds;
mod known;
#[cfg(test)]
mod known_tests;
mod slots;
mod views;
mod write_health;
mod write_queue;
mod writer;

pub(crate) use kinds::{discover_feeds, FoundFeed};
use known::KnownEntries;
pub(crate) use slots::{CpuSlots, FetchSlot, FetchSlots};

pub(crate) use views::story_views;
pub(crate) use write_health::WriteHealth;
pub(crate) use write_queue::Coming;
pub(crate) use writer::{open_store, WriteQueue, Writer};

/// What one poll of one source did, for the log line and the `poll` summary.
#[derive(Debug, Clone)]
pub struct PollReport {
    pub source_id: String,
    pub status: Option<u16>,
    pub error: Option<String>,
    pub new: usize,
    pub seen: usize,
    pub merged: usize,
    /// Items beyond `[limits] max_items_per_fetch`, left out.
    pub over_cap: usize,
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
            None if self.over_cap > 0 => format!(
                "{}\t{status}\tnew {} / seen {} / over the item cap {} (not stored)",
                self.source_id, self.new, self.seen, self.over_cap
            ),
            None => format!(
                "{}\t{status}\tnew {} / seen {}",
                self.source_id, self.new, self.seen
            ),
        }
    }
}

/// At most this many fetch results wait for the writer. Results in memory are at most `[fetch] concurrency` plus
/// this: a group this large amortizes a commit well, and a large concurrency (up to 256) does not double what a
/// round holds.
const MAX_BACKLOG: usize = 32;

/// A source's stored state as read for a poll, or why it could not be read.
pub(crate) type StateRead = std::result::Result<Option<SourceState>, String>;

/// Everything a poll needs, shared by the daemon's tasks.
pub(crate) struct Engine {
    config: SharedConfig,
    fetcher: RwLock<Fetcher>,
    pub metrics: Arc<Metrics>,
    /// Wakes the scheduler when the config changed, so added sources start at once.
    pub reloaded: tokio::sync::Notify,
    /// When retention last ran in this process (the daemon runs it daily).
    pub last_maintenance: Mutex<Option<DateTime<Utc>>>,
    /// Asks whether a fetch's entries are stored before they are prepared. Declared before `writer`, so that its
    /// read-only connections close first when the engine is dropped: the last connection to close removes the log.
    known: Arc<KnownEntries>,
    pub writer: Arc<Mutex<Writer>>,
    /// Fetch results waiting for the writer, stored in groups (group commit).
    write_queue: Arc<WriteQueue>,
    /// Slots for parsing and preparing, so that they leave the writer a core (see [`CpuSlots`]).
    cpu: CpuSlots,
    pub gazetteer: Arc<Gazetteer>,
    /// Whether results could be stored lately (and the backoff of sources whose results could not).
    pub write_health: Arc<WriteHealth>,
    /// Published descriptions, sanitized once and kept between rounds.
    pub sanitized: Arc<crate::publish::SanitizeCache>,
    /// Set when the process ends after the round being polled (`qafila poll`): the hosts only one of its sources
    /// is on, whose connections are not kept once fetched (see [`Engine::ends_after_round`]).
    lone_hosts: std::sync::OnceLock<std::collections::HashSet<String>>,
}

impl Engine {
    pub(crate) fn new(
        config: Arc<Config>,
        fetcher: Fetcher,
        writer: Writer,
        gazetteer: Arc<Gazetteer>,
    ) -> Engine {
        // As many results may wait for the writer as are fetched at once (up to `MAX_BACKLOG`): a fetch waits for
        // room only when the writer has that much work ahead of it. (Set at start; a reload keeps it.)
        let backlog = config.fetch.concurrency.min(MAX_BACKLOG);
        let known = Arc::new(KnownEntries::new(&config.storage.database));
        Engine {
            config: SharedConfig::new(config),
            fetcher: RwLock::new(fetcher),
            metrics: Arc::new(Metrics::default()),
            reloaded: tokio::sync::Notify::new(),
            last_maintenance: Mutex::new(None),
            known,
            writer: Arc::new(Mutex::new(writer)),
            write_queue: Arc::new(WriteQueue::new(backlog)),
            cpu: CpuSlots::beside_the_writer(),
            gazetteer,
            write_health: Arc::new(WriteHealth::default()),
            sanitized: Default::default(),
            lone_hosts: Default::default(),
        }
    }

    /// Says that the process ends after polling `sources` (`qafila poll`). A host only one of them is on is not
    /// fetched from again, so its connection is closed once its feed is read instead of waiting idle in the
    /// client's pool, its buffers held, until the end. (Measured on a 10 000-item first round of 200 hosts: peak
    /// RSS −5 MB, page faults −15 %, CPU −6 %, and no 200 connections to shut down at the end.) Hosts several
    /// sources share keep their connections for each other.
    pub(crate) fn ends_after_round(&self, sources: &[SourceConfig]) {
        let _ = self
            .lone_hosts
            .set(hosts_of_one(sources.iter().map(|s| &s.url)));
    }

    /// Whether `source`'s fetch is the last one of the process at its host (see [`Engine::ends_after_round`]).
    fn last_to_host(&self, source: &SourceConfig) -> bool {
        let (Some(lone), Some(host)) = (self.lone_hosts.get(), source.url.host_str()) else {
            return false;
        };
        lone.contains(host)
    }

    /// The config in force, for a reader that must follow reloads (the HTTP server).
    pub(crate) fn shared_config(&self) -> SharedConfig {
        self.config.clone()
    }

    /// The config in force (replaced whole on reload).
    pub(crate) fn config(&self) -> Arc<Config> {
        self.config.get()
    }

    /// The fetcher in force (its SSRF-guarded client also sends the WebSub pings).
    pub(crate) fn fetcher(&self) -> Fetcher {
        self.fetcher.read().expect("fetcher lock").clone()
    }

    /// Lets go of the HTTP clients' idle connections (`qafila poll`, its fetches done): their sockets close on the
    /// runtime's threads while the database closes, instead of one after the other as the process exits.
    pub(crate) fn close_connections(&self) {
        match self.fetcher().without_connections() {
            Ok(fresh) => *self.fetcher.write().expect("fetcher lock") = fresh,
            Err(e) => {
                tracing::debug!(error = %e, "cannot replace the HTTP clients; their connections close at exit")
            }
        }
    }

    /// Puts a new, already validated config in force: sources are registered (added ones fall due at once), fetch
    /// settings apply to the next fetches. In-flight polls finish with the settings they started with.
    pub(crate) async fn reload(&self, config: Arc<Config>, fetcher: Fetcher) -> Result<()> {
        let sources: Vec<(String, String)> = config
            .sources
            .iter()
            .map(|s| (s.id().to_string(), s.url.to_string()))
            .collect();
        let max_size = config.storage.max_database_bytes;
        self.with_writer(move |w| {
            // First: raising the size cap is how an operator lets a full database write again.
            w.store.set_max_size(max_size)?;
            w.store
                .sync_sources(sources.iter().map(|(i, u)| (i.as_str(), u.as_str())))
        })
        .await?;
        *self.fetcher.write().expect("fetcher lock") = fetcher;
        self.config.replace(config);
        self.write_health.release_held();
        self.reloaded.notify_one();
        Ok(())
    }

    /// The stored state of each source (etag, moved or discovered URL, failures in a row), read at once for a
    /// round: one turn of the writer's lock, instead of one per poll waiting behind whatever group it is storing.
    /// Only a source's own poll changes its state, and a source is in one round at a time, so a state read at the
    /// start of the round is the one its poll would have read.
    pub(crate) async fn source_states(&self, sources: &[SourceConfig]) -> Vec<StateRead> {
        let ids: Vec<String> = sources.iter().map(|s| s.id().to_string()).collect();
        let read = self
            .with_writer(move |w| w.store.source_states_of(&ids))
            .await;
        match read {
            Ok(states) => {
                let mut by_id: HashMap<String, SourceState> =
                    states.into_iter().map(|s| (s.id.clone(), s)).collect();
                sources.iter().map(|s| Ok(by_id.remove(s.id()))).collect()
            }
            Err(e) => vec![Err(e.to_string()); sources.len()],
        }
    }

    /// Polls one source and records the outcome; `state` is its stored state ([`Engine::source_states`]). Its
    /// fetch slot is given back as soon as its result is queued for the writer, and the report comes once the
    /// result is stored. A failure — at the outlet, reading the body, or inside qafila (a parser or feature task
    /// that panicked, a state that cannot be read) — is the report's `error`, stored with the source so that it
    /// backs off; `Err` is left for what cannot happen today, and the round treats it as a failed report too.
    pub(crate) async fn poll_source(
        &self,
        source: &SourceConfig,
        state: StateRead,
        slot: FetchSlot,
        coming: Coming,
    ) -> Result<PollReport> {
        let started = Instant::now();
        let id = source.id().to_string();
        // A state that cannot be read fails this poll like a failed fetch (below), so the source backs off; without
        // its etag, moved or discovered URL the fetch itself would not be the right one.
        let (state, unreadable) = match state {
            Ok(state) => (state, None),
            Err(e) => (None, Some(e)),
        };
        // A feed found on the configured page earlier is polled instead of the page (kind = "feed" only).
        let discovered = state
            .as_ref()
            .filter(|_| source.kind() == SourceKind::Feed)
            .and_then(|s| s.discovered.as_deref())
            .and_then(|d| url::Url::parse(d).ok());
        let using_discovered = discovered.is_some();
        let url = discovered
            .or_else(|| {
                state
                    .as_ref()
                    .and_then(|s| s.moved_to.as_deref())
                    .and_then(|m| url::Url::parse(m).ok())
            })
            .unwrap_or_else(|| source.url.clone());
        let request = FetchRequest {
            url: url.clone(),
            allow_private: crate::fetch::private_allowed(&source.url, source.allow_private),
            etag: state.as_ref().and_then(|s| s.etag.clone()),
            last_modified: state.as_ref().and_then(|s| s.last_modified.clone()),
            last_to_host: self.last_to_host(source),
        };
        // Failures the database could not record count too, so a write failure backs off like any other.
        let failures = state.as_ref().map_or(0, |s| s.consecutive_failures)
            + self.write_health.failures_of(&id);
        let now = Utc::now();
        let mut record = FetchRecord {
            at: now,
            ..Default::default()
        };
        let mut items = Vec::new();
        // Entries left out of `items` as stored already (see `known`): counted seen, as ingest would.
        let mut known = 0;
        let mut over_cap = 0;
        let mut bytes = 0;
        let mut floor = ServerFloor::default();
        let outcome = match unreadable {
            None => self.fetcher().fetch(&request).await,
            Some(e) => FetchOutcome::Failed(FetchFailure::new(
                FailureKind::Other,
                format!("internal error: cannot read the source's state: {e}"),
            )),
        };
        match outcome {
            FetchOutcome::NotModified(meta) => {
                record.status = Some(meta.status);
                record.etag = meta.etag;
                record.last_modified = meta.last_modified;
                record.permanent_redirect = meta.permanent_redirect.map(String::from);
                floor.fresh_for = meta.cache_floor;
            }
            FetchOutcome::Fetched { meta, body } => {
                record.status = Some(meta.status);
                bytes = meta.bytes;
                // A permanent redirect moves the configured URL, not a discovered feed's.
                let permanent = meta
                    .permanent_redirect
                    .clone()
                    .filter(|_| !using_discovered)
                    .map(String::from);
                let fetcher = self.fetcher();
                let limits = self.config().limits.parse_limits();
                let reader = kinds::BodyReader {
                    fetcher: &fetcher,
                    cpu: &self.cpu,
                    preparer: self.preparer(&id, now),
                };
                let read =
                    kinds::read_body(reader, source, meta, body, using_discovered, now, limits);
                // A parser task that failed (a panic) fails this fetch: stored as such, it backs the source off
                // instead of leaving it due at once, again and again.
                let read = read
                    .await
                    .map_err(|e| (internal_failure(&e), Discovery::Unchanged))
                    .and_then(|read| read);
                match read {
                    Ok(read) => {
                        if let Some(meta) = read.meta {
                            record.etag = meta.etag;
                            record.last_modified = meta.last_modified;
                            floor.fresh_for = meta.cache_floor;
                        }
                        if matches!(read.discovered, Discovery::Unchanged) {
                            record.permanent_redirect = permanent;
                        }
                        record.discovered = read.discovered;
                        floor.ttl = read
                            .ttl_minutes
                            .map(|m| Duration::from_secs(u64::from(m) * 60));
                        over_cap = read.items_over_cap;
                        let prepared = match read.entries {
                            kinds::Entries::Prepared(prepared) => Ok(prepared),
                            kinds::Entries::Parsed(items) => {
                                self.prepare_all(&id, items, now).await
                            }
                        };
                        match prepared {
                            Ok(Prepared::Entries(prepared)) => items = prepared,
                            Ok(Prepared::AllKnown(count)) => known = count,
                            // As a parser task's failure: nothing of this fetch is stored but the failure (an
                            // error keeps the stored etag and discovery, so the entries are fetched again).
                            Err(e) => {
                                record.error = Some(internal_failure(&e));
                                record.discovered = Discovery::Unchanged;
                                over_cap = 0;
                            }
                        }
                    }
                    Err((message, discovery)) => {
                        record.error = Some(message);
                        record.discovered = discovery;
                    }
                }
            }
            FetchOutcome::Failed(failure) => {
                record.status = failure.status;
                record.error = Some(failure.message.clone());
                floor.retry_after = failure.retry_after;
                if using_discovered && !failure.is_temporary() {
                    // The discovered feed is gone (404, refused…): look on the page again next time.
                    record.discovered = Discovery::Forget;
                }
            }
        }
        let poll = schedule::Poll {
            at: now,
            failed: record.error.is_some(),
            failures_before: failures,
            floor,
        };
        record.next_due = Some(schedule::next_due(&self.config(), source, &poll));
        let mut error = record.error.clone();
        let status = record.status;
        let mut next_due = record.next_due;
        let stored = self
            .store_fetch(id.clone(), items, record, slot, coming)
            .await;
        let (counts, change) = match stored {
            Ok(done) => {
                self.write_health.succeeded(&id);
                done
            }
            Err(e) => {
                // The next poll time was not saved either: hold it here, with backoff, or the source would look
                // due at once and be fetched again and again.
                let failed = schedule::Poll {
                    failed: true,
                    ..poll
                };
                let due = schedule::next_due(&self.config(), source, &failed);
                tracing::error!(source = %id, error = %e, next = %due, "cannot store the fetch result; the source backs off");
                self.write_health
                    .failed(&id, e.public_reason(), due, Utc::now());
                self.metrics.add_database_write_failure();
                error = Some(format!("cannot store the result: {e}"));
                next_due = Some(due);
                Default::default()
            }
        };
        if let Some(moved) = &change.moved_to {
            let (from, to) = (
                crate::redact::redacted(&url),
                crate::redact::public_url(moved),
            );
            tracing::warn!(source = %id, %from, %to, "source moved permanently; polling the new URL (config file unchanged: update it)");
        }
        let report = PollReport {
            source_id: id,
            status,
            error,
            new: counts.new,
            seen: counts.seen + known,
            merged: counts.merged,
            over_cap,
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
        self.metrics.add_over_cap(report.over_cap as u64);
        log_report(&report);
        Ok(report)
    }

    /// What prepares the entries `source_id` delivers in a fetch at `now` (see [`Preparer`]).
    fn preparer(&self, source_id: &str, now: DateTime<Utc>) -> Preparer {
        Preparer {
            source_id: source_id.to_string(),
            now,
            gazetteer: self.gazetteer.clone(),
            known: self.known.clone(),
        }
    }

    /// Prepares entries parsed on their own (not in the task that parsed them: see `kinds::Entries`) on a CPU
    /// slot's thread.
    async fn prepare_all(
        &self,
        source_id: &str,
        items: Vec<ParsedItem>,
        now: DateTime<Utc>,
    ) -> Result<Prepared> {
        if items.is_empty() {
            return Ok(Prepared::Entries(Vec::new()));
        }
        let preparer = self.preparer(source_id, now);
        self.cpu
            .run("feature", move || preparer.prepare(items))
            .await
    }

    /// Closes the database for good (`qafila poll`, once done): the read-only connections first, then the writer's,
    /// which leaves the log, every commit durable in it, for the next open to read (see
    /// [`crate::store::Store::close`]).
    pub(crate) async fn close_store(&self) -> Result<()> {
        self.known.close();
        self.with_writer(|w| w.store.close()).await
    }

    /// Stores one source's fetch (its items and its fetch state) through the write queue, which commits the
    /// results of every fetch ready at the time together (see [`WriteQueue`]); returns once it is durable. The
    /// fetch slot is given back once the result is queued (after waiting for room in the backlog, if it is full).
    async fn store_fetch(
        &self,
        id: String,
        items: Vec<(IncomingItem, ItemFeatures)>,
        record: FetchRecord,
        slot: FetchSlot,
        coming: Coming,
    ) -> Result<writer::Stored> {
        let room = self.write_queue.room().await;
        let submitted = self.write_queue.submit(room, id, items, record);
        // Queued: no longer coming (after, so that the writer never sees it neither queued nor coming).
        drop(coming);
        drop(slot);
        if submitted.start_drainer {
            self.start_drainer();
        }
        // The features come back once stored (the answer waits for the commit): freed here meanwhile, not held.
        drop(submitted.spent_features.await);
        let answer = submitted
            .answer
            .await
            .map_err(|_| Error::Internal("the writer stopped before storing a fetch".into()))?;
        answer.result
    }

    /// Waits, at most `limit`, until every fetch result handed to the writer is stored; says whether it was.
    ///
    /// The writer runs on a thread of its own, which the runtime does not wait for when the daemon returns: a
    /// daemon that stops, having cancelled the polls that outlasted their grace period, waits here so that what
    /// they already fetched and queued is stored rather than fetched again at the next start (a feed may have
    /// dropped those items by then).
    pub(crate) async fn writes_settled(&self, limit: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while !self.write_queue.is_idle() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        true
    }

    /// How many fetches were found stored already, so neither prepared nor handed to the writer with entries.
    #[cfg(test)]
    pub(crate) fn fetches_left_unprepared(&self) -> usize {
        self.known.unprepared()
    }

    /// Announces a fetch result that a poll of the round being started will queue for the writer: while results
    /// are coming, the writer keeps its transaction open for them (see [`WriteQueue`]). Dropped when the result
    /// is queued, or with the poll.
    pub(crate) fn result_coming(&self) -> Coming {
        self.write_queue.coming()
    }

    /// How many fetch results wait for the writer (not yet taken into a group).
    #[cfg(test)]
    pub(crate) fn queued_for_writer(&self) -> usize {
        self.write_queue.len()
    }

    /// Starts the write queue's drainer ([`Writer::drain`]) on a thread of its own, named so that it shows in a
    /// profile; on a blocking thread of the runtime should no thread be available.
    fn start_drainer(&self) {
        let drainer = |writer: Arc<Mutex<Writer>>, queue: Arc<WriteQueue>| {
            move || Writer::drain(&writer, &queue)
        };
        let thread = std::thread::Builder::new()
            .name("qafila-writer".into())
            .spawn(drainer(self.writer.clone(), self.write_queue.clone()));
        if let Err(e) = thread {
            tracing::warn!(error = %e, "cannot start the writer's thread; writing on a blocking thread");
            tokio::task::spawn_blocking(drainer(self.writer.clone(), self.write_queue.clone()));
        }
    }

    /// Takes the writer lock — waiting for the group being stored, if any, but not for the groups queued after it
    /// (see [`Writer::lock_between_groups`]) — and runs `f` with it on a blocking thread (SQLite calls block). Every database access of the engine goes through here, reads included, so keep `f`
    /// short.
    pub(crate) async fn with_writer<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Writer) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let (writer, queue) = (self.writer.clone(), self.write_queue.clone());
        tokio::task::spawn_blocking(move || {
            let mut w = Writer::lock_between_groups(&writer, &queue);
            f(&mut w)
        })
        .await
        .map_err(|e| Error::Internal(format!("database task: {e}")))?
    }

    /// The stories to publish, newest first, as the publisher wants them.
    pub(crate) async fn stories_to_publish(&self, limit: usize) -> Result<Vec<StoryView>> {
        let stored = self.stored_stories(limit).await?;
        let views = self.views();
        // Sanitizing is CPU work: off the async threads, like the query.
        tokio::task::spawn_blocking(move || views.of(stored))
            .await
            .map_err(|e| Error::Internal(format!("view task: {e}")))
    }

    /// The stored stories to publish, newest first, read in one turn of the writer's lock; made into what the
    /// publisher wants by [`Engine::views`].
    pub(crate) async fn stored_stories(&self, limit: usize) -> Result<Vec<StoredStory>> {
        let filtered = self.config().region_filtered_ids();
        self.with_writer(move |w| w.store.latest_stories(limit, &filtered))
            .await
    }

    /// What makes stored stories into the publisher's views (CPU work: call [`Views::of`] off the async threads).
    pub(crate) fn views(&self) -> Views {
        Views {
            config: self.config(),
            gazetteer: self.gazetteer.clone(),
            sanitized: self.sanitized.clone(),
        }
    }
}

/// Makes stored stories into the publisher's views, with the config, gazetteer and sanitized descriptions of the
/// engine it came from ([`Engine::views`]); needs nothing of the database.
pub(crate) struct Views {
    config: Arc<Config>,
    gazetteer: Arc<Gazetteer>,
    sanitized: Arc<crate::publish::SanitizeCache>,
}

impl Views {
    /// See [`story_views`].
    pub(crate) fn of(&self, stored: Vec<StoredStory>) -> Vec<StoryView> {
        story_views(&self.config, &self.gazetteer, stored, &self.sanitized)
    }
}

/// What prepares one fetch's entries for the writer: keys, dates and matching features, computed on a CPU slot's
/// thread (folding and tagging are CPU work, and done there — beside the writer — they leave it only
/// placing and storing). A fetch whose every entry its source delivered before is not prepared at all (see
/// [`known`]).
pub(super) struct Preparer {
    source_id: String,
    now: DateTime<Utc>,
    gazetteer: Arc<Gazetteer>,
    known: Arc<KnownEntries>,
}

impl Preparer {
    /// Prepares `items` (CPU work: call it on a CPU slot's thread).
    pub(super) fn prepare(self, items: Vec<ParsedItem>) -> Prepared {
        if items.is_empty() {
            return Prepared::Entries(Vec::new());
        }
        if self.known.all_known(&self.source_id, &items) {
            return Prepared::AllKnown(items.len());
        }
        let mut prepared: Vec<_> = items
            .into_iter()
            .map(|item| prepare(item, self.now, &self.gazetteer))
            .collect();
        drop_boilerplate(&mut prepared);
        Prepared::Entries(prepared)
    }
}

/// A fetch's entries as prepared for the writer.
pub(super) enum Prepared {
    /// Each entry with its keys, date and matching features.
    Entries(Vec<(IncomingItem, ItemFeatures)>),
    /// This many entries, every one of them stored for the source already: nothing to prepare or store.
    AllKnown(usize),
}

/// An entry's key within its source, as ingest stores it.
fn entry_key(item: &ParsedItem) -> String {
    let content = item.content.as_deref().or(item.summary.as_deref());
    identity::source_key(
        item.guid.as_deref(),
        item.link.as_deref(),
        &item.title,
        content,
    )
}

/// Keys, date and matching features of one parsed entry.
pub(crate) fn prepare(
    item: ParsedItem,
    now: DateTime<Utc>,
    gazetteer: &Gazetteer,
) -> (IncomingItem, ItemFeatures) {
    let source_key = entry_key(&item);
    let url_key = identity::url_key(item.link.as_deref());
    let sort_time = sort_time(&item, now);
    // The folds made for the features are kept for the item's search index row.
    let (features, folded) = dedup::item_features_folded(
        &item.title,
        item.summary.as_deref(),
        item.content.as_deref(),
        None,
        gazetteer,
    );
    let tags = features.region_tags();
    (
        IncomingItem {
            source_key,
            url_key,
            item,
            sort_time,
            tags,
            boilerplate: None,
            folded: Some(std::sync::Arc::new(folded)),
        },
        features,
    )
}

/// Drops the fetched document's boilerplate (what the outlet repeats in nearly every item, see
/// `dedup::Boilerplate`) from its items' features, and keeps what was dropped with each item for the store.
pub(crate) fn drop_boilerplate(prepared: &mut [(IncomingItem, ItemFeatures)]) {
    let boilerplate = dedup::Boilerplate::of_feed(prepared.iter().map(|(_, f)| f));
    if boilerplate.is_empty() {
        return;
    }
    for (incoming, features) in prepared {
        incoming.boilerplate = boilerplate.strip(features).stored();
    }
}

/// The hosts exactly one of `urls` is on.
fn hosts_of_one<'a>(urls: impl Iterator<Item = &'a url::Url>) -> std::collections::HashSet<String> {
    let mut on: HashMap<&str, usize> = HashMap::new();
    for host in urls.filter_map(|u| u.host_str()) {
        *on.entry(host).or_default() += 1;
    }
    on.into_iter()
        .filter(|&(_, count)| count == 1)
        .map(|(host, _)| host.to_string())
        .collect()
}

/// The stored reason of a poll that failed inside qafila.
fn internal_failure(e: &Error) -> String {
    match e {
        // Its message says "internal error" already.
        Error::Internal(_) => e.to_string(),
        _ => format!("internal error: {e}"),
    }
}

/// The date an entry fetched at `now` is stored and sorted by: its own (published, else updated), or `now` when it
/// has none or one more than a few minutes ahead — a wrong time zone at the outlet would pin it to the top. (The
/// benches store their entries with the same rule.)
pub(crate) fn sort_time(item: &ParsedItem, now: DateTime<Utc>) -> DateTime<Utc> {
    item.published
        .or(item.updated)
        .filter(|t| *t <= now + chrono::Duration::minutes(5))
        .unwrap_or(now)
}

fn log_report(r: &PollReport) {
    let ms = r.duration.as_millis() as u64;
    if r.over_cap > 0 {
        tracing::warn!(source = %r.source_id, over_cap = r.over_cap, "the feed carried more items than [limits] max_items_per_fetch; only the newest were read");
    }
    match &r.error {
        None => {
            tracing::info!(source = %r.source_id, status = r.status, new = r.new, seen = r.seen, merged = r.merged, over_cap = r.over_cap, bytes = r.bytes, ms, "fetched")
        }
        Some(e) => {
            tracing::warn!(source = %r.source_id, status = r.status, bytes = r.bytes, ms, error = %e, "fetch failed")
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_host_is_lone_when_only_one_source_is_on_it() {
        let urls: Vec<url::Url> = [
            "https://one.example/feed",
            "https://shared.example/a.xml",
            "http://shared.example:8080/b.xml",
            "http://127.0.0.2:8000/feed.xml",
        ]
        .iter()
        .map(|u| url::Url::parse(u).unwrap())
        .collect();
        let mut lone: Vec<String> = super::hosts_of_one(urls.iter()).into_iter().collect();
        lone.sort();
        assert_eq!(lone, ["127.0.0.2", "one.example"]);
    }
}
