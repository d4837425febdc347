//! The region's own sources end to end, through the real binary, a real SQLite file and fixture sites served on
//! 127.0.0.1 (`tests/fixtures/sites/`): feed discovery (a home page advertising its feed, one hiding it at
//! `/feed/`), `kind = "html"` listing pages (UTF-8 with Arabic-Indic digits and relative times, windows-1256 with
//! Levantine month names), a news sitemap behind a sitemap index, a page whose layout changed, `qafila discover`,
//! selector errors in `check`, and the shipped config starting with every source unreachable.

mod common;

use chrono::{DateTime, Utc};
use common::*;
use serde_json::Value;

/// A config with the given raw `[[source]]` tables.
fn config_with(dir: &std::path::Path, tables: &str) -> std::path::PathBuf {
    let path = write_config(dir, "127.0.0.1:0", &[]);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(tables);
    std::fs::write(&path, text).unwrap();
    path
}

fn poll_lines(config: &std::path::Path) -> String {
    let out = qafila(config, &["poll"]);
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status,
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

fn line<'a>(text: &'a str, id: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(&format!("{id}\t")))
        .unwrap_or_else(|| panic!("no line for {id} in {text}"))
}

fn sources_json(config: &std::path::Path) -> Vec<Value> {
    let out = qafila(config, &["sources", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str::<Value>(&stdout(&out))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn source<'a>(sources: &'a [Value], id: &str) -> &'a Value {
    sources.iter().find(|s| s["id"] == id).unwrap()
}

/// (title, link, published) of every stored item of one source, by link.
fn items_of(config: &std::path::Path, source: &str) -> Vec<(String, String, DateTime<Utc>)> {
    let mut items: Vec<_> = stories_json(config)
        .iter()
        .flat_map(|s| s["items"].as_array().unwrap().clone())
        .filter(|i| i["source"] == source)
        .map(|i| {
            (
                i["title"].as_str().unwrap().to_string(),
                i["link"].as_str().unwrap().to_string(),
                i["published"]
                    .as_str()
                    .unwrap()
                    .parse::<DateTime<Utc>>()
                    .unwrap(),
            )
        })
        .collect();
    items.sort_by(|a, b| a.1.cmp(&b.1));
    items
}

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

#[test]
fn discovery_finds_the_advertised_arabic_feed_and_the_hidden_one_and_keeps_using_them() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "127.0.0.1:0",
        &[
            ("advertised", server.url("/sites/advertised/")),
            ("hidden", server.url("/sites/hidden/")),
            ("mixed", server.url("/sites/mixed/")),
        ],
    );
    let config_text = std::fs::read(&config).unwrap();

    let first = poll_lines(&config);
    assert_eq!(
        line(&first, "advertised"),
        "advertised\t200\tnew 2 / seen 0"
    );
    assert_eq!(line(&first, "hidden"), "hidden\t200\tnew 2 / seen 0");
    let sources = sources_json(&config);
    // Two feeds advertised, English first: the Arabic one (hreflang="ar", relative href) is chosen.
    assert_eq!(
        source(&sources, "advertised")["discovered"],
        server.url("/sites/advertised/ar.xml")
    );
    assert_eq!(
        source(&sources, "hidden")["discovered"],
        server.url("/sites/hidden/feed/")
    );
    assert_eq!(
        source(&sources, "advertised")["url"],
        server.url("/sites/advertised/")
    );
    assert_eq!(
        items_of(&config, "advertised"),
        [
            (
                "باكو تستضيف منتدى الطاقة في بحر قزوين".to_string(),
                "http://caucasus.example/ar/news/1".to_string(),
                at("2025-11-20T09:00:00Z")
            ),
            (
                "يريفان وتبليسي تبحثان ممر النقل الجديد".to_string(),
                "http://caucasus.example/ar/news/2".to_string(),
                at("2025-11-19T15:30:00Z")
            ),
        ]
    );
    assert_eq!(items_of(&config, "hidden").len(), 2);

    // From now on the discovered feeds are polled, not the pages; the config file is never rewritten.
    let second = poll_lines(&config);
    assert_eq!(
        line(&second, "advertised"),
        "advertised\t200\tnew 0 / seen 2"
    );
    assert_eq!(line(&second, "hidden"), "hidden\t200\tnew 0 / seen 2");
    assert_eq!(server.hits("/sites/advertised/"), 1);
    assert_eq!(server.hits("/sites/hidden/"), 1);
    assert_eq!(server.hits("/sites/advertised/ar.xml"), 2);
    assert_eq!(server.hits("/sites/hidden/feed/"), 2);
    assert_eq!(std::fs::read(&config).unwrap(), config_text);
}

