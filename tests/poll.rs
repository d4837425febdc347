//! `qafila poll` end to end: the real binary against a real HTTP server on 127.0.0.1, a real SQLite file, and the
//! written feed parsed back with feed-rs.

mod common;

use common::*;
use serde_json::Value;

fn sources(server: &FixtureServer) -> Vec<(&'static str, String)> {
    vec![
        ("outlet-a", server.url("/feeds/outlet-a.xml")),
        ("outlet-b", server.url("/feeds/outlet-b.atom")),
        ("tashkent", server.url("/feeds/cp1256.xml")),
        ("ashgabat", server.url("/feeds/iso-8859-6.xml")),
        ("tbilisi", server.url("/feeds/no-guid.xml")),
        ("broken", server.url("/status/500")),
        ("slow", server.url("/slow")),
    ]
}

fn parse_feed(dir: &std::path::Path) -> feed_rs::model::Feed {
    let bytes = std::fs::read(dir.join("out/feed.xml")).expect("the feed file is written");
    feed_rs::parser::parse(&bytes[..]).expect("the feed parses")
}

fn href(e: &feed_rs::model::Entry) -> &str {
    e.links.first().map_or("", |l| l.href.as_str())
}

#[test]
fn poll_stores_every_source_and_writes_a_merged_feed() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "127.0.0.1:0", &sources(&server));

    let started = std::time::Instant::now();
    let out = qafila(&config, &["poll"]);
    assert!(
        out.status.success(),
        "exit {:?}: {}",
        out.status,
        stderr(&out)
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "a slow source (answering after a minute) must not delay the others beyond its 1 s timeout: {:?}",
        started.elapsed()
    );
    let text = stdout(&out);
    let line = |id: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{id}\t")))
            .unwrap_or_else(|| panic!("no line for {id} in {text}"))
            .to_string()
    };
    // outlet-a and outlet-b are fetched at the same time and share one article (behind tracking parameters):
    // whichever is stored first delivers it, the other sees it.
    let counts = |id: &str| -> (usize, usize) {
        let l = line(id);
        assert!(l.contains("\t200\t"), "{l}");
        let nums: Vec<usize> = l
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect();
        (nums[nums.len() - 2], nums[nums.len() - 1])
    };
    let (a, b) = (counts("outlet-a"), counts("outlet-b"));
    assert_eq!(
        (a.0 + b.0, a.1 + b.1),
        (4, 1),
        "the tracking-parameter duplicate is one item: {a:?} {b:?}"
    );
    assert_eq!((a.0 + a.1, b.0 + b.1), (3, 2));
    assert_eq!(line("tashkent"), "tashkent\t200\tnew 1 / seen 0");
    assert_eq!(line("ashgabat"), "ashgabat\t200\tnew 1 / seen 0");
    assert_eq!(line("tbilisi"), "tbilisi\t200\tnew 2 / seen 0");
    assert!(
        line("broken").starts_with("broken\t500\terror: "),
        "{}",
        line("broken")
    );
    assert!(
        line("slow").starts_with("slow\t-\terror: "),
        "{}",
        line("slow")
    );

    let feed = parse_feed(dir.path());
    assert_eq!(feed.title.unwrap().content, "قافلة");
    assert_eq!(feed.language.as_deref(), Some("ar"));
    assert_eq!(
        feed.entries.len(),
        8,
        "8 distinct items, the cross-source duplicate once"
    );
    let titles: Vec<String> = feed
        .entries
        .iter()
        .map(|e| e.title.clone().unwrap().content)
        .collect();
    // Newest first: the two undated Tbilisi items are dated when first seen (now), then outlet-b's peace talks
    // (11:00Z), and the Samarkand item (19 Nov) is the oldest.
    assert!(
        titles[..2]
            .iter()
            .all(|t| t.contains("جورجيا") || t.contains("تبليسي")),
        "{titles:#?}"
    );
    assert_eq!(
        titles[2], "أرمينيا وأذربيجان تستأنفان محادثات السلام في جنيف",
        "{titles:#?}"
    );
    assert!(titles[7].contains("سمرقند"), "{titles:#?}");
    // windows-1256 and ISO-8859-6 decoded to real Arabic.
    assert!(
        titles.contains(&"طشقند تستضيف منتدى الاستثمار الدولي بمشاركة عربية واسعة".to_string()),
        "{titles:#?}"
    );
    assert!(
        titles.contains(&"تركمانستان تزيد صادرات الغاز الى الصين".to_string()),
        "{titles:#?}"
    );

    // Published once, whichever outlet delivered it first, at its original date.
    let astana: Vec<_> = feed
        .entries
        .iter()
        .filter(|e| href(e).contains("asia.example/news/100"))
        .collect();
    assert_eq!(astana.len(), 1);
    let published = astana[0].published.unwrap().to_rfc3339();
    assert!(
        ["2026-11-20T08:00:00+00:00", "2026-11-20T09:00:00+00:00"].contains(&published.as_str()),
        "{published}"
    );
    let second = feed
        .entries
        .iter()
        .find(|e| href(e) == "https://asia.example/news/101")
        .unwrap();
    assert_eq!(
        second.published.unwrap().to_rfc3339(),
        "2026-11-20T07:30:00+00:00",
        "+0300 converted to UTC"
    );
    let body = second.summary.as_ref().unwrap().content.clone();
    assert!(
        body.contains("https://asia.example/tags/bishkek"),
        "relative link made absolute: {body}"
    );

    let solar = feed
        .entries
        .iter()
        .find(|e| e.title.as_ref().unwrap().content.contains("سمرقند"))
        .unwrap();
    let body = solar.summary.as_ref().unwrap().content.clone();
    for bad in ["<script", "onerror", "onclick", "javascript:"] {
        assert!(!body.contains(bad), "{bad} survived sanitizing: {body}");
    }
    assert!(body.contains("500 ميغاواط"));

    // Every guid is unique and not a permalink; the RSS <source> names the outlet.
    let raw = std::fs::read_to_string(dir.path().join("out/feed.xml")).unwrap();
    assert_eq!(
        raw.matches("<guid isPermaLink=\"false\">").count(),
        8,
        "{raw}"
    );
    assert!(raw.contains(&format!(
        "<source url=\"{}\">منفذ tashkent</source>",
        server.url("/feeds/cp1256.xml")
    )));
    assert!(
        raw.contains("<atom:link href=\"http://qafila.test/feed.xml\" rel=\"self\""),
        "{raw}"
    );
    assert!(raw.contains("<lastBuildDate>"));

    // The item without guid or link is still stored and published, dated when first seen.
    let stories = stories_json(&config);
    assert_eq!(stories.len(), 8);
    assert!(stories
        .iter()
        .any(|s| s["title"] == "جورجيا تعلن موعد الانتخابات البلدية" && s["link"].is_null()));
}

