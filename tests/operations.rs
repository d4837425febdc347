//! Running as a service: sd_notify messages on a real socket, SIGHUP reload, /metrics, backup while polling, prune.

mod common;

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use common::*;

const SIGHUP: i32 = 1;

fn get(url: &str) -> Option<(u16, String)> {
    // A tiny HTTP/1.0 client, so these tests need no async runtime.
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://")?;
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let mut stream = std::net::TcpStream::connect(host).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    let status = response.split(' ').nth(1)?.parse().ok()?;
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((status, body))
}

fn wait_until(what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn config_with_schedule(
    dir: &std::path::Path,
    port: u16,
    sources: &[(&str, String)],
) -> std::path::PathBuf {
    let path = write_config(dir, &format!("127.0.0.1:{port}"), sources);
    // Every source every second (6-field form), so the tests see rounds quickly.
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replace("[fetch]\n", "[fetch]\nschedule = \"* * * * * *\"\n");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn systemd_hears_ready_status_and_stopping_in_order() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(15)))
        .unwrap();
    let port = free_port();
    let config = write_config(
        dir.path(),
        &format!("127.0.0.1:{port}"),
        &[("a", server.url("/feeds/outlet-a.xml"))],
    );
    let daemon = Daemon::start_with(&config, &[("NOTIFY_SOCKET", socket_path.to_str().unwrap())]);
    let mut buf = [0u8; 1024];
    let mut recv = || {
        let n = socket.recv(&mut buf).expect("a notification");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    let ready = recv();
    assert!(
        ready.starts_with("READY=1\nSTATUS=serving on 127.0.0.1:"),
        "{ready}"
    );
    // READY comes once the server listens: the feed answers now.
    assert_eq!(
        get(&format!("http://127.0.0.1:{port}/healthz")).unwrap().0,
        200
    );
    let status = recv();
    assert!(
        status.starts_with("STATUS=last round")
            && status.contains("1 sources, 0 failed, 3 new items"),
        "{status}"
    );
    daemon.signal(15);
    let stopping = recv();
    assert_eq!(stopping, "STOPPING=1\nSTATUS=stopping");
    assert_eq!(daemon.terminate().code(), Some(0));
}

#[test]
fn sighup_adds_and_removes_sources_and_an_invalid_config_keeps_the_running_one() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = config_with_schedule(
        dir.path(),
        port,
        &[("first", server.url("/feeds/outlet-a.xml"))],
    );
    let daemon = Daemon::start(&config);
    wait_until(
        "the first source polled twice",
        Duration::from_secs(10),
        || server.hits("/feeds/outlet-a.xml") >= 2,
    );

    // Replace the source: the new one is polled, the removed one no longer.
    config_with_schedule(
        dir.path(),
        port,
        &[("second", server.url("/feeds/no-guid.xml"))],
    );
    daemon.signal(SIGHUP);
    wait_until("the added source polled", Duration::from_secs(10), || {
        server.hits("/feeds/no-guid.xml") >= 2
    });
    let removed_hits = server.hits("/feeds/outlet-a.xml");
    let second_hits = server.hits("/feeds/no-guid.xml");
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        server.hits("/feeds/outlet-a.xml"),
        removed_hits,
        "a removed source is not polled any more"
    );
    assert!(server.hits("/feeds/no-guid.xml") > second_hits);

    // An invalid config is refused; the running one stays.
    std::fs::write(&config, "[feed]\ntitle = \"broken\n").unwrap();
    daemon.signal(SIGHUP);
    let before = server.hits("/feeds/no-guid.xml");
    std::thread::sleep(Duration::from_millis(2500));
    assert!(
        server.hits("/feeds/no-guid.xml") > before,
        "still polling with the old config"
    );
    let (status, health) = get(&format!("http://127.0.0.1:{port}/healthz")).unwrap();
    assert_eq!(status, 200);
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    assert_eq!(
        health["sources"], 1,
        "the removed source is not counted: {health}"
    );
    // The stories of the removed source stay published.
    let feed = get(&format!("http://127.0.0.1:{port}/feed.xml")).unwrap().1;
    assert!(
        feed.contains("قرغيزستان وطاجيكستان") && feed.contains("تبليسي"),
        "{feed}"
    );
    assert_eq!(daemon.terminate().code(), Some(0));
}

/// Every sample of a Prometheus text exposition, as `name{labels}` → value.
fn parse_metrics(text: &str) -> std::collections::HashMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let (key, value) = l
                .rsplit_once(' ')
                .unwrap_or_else(|| panic!("bad sample line: {l}"));
            (
                key.to_string(),
                value
                    .parse::<f64>()
                    .unwrap_or_else(|_| panic!("bad value: {l}")),
            )
        })
        .collect()
}

