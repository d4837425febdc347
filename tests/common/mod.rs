//! Shared by the end-to-end tests: a real HTTP server on 127.0.0.1 serving `tests/fixtures/e2e/` and misbehaving
//! routes, config files pointing at it, and a way to run the real `qafila` binary.
#![allow(dead_code)] // each test binary uses a different part of it

pub mod hostile_feeds;
pub mod http;
mod misbehaving;
mod routes;
mod sites;
use routes::*;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap};
use axum::response::Response;
use axum::routing::get;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/e2e")
        .join(name)
}

#[derive(Default)]
struct Shared {
    /// Requests per path.
    hits: HashMap<String, usize>,
    /// Conditional requests answered 304, per path.
    not_modified: HashMap<String, usize>,
    /// Paths switched to answering 500.
    broken: Vec<String>,
    /// Bodies POSTed to `/hub` (WebSub pings).
    hub_pings: Vec<String>,
}

/// The fixture server; it runs on its own thread and runtime so that tests can also run the binary beside it.
pub struct FixtureServer {
    pub addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
}

impl FixtureServer {
    pub fn start() -> FixtureServer {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let (tx, rx) = std::sync::mpsc::channel();
        let state = shared.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                tx.send(listener.local_addr().unwrap()).unwrap();
                let app = axum::Router::new()
                    .route("/feeds/{name}", get(feed))
                    .route("/gen/{name}", get(generated))
                    .route("/fresh/{name}", get(fresh))
                    .route("/now/{name}", get(dated_now))
                    .route("/fx/{name}", get(hostile_fixture))
                    .route("/moved/{n}", get(moved))
                    .route("/hub", axum::routing::post(hub))
                    .route("/hostile/{case}", get(hostile_feeds::hostile))
                    .merge(misbehaving::routes())
                    .merge(sites::routes())
                    .with_state(state);
                axum::serve(listener, app).await.unwrap();
            });
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("fixture server started");
        FixtureServer { addr, shared }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn hits(&self, path: &str) -> usize {
        self.shared
            .lock()
            .unwrap()
            .hits
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    pub fn not_modified(&self, path: &str) -> usize {
        self.shared
            .lock()
            .unwrap()
            .not_modified
            .get(path)
            .copied()
            .unwrap_or(0)
    }

    pub fn hub_pings(&self) -> Vec<String> {
        self.shared.lock().unwrap().hub_pings.clone()
    }

    /// From now on `path` answers 500.
    pub fn break_path(&self, path: &str) {
        self.shared.lock().unwrap().broken.push(path.to_string());
    }
}

/// A config file in `dir` with the given `(id, url)` sources, a 1-second timeout and no per-host gap (every test
/// source is on 127.0.0.1).
pub fn write_config(dir: &Path, listen: &str, sources: &[(&str, String)]) -> PathBuf {
    write_config_with(dir, listen, sources, "")
}

/// `write_config` with more `[fetch]` lines.
pub fn write_config_with(
    dir: &Path,
    listen: &str,
    sources: &[(&str, String)],
    fetch: &str,
) -> PathBuf {
    let mut text = format!(
        r#"[feed]
title = "قافلة"
description = "أخبار آسيا الوسطى والقوقاز"
link = "http://qafila.test/"
self_url = "http://qafila.test/feed.xml"
output = "{out}"

[server]
listen = "{listen}"

[storage]
database = "{db}"

[fetch]
timeout_secs = 1
connect_timeout_secs = 1
per_host_min_gap_ms = 0
per_host_concurrency = 8
{fetch}
"#,
        out = dir.join("out/feed.xml").display(),
        db = dir.join("state/qafila.db").display(),
    );
    for (id, url) in sources {
        text.push_str(&format!(
            "\n[[source]]\nid = \"{id}\"\nname = \"منفذ {id}\"\nurl = \"{url}\"\n"
        ));
    }
    let path = dir.join("qafila.toml");
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs the real binary with a config.
pub fn qafila(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qafila"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("qafila runs")
}

/// Runs the real binary with `args` under `/usr/bin/time`, returning its output and peak resident memory in KiB
/// (`None` where `/usr/bin/time` is not installed).
pub fn qafila_measured(config: &Path, args: &[&str]) -> (Output, Option<u64>) {
    if !Path::new("/usr/bin/time").exists() {
        return (qafila(config, args), None);
    }
    let report = tempfile::NamedTempFile::new().unwrap();
    let out = Command::new("/usr/bin/time")
        .args(["-f", "%M", "-o"])
        .arg(report.path())
        .arg(env!("CARGO_BIN_EXE_qafila"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let kb = std::fs::read_to_string(report.path())
        .ok()
        .and_then(|s| s.trim().lines().last()?.parse().ok());
    (out, kb)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `qafila stories --json --limit 0`, parsed.
pub fn stories_json(config: &Path) -> Vec<serde_json::Value> {
    let out = qafila(config, &["stories", "--json", "--limit", "0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str::<serde_json::Value>(&stdout(&out))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// A free port on 127.0.0.1 (bound and released; good enough for tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The real binary running `qafila run`; killed when dropped.
pub struct Daemon(pub Child);

impl Daemon {
    pub fn start(config: &std::path::Path) -> Daemon {
        Daemon::start_with(config, &[])
    }

    pub fn start_with(config: &std::path::Path, env: &[(&str, &str)]) -> Daemon {
        let child = Command::new(env!("CARGO_BIN_EXE_qafila"))
            .arg("--config")
            .arg(config)
            .arg("run")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .envs(env.iter().copied())
            .spawn()
            .unwrap();
        Daemon(child)
    }

    pub fn signal(&self, sig: i32) {
        unsafe { libc_kill(self.0.id() as i32, sig) };
    }

    pub fn terminate(mut self) -> std::process::ExitStatus {
        unsafe { libc_kill(self.0.id() as i32, 15) };
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.0.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the daemon did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
    }
}

unsafe extern "C" {
    #[link_name = "kill"]
    fn libc_kill(pid: i32, sig: i32) -> i32;
}
