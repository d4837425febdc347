//! The daemon (`qafila run`): the scheduler loop, signals and the systemd watchdog.
//!
//! It serves what is already stored from the first second, polls right away every source never fetched or
//! overdue, and then sleeps until the next source is due (`schedule` decides when). A source is never polled twice
//! at once; a round's sources are fetched concurrently (bounded by `[fetch] concurrency`), and the feed is
//! re-rendered after each round (`round`). On SIGTERM/SIGINT it stops starting fetches, lets in-flight ones finish
//! for a few seconds, cancels the rest and exits 0. The database stays consistent: a write commits whole sources'
//! results (a fetch with its items and state, several fetches in one group), and a fetch already handed to the
//! writer is still stored, since the writer's blocking task is not cancelled and the runtime waits for it. What it
//! is built from is assembled in `startup`.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::fetch::Fetcher;
use crate::notify;
use crate::pipeline::Engine;
use crate::round::{after_round, poll_sources, publish_and_ping, round_status};
use crate::schedule::{Scheduler, MAX_SLEEP};
use crate::site::Site;
use crate::startup;

pub use crate::round::{poll_once, prune_now, Finished};

/// How long in-flight fetches may finish after a shutdown signal before they are cancelled.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// `qafila run`: the daemon, until SIGTERM or SIGINT. SIGHUP re-reads the config at `config_path`.
///
/// The port is bound and `/healthz` answers before anything is rendered: whatever is stored, the first publish
/// can never keep the service from starting (documents answer 503 until it is done).
pub async fn run(config: Arc<Config>, config_path: PathBuf) -> Result<()> {
    let engine = startup::engine(config.clone())?;
    let site = Arc::new(Site::default());
    let (stop_tx, stop_rx) = watch::channel(false);
    let server = startup::serve(&config, &engine, site.clone(), stop_rx.clone()).await?;
    let addr = server.addr;
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
        .task
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
        .map_err(|e| Error::Internal(e.to_string()))?;
    tracing::info!("stopped");
    Ok(())
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
    let mut scheduler = Scheduler::default();
    loop {
        heartbeat.store(Utc::now().timestamp(), Ordering::Relaxed);
        let stored = engine.with_writer(|w| w.store.next_due_times()).await?;
        let now = Utc::now();
        let turn = scheduler.turn(
            &engine.config(),
            now,
            &stored,
            |id| engine.write_health.held_until(id),
            &in_flight,
        );
        let due = turn.due;
        if !due.is_empty() {
            let ids: Vec<String> = due.iter().map(|s| s.id().to_string()).collect();
            in_flight.extend(ids.iter().cloned());
            let (engine, site) = (engine.clone(), site.clone());
            let round = rounds.spawn(async move {
                let polled = poll_sources(&engine, due).await;
                notify::status(&round_status(&polled.reports));
                // "Stored its results": a poll that failed inside qafila stored nothing, and keeps the gauge old.
                if polled.internal_failures == 0 {
                    engine.metrics.set_last_successful_round(Utc::now());
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
        let sleep = (turn.wake_at - now).to_std().unwrap_or_default();
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
    // Cancelled polls may have left results queued for the writer's own thread, which outlives the runtime's
    // tasks: they are stored before the daemon returns, as far as the grace period allows.
    if !engine.writes_settled(SHUTDOWN_GRACE).await {
        tracing::warn!("fetch results were still waiting to be stored after the grace period; they are fetched again at the next start");
    }
    Ok(())
}
