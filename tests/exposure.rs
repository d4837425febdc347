//! What must never be published or reached, and faults that must degrade loudly: the real binary against the
//! fixture server on 127.0.0.1 — credentials in source URLs, the SSRF exemption and stored redirect targets,
//! security headers, the connection cap, an unwritable database, an unwritable feed file, two writers on one
//! database.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::http::client;
use common::*;

/// `qafila run` with its log written to `log` (the `Daemon` helper discards it).
struct LoggedDaemon(Child);

impl LoggedDaemon {
    fn start(config: &Path, log: &Path) -> LoggedDaemon {
        let child = Command::new(env!("CARGO_BIN_EXE_qafila"))
            .arg("--config")
            .arg(config)
            .arg("run")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log).unwrap())
            .spawn()
            .unwrap();
        LoggedDaemon(child)
    }
}

impl Drop for LoggedDaemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A daemon on a free port polling the one healthy fixture outlet, once its first publish is served:
/// the config, the daemon and the base URL.
async fn one_source_daemon(server: &FixtureServer, dir: &Path) -> (PathBuf, Daemon, String) {
    let port = free_port();
    let config = write_config(
        dir,
        &format!("127.0.0.1:{port}"),
        &[("a", server.url("/feeds/outlet-a.xml"))],
    );
    let daemon = Daemon::start(&config);
    let base = format!("http://127.0.0.1:{port}");
    wait_for(&base, "/", 200, "the first publish").await;
    (config, daemon, base)
}

