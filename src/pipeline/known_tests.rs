//! Fetches whose entries are stored already (`known`): real polls against a feed server on 127.0.0.1 and a real
//! SQLite file, compared with what ingest stores when every entry is prepared.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::extract::{Path as UrlPath, State};
use axum::http::header::CONTENT_TYPE;
use axum::routing::get;

use crate::config::{Config, SourceConfig};
use crate::pipeline::Engine;
use crate::round::poll_sources;

/// The feeds served, by file name (`a.xml`), changed by the tests between rounds.
type Feeds = Arc<Mutex<HashMap<String, String>>>;

async fn serve(feeds: Feeds) -> u16 {
    let app = axum::Router::new()
        .route(
            "/{name}",
            get(
                |State(feeds): State<Feeds>, UrlPath(name): UrlPath<String>| async move {
                    let body = feeds
                        .lock()
                        .unwrap()
                        .get(&name)
                        .cloned()
                        .unwrap_or_default();
                    ([(CONTENT_TYPE, "application/rss+xml")], body)
                },
            ),
        )
        .with_state(feeds);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    port
}

/// An RSS document of `(guid, title, summary)` entries, each linked at `https://news.example/{guid}`.
fn feed(entries: &[(String, String, String)]) -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\"><channel><title>أخبار</title>",
    );
    for (guid, title, summary) in entries {
        xml += &format!(
            "<item><guid>{guid}</guid><title>{title}</title><link>https://news.example/{guid}</link>\
             <description>{summary}</description><pubDate>Mon, 02 Mar 2026 10:00:00 GMT</pubDate></item>"
        );
    }
    xml + "</channel></rss>"
}

/// Ten reports of one outlet, every summary opening with the outlet's fixed lead-in (its boilerplate).
fn templated(count: usize) -> Vec<(String, String, String)> {
    let places = [
        "أستانا",
        "طشقند",
        "بيشكيك",
        "دوشنبه",
        "عشق آباد",
        "باكو",
        "تبليسي",
        "يريفان",
    ];
    (0..count)
        .map(|i| {
            let place = places[i % places.len()];
            (
                format!("n{i}"),
                format!("{place} تستضيف مؤتمرا رقم {i} حول المياه"),
                format!("وكالة أنباء الوادي الموثوقة تنقل: اجتماع رقم {i} في {place} لبحث الطاقة والنقل"),
            )
        })
        .collect()
}

fn engine_over(dir: &Path, port: u16, ids: &[&str]) -> (Arc<Engine>, Vec<SourceConfig>) {
    let d = dir.display();
    let mut text = format!(
        "[feed]\ntitle = \"قافلة\"\ndescription = \"test\"\nlink = \"http://127.0.0.1/\"\n\
         self_url = \"http://127.0.0.1/feed.xml\"\noutput = \"{d}/feed.xml\"\n\
         [fetch]\nper_host_min_gap_ms = 0\n[storage]\ndatabase = \"{d}/q.db\"\n"
    );
    for id in ids {
        text += &format!(
            "[[source]]\nid = \"{id}\"\nname = \"{id}\"\nurl = \"http://127.0.0.1:{port}/{id}.xml\"\n"
        );
    }
    let config = Config::parse(&text, Path::new("qafila.toml")).unwrap();
    let sources = config.sources.clone();
    (crate::startup::engine(Arc::new(config)).unwrap(), sources)
}

/// (new, seen) of one round, per source in order.
async fn round(engine: &Arc<Engine>, sources: &[SourceConfig]) -> Vec<(usize, usize)> {
    let polled = poll_sources(engine, sources.to_vec()).await;
    polled
        .reports
        .iter()
        .map(|r| {
            assert!(r.error.is_none(), "{r:?}");
            (r.new, r.seen)
        })
        .collect()
}

