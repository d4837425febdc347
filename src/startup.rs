//! Start-up wiring: what `qafila run`, `poll` and `prune` assemble before anything runs — the gazetteer, the
//! [`Engine`] (database writer, fetcher, metrics) and, for the daemon, the bound port and the HTTP server.
//!
//! Kept apart from `daemon` so that it reads as what runs (the loop, signals, watchdog), not what is built. The
//! server gets only what it reads — the documents, the config in force, a read-only store handle — never the
//! engine, so it cannot write the database.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::archive::ArchiveService;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::fetch::Fetcher;
use crate::pipeline::{Engine, Writer};
use crate::regions::Gazetteer;
use crate::schedule;
use crate::search::SearchService;
use crate::serve::{self, ServerState};
use crate::site::Site;
use crate::store::HealthReader;

/// The gazetteer `[regions] gazetteer` names, else the built-in one.
pub(crate) fn load_gazetteer(config: &Config) -> Result<Gazetteer> {
    match &config.regions.gazetteer {
        Some(path) => Gazetteer::load(path).map_err(|e| Error::Usage(e.to_string())),
        None => Ok(Gazetteer::builtin()),
    }
}

/// Opens the database and builds everything a poll needs. The built-in gazetteer (CPU work: ~3 ms) is built on
/// a second thread while the database opens and migrates, which is mostly waiting for the disk, and is needed
/// only after that (`Writer::open_making`); a gazetteer file, which may be refused, is read first, before
/// anything is written, as ever. The HTTP clients cost little to build: their TLS verifier, which reads the
/// system's root certificates, is made at the first `https` fetch (`fetch::tls`).
pub(crate) fn engine(config: Arc<Config>) -> Result<Arc<Engine>> {
    let writer = if config.regions.gazetteer.is_some() {
        Writer::open(&config, Arc::new(load_gazetteer(&config)?))?
    } else {
        std::thread::scope(|scope| {
            let beside = std::thread::Builder::new().spawn_scoped(scope, Gazetteer::builtin);
            Writer::open_making(&config, || {
                Arc::new(match beside {
                    Ok(thread) => thread
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                    // No thread to spare: built here.
                    Err(_) => Gazetteer::builtin(),
                })
            })
        })?
    };
    let gazetteer = writer.gazetteer();
    let fetcher =
        Fetcher::new(config.fetch.client_settings()).map_err(|e| Error::Internal(e.to_string()))?;
    tracing::debug!("opened the database and built the HTTP clients");
    Ok(Arc::new(Engine::new(config, fetcher, writer, gazetteer)))
}

/// The HTTP server, listening.
pub(crate) struct Server {
    /// The address it is bound to.
    pub(crate) addr: SocketAddr,
    /// Ends once `stop` turned true and open connections closed.
    pub(crate) task: JoinHandle<std::io::Result<()>>,
}

/// Binds `[server] listen` and serves `site` until `stop` turns true. The port answers at once (documents with
/// 503 until the first publish), so nothing that follows can keep the service from starting.
pub(crate) async fn serve(
    config: &Config,
    engine: &Engine,
    site: Arc<Site>,
    stop: watch::Receiver<bool>,
) -> Result<Server> {
    let addr = config.server.listen;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Listen {
            addr: addr.to_string(),
            source,
        })?;
    let state = Arc::new(ServerState {
        site,
        reader: Mutex::new(HealthReader::open(&config.storage.database)?),
        max_age: schedule::served_max_age(config, chrono::Utc::now()),
        metrics: engine.metrics.clone(),
        config: engine.shared_config(),
        write_health: engine.write_health.clone(),
        search: Arc::new(SearchService::new(
            &config.storage.database,
            engine.gazetteer.clone(),
        )?),
        archive: Arc::new(ArchiveService::new(
            &config.storage.database,
            engine.gazetteer.clone(),
        )?),
    });
    let task = tokio::spawn(serve::serve_http(
        listener,
        serve::router(state),
        stop,
        config.server.max_connections,
    ));
    Ok(Server { addr, task })
}