#[test]
fn a_page_without_any_feed_is_a_failure_that_says_what_to_do() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "127.0.0.1:0",
        &[
            ("nofeed", server.url("/sites/redesign/")),
            ("hidden", server.url("/sites/hidden/")),
        ],
    );
    let out = poll_lines(&config);
    let l = line(&out, "nofeed");
    assert!(
        l.starts_with("nofeed\t200\terror: ")
            && l.contains("advertises no feed")
            && l.contains("kind = \"html\""),
        "{l}"
    );
}

const LISTINGS: &str = r#"
[[source]]
id = "listing"
name = "وكالة أنباء آسيا الوسطى"
url = "{utf8}"
kind = "html"
select = { item = "div.news-item", title = "h3.news-title", date = ".news-date", summary = "p.lead", image = "img" }

[[source]]
id = "legacy"
name = "أخبار القوقاز"
url = "{cp1256}"
kind = "html"
select = { item = "ul.akhbar > li", title = "b", date = "em", summary = "p", utc_offset = "+04:00" }

[[source]]
id = "redesign"
name = "موقع أعيد تصميمه"
url = "{redesign}"
kind = "html"
select = { item = "div.news-item", title = "h3.news-title" }
"#;

#[test]
fn listing_pages_in_utf8_and_windows_1256_give_items_with_arabic_dates_and_a_changed_layout_fails()
{
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let tables = LISTINGS
        .replace("{utf8}", &server.url("/sites/listing/"))
        .replace("{cp1256}", &server.url("/sites/listing-cp1256/"))
        .replace("{redesign}", &server.url("/sites/redesign/"));
    let config = config_with(dir.path(), &tables);
    let polled_at = Utc::now();
    let out = poll_lines(&config);
    assert_eq!(line(&out, "listing"), "listing\t200\tnew 3 / seen 0");
    assert_eq!(line(&out, "legacy"), "legacy\t200\tnew 3 / seen 0");
    let redesign = line(&out, "redesign");
    assert!(
        redesign.starts_with("redesign\t200\terror: not a usable listing page: no element matches select.item = `div.news-item`"),
        "{redesign}"
    );

    let listing = items_of(&config, "listing");
    let base = server.url("/sites/listing/news");
    assert_eq!(listing[0].0, "أستانا تستضيف قمة دول آسيا الوسطى");
    assert_eq!(listing[0].1, format!("{base}/501"));
    assert_eq!(
        listing[0].2,
        at("2025-11-27T14:30:00Z"),
        "٢٧ نوفمبر ٢٠٢٥ - ١٤:٣٠"
    );
    assert_eq!(listing[1].0, "طشقند: افتتاح خط سكة حديد سريع إلى سمرقند");
    // A relative link, resolved against the page.
    assert_eq!(listing[1].1, format!("{base}/502?utm_source=home"));
    let two_hours_ago = polled_at - chrono::Duration::hours(2);
    assert!(
        (listing[1].2 - two_hours_ago).num_minutes().abs() <= 10,
        "منذ ساعتين gave {}",
        listing[1].2
    );
    assert_eq!(
        listing[2].2,
        at("2025-11-26T00:15:00Z"),
        "the datetime attribute wins over أمس"
    );

    let legacy = items_of(&config, "legacy");
    let titles: Vec<&str> = legacy.iter().map(|i| i.0.as_str()).collect();
    assert_eq!(
        titles,
        [
            "تبليسي: البرلمان الجورجي يقر موازنة العام المقبل",
            "غروزني تستضيف مهرجان الثقافة الشيشانية",
            "يريفان: افتتاح معرض للسجاد الأرمني"
        ]
    );
    assert_eq!(
        legacy[0].1,
        server.url("/sites/listing-cp1256/article.php?id=71")
    );
    // This page writes Baku time (utc_offset = "+04:00").
    assert_eq!(
        legacy[0].2,
        at("2025-11-20T06:45:00Z"),
        "الخميس 20 تشرين الثاني 2025 - 10:45"
    );
    assert_eq!(
        legacy[1].2,
        at("2024-12-14T20:00:00Z"),
        "15 كانون الأول 2024"
    );
    assert_eq!(
        legacy[2].2,
        at("2025-04-03T16:10:00Z"),
        "3 إبريل 2025 - 08:10 م"
    );

    // The failure is recorded like any other: counted, with its message, retried with backoff.
    let sources = sources_json(&config);
    let r = source(&sources, "redesign");
    assert_eq!(r["consecutive_failures"], 1);
    assert!(r["last_error"].as_str().unwrap().contains("layout"), "{r}");

    // Polling again finds the same items under the same ids.
    let again = poll_lines(&config);
    assert_eq!(line(&again, "listing"), "listing\t200\tnew 0 / seen 3");
    assert_eq!(line(&again, "legacy"), "legacy\t200\tnew 0 / seen 3");
}