async fn stored(engine: &Engine, guid: &str) -> crate::store::StoredItem {
    let link = format!("https://news.example/{guid}");
    engine
        .with_writer(move |w| w.store.item_by_link(&link))
        .await
        .unwrap()
        .expect("stored")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_of_stored_entries_is_not_prepared_and_counts_them_seen() {
    let feeds = Feeds::default();
    feeds
        .lock()
        .unwrap()
        .insert("a.xml".into(), feed(&templated(3)));
    let port = serve(feeds.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let (engine, sources) = engine_over(dir.path(), port, &["a"]);
    assert_eq!(round(&engine, &sources).await, [(3, 0)]);
    assert_eq!(engine.fetches_left_unprepared(), 0);
    let before = stored(&engine, "n1").await;

    // The same entries again, one of them edited under its guid: ingest keeps what it stored (as it always did).
    let mut edited = templated(3);
    edited[1].1 = "عنوان معدل بعد النشر".into();
    feeds.lock().unwrap().insert("a.xml".into(), feed(&edited));
    assert_eq!(round(&engine, &sources).await, [(0, 3)]);
    assert_eq!(engine.fetches_left_unprepared(), 1);
    assert_eq!(stored(&engine, "n1").await, before);
    let state = engine
        .with_writer(|w| w.store.source_states())
        .await
        .unwrap();
    // The fetch record is stored all the same.
    assert_eq!(
        (state[0].items_stored, state[0].last_status),
        (3, Some(200))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_new_entry_prepares_the_whole_fetch_so_its_boilerplate_is_learnt_from_all() {
    let feeds = Feeds::default();
    feeds
        .lock()
        .unwrap()
        .insert("a.xml".into(), feed(&templated(10)));
    let port = serve(feeds.clone()).await;
    let dir = tempfile::tempdir().unwrap();
    let (engine, sources) = engine_over(dir.path(), port, &["a"]);
    assert_eq!(round(&engine, &sources).await, [(10, 0)]);
    feeds
        .lock()
        .unwrap()
        .insert("a.xml".into(), feed(&templated(11)));
    assert_eq!(round(&engine, &sources).await, [(1, 10)]);
    assert_eq!(engine.fetches_left_unprepared(), 0);
    let added = stored(&engine, "n10").await;
    assert!(added.boilerplate.is_some(), "the lead-in is boilerplate");

    // What a first poll of the eleven entries stores for it.
    let fresh = tempfile::tempdir().unwrap();
    let (first, sources) = engine_over(fresh.path(), port, &["a"]);
    assert_eq!(round(&first, &sources).await, [(11, 0)]);
    assert_eq!(stored(&first, "n10").await.boilerplate, added.boilerplate);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_known_only_from_another_source_is_recorded_for_this_one_too() {
    let feeds = Feeds::default();
    let same = feed(&templated(2));
    feeds.lock().unwrap().insert("a.xml".into(), same.clone());
    feeds.lock().unwrap().insert("b.xml".into(), same);
    let port = serve(feeds).await;
    let dir = tempfile::tempdir().unwrap();
    let (engine, sources) = engine_over(dir.path(), port, &["a", "b"]);
    assert_eq!(round(&engine, &sources[..1]).await, [(2, 0)]);
    // b carries the same articles (same links): not stored under b, so prepared, and recorded for b as seen.
    assert_eq!(round(&engine, &sources[1..]).await, [(0, 2)]);
    assert_eq!(engine.fetches_left_unprepared(), 0);
    let states = engine
        .with_writer(|w| w.store.source_states())
        .await
        .unwrap();
    assert_eq!(
        states
            .iter()
            .map(|s| (s.id.as_str(), s.items_stored))
            .collect::<Vec<_>>(),
        [("a", 2), ("b", 2)]
    );
    // From now on b's fetch is stored already too.
    assert_eq!(round(&engine, &sources).await, [(0, 2), (0, 2)]);
    assert_eq!(engine.fetches_left_unprepared(), 2);
}