/// Waits until `GET base/path` answers with `status`, returning the body.
async fn wait_for(base: &str, path: &str, status: u16, what: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = client().get(format!("{base}{path}")).send().await {
            if r.status().as_u16() == status {
                return r.text().await.unwrap();
            }
        }
        assert!(Instant::now() < deadline, "never saw {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn get(base: &str, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let r = client().get(format!("{base}{path}")).send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.unwrap())
}

fn set_key(config: &Path, table: &str, line: &str) {
    let text = std::fs::read_to_string(config).unwrap();
    let header = format!("[{table}]\n");
    assert!(text.contains(&header), "no [{table}] in the test config");
    std::fs::write(
        config,
        text.replacen(&header, &format!("{header}{line}\n"), 1),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_in_source_urls_are_never_published() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let addr = server.addr;
    let secret_url =
        format!("http://reader:hunter2@{addr}/feeds/outlet-a.xml?api_key=K3YK3Y&lang=ar");
    let closed = free_port();
    let failing_url = format!("http://u:pw4pw4@127.0.0.1:{closed}/feed.xml?access_token=T0KT0K");
    let config = write_config(
        dir.path(),
        &format!("127.0.0.1:{port}"),
        &[("secret", secret_url), ("down", failing_url)],
    );
    let secrets = [
        "hunter2", "K3YK3Y", "pw4pw4", "T0KT0K", "reader:", "api_key",
    ];
    let clean = |what: &str, text: &str| {
        for s in secrets {
            assert!(!text.contains(s), "{what} shows `{s}`:\n{text}");
        }
    };

    let out = qafila(&config, &["poll"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let lines = stdout(&out);
    assert!(lines.contains("secret\t200\tnew 3"), "{lines}");
    clean("poll", &lines);
    clean("poll's log", &stderr(&out));
    let public = format!("http://{addr}/feeds/outlet-a.xml?lang=ar");
    let file = std::fs::read_to_string(dir.path().join("out/feed.xml")).unwrap();
    assert!(
        file.contains(&format!("<source url=\"{public}\">")),
        "{file}"
    );
    clean("the feed file", &file);
    let opml = stdout(&qafila(&config, &["export-opml"]));
    assert!(opml.contains(&format!("xmlUrl=\"{public}\"")), "{opml}");
    clean("export-opml", &opml);
    let sources = stdout(&qafila(&config, &["sources", "--json"]));
    assert!(sources.contains("connect"), "{sources}");
    clean("sources", &sources);
    clean("stories", &stdout(&qafila(&config, &["stories", "--json"])));

    let log = dir.path().join("daemon.log");
    let daemon = LoggedDaemon::start(&config, &log);
    let base = format!("http://127.0.0.1:{port}");
    wait_for(&base, "/", 200, "the first publish").await;
    for path in [
        "/",
        "/feed.xml",
        "/feed.atom",
        "/feed.json",
        "/sources.opml",
        "/healthz",
        "/metrics",
        "/country/am",
        "/country/am.xml",
    ] {
        let (status, _, body) = get(&base, path).await;
        assert_eq!(status, 200, "{path}");
        clean(path, &body);
    }
    let (_, _, opml) = get(&base, "/sources.opml").await;
    assert!(opml.contains(&format!("xmlUrl=\"{public}\"")), "{opml}");
    drop(daemon);
    clean("the daemon's log", &std::fs::read_to_string(&log).unwrap());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_response_carries_security_headers_and_no_file_paths() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (_config, _daemon, base) = one_source_daemon(&server, dir.path()).await;
    for (path, status) in [
        ("/", 200),
        ("/feed.xml", 200),
        ("/healthz", 200),
        ("/metrics", 200),
        ("/no/such/page", 404),
    ] {
        let (code, headers, body) = get(&base, path).await;
        assert_eq!(code, status, "{path}");
        let header = |name: &str| {
            headers
                .get(name)
                .unwrap_or_else(|| panic!("{path}: no {name}"))
                .to_str()
                .unwrap()
                .to_string()
        };
        assert_eq!(header("x-content-type-options"), "nosniff", "{path}");
        assert_eq!(header("referrer-policy"), "no-referrer", "{path}");
        let csp = header("content-security-policy");
        for part in [
            "default-src 'none'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
        ] {
            assert!(csp.contains(part), "{path}: {csp}");
        }
        assert!(!csp.contains("script"), "no script is ever allowed: {csp}");
        assert!(
            !body.contains(dir.path().to_str().unwrap()),
            "{path} shows a file path: {body}"
        );
    }
}

#[test]
fn the_ssrf_exemption_comes_from_the_config_not_from_dns_or_a_stored_redirect() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let port = server.addr.port();
    // `localhost` resolves to loopback; only `allow_private` on the source lets it be fetched.
    let config = write_config(
        dir.path(),
        "127.0.0.1:0",
        &[
            (
                "by-name",
                format!("http://localhost:{port}/feeds/outlet-a.xml"),
            ),
            ("public", "http://feeds.invalid/rss.xml".to_string()),
        ],
    );
    let out = qafila(&config, &["poll"]);
    let lines = stdout(&out);
    let line = |id: &str| {
        lines
            .lines()
            .find(|l| l.starts_with(&format!("{id}\t")))
            .unwrap_or_else(|| panic!("no {id} in {lines}"))
            .to_string()
    };
    assert!(
        line("by-name").contains("refused") && line("by-name").contains("allow_private"),
        "{lines}"
    );
    assert_eq!(server.hits("/feeds/outlet-a.xml"), 0);

    // A permanent redirect stored for a public source (as if `feeds.invalid` had moved to a loopback literal) is
    // checked like any hop, not exempted as if it were the configured URL.
    let db = rusqlite::Connection::open(dir.path().join("state/qafila.db")).unwrap();
    db.execute(
        "UPDATE sources SET moved_to = ?1, next_due = NULL WHERE id = 'public'",
        [server.url("/feeds/outlet-b.atom")],
    )
    .unwrap();
    drop(db);
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "id = \"by-name\"\n",
        "id = \"by-name\"\nallow_private = true\n",
    );
    std::fs::write(&config, text).unwrap();
    let out = qafila(&config, &["poll"]);
    let lines = stdout(&out);
    let line = |id: &str| {
        lines
            .lines()
            .find(|l| l.starts_with(&format!("{id}\t")))
            .unwrap_or_else(|| panic!("no {id} in {lines}"))
            .to_string()
    };
    assert!(line("public").contains("refused"), "{lines}");
    assert_eq!(server.hits("/feeds/outlet-b.atom"), 0, "{lines}");
    assert!(line("by-name").contains("\t200\t"), "{lines}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websub_pings_go_through_the_guard() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(
        dir.path(),
        &format!("127.0.0.1:{port}"),
        &[("a", server.url("/feeds/outlet-a.xml"))],
    );
    // A hub named by a name that resolves to loopback: refused. (A hub on a loopback literal is pinged: see
    // tests/daemon.rs.)
    let hub = format!("http://localhost:{}/hub", server.addr.port());
    set_key(&config, "feed", &format!("websub_hub = \"{hub}\""));
    let log = dir.path().join("daemon.log");
    let daemon = LoggedDaemon::start(&config, &log);
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let text = std::fs::read_to_string(&log).unwrap();
        if text.contains("WebSub ping failed") {
            assert!(text.contains("refused"), "{text}");
            break;
        }
        assert!(Instant::now() < deadline, "no ping attempted: {text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    wait_for(&base, "/", 200, "the first publish").await;
    assert!(server.hub_pings().is_empty(), "{:?}", server.hub_pings());
    drop(daemon);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_beyond_the_cap_wait_for_a_free_slot() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(dir.path(), &format!("127.0.0.1:{port}"), &[]);
    set_key(&config, "server", "max_connections = 2");
    let _daemon = Daemon::start(&config);
    let base = format!("http://127.0.0.1:{port}");
    wait_for(&base, "/", 200, "the first publish").await;
    // Two idle connections take both slots (reqwest's pooled one closed when its client was dropped).
    tokio::time::sleep(Duration::from_millis(200)).await;
    let idle: Vec<std::net::TcpStream> = (0..2)
        .map(|_| std::net::TcpStream::connect(("127.0.0.1", port)).unwrap())
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let short = reqwest::Client::builder()
        .timeout(Duration::from_millis(1500))
        .build()
        .unwrap();
    let blocked = short.get(format!("{base}/healthz")).send().await;
    assert!(
        blocked.is_err(),
        "a third connection was served: {blocked:?}"
    );
    drop(idle);
    let (status, _, _) = get(&base, "/healthz").await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_cannot_be_written_backs_off_and_is_reported() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config_with(
        dir.path(),
        &format!("127.0.0.1:{port}"),
        &[("fresh", server.url("/gen/1-200.xml"))],
        "schedule = \"* * * * * *\"",
    );
    // The database may not grow at all: the first items (200 with their summaries, more than the empty database's
    // pages have room for) cannot be stored, exactly as on a full disk (SQLITE_FULL).
    set_key(&config, "storage", "max_database_bytes = 1");
    let daemon = Daemon::start(&config);
    let base = format!("http://127.0.0.1:{port}");
    let body = wait_for(&base, "/healthz", 503, "/healthz turning 503").await;
    assert!(body.contains("database writes failing"), "{body}");
    assert!(body.contains("full"), "{body}");
    assert!(
        !body.contains(dir.path().to_str().unwrap()),
        "no file path: {body}"
    );
    // Backoff, not a fetch loop: the first failure waits a minute although the schedule says every second
    // (before, every round re-fetched at once: hundreds in a few seconds).
    let before = server.hits("/gen/1-200.xml");
    tokio::time::sleep(Duration::from_secs(5)).await;
    let fetched = server.hits("/gen/1-200.xml") - before;
    assert!(fetched <= 1, "{fetched} fetches in 5 s while writes fail");
    let (_, _, metrics) = get(&base, "/metrics").await;
    let failures: f64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("qafila_database_write_failures_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(failures >= 1.0, "{metrics}");

    // The operator lifts the limit and reloads: the held source is retried at once, it stores, health comes back.
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("max_database_bytes = 1\n", "");
    std::fs::write(&config, text).unwrap();
    daemon.signal(1);
    let body = wait_for(&base, "/healthz", 200, "/healthz back to 200").await;
    assert!(body.contains("\"status\":\"ok\""), "{body}");
    assert_eq!(daemon.terminate().code(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serving_does_not_depend_on_the_feed_file() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config_with(
        dir.path(),
        &format!("127.0.0.1:{port}"),
        &[("fresh", server.url("/fresh/2.xml"))],
        "schedule = \"* * * * * *\"",
    );
    // `out` is a file, so `out/feed.xml` cannot be written (not even by root).
    std::fs::write(dir.path().join("out"), "in the way").unwrap();
    let log = dir.path().join("daemon.log");
    let _daemon = LoggedDaemon::start(&config, &log);
    let base = format!("http://127.0.0.1:{port}");
    let first = wait_for(&base, "/feed.xml", 200, "a served feed").await;
    // The fixture adds an item every second: the served feed keeps up although the file cannot be written.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, _, now) = get(&base, "/feed.xml").await;
        if now != first && now.contains("<item>") {
            break;
        }
        assert!(Instant::now() < deadline, "the served feed froze");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (_, _, metrics) = get(&base, "/metrics").await;
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("qafila_output_write_failures_total ") && !l.ends_with(" 0")),
        "{metrics}"
    );
    // Once the way is clear, the file is written at the next publish.
    std::fs::remove_file(dir.path().join("out")).unwrap();
    let file = dir.path().join("out/feed.xml");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !file.exists() {
        assert!(Instant::now() < deadline, "the feed file was never written");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(std::fs::read_to_string(&log)
        .unwrap()
        .contains("cannot write"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_writer_is_refused_and_readers_keep_working() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let (config, daemon, _base) = one_source_daemon(&server, dir.path()).await;
    for command in ["poll", "run", "prune"] {
        let out = qafila(&config, &[command]);
        assert_eq!(out.status.code(), Some(1), "{command}: {}", stdout(&out));
        let err = stderr(&out);
        assert!(
            err.contains("being written by another qafila")
                && err.contains(&daemon.0.id().to_string()),
            "{command}: {err}"
        );
    }
    for args in [
        &["stories"][..],
        &["sources"],
        &["backup", dir.path().join("copy.db").to_str().unwrap()],
    ] {
        let out = qafila(&config, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    let out = qafila(
        &config,
        &["restore", dir.path().join("copy.db").to_str().unwrap()],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("in use"), "{}", stderr(&out));
    assert_eq!(daemon.terminate().code(), Some(0));
    let out = qafila(&config, &["poll"]);
    assert!(out.status.success(), "{}", stderr(&out));
}
