//! An item's boilerplate words stored once per distinct list (migration 10): written by ingest, read back the same
//! by every reader, carried over from older databases, and forgotten by retention once no item points at them.

use chrono::{DateTime, Duration, TimeZone, Utc};

use super::*;
use crate::model::ParsedItem;

fn at(days_ago: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap() - Duration::days(days_ago)
}

fn item(n: usize, days_ago: i64, boilerplate: Option<&str>) -> IncomingItem {
    let link = format!("https://news.example/kz/{n}");
    IncomingItem {
        boilerplate: boilerplate.map(str::to_owned),
        source_key: crate::identity::source_key(Some(&link), Some(&link), "t", None),
        url_key: crate::identity::url_key(Some(&link)),
        item: ParsedItem {
            guid: Some(link.clone()),
            link: Some(link),
            title: format!("خبر {n}"),
            published: Some(at(days_ago)),
            ..Default::default()
        },
        sort_time: at(days_ago),
        tags: RegionTags::default(),
        folded: None,
    }
}

fn record() -> FetchRecord {
    FetchRecord {
        at: Utc::now(),
        status: Some(200),
        ..Default::default()
    }
}

fn open(path: &Path) -> Store {
    let mut store = Store::open(path).unwrap();
    store
        .sync_sources([
            ("a", "http://a.example/feed"),
            ("b", "http://b.example/feed"),
        ])
        .unwrap();
    store
}

/// (words, last_seen) of every stored list, by words.
fn lists(store: &Store) -> Vec<(String, i64)> {
    store
        .conn
        .prepare("SELECT words, last_seen FROM boilerplates ORDER BY words")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// Each item's boilerplate as every reader sees it: the story index's range read and the item columns.
fn read_back(store: &Store) -> Vec<(String, Option<String>, Option<String>)> {
    let mut rows: Vec<(String, Option<String>, Option<String>)> = store
        .items_since(DateTime::<Utc>::MIN_UTC)
        .unwrap()
        .into_iter()
        .map(|w| {
            let stored = store.story_items(w.story_id).unwrap().remove(0);
            (w.title, w.boilerplate, stored.boilerplate)
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn a_fetchs_items_share_one_stored_list_and_read_back_their_own_words() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir.path().join("q.db"));
    let template = "اقرا ايضا وكاله";
    let first = [
        item(1, 3, Some(template)),
        item(2, 1, Some(template)),
        item(3, 2, Some("تابعونا")),
        item(4, 2, None),
    ];
    store
        .ingest("a", &first, &record(), "fp", &mut EachItemItsOwnStory)
        .unwrap();
    // Another source with the same words, older: one list, whose newest item is still the first fetch's.
    store
        .ingest(
            "b",
            &[item(5, 5, Some(template))],
            &record(),
            "fp",
            &mut EachItemItsOwnStory,
        )
        .unwrap();
    assert_eq!(
        lists(&store),
        [
            (template.to_owned(), at(1).timestamp()),
            ("تابعونا".to_owned(), at(2).timestamp())
        ]
    );
    let words = |w: Option<&str>| w.map(str::to_owned);
    let expected: Vec<(String, Option<String>, Option<String>)> = [
        ("خبر 1", Some(template)),
        ("خبر 2", Some(template)),
        ("خبر 3", Some("تابعونا")),
        ("خبر 4", None),
        ("خبر 5", Some(template)),
    ]
    .into_iter()
    .map(|(t, w)| (t.to_owned(), words(w), words(w)))
    .collect();
    assert_eq!(read_back(&store), expected);
    let copies: i64 = store
        .conn
        .query_row(
            "SELECT COUNT(*) FROM items WHERE boilerplate IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(copies, 0, "no item keeps a copy of its words");
}

/// A database of schema 9 keeps each item's words through the upgrade, as one list per distinct string.
#[test]
fn an_upgraded_database_keeps_every_items_boilerplate_as_shared_lists() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for migration in &MIGRATIONS[..9] {
            conn.execute_batch(migration).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 9;
             INSERT INTO sources (id, url) VALUES ('a', 'http://a.example/feed');
             INSERT INTO stories (id, guid, published, created, updated) VALUES (1, 'g1', 100, 100, 100);
             INSERT INTO items (id, story_id, source_id, title, first_seen, sort_time, boilerplate) VALUES
                 (1, 1, 'a', 'one', 100, 100, 'x y'),
                 (2, 1, 'a', 'two', 100, 300, 'x y'),
                 (3, 1, 'a', 'three', 100, 200, 'z'),
                 (4, 1, 'a', 'four', 100, 400, NULL);",
        )
        .unwrap();
    }
    let store = open(&path);
    assert_eq!(
        lists(&store),
        [("x y".to_owned(), 300), ("z".to_owned(), 200)]
    );
    let words: Vec<(String, Option<String>)> = store
        .story_items(1)
        .unwrap()
        .into_iter()
        .map(|i| (i.title, i.boilerplate))
        .collect();
    let some = |w: &str| Some(w.to_owned());
    assert_eq!(
        words,
        [
            ("one".to_owned(), some("x y")),
            ("three".to_owned(), some("z")),
            ("two".to_owned(), some("x y")),
            ("four".to_owned(), None)
        ]
    );
}

/// Retention forgets a list once no stored item points at it, and keeps one that a kept story's old item or a
/// recent item still uses.
#[test]
fn retention_forgets_the_lists_no_item_uses_any_more() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir.path().join("q.db"));
    let fetch = |store: &mut Store, items: &[IncomingItem]| {
        store
            .ingest("a", items, &record(), "fp", &mut EachItemItsOwnStory)
            .unwrap();
    };
    fetch(&mut store, &[item(1, 40, Some("old only"))]);
    fetch(
        &mut store,
        &[
            item(2, 40, Some("old and new")),
            item(3, 1, Some("old and new")),
        ],
    );
    fetch(&mut store, &[item(4, 40, Some("kept story"))]);
    let kept_guid: String = store
        .conn
        .query_row(
            "SELECT s.guid FROM stories s JOIN items i ON i.story_id = s.id WHERE i.title = 'خبر 4'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let report = store.prune(at(30), &[kept_guid]).unwrap();
    assert_eq!(report.items, 2);
    let left: Vec<String> = lists(&store).into_iter().map(|(w, _)| w).collect();
    assert_eq!(left, ["kept story", "old and new"]);
    assert_eq!(
        read_back(&store)
            .into_iter()
            .map(|(_, w, _)| w.unwrap())
            .collect::<Vec<_>>(),
        ["old and new", "kept story"]
    );
}
