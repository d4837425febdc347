//! `qafila run` end to end: the real binary serving what it polled from a real fixture server, with validators,
//! compression, slices and a clean exit on SIGTERM.

mod common;

use std::time::{Duration, Instant};

use common::http::{client, get};
use common::*;

/// `GET /feed.xml` with the given request headers.
async fn get_feed(c: &reqwest::Client, base: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    get(c, &format!("{base}/feed.xml"), headers).await
}

async fn wait_for_stories(base: &str, at_least: usize) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = client().get(format!("{base}/feed.xml")).send().await {
            if r.status() == 200 {
                let body = r.text().await.unwrap();
                if body.matches("<item>").count() >= at_least {
                    return body;
                }
            }
        }
        assert!(
            Instant::now() < deadline,
            "the daemon never served {at_least} stories"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_serves_the_merged_feed_with_validators_and_stops_cleanly() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(
        dir.path(),
        &format!("127.0.0.1:{port}"),
        &[
            ("outlet-a", server.url("/feeds/outlet-a.xml")),
            ("outlet-b", server.url("/feeds/outlet-b.atom")),
            ("down", server.url("/status/503")),
        ],
    );
    let daemon = Daemon::start(&config);
    let base = format!("http://127.0.0.1:{port}");
    let body = wait_for_stories(&base, 4).await;
    assert!(
        body.contains("أرمينيا وأذربيجان تستأنفان محادثات السلام في جنيف"),
        "{body}"
    );
    let c = client();

    let r = c.get(format!("{base}/feed.xml")).send().await.unwrap();
    assert_eq!(
        r.headers()["content-type"],
        "application/rss+xml; charset=utf-8"
    );
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let last_modified = r.headers()["last-modified"].to_str().unwrap().to_string();
    assert!(r.headers()["cache-control"]
        .to_str()
        .unwrap()
        .contains("max-age="));

    let r = get_feed(&c, &base, &[("If-None-Match", &etag)]).await;
    assert_eq!(r.status(), 304);
    assert!(r.bytes().await.unwrap().is_empty());
    let r = get_feed(&c, &base, &[("If-Modified-Since", &last_modified)]).await;
    assert_eq!(r.status(), 304);
    let r = get_feed(&c, &base, &[("If-None-Match", "\"stale\"")]).await;
    assert_eq!(r.status(), 200);

    let r = c.head(format!("{base}/feed.xml")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-length"].to_str().unwrap(),
        body.len().to_string()
    );

    // Compressed representations, made once, each with its own validator.
    let r = get_feed(&c, &base, &[("Accept-Encoding", "gzip")]).await;
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let gz_etag = r.headers()["etag"].to_str().unwrap().to_string();
    assert_ne!(gz_etag, etag);
    let mut unzipped = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&r.bytes().await.unwrap()[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(unzipped, body);
    let r = get_feed(
        &c,
        &base,
        &[("Accept-Encoding", "gzip"), ("If-None-Match", &gz_etag)],
    )
    .await;
    assert_eq!(r.status(), 304);
    let r = get_feed(&c, &base, &[("Accept-Encoding", "gzip, deflate, br")]).await;
    assert_eq!(r.headers()["content-encoding"], "br");
    let r = get_feed(&c, &base, &[("Accept-Encoding", "br;q=0, gzip;q=0")]).await;
    assert!(r.headers().get("content-encoding").is_none());

    for (path, mime) in [
        ("/feed.atom", "application/atom+xml; charset=utf-8"),
        ("/feed.json", "application/feed+json; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
        ("/sources.opml", "text/x-opml; charset=utf-8"),
        ("/country/kz.xml", "application/rss+xml; charset=utf-8"),
        ("/country/kz", "text/html; charset=utf-8"),
    ] {
        let r = c.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert_eq!(r.headers()["content-type"], mime, "{path}");
    }
    let kz = c
        .get(format!("{base}/country/kz.xml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        kz.contains("كازاخستان") && kz.contains("asia.example/news/100"),
        "{kz}"
    );
    assert!(
        !kz.contains("أرمينيا وأذربيجان تستأنفان"),
        "a story not about Kazakhstan is not in its slice"
    );
    // A country slice is compressed on its first request in a coding, into the same text.
    let r = c
        .get(format!("{base}/country/kz.xml"))
        .header("Accept-Encoding", "br")
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-encoding"], "br");
    let mut unbrotli = Vec::new();
    brotli::BrotliDecompress(&mut &r.bytes().await.unwrap()[..], &mut unbrotli).unwrap();
    assert_eq!(String::from_utf8(unbrotli).unwrap(), kz);
    let page = c
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("dir=\"rtl\"") && page.contains("lang=\"ar\""));

    assert_eq!(
        c.get(format!("{base}/country/nowhere.xml"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        c.get(format!("{base}/nothing"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let r = c.post(format!("{base}/feed.xml")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    assert_eq!(r.headers()["allow"], "GET, HEAD");
    let long = "a".repeat(3000);
    assert_eq!(
        c.get(format!("{base}/{long}"))
            .send()
            .await
            .unwrap()
            .status(),
        414
    );

    let health: serde_json::Value = serde_json::from_str(
        &c.get(format!("{base}/healthz"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["sources"], 3);
    assert_eq!(health["failing"], 1, "{health}");

    let status = daemon.terminate();
    assert_eq!(status.code(), Some(0), "SIGTERM is a clean exit");
    // The feed file was written too, and the database is sound.
    assert!(std::fs::read_to_string(dir.path().join("out/feed.xml"))
        .unwrap()
        .contains("<rss"));
    let out = qafila(&config, &["stories", "--json"]);
    assert!(out.status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_port_in_use_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let config = write_config(dir.path(), &format!("127.0.0.1:{port}"), &[]);
    let out = qafila(&config, &["run"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("cannot listen on"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websub_hub_is_advertised_and_pinged_when_the_feed_changes() {
    let server = FixtureServer::start();
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let config = write_config(
        dir.path(),
        &format!("127.0.0.1:{port}"),
        &[("a", server.url("/feeds/outlet-a.xml"))],
    );
    let text = std::fs::read_to_string(&config).unwrap();
    let hub = server.url("/hub");
    std::fs::write(
        &config,
        text.replacen("[feed]\n", &format!("[feed]\nwebsub_hub = \"{hub}\"\n"), 1),
    )
    .unwrap();
    let daemon = Daemon::start(&config);
    let base = format!("http://127.0.0.1:{port}");
    let body = wait_for_stories(&base, 3).await;
    assert!(
        body.contains(&format!("<atom:link href=\"{hub}\" rel=\"hub\"")),
        "{body}"
    );
    let r = client()
        .get(format!("{base}/feed.xml"))
        .send()
        .await
        .unwrap();
    let link = r.headers()["link"].to_str().unwrap().to_string();
    assert_eq!(
        link,
        format!("<{hub}>; rel=\"hub\", <http://qafila.test/feed.xml>; rel=\"self\"")
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !server
        .hub_pings()
        .iter()
        .any(|p| p == "hub.mode=publish&hub.url=http%3A%2F%2Fqafila.test%2Ffeed.xml")
    {
        assert!(
            Instant::now() < deadline,
            "no ping for the main feed: {:?}",
            server.hub_pings()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(daemon.terminate().code(), Some(0));
}