#[test]
fn metrics_move_after_a_poll_and_backup_while_polling_is_consistent() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut sources = vec![
        ("a", server.url("/feeds/outlet-a.xml")),
        ("down", server.url("/status/500")),
    ];
    let fresh: Vec<(String, String)> = (0..8)
        .map(|n| (format!("fresh-{n}"), server.url(&format!("/fresh/{n}.xml"))))
        .collect();
    sources.extend(fresh.iter().map(|(id, url)| (id.as_str(), url.clone())));
    let config = config_with_schedule(dir.path(), port, &sources);
    let daemon = Daemon::start(&config);
    let base = format!("http://127.0.0.1:{port}");
    wait_until("a round", Duration::from_secs(10), || {
        get(&format!("{base}/metrics"))
            .is_some_and(|(_, m)| m.contains("qafila_fetches_total{source=\"a\",outcome=\"ok\"}"))
    });
    let (status, text) = get(&format!("{base}/metrics")).unwrap();
    assert_eq!(status, 200);
    let m = parse_metrics(&text);
    assert!(
        m["qafila_fetches_total{source=\"a\",outcome=\"ok\"}"] >= 1.0,
        "{text}"
    );
    assert!(
        m["qafila_fetches_total{source=\"down\",outcome=\"error\"}"] >= 1.0,
        "{text}"
    );
    assert!(m["qafila_items_ingested_total"] >= 3.0, "{text}");
    assert!(m["qafila_fetch_duration_seconds_count"] >= 2.0, "{text}");
    wait_until("gauges after a round", Duration::from_secs(10), || {
        let m = parse_metrics(&get(&format!("{base}/metrics")).unwrap().1);
        m.get("qafila_sources_failing") == Some(&1.0)
            && m.get("qafila_database_size_bytes")
                .is_some_and(|v| *v > 0.0)
    });
    let before = parse_metrics(&get(&format!("{base}/metrics")).unwrap().1);
    get(&format!("{base}/feed.xml")).unwrap();
    let after = parse_metrics(&get(&format!("{base}/metrics")).unwrap().1);
    let served = |m: &std::collections::HashMap<String, f64>| {
        m.get("qafila_http_requests_total{path=\"/feed.xml\",status=\"200\"}")
            .copied()
            .unwrap_or(0.0)
    };
    assert_eq!(served(&after), served(&before) + 1.0);

    // Backup while the daemon keeps writing (a new item every second in each fresh source).
    let db = dir.path().join("state/qafila.db");
    let committed: Vec<String> = {
        let conn = rusqlite::Connection::open(&db).unwrap();
        let mut stmt = conn
            .prepare("SELECT link FROM items WHERE link IS NOT NULL")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let backup = dir.path().join("backup.db");
    let out = qafila(&config, &["backup", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let copy = rusqlite::Connection::open(&backup).unwrap();
    let ok: String = copy
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
    for link in &committed {
        let found: i64 = copy
            .query_row("SELECT COUNT(*) FROM items WHERE link = ?1", [link], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(found, 1, "{link} was committed before the backup began");
    }
    let again = qafila(&config, &["backup", backup.to_str().unwrap()]);
    assert!(
        !again.status.success() && stderr(&again).contains("exists"),
        "never overwrites: {}",
        stderr(&again)
    );
    // Restoring under a running daemon is refused; after it stops it works.
    let out = qafila(&config, &["restore", backup.to_str().unwrap()]);
    assert_ne!(
        out.status.code(),
        Some(0),
        "restore must refuse a database in use"
    );
    assert_eq!(daemon.terminate().code(), Some(0));
    let out = qafila(&config, &["restore", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let restored = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = restored
        .query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))
        .unwrap();
    assert!(n as usize >= committed.len());
}

#[test]
fn prune_keeps_published_items_and_opml_round_trips() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "127.0.0.1:0",
        &[("gen", server.url("/gen/0.xml"))],
    );
    // Keep only one story per feed and a retention of 1 day: every fixture item is older than that.
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text
        .replace("output =", "max_items = 1\noutput =")
        .replace("[storage]\n", "[storage]\nretention_days = 1\n");
    std::fs::write(&config, text).unwrap();
    assert!(qafila(&config, &["poll"]).status.success());
    let out = qafila(&config, &["prune"]);
    assert!(out.status.success(), "{}", stderr(&out));
    // 50 items about 7 countries, all older than a day: only the main feed's story and each country feed's stay.
    let pruned: usize = stdout(&out)
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    assert!(pruned >= 50 - 8, "{}", stdout(&out));
    let stories: serde_json::Value = serde_json::from_str(&stdout(&qafila(
        &config,
        &["stories", "--json", "--limit", "0"],
    )))
    .unwrap();
    let left = stories.as_array().unwrap();
    assert!((1..=8).contains(&left.len()), "{left:?}");
    let feed = std::fs::read_to_string(dir.path().join("out/feed.xml")).unwrap();
    assert!(
        feed.contains(left[0]["id"].as_str().unwrap()),
        "the published story stays"
    );

    let exported = qafila(&config, &["export-opml"]);
    assert!(exported.status.success());
    let opml_path = dir.path().join("sources.opml");
    std::fs::write(&opml_path, stdout(&exported)).unwrap();
    assert!(stdout(&exported).contains("<opml version=\"2.0\">"));
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/opml/reader-export.opml");
    let imported = qafila(&config, &["import-opml", shipped.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", stderr(&imported));
    let with_sources = format!(
        "{}\n{}",
        std::fs::read_to_string(&config).unwrap(),
        stdout(&imported)
    );
    let merged = dir.path().join("merged.toml");
    std::fs::write(&merged, with_sources).unwrap();
    let check = qafila(&merged, &["check"]);
    assert!(
        check.status.success(),
        "imported sources are valid config: {}",
        stderr(&check)
    );
}

#[test]
fn the_watchdog_is_fed_while_the_daemon_is_healthy() {
    let dir = tempfile::tempdir().unwrap();
    let socket_path = dir.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let port = free_port();
    let config = write_config(dir.path(), &format!("127.0.0.1:{port}"), &[]);
    // WatchdogSec=0.4s: qafila pings every 0.2 s.
    let daemon = Daemon::start_with(
        &config,
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
            ("WATCHDOG_USEC", "400000"),
        ],
    );
    let mut buf = [0u8; 1024];
    let mut pings = 0;
    let started = Instant::now();
    while pings < 3 {
        let n = socket.recv(&mut buf).expect("notifications keep coming");
        if &buf[..n] == b"WATCHDOG=1" {
            pings += 1;
        }
    }
    assert!(started.elapsed() < Duration::from_secs(15)); // a stalled watchdog never pings; timing slack for a loaded machine
    assert_eq!(daemon.terminate().code(), Some(0));
}
