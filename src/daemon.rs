//! Running the pipeline: once (`qafila poll`) or on the schedule with the HTTP server (`qafila run`).
//!
//! The daemon serves what is already stored from the first second, polls right away every source never fetched
//! or overdue, and then sleeps until the next source is due. A source is never polled twice at once; a round's
//! sources are fetched concurrently (bounded by `[fetch] concurrency`), and the feed is re-rendered after each
//! round. On SIGTERM/SIGINT it stops starting fetches, lets in-flight ones finish for a few seconds, cancels the
//! rest (every source's write is one transaction, so the database stays consistent) and exits 0.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use futures_util::stream::{self, StreamExt};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::{Config, SourceConfig};
use crate::error::{Error, Result};
use crate::fetch::Fetcher;
use crate::notify;
use crate::pipeline::{Engine, PollReport, Writer};
use crate::regions::Gazetteer;
use crate::serve::{self, ServerState};
use crate::site::{self, Site};
use crate::store::HealthReader;
use crate::websub;

/// How long in-flight fetches may finish after a shutdown signal before they are cancelled.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// The scheduler looks at the clock at least this often, so a changed system clock is noticed.
const MAX_SLEEP: Duration = Duration::from_secs(30);

/// The gazetteer `[regions] gazetteer` names, else the built-in one.
pub fn load_gazetteer(config: &Config) -> Result<Gazetteer> {
    match &config.regions.gazetteer {
        Some(path) => Gazetteer::load(path).map_err(|e| Error::Usage(e.to_string())),
        None => Ok(Gazetteer::builtin()),
    }
}

/// Opens the database and builds everything a poll needs.
pub fn engine(config: Arc<Config>) -> Result<Arc<Engine>> {
    let gazetteer = Arc::new(load_gazetteer(&config)?);
    let writer = Writer::open(&config, gazetteer.clone())?;
    let fetcher =
        Fetcher::new(config.fetch.client_settings()).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(Arc::new(Engine::new(config, fetcher, writer, gazetteer)))
}

/// Polls the given sources concurrently (at most `[fetch] concurrency` at once), in config order of reports.
pub async fn poll_sources(
    engine: &Arc<Engine>,
    sources: Vec<SourceConfig>,
) -> Result<Vec<PollReport>> {
    let concurrency = engine.config().fetch.concurrency;
    let reports: Vec<Result<PollReport>> = stream::iter(sources)
        .map(|source| {
            let engine = engine.clone();
            async move { engine.poll_source(&source).await }
        })
        .buffered(concurrency)
        .collect()
        .await;
    reports.into_iter().collect()
}