#[test]
fn second_poll_uses_conditional_get_and_a_restart_keeps_everything() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "127.0.0.1:0", &sources(&server)[..5]);
    assert!(qafila(&config, &["poll"]).status.success());
    let first_feed = std::fs::read(dir.path().join("out/feed.xml")).unwrap();
    let first_stories = stories_json(&config);

    let out = qafila(&config, &["poll"]);
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("outlet-a\t304\tnew 0 / seen 0"),
        "{}",
        stdout(&out)
    );
    assert_eq!(server.not_modified("/feeds/outlet-a.xml"), 1);
    assert_eq!(server.not_modified("/feeds/outlet-b.atom"), 1);

    // Same stories, same guids, byte-identical feed: nothing reappears as new in readers.
    assert_eq!(stories_json(&config), first_stories);
    assert_eq!(
        std::fs::read(dir.path().join("out/feed.xml")).unwrap(),
        first_feed
    );

    // Every source now fails: exit 1, but nothing stored is lost and the feed still carries it.
    for path in [
        "/feeds/outlet-a.xml",
        "/feeds/outlet-b.atom",
        "/feeds/cp1256.xml",
        "/feeds/iso-8859-6.xml",
        "/feeds/no-guid.xml",
    ] {
        server.break_path(path);
    }
    let out = qafila(&config, &["poll"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "every source failed: {}",
        stdout(&out)
    );
    assert_eq!(stories_json(&config), first_stories);
    assert_eq!(
        std::fs::read(dir.path().join("out/feed.xml")).unwrap(),
        first_feed
    );

    let out = qafila(&config, &["sources", "--json"]);
    let sources: Value = serde_json::from_str(&stdout(&out)).unwrap();
    let a = sources
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "outlet-a")
        .unwrap();
    assert_eq!(a["last_status"], 500);
    assert_eq!(a["consecutive_failures"], 1);
    assert_eq!(a["items_stored"], 3);
    assert!(a["last_error"].as_str().unwrap().contains("500"));
    assert!(a["last_success"].is_string() && a["next_due"].is_string());
    let b = sources
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "outlet-b")
        .unwrap();
    assert_eq!(
        b["items_stored"], 2,
        "outlet-b delivered two items, one of them also outlet-a's"
    );
}

