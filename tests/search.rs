//! Search end to end with the real binary: `qafila search` over what `poll` stored, and the daemon's `/search`
//! page and topic feeds (validators, compression, `400` for a bad query) staying byte-stable across rounds that
//! change the store but not the topic's results.

mod common;

use std::collections::BTreeSet;

use common::http::{client, get, wait_until};
use common::*;
use serde_json::Value;

fn search_json(config: &std::path::Path, query: &[&str]) -> Vec<Value> {
    let mut args = vec!["search", "--json", "--limit", "0"];
    args.extend(query);
    let out = qafila(config, &args);
    assert!(out.status.success(), "{query:?}: {}", stderr(&out));
    serde_json::from_str::<Value>(&stdout(&out))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn titles(list: &[Value]) -> Vec<String> {
    list.iter()
        .map(|s| s["title"].as_str().unwrap().to_string())
        .collect()
}

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn cli_search_finds_every_spelling_and_prints_the_stories_shape() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let config = write_config(
        dir.path(),
        "127.0.0.1:0",
        &[("sahoub", server.url("/feeds/search-news.xml"))],
    );
    let out = qafila(&config, &["poll"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let hits = search_json(&config, &["كازاخستان"]);
    assert_eq!(
        titles(&hits),
        [
            "الحكومة الكازاخستانية ترفع أسعار الغاز المسال ٣٫٥ بالمئة",
            "إطلاق صاروخ «سويوز» من قاعدة بايكونور بكازاخستان",
        ]
    );
    let stories = stories_json(&config);
    assert_eq!(
        keys(&hits[0]),
        keys(&stories[0]),
        "the shape of stories --json"
    );
    assert_eq!(keys(&hits[0]["items"][0]), keys(&stories[0]["items"][0]));

    for (query, expected) in [
        ("بكازاخستان", "بايكونور"),
        ("الكازاخستانيه", "الغاز"),
        ("كَازَاخِسْتَان", "بايكونور"),
        ("غـــاز", "الغاز"),
        ("أوزبكستان", "أوزبكستان"),
        ("اوزبكستان", "أوزبكستان"),
        ("وزير الخارجيه الطاجيكي", "الطَّاجِيكِيُّ"),
        ("مستشفي", "مستشفى"),
        ("2026", "٢٠٢٦"),
        ("۲۰۲۶", "٢٠٢٦"),
        ("3.5", "٣٫٥"),
        ("country:tj", "الطَّاجِيكِيُّ"),
        // A pronoun after the noun's ة (written ت) and a proclitic before it: the bare noun is found.
        ("لحكومتها", "الحكومة الكازاخستانية"),
    ] {
        let found = titles(&search_json(&config, &[query]));
        assert!(
            found.iter().any(|t| t.contains(expected)),
            "{query} → {found:?}"
        );
    }
    // Several arguments are one query; a leading '-' is an exclusion, not an option.
    assert_eq!(
        titles(&search_json(&config, &["كازاخستان", "-بايكونور"])),
        ["الحكومة الكازاخستانية ترفع أسعار الغاز المسال ٣٫٥ بالمئة"]
    );
    assert_eq!(search_json(&config, &["ممر", "الشمال", "الجنوب"]).len(), 2);
    assert_eq!(
        titles(&search_json(&config, &["\"ممر الشمال الجنوب\""])),
        ["رئيس أوزبكستان يبحث ممر الشمال – الجنوب مع نظيره الإيراني"]
    );
    assert_eq!(search_json(&config, &["بايكونور OR بيشكيك"]).len(), 2);

    let text = qafila(&config, &["search", "بايكونور"]);
    assert!(stdout(&text).contains("(1 report)"), "{}", stdout(&text));

    let bad = qafila(&config, &["search", "\"ممر الشمال"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("bad query: a quotation mark is not closed"),
        "{}",
        stderr(&bad)
    );
    let unknown = qafila(&config, &["search", "country:xx"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(stderr(&unknown).contains("unknown country id `xx`"));
}

fn q(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_serves_search_pages_and_topic_feeds_stable_across_rounds() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(
        dir.path(),
        &format!("127.0.0.1:{port}"),
        &[
            ("sahoub", server.url("/feeds/search-news.xml")),
            // One new item every second: every round changes the store.
            ("fresh", server.url("/fresh/1.xml")),
        ],
    );
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("[fetch]\n", "[fetch]\nschedule = \"* * * * * *\"\n");
    std::fs::write(&config, text).unwrap();
    let daemon = Daemon::start(&config);
    let base = format!("http://127.0.0.1:{port}");
    let c = client();

    // Every page has the search box.
    let home = wait_until(&c, &format!("{base}/"), |b| b.contains("بايكونور")).await;
    assert!(
        home.contains("<form class=\"search\" role=\"search\" action=\"/search\" method=\"get\">")
    );

    let page_url = format!("{base}/search?q={}", q("بكازاخستان -الغاز"));
    let r = get(&c, &page_url, &[]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/html; charset=utf-8");
    let page = r.text().await.unwrap();
    assert!(page.contains("<html lang=\"ar\" dir=\"rtl\">"));
    assert!(
        page.contains("name=\"q\" value=\"بكازاخستان -الغاز\""),
        "{page}"
    );
    assert!(page.contains("قاعدة بايكونور"));
    assert!(!page.contains("الغاز المسال"));
    assert!(
        page.contains("href=\"/search.xml?q="),
        "the page links its topic feeds"
    );

    let feed_url = format!("{base}/search.xml?q={}", q("بايكونور"));
    let first = get(&c, &feed_url, &[]).await;
    assert_eq!(first.status(), 200);
    assert_eq!(
        first.headers()["content-type"],
        "application/rss+xml; charset=utf-8"
    );
    let etag = first.headers()["etag"].to_str().unwrap().to_string();
    let body = first.text().await.unwrap();
    assert_eq!(body.matches("<item>").count(), 1, "{body}");
    assert!(body.contains("https://sahoub.example/2026/11/baikonur-launch"));
    assert!(
        body.contains("<atom:link href=\"http://qafila.test/search.xml?q=%D8%A8"),
        "{body}"
    );

    // Rounds go by and store new items (the "fresh" source): the search cache is invalidated…
    let updates_url = format!("{base}/search.json?q={}", q("تحديث"));
    let before: Value =
        serde_json::from_str(&get(&c, &updates_url, &[]).await.text().await.unwrap()).unwrap();
    let count = |v: &Value| v["items"].as_array().unwrap().len();
    let n = count(&before);
    let after = wait_until(&c, &updates_url, |b| {
        serde_json::from_str::<Value>(b).is_ok_and(|v| count(&v) > n)
    })
    .await;
    assert!(count(&serde_json::from_str(&after).unwrap()) > n);
    // …but a topic whose results did not change keeps its bytes and validators.
    let again = get(&c, &feed_url, &[]).await;
    assert_eq!(again.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(again.text().await.unwrap(), body);
    let r = get(&c, &feed_url, &[("If-None-Match", &etag)]).await;
    assert_eq!(r.status(), 304);
    let r = get(&c, &feed_url, &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let r = get(&c, &feed_url, &[("Accept-Encoding", "br")]).await;
    assert_eq!(r.headers()["content-encoding"], "br");

    let atom = get(&c, &format!("{base}/search.atom?q={}", q("بايكونور")), &[]).await;
    assert_eq!(atom.status(), 200);
    assert!(atom.text().await.unwrap().contains("xml:lang=\"ar\""));

    // Bad queries are 400 with a reason, never a 500 or an FTS5 error.
    for (url, needle) in [
        (
            format!("{base}/search?q={}", q("\"ممر")),
            "علامة التنصيص غير مغلقة",
        ),
        (
            format!("{base}/search.xml?q={}", q("الغاز OR")),
            "bad query: OR must stand",
        ),
        (
            format!("{base}/search.json?q={}", q("country:xx")),
            "unknown country id `xx`",
        ),
        (format!("{base}/search.xml"), "/search.xml?q=WORDS"),
        (
            format!("{base}/search.atom?q={}", q(&"غاز ".repeat(80))),
            "too long",
        ),
        (
            format!("{base}/search?q={}", q("NEAR(\"x * :")),
            "علامة التنصيص",
        ),
    ] {
        let r = get(&c, &url, &[]).await;
        assert_eq!(r.status(), 400, "{url}");
        let text = r.text().await.unwrap();
        assert!(text.contains(needle), "{url}: {text}");
        assert!(!text.to_lowercase().contains("fts5"), "{text}");
    }
    // FTS5 syntax in a query is just text.
    let r = get(
        &c,
        &format!("{base}/search?q={}", q("NEAR(بايكونور) AND * title:x")),
        &[],
    )
    .await;
    assert_eq!(r.status(), 200);
    let hint = get(&c, &format!("{base}/search"), &[]).await;
    assert_eq!(hint.status(), 200);
    assert!(hint.text().await.unwrap().contains("country:kz"));

    assert!(daemon.terminate().success());
}