#[test]
fn a_news_sitemap_behind_an_index_gives_the_last_days_arabic_entries() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let tables = format!(
        "\n[[source]]\nid = \"agency\"\nname = \"وكالة الأنباء\"\nurl = \"{}\"\nkind = \"sitemap\"\n",
        server.url("/sites/news/sitemap.xml")
    );
    let config = config_with(dir.path(), &tables);
    let polled_at = Utc::now();
    let out = poll_lines(&config);
    assert_eq!(line(&out, "agency"), "agency\t200\tnew 2 / seen 0");
    let items = items_of(&config, "agency");
    assert_eq!(
        items[0].0,
        "عشق آباد: تركمانستان تفتتح ميناء جديدا على بحر قزوين"
    );
    assert_eq!(items[0].1, "http://agency.example/ar/news/9001");
    assert!(
        (items[0].2 - (polled_at - chrono::Duration::hours(3)))
            .num_minutes()
            .abs()
            <= 10
    );
    assert_eq!(items[1].0, "كازاخستان وقرغيزستان تتفقان على ترسيم الحدود");
    // The 2019 child sitemap is older than the window: never fetched.
    assert_eq!(server.hits("/sites/news/news-sitemap.xml"), 1);
    assert_eq!(server.hits("/sites/news/sitemap-2019.xml"), 0);

    // sitemap_days = 7 takes the five-day-old entry too.
    let wider = tables.replace(
        "kind = \"sitemap\"\n",
        "kind = \"sitemap\"\nsitemap_days = 7\n",
    );
    let dir7 = tempfile::tempdir().unwrap();
    let config7 = config_with(dir7.path(), &wider);
    assert_eq!(
        line(&poll_lines(&config7), "agency"),
        "agency\t200\tnew 3 / seen 0"
    );
}

#[test]
fn discover_prints_ready_source_tables_arabic_first() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(dir.path(), "127.0.0.1:0", &[]);
    let out = qafila(&config, &["discover", &server.url("/sites/advertised/")]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let parsed: toml::Table = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let tables = parsed["source"].as_array().unwrap();
    let urls: Vec<&str> = tables.iter().map(|t| t["url"].as_str().unwrap()).collect();
    assert_eq!(
        urls,
        [
            server.url("/sites/advertised/ar.xml"),
            server.url("/sites/advertised/en.xml")
        ]
    );
    assert_eq!(tables[0]["name"].as_str(), Some("وكالة أنباء القوقاز"));
    // Appended to the config, the tables are valid sources.
    let mut with = std::fs::read_to_string(&config).unwrap();
    with.push_str(&text);
    std::fs::write(&config, with).unwrap();
    let check = qafila(&config, &["check"]);
    assert!(check.status.success(), "{}{}", stderr(&check), text);
    assert!(
        stdout(&check).starts_with("OK 2 sources"),
        "{}",
        stdout(&check)
    );

    let hidden = qafila(&config, &["discover", &server.url("/sites/hidden/")]);
    assert!(
        stdout(&hidden).contains(&format!("url = \"{}\"", server.url("/sites/hidden/feed/"))),
        "{}",
        stdout(&hidden)
    );
    let none = qafila(&config, &["discover", &server.url("/sites/redesign/")]);
    assert_eq!(none.status.code(), Some(2));
    assert!(stderr(&none).contains("no feed found"), "{}", stderr(&none));
}