/// Reads the stories to publish, rebuilds the served documents and the feed file ([`site::rebuild`]), and pings
/// the WebSub hub about the feeds that changed. Rendering and compressing are CPU work: they run off the async
/// threads, so the server keeps answering meanwhile.
pub async fn publish_and_ping(engine: &Arc<Engine>, site: &Arc<Site>) -> Result<()> {
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

/// `qafila poll`: every enabled source once, then publish.
pub async fn poll_once(config: Arc<Config>) -> Result<Vec<PollReport>> {
    let engine = engine(config.clone())?;
    let sources: Vec<SourceConfig> = config.enabled_sources().cloned().collect();
    let reports = poll_sources(&engine, sources).await?;
    publish_and_ping(&engine, &Arc::new(Site::default())).await?;
    Ok(reports)
}

/// `qafila run`: the daemon, until SIGTERM or SIGINT. SIGHUP re-reads the config at `config_path`.
///
/// The port is bound and `/healthz` answers before anything is rendered: whatever is stored, the first publish
/// can never keep the service from starting (documents answer 503 until it is done).
pub async fn run(config: Arc<Config>, config_path: PathBuf) -> Result<()> {
    let engine = engine(config.clone())?;
    let site = Arc::new(Site::default());

    let addr = config.server.listen;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Listen {
            addr: addr.to_string(),
            source,
        })?;
    let state = Arc::new(ServerState {
        site: site.clone(),
        reader: Mutex::new(HealthReader::open(&config.storage.database)?),
        max_age: cache_max_age(&config),
        metrics: engine.metrics.clone(),
        config: engine.shared_config(),
        write_health: engine.write_health.clone(),
        search: Arc::new(crate::search::SearchService::new(
            &config.storage.database,
            engine.gazetteer.clone(),
        )?),
        archive: Arc::new(crate::archive::ArchiveService::new(
            &config.storage.database,
            engine.gazetteer.clone(),
        )?),
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let server_stop = stop_rx.clone();
    let server = tokio::spawn(serve::serve_http(
        listener,
        serve::router(state),
        server_stop,
        config.server.max_connections,
    ));
    tracing::info!(%addr, sources = config.enabled_sources().count(), "qafila is serving /feed.xml and polling");
    notify::ready(&format!(
        "serving on {addr}, {} sources",
        config.enabled_sources().count()
    ));
    // Signals are taken before the first publish: a SIGTERM while it renders stops the daemon cleanly once it is
    // done (the scheduler sees the stop at once) instead of killing it with the default action.
    tokio::spawn(handle_signals(engine.clone(), config_path, stop_tx));
    if let Err(e) = publish_and_ping(&engine, &site).await {
        tracing::error!(error = %e, "publishing what is stored failed; the feed appears after the first round");
    }
    let heartbeat = Arc::new(AtomicI64::new(Utc::now().timestamp()));
    if let Some(every) = notify::watchdog_interval() {
        tokio::spawn(watchdog(engine.clone(), heartbeat.clone(), every));
    }

    let result = schedule_loop(&engine, &site, stop_rx, &heartbeat).await;
    notify::stopping();
    result?;
    server
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
        .map_err(|e| Error::Internal(e.to_string()))?;
    tracing::info!("stopped");
    Ok(())
}

/// How often retention, `PRAGMA optimize` and a WAL checkpoint run.
const MAINTENANCE_EVERY: chrono::Duration = chrono::Duration::hours(24);

/// Gauges after a round, and the daily maintenance (the first one after the first round of the process).
async fn after_round(engine: &Arc<Engine>) -> Result<()> {
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

/// `qafila prune`: retention and optimization now, without polling.
pub async fn prune_now(config: Arc<Config>) -> Result<crate::store::PruneReport> {
    let engine = engine(config)?;
    prune(&engine, Utc::now()).await
}

/// Retention now: what `qafila prune` and the daily maintenance run. Stories still published are kept.
pub async fn prune(
    engine: &Arc<Engine>,
    now: chrono::DateTime<Utc>,
) -> Result<crate::store::PruneReport> {
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
fn round_status(reports: &[PollReport]) -> String {
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

/// Sends `WATCHDOG=1` only while the scheduler loop turns and the database answers, so that systemd restarts a
/// daemon that is wedged, not merely one that is alive.
async fn watchdog(engine: Arc<Engine>, heartbeat: Arc<AtomicI64>, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        let loop_age = Utc::now().timestamp() - heartbeat.load(Ordering::Relaxed);
        let scheduler_alive = loop_age <= 2 * MAX_SLEEP.as_secs() as i64 + 5;
        let db_alive = engine.with_writer(|w| w.store.ping()).await.is_ok();
        if scheduler_alive && db_alive {
            notify::watchdog();
        } else {
            tracing::error!(
                scheduler_alive,
                db_alive,
                "unhealthy: withholding the systemd watchdog ping"
            );
        }
    }
}

/// `max-age` for served documents: half the global poll period, so readers see a round's result soon after it.
fn cache_max_age(config: &Config) -> Duration {
    let period = config.fetch.schedule.period(Utc::now());
    (period / 2).clamp(Duration::from_secs(30), Duration::from_secs(3600))
}

/// SIGTERM/SIGINT ask the scheduler and server to stop (no `process::exit`: everything winds down in order);
/// SIGHUP reloads the config.
async fn handle_signals(engine: Arc<Engine>, config_path: PathBuf, stop: watch::Sender<bool>) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
    let mut hup = signal(SignalKind::hangup()).expect("SIGHUP handler");
    loop {
        tokio::select! {
            _ = term.recv() => { tracing::info!("SIGTERM: shutting down"); break }
            _ = int.recv() => { tracing::info!("SIGINT: shutting down"); break }
            _ = hup.recv() => reload(&engine, &config_path).await,
        }
    }
    let _ = stop.send(true);
}

/// Re-reads the config; an invalid one is logged and the running config stays in force.
async fn reload(engine: &Arc<Engine>, path: &Path) {
    notify::notify("RELOADING=1");
    let result = match Config::load(path) {
        Ok(new) => {
            let old = engine.config();
            if new.server.listen != old.server.listen {
                tracing::warn!("[server] listen changed: it applies after a restart");
            }
            if new.storage.database != old.storage.database
                || new.regions.gazetteer != old.regions.gazetteer
            {
                tracing::warn!(
                    "[storage] database and [regions] gazetteer changes apply after a restart"
                );
            }
            match Fetcher::new(new.fetch.client_settings()) {
                Ok(fetcher) => engine
                    .reload(Arc::new(new), fetcher)
                    .await
                    .map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        }
        Err(e) => Err(e.to_string()),
    };
    match result {
        Ok(()) => tracing::info!(
            sources = engine.config().enabled_sources().count(),
            "SIGHUP: configuration reloaded"
        ),
        Err(e) => {
            tracing::error!(error = %e, "SIGHUP: the new configuration is invalid; keeping the running one")
        }
    }
    notify::notify("READY=1");
}

/// Polls sources as they fall due until `stop` turns true.
async fn schedule_loop(
    engine: &Arc<Engine>,
    site: &Arc<Site>,
    mut stop: watch::Receiver<bool>,
    heartbeat: &AtomicI64,
) -> Result<()> {
    // The sources of rounds still running (not started again until theirs ends), and each round's sources by task.
    let mut in_flight: HashSet<String> = HashSet::new();
    let mut round_sources: HashMap<tokio::task::Id, Vec<String>> = HashMap::new();
    let mut rounds: JoinSet<()> = JoinSet::new();
    // Sources whose schedule has no firing left (its year is over), reported once.
    let mut finished: HashSet<String> = HashSet::new();
    loop {
        heartbeat.store(Utc::now().timestamp(), Ordering::Relaxed);
        let next_due = engine.with_writer(|w| w.store.next_due_times()).await?;
        let now = Utc::now();
        let mut due = Vec::new();
        let mut earliest = now + chrono::Duration::from_std(MAX_SLEEP).expect("small");
        let config = engine.config();
        for source in config.enabled_sources() {
            if in_flight.contains(source.id()) {
                continue;
            }
            let schedule = config.schedule_of(source);
            if schedule.next_after(now).is_none() {
                if finished.insert(source.id().to_string()) {
                    tracing::warn!(source = source.id(), schedule = schedule.expression(), "the schedule has no firing left; the source is not polled until the config gives it one");
                }
                continue;
            }
            // A source whose last result could not be stored is held back in memory (the database could not
            // save its next poll time).
            let stored = next_due.get(source.id()).copied().flatten();
            let held = engine.write_health.held_until(source.id());
            match stored.max(held) {
                Some(t) if t > now => earliest = earliest.min(t),
                _ => due.push(source.clone()),
            }
        }
        if !due.is_empty() {
            let ids: Vec<String> = due.iter().map(|s| s.id().to_string()).collect();
            in_flight.extend(ids.iter().cloned());
            let (engine, site) = (engine.clone(), site.clone());
            let round = rounds.spawn(async move {
                match poll_sources(&engine, due).await {
                    Ok(reports) => {
                        notify::status(&round_status(&reports));
                        engine.metrics.set_last_successful_round(Utc::now());
                    }
                    Err(e) => tracing::error!(error = %e, "poll round failed to store its results"),
                }
                if let Err(e) = after_round(&engine).await {
                    tracing::error!(error = %e, "maintenance after the round failed");
                }
                if let Err(e) = publish_and_ping(&engine, &site).await {
                    tracing::error!(error = %e, "publishing the feed failed (the served documents are updated whenever they could be rendered)");
                }
            });
            round_sources.insert(round.id(), ids);
            continue;
        }
        let sleep = (earliest - now).to_std().unwrap_or_default();
        tokio::select! {
            Some(done) = rounds.join_next_with_id() => {
                // Finished, panicked or cancelled alike: that round's sources (and only its) may be polled again.
                let round = match done {
                    Ok((round, ())) => round,
                    Err(e) => {
                        tracing::error!(error = %e, "a poll round ended abnormally");
                        e.id()
                    }
                };
                for id in round_sources.remove(&round).unwrap_or_default() {
                    in_flight.remove(&id);
                }
            }
            _ = tokio::time::sleep(sleep) => {}
            _ = engine.reloaded.notified() => {}
            _ = stop.wait_for(|s| *s) => break,
        }
    }
    if !rounds.is_empty() {
        tracing::info!(
            rounds = rounds.len(),
            "waiting for in-flight fetches to finish"
        );
        let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
            while rounds.join_next().await.is_some() {}
        })
        .await;
        if drained.is_err() {
            tracing::warn!("cancelling fetches still running after the grace period");
            rounds.shutdown().await;
        }
    }
    Ok(())
}