/// `poll` leaves nothing to the OS but memory: before it exits, the feed file is written and the database closed,
/// every item the poll reported new committed durably (in the file or in its log, which whatever opens the file
/// next reads), and the file consistent.
#[test]
fn a_poll_exits_with_the_database_closed_and_every_item_stored() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "127.0.0.1:0", &sources(&server)[..5]);
    let out = qafila(&config, &["poll"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let new_items = |out: &std::process::Output| -> i64 {
        stdout(out)
            .lines()
            .filter_map(|l| {
                l.split("new ")
                    .nth(1)?
                    .split(' ')
                    .next()?
                    .parse::<i64>()
                    .ok()
            })
            .sum()
    };
    let reported = new_items(&out);
    assert!(reported > 0, "{}", stdout(&out));
    let db = dir.path().join("state/qafila.db");
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let check: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(check, "ok");
    let stored: i64 = conn
        .query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))
        .unwrap();
    assert_eq!(stored, reported);
    drop(conn);
    assert!(!parse_feed(dir.path()).entries.is_empty());

    // The next start finds every item stored: the same stories, nothing new.
    let stories = stories_json(&config);
    let again = qafila(&config, &["poll"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert_eq!(new_items(&again), 0, "{}", stdout(&again));
    assert_eq!(stories_json(&config), stories);
}

/// Every command reads the log a `poll` leaves beside the file (`Store::close`): the read-only views, `backup` (a
/// copy with every item), `restore` over a later poll's log (which must not be replayed onto the backup), another
/// poll, and the daemon, which serves what the polls stored and, once stopped, has checkpointed the log.
#[test]
fn every_command_reads_the_log_a_poll_leaves() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut sources = sources(&server)[..2].to_vec();
    // New items at every poll a second apart.
    sources.push(("fresh", server.url("/fresh/1.xml")));
    let config = write_config(dir.path(), &format!("127.0.0.1:{port}"), &sources);
    let db = dir.path().join("state/qafila.db");
    let log = dir.path().join("state/qafila.db-wal");
    let items = |db: &std::path::Path| -> i64 {
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))
            .unwrap()
    };
    let poll = || {
        std::thread::sleep(std::time::Duration::from_millis(1100));
        let out = qafila(&config, &["poll"]);
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(log.exists(), "the poll left no log: nothing to test");
    };
    poll();
    let stored = items(&db);
    let stories = stories_json(&config);
    assert!(stored > 0 && stories.len() > 1);
    let link = |stories: &[Value], i: usize| stories[i]["link"].as_str().unwrap().to_string();
    let out = qafila(&config, &["search", "--json", "أرمينيا"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let found: Vec<Value> = serde_json::from_str(&stdout(&out)).unwrap();
    assert!(!found.is_empty(), "{}", stdout(&out));
    let out = qafila(
        &config,
        &["explain", &link(&stories, 0), &link(&stories, 1)],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let backup = dir.path().join("backup.db");
    let out = qafila(&config, &["backup", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        items(&backup),
        stored,
        "the backup holds what is in the log"
    );

    poll();
    assert!(items(&db) > stored, "the second poll stored the new items");
    let out = qafila(&config, &["restore", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(items(&db), stored);
    assert_eq!(stories_json(&config), stories);

    poll();
    let polled = items(&db);
    assert!(polled > stored);
    let newest = link(&stories_json(&config), 0);
    let daemon = Daemon::start(&config);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let feed = loop {
        if let Some(body) = get_feed(port) {
            break body;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the daemon never answered"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(feed.contains(&newest), "{newest} not in {feed}");
    assert_eq!(daemon.terminate().code(), Some(0));
    assert!(!log.exists(), "the daemon's close checkpoints the log");
    assert!(items(&db) >= polled);
}

/// `GET /feed.xml` on 127.0.0.1:port: the body of a `200`, `None` otherwise or while nothing answers.
fn get_feed(port: u16) -> Option<String> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .ok()?;
    write!(
        s,
        "GET /feed.xml HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).ok()?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n")?;
    head.starts_with("HTTP/1.1 200").then(|| body.to_string())
}
