//! One round: poll some sources concurrently, keep up the gauges and the daily maintenance, publish. `qafila poll`
//! is one round of every enabled source, `qafila prune` the maintenance alone, and the daemon runs a round for
//! whichever sources fall due (when: `schedule`).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use futures_util::future;

use crate::config::{Config, SourceConfig};
use crate::error::{Error, Result};
use crate::pipeline::{Engine, FetchSlots, PollReport, StateRead};
use crate::site::{self, Site};
use crate::startup;
use crate::store::PruneReport;
use crate::websub;

/// How often retention, `PRAGMA optimize` and a WAL checkpoint run.
const MAINTENANCE_EVERY: chrono::Duration = chrono::Duration::hours(24);

/// `qafila poll`: every enabled source once, then the feed file. Nothing is served, so only the merged RSS feed
/// is rendered (not every format and country slice), and nothing is compressed.
///
/// The whole life of the process: once the feed file is written and the database closed, what the round holds
/// in memory is handed back with the reports ([`Finished`]).
pub async fn poll_once(config: Arc<Config>) -> Result<Finished> {
    let engine = startup::engine(config.clone())?;
    let sources: Vec<SourceConfig> = config.enabled_sources().cloned().collect();
    engine.ends_after_round(&sources);
    // The polls run as a task of the runtime, on its worker threads, not on the thread blocking on this round
    // (`main`'s `block_on`): there, each wake-up of a poll (a response read on a worker, a fetch parsed on a CPU
    // slot's thread, an answer from the writer) woke that thread as well — about a third of the round's context
    // switches. (The daemon's rounds are tasks already.)
    let polls = tokio::spawn({
        let engine = engine.clone();
        async move { poll_sources(&engine, sources).await.reports }
    });
    let reports = polls
        .await
        .map_err(|e| Error::Internal(format!("poll task: {e}")))?;
    let stored = engine.stored_stories(config.feed.max_items).await?;
    tracing::debug!(stories = stored.len(), "read the stories to publish");
    // From here on three things overlap: the idle connections close on the runtime's threads (rather than as the
    // process exits), the stories are sanitized and the feed file rendered and written, and the database, which
    // none of that reads, is closed (see `Store::close`). The last two are done before the poll returns.
    engine.close_connections();
    let views = engine.views();
    let feed = tokio::task::spawn_blocking(move || {
        let written = site::write_feed_file(&config, &views.of(stored));
        tracing::debug!("wrote the feed file");
        written
    });
    let closed = async {
        let closed = engine.close_store().await;
        tracing::debug!("closed the database");
        closed
    };
    let (feed, closed) = tokio::join!(feed, closed);
    feed.map_err(|e| Error::Internal(format!("publish task: {e}")))??;
    if let Err(e) = closed {
        // Everything is committed: a log left behind is read by the next start.
        tracing::warn!(error = %e, "cannot close the database cleanly; the next start reads its log");
    }
    Ok(Finished {
        reports,
        leftovers: engine,
    })
}

/// What `qafila poll` comes to: a report per source, and what the round holds in memory — the story index of every
/// item it placed, the HTTP clients — its database closed and its feed file written.
pub struct Finished {
    /// One per enabled source, in config order.
    pub reports: Vec<PollReport>,
    leftovers: Arc<Engine>,
}

impl Finished {
    /// The reports, leaving the rest to the end of the process: the OS takes a process's memory back at once,
    /// where freeing it piece by piece costs tens of milliseconds (10 000 items' features). Only memory is left:
    /// the database is closed and the feed file written already.
    pub fn leave_to_exit(self) -> Vec<PollReport> {
        std::mem::forget(self.leftovers);
        self.reports
    }
}

/// `qafila prune`: retention and optimization now, without polling.
pub async fn prune_now(config: Arc<Config>) -> Result<PruneReport> {
    let engine = startup::engine(config)?;
    prune(&engine, Utc::now()).await
}

/// What a round's polls came to.
pub(crate) struct Polled {
    /// One per source, in config order.
    pub(crate) reports: Vec<PollReport>,
    /// Polls that failed inside qafila, so that nothing of them was stored (see [`poll_sources`]).
    pub(crate) internal_failures: usize,
}

/// Polls the given sources concurrently, in config order of reports.
///
/// At most `[fetch] concurrency` sources are fetched, parsed and prepared at once; a source's slot is free again
/// once its result is queued for the writer, not once it is stored, so fetching goes on while the writer works
/// (at most a bounded backlog ahead of it; see [`crate::pipeline::FetchSlots`] and
/// [`crate::pipeline::WriteQueue`]). A report is made once the source's result is stored.
///
/// A poll that fails inside qafila (a parser or feature task that panicked, a read of its state that failed) is
/// stored as that source's failed fetch by [`Engine::poll_source`], so it backs off like any failure. Should a
/// poll still return `Err`, that source gets a failed report of its own: the others' results are stored already,
/// and their reports, the feed file of `qafila poll` and the round's status must not be lost with it.
pub(crate) async fn poll_sources(engine: &Arc<Engine>, sources: Vec<SourceConfig>) -> Polled {
    let states = engine.source_states(&sources).await;
    poll_with_states(engine, sources, states).await
}