#[test]
fn check_locates_a_selector_that_does_not_parse() {
    let dir = tempfile::tempdir().unwrap();
    let config = config_with(
        dir.path(),
        "\n[[source]]\nid = \"a\"\nname = \"أ\"\nurl = \"http://127.0.0.1:9/\"\n\n[[source]]\nid = \"b\"\nname = \"ب\"\n\
         url = \"http://127.0.0.1:9/b\"\nkind = \"html\"\nselect = { item = \"div.news[\", title = \"h3\" }\n",
    );
    let out = qafila(&config, &["check"]);
    assert_eq!(out.status.code(), Some(2));
    let text = std::fs::read_to_string(&config).unwrap();
    let line_no = text.lines().position(|l| l.starts_with("select")).unwrap() + 1;
    let col = text
        .lines()
        .nth(line_no - 1)
        .unwrap()
        .find("\"div")
        .unwrap()
        + 1;
    let expected = format!(
        "{}:{line_no}:{col}: key `source[1].select.item`: ",
        config.display()
    );
    assert!(
        stderr(&out).starts_with(&expected),
        "{}\nexpected {expected}",
        stderr(&out)
    );
}

#[test]
fn the_shipped_config_runs_with_every_source_unreachable() {
    let shipped = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/qafila.toml"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    // Every source on a closed local port: unreachable without touching the network; kinds and selectors as shipped.
    let text = shipped
        .replace("https://", "http://127.0.0.1:9/")
        .replace(
            "listen = \"127.0.0.1:8080\"",
            &format!("listen = \"127.0.0.1:{port}\""),
        )
        .replace(
            "database = \"data/qafila.db\"",
            &format!("database = \"{}\"", dir.path().join("q.db").display()),
        )
        .replace(
            "output = \"data/feed.xml\"",
            &format!("output = \"{}\"", dir.path().join("feed.xml").display()),
        );
    let config = dir.path().join("qafila.toml");
    std::fs::write(&config, text).unwrap();
    let _daemon = Daemon::start(&config);
    // Rewritten to one host, the enabled sources are fetched `per_host_min_gap_ms` (1 s) apart: the round alone
    // takes ~11 s, so the bound only catches a daemon that stops trying, not a slow machine.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(90);
    let failing = loop {
        let sources = sources_json(&config);
        let enabled: Vec<&Value> = sources.iter().filter(|s| s["enabled"] == true).collect();
        let failed = enabled
            .iter()
            .filter(|s| s["consecutive_failures"].as_u64() >= Some(1))
            .count();
        if failed == enabled.len() && !enabled.is_empty() {
            break failed;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "not every enabled source was tried: {sources:?}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(failing >= 10);
    let health = http_get(port, "/healthz");
    assert!(
        health.starts_with("HTTP/1.1 200") || health.starts_with("HTTP/1.1 503"),
        "{health}"
    );
    // The round's failures are stored before the round ends and publishes: until that first publish the feed is
    // "starting" (503 with Retry-After), which a loaded machine can stretch past the request just made.
    let feed = loop {
        let feed = http_get(port, "/feed.xml");
        if !feed.starts_with("HTTP/1.1 503") || std::time::Instant::now() >= deadline {
            break feed;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    assert!(feed.starts_with("HTTP/1.1 200"), "{feed}");
}

fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    stream.read_to_string(&mut out).unwrap();
    out
}