/// [`poll_sources`] with the sources' states read already.
async fn poll_with_states(
    engine: &Arc<Engine>,
    sources: Vec<SourceConfig>,
    states: Vec<StateRead>,
) -> Polled {
    let slots = FetchSlots::new(engine.config().fetch.concurrency);
    // Every poll is a future of this one task, waiting for a slot in config order (the futures are small until
    // they hold one); `join_all` gives their reports in the order of `sources`.
    let polls = sources.into_iter().zip(states).map(|(source, state)| {
        let (engine, slots) = (engine.clone(), slots.clone());
        // Announced now, for the whole round: while any source of the round has not queued its result, the writer
        // keeps its transaction open for more (see `WriteQueue`).
        let coming = engine.result_coming();
        async move {
            let slot = slots.take().await;
            let started = std::time::Instant::now();
            match engine.poll_source(&source, state, slot, coming).await {
                Ok(report) => (report, false),
                Err(e) => {
                    tracing::error!(source = source.id(), error = %e, "the poll failed inside qafila; nothing of it was stored");
                    let report = PollReport {
                        source_id: source.id().to_string(),
                        status: None,
                        error: Some(format!("internal error: {e}")),
                        new: 0,
                        seen: 0,
                        merged: 0,
                        over_cap: 0,
                        bytes: 0,
                        duration: started.elapsed(),
                        next_due: None,
                    };
                    (report, true)
                }
            }
        }
    });
    let polled: Vec<(PollReport, bool)> = future::join_all(polls).await;
    Polled {
        internal_failures: polled.iter().filter(|(_, internal)| *internal).count(),
        reports: polled.into_iter().map(|(report, _)| report).collect(),
    }
}

/// Reads the stories to publish, rebuilds the served documents and the feed file ([`site::rebuild`]), and pings
/// the WebSub hub about the feeds that changed. Rendering and compressing are CPU work: they run off the async
/// threads, so the server keeps answering meanwhile.
pub(crate) async fn publish_and_ping(engine: &Arc<Engine>, site: &Arc<Site>) -> Result<()> {
    let config = engine.config();
    let stories = engine
        .stories_to_publish(site::stories_needed(&config))
        .await?;
    let published = tokio::task::spawn_blocking({
        let (site, config, gazetteer) = (site.clone(), config.clone(), engine.gazetteer.clone());
        move || site::rebuild(&site, &config, &gazetteer, &stories, Utc::now())
    })
    .await
    .map_err(|e| Error::Internal(format!("publish task: {e}")))??;
    let changed = published.changed_feeds;
    if let (Some(hub), false) = (&config.feed.websub_hub, changed.is_empty()) {
        websub::ping(&engine.fetcher(), hub.as_str(), &changed).await;
    }
    published
        .output
        .inspect_err(|_| engine.metrics.add_output_write_failure())
}

/// Gauges after a round, and the daily maintenance (the first one after the first round of the process).
pub(crate) async fn after_round(engine: &Arc<Engine>) -> Result<()> {
    let config = engine.config();
    let enabled = config.enabled_ids();
    let (failing, size) = engine
        .with_writer(move |w| {
            Ok((
                w.store.failing_among(&enabled)? as u64,
                w.store.size_bytes()?,
            ))
        })
        .await?;
    engine.metrics.set_sources_failing(failing);
    engine.metrics.set_database_size(size);
    let now = Utc::now();
    let last = engine.last_maintenance.lock().map(|t| *t).unwrap_or(None);
    if last.is_none_or(|t| now - t >= MAINTENANCE_EVERY) {
        prune(engine, now).await?;
        if let Ok(mut t) = engine.last_maintenance.lock() {
            *t = Some(now);
        }
    }
    Ok(())
}

/// Retention now: what `qafila prune` and the daily maintenance run. Stories still published are kept.
async fn prune(engine: &Arc<Engine>, now: DateTime<Utc>) -> Result<PruneReport> {
    let config = engine.config();
    let stories = engine
        .stories_to_publish(site::stories_needed(&config))
        .await?;
    let keep = site::published_guids(&config, &engine.gazetteer, &stories);
    let days = config.storage.retention_days;
    let report = engine
        .with_writer(move |w| w.maintain(days, &keep, now))
        .await?;
    tracing::info!(
        items = report.items,
        stories = report.stories,
        retention_days = days,
        "pruned old items"
    );
    Ok(report)
}

/// The one-line `STATUS=` systemd shows after a round.
pub(crate) fn round_status(reports: &[PollReport]) -> String {
    let failed = reports.iter().filter(|r| r.failed()).count();
    let new: usize = reports.iter().map(|r| r.new).sum();
    format!(
        "last round {}: {} sources, {} failed, {} new items",
        Utc::now().format("%H:%M:%S UTC"),
        reports.len(),
        failed,
        new
    )
}

#[cfg(test)]
#[path = "round_tests.rs"]
mod tests;
