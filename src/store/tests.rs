use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::model::ParsedItem;
use crate::store::ingest::STABLE_REDIRECT_POLLS;

pub(super) fn item(guid: &str, link: &str, title: &str, minutes: i64) -> IncomingItem {
    let t = Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap() + Duration::minutes(minutes);
    IncomingItem {
        boilerplate: None,
        source_key: crate::identity::source_key(Some(guid), Some(link), title, None),
        url_key: crate::identity::url_key(Some(link)),
        item: ParsedItem {
            guid: Some(guid.into()),
            link: Some(link.into()),
            title: title.into(),
            published: Some(t),
            ..Default::default()
        },
        sort_time: t,
        tags: RegionTags {
            entities: vec!["kz".into()],
            region_match: true,
        },
        folded: None,
    }
}

pub(super) fn ok_record() -> FetchRecord {
    FetchRecord {
        at: Utc::now(),
        status: Some(200),
        ..Default::default()
    }
}

pub(super) fn open_temp() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("sub/q.db")).unwrap();
    store
        .sync_sources([
            ("a", "http://a.example/feed"),
            ("b", "http://b.example/feed"),
        ])
        .unwrap();
    (dir, store)
}

#[test]
fn migrations_set_user_version_and_reopen_cleanly() {
    let (dir, store) = open_temp();
    let v: i64 = store
        .conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(v, MIGRATIONS.len() as i64);
    let mode: String = store
        .conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    drop(store);
    let again = Store::open(&dir.path().join("sub/q.db")).unwrap();
    assert_eq!(again.integrity_check().unwrap(), "ok");
}

/// What a start writes in the migrations' transaction (`open_and`) commits with them or not at all.
#[test]
fn start_up_writes_commit_with_the_migrations_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let refused = Store::open_and(&path, |tx| {
        super::register_sources(tx, &path, [("a", "http://a.example/feed")])?;
        Err(Error::Internal("refused".into()))
    });
    assert!(refused.is_err());
    let version = |store: &Store| -> i64 {
        store
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap()
    };
    let store = Store::open_and(&path, |tx| {
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(
            version,
            MIGRATIONS.len() as i64,
            "migrated, not yet committed"
        );
        super::register_sources(tx, &path, [("b", "http://b.example/feed")])
    })
    .unwrap();
    assert_eq!(version(&store), MIGRATIONS.len() as i64);
    let ids: Vec<String> = store
        .source_states_of(&["a".to_string(), "b".to_string()])
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ids, ["b"], "nothing of the refused start was kept");
}

#[test]
fn the_states_of_several_sources_are_read_at_once_and_unknown_ones_left_out() {
    let (_dir, store) = open_temp();
    let ids = ["b", "unknown", "a"].map(String::from);
    let states = store.source_states_of(&ids).unwrap();
    assert_eq!(
        states.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
    assert_eq!(states[1].url, "http://b.example/feed");
    assert!(store.source_states_of(&[]).unwrap().is_empty());
}

/// A database of schema 7 (stories with a UNIQUE guid) comes through the rebuild of `stories` (migration 8) with
/// every row, every reference from items intact, and foreign keys enforced again afterwards.
#[test]
fn a_schema_7_database_keeps_every_story_through_the_stories_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for migration in &MIGRATIONS[..7] {
            conn.execute_batch(migration).unwrap();
        }
        conn.execute_batch(
            "PRAGMA user_version = 7;
             INSERT INTO sources (id, url) VALUES ('a', 'http://a.example/feed');
             INSERT INTO stories (id, guid, published, created, updated) VALUES
                 (3, 'urn:qafila:story:03', 100, 200, 300), (7, 'urn:qafila:story:07', 400, 500, 600);
             INSERT INTO items (id, url_key, story_id, source_id, title, first_seen, sort_time) VALUES
                 (1, 'k1', 3, 'a', 'one', 200, 100), (2, 'k2', 7, 'a', 'two', 500, 400),
                 (4, 'k4', 7, 'a', 'four', 500, 450);
             INSERT INTO item_sources (source_id, source_key, item_id, first_seen) VALUES
                 ('a', 's1', 1, 200), ('a', 's2', 2, 500), ('a', 's4', 4, 500);",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let rows: Vec<(i64, String, i64, i64, i64)> = store
        .conn
        .prepare("SELECT id, guid, published, created, updated FROM stories ORDER BY id")
        .unwrap()
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(
        rows,
        vec![
            (3, "urn:qafila:story:03".into(), 100, 200, 300),
            (7, "urn:qafila:story:07".into(), 400, 500, 600)
        ]
    );
    let one = |sql: &str| -> i64 { store.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(one("PRAGMA user_version"), MIGRATIONS.len() as i64);
    assert_eq!(one("PRAGMA foreign_keys"), 1);
    assert_eq!(one("SELECT COUNT(*) FROM pragma_foreign_key_check"), 0);
    assert_eq!(
        one("SELECT COUNT(*) FROM items i JOIN stories s ON s.id = i.story_id"),
        3
    );
    // The guid is no longer an index: only `stories_published` is.
    let indexes: Vec<String> = store
        .conn
        .prepare("SELECT name FROM pragma_index_list('stories') ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(indexes, ["stories_published"]);
    // Items still point at their stories for real: a story with items cannot go.
    assert!(store
        .conn
        .execute("DELETE FROM stories WHERE id = 7", [])
        .is_err());
    assert_eq!(store.integrity_check().unwrap(), "ok");
    // The day archive finds the old stories by date.
    assert_eq!(
        one("SELECT COUNT(*) FROM stories WHERE published >= 100 AND published < 500"),
        2
    );
}

#[test]
fn a_database_from_a_newer_qafila_is_refused() {
    let (dir, store) = open_temp();
    store.conn.pragma_update(None, "user_version", 99).unwrap();
    drop(store);
    let err = Store::open(&dir.path().join("sub/q.db")).err().unwrap();
    assert!(
        matches!(err, Error::DatabaseTooNew { found: 99, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("newer qafila"));
}

#[test]
fn same_item_again_is_seen_and_same_url_from_another_source_is_one_item() {
    let (_dir, mut store) = open_temp();
    let batch = vec![
        item(
            "g1",
            "https://news.example/kz/1?utm_source=rss",
            "كازاخستان ١",
            0,
        ),
        item("g2", "https://news.example/kz/2", "كازاخستان ٢", 5),
    ];
    let (counts, _) = store
        .ingest("a", &batch, &ok_record(), "fp", &mut EachItemItsOwnStory)
        .unwrap();
    assert_eq!((counts.new, counts.seen), (2, 0));
    let (counts, _) = store
        .ingest("a", &batch, &ok_record(), "fp", &mut EachItemItsOwnStory)
        .unwrap();
    assert_eq!((counts.new, counts.seen), (0, 2));
    // Another source, another guid, the same article behind tracking parameters and www.
    let other = vec![item(
        "other-guid",
        "http://www.news.example/kz/1/?fbclid=x",
        "عنوان آخر",
        1,
    )];
    let (counts, _) = store
        .ingest("b", &other, &ok_record(), "fp", &mut EachItemItsOwnStory)
        .unwrap();
    assert_eq!((counts.new, counts.seen), (0, 1));
    assert_eq!(store.counts().unwrap(), (2, 2));
    let states = store.source_states().unwrap();
    assert_eq!(
        states.iter().map(|s| s.items_stored).collect::<Vec<_>>(),
        [2, 1]
    );
}

#[test]
fn a_first_fetch_listing_an_entry_twice_stores_it_once() {
    // Source a has stored nothing, so its entries are looked up by URL only (`store::delivered`): the second copy
    // of g1 is known from the fetch itself, as is the linkless entry listed twice, and g3's URL from source b.
    let (_dir, mut store) = open_temp();
    let shared = vec![item("b1", "https://news.example/3", "عنوان ٣", 2)];
    store
        .ingest("b", &shared, &ok_record(), "fp", &mut EachItemItsOwnStory)
        .unwrap();
    let mut linkless = item("g4", "https://news.example/4", "بلا رابط", 3);
    linkless.url_key = None;
    linkless.item.link = None;
    let batch = vec![
        item("g1", "https://news.example/1", "عنوان ١", 0),
        item("g2", "https://news.example/2", "عنوان ٢", 1),
        item("g1", "https://news.example/1", "عنوان ١", 0),
        item("g3", "https://news.example/3", "عنوان ٣", 2),
        linkless.clone(),
        linkless,
    ];
    let (counts, _) = store
        .ingest("a", &batch, &ok_record(), "fp", &mut EachItemItsOwnStory)
        .unwrap();
    assert_eq!((counts.new, counts.seen), (3, 3));
    assert_eq!(store.counts().unwrap(), (4, 4));
    // From its second fetch on, the source's own entries are asked of the store.
    let (counts, _) = store
        .ingest("a", &batch, &ok_record(), "fp", &mut EachItemItsOwnStory)
        .unwrap();
    assert_eq!((counts.new, counts.seen), (0, 6));
    let stored: i64 = store
        .conn
        .query_row(
            "SELECT COUNT(*) FROM item_sources WHERE source_id = 'a'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 4);
}

struct JoinFirst(Option<i64>);
impl StoryPlacer for JoinFirst {
    fn place(&mut self, _: usize) -> Option<i64> {
        self.0
    }
    fn placed(&mut self, _: usize, _: i64, story: i64) {
        self.0.get_or_insert(story);
    }
}

#[test]
fn stories_keep_their_guid_and_original_date_when_reports_join() {
    let (_dir, mut store) = open_temp();
    let mut placer = JoinFirst(None);
    let first = vec![item("g1", "https://a.example/1", "خبر", 60)];
    store
        .ingest("a", &first, &ok_record(), "fp", &mut placer)
        .unwrap();
    let before = store.latest_stories(10, &[]).unwrap();
    let later = vec![item("h1", "https://b.example/9", "الخبر نفسه", 120)];
    let (counts, _) = store
        .ingest("b", &later, &ok_record(), "fp", &mut placer)
        .unwrap();
    assert_eq!(counts.merged, 1);
    let after = store.latest_stories(10, &[]).unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].guid, before[0].guid);
    assert_eq!(after[0].published, before[0].published);
    assert_eq!(
        after[0]
            .items
            .iter()
            .map(|i| i.source_id.as_str())
            .collect::<Vec<_>>(),
        ["a", "b"]
    );
}

#[test]
fn region_filtered_sources_hide_items_without_entities_but_keep_them() {
    let (_dir, mut store) = open_temp();
    let mut off = item("g9", "https://a.example/gaza", "غزة", 0);
    off.tags = RegionTags::default();
    store
        .ingest("a", &[off], &ok_record(), "fp", &mut EachItemItsOwnStory)
        .unwrap();
    assert_eq!(store.latest_stories(10, &["a".into()]).unwrap().len(), 0);
    assert_eq!(store.latest_stories(10, &[]).unwrap().len(), 1);
    // A new gazetteer that knows the place re-evaluates the stored item.
    let changed = store
        .retag("fp2", &|title, _, _| RegionTags {
            entities: vec!["x".into()],
            region_match: title == "غزة",
        })
        .unwrap();
    assert_eq!(changed, 1);
    assert_eq!(store.latest_stories(10, &["a".into()]).unwrap().len(), 1);
    assert_eq!(
        store
            .retag("fp2", &|_, _, _| RegionTags::default())
            .unwrap(),
        0,
        "already current"
    );
}

/// The database knows one gazetteer for all its items (migration 9): opening with it reads no item, and storing
/// items tagged with another one makes the next re-tag re-evaluate them all.
#[test]
fn items_tagged_with_another_gazetteer_make_the_next_retag_evaluate_every_item() {
    let (_dir, mut store) = open_temp();
    let all_regions = |_: &str, _: Option<&str>, _: Option<&str>| RegionTags {
        entities: vec!["kz".into()],
        region_match: true,
    };
    let tagged_with = |store: &Store| -> String {
        store
            .conn
            .query_row("SELECT gazetteer FROM tagging", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(store.retag("fp", &all_regions).unwrap(), 0, "no item yet");
    assert_eq!(tagged_with(&store), "fp");
    store
        .ingest(
            "a",
            &[item("g1", "https://a.example/1", "one", 0)],
            &ok_record(),
            "fp",
            &mut EachItemItsOwnStory,
        )
        .unwrap();
    assert_eq!(
        store.retag("fp", &all_regions).unwrap(),
        0,
        "already current"
    );
    // No fingerprint in the item rows any more.
    let with_fingerprint: i64 = store
        .conn
        .query_row(
            "SELECT COUNT(*) FROM items WHERE gazetteer <> ''",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(with_fingerprint, 0);
    // A second item tagged with another gazetteer: which one the items follow is no longer known.
    store
        .ingest(
            "a",
            &[item("g2", "https://a.example/2", "two", 1)],
            &ok_record(),
            "other",
            &mut EachItemItsOwnStory,
        )
        .unwrap();
    assert_eq!(tagged_with(&store), "");
    assert_eq!(store.retag("fp", &all_regions).unwrap(), 2);
    assert_eq!(tagged_with(&store), "fp");
    assert_eq!(store.retag("fp", &all_regions).unwrap(), 0);
}

/// A database of schema 8 keeps the gazetteer its items were tagged with when they all share one, and is re-tagged
/// in full when they do not.
#[test]
fn the_tagging_migration_keeps_a_shared_fingerprint_and_forgets_a_mixed_one() {
    for (fingerprints, expected) in [(["f1", "f1"], "f1"), (["f1", "f2"], ""), (["", "f1"], "")] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            conn.execute_batch("PRAGMA foreign_keys = OFF;").unwrap();
            for migration in &MIGRATIONS[..8] {
                conn.execute_batch(migration).unwrap();
            }
            conn.execute_batch(
                "PRAGMA user_version = 8;
                 INSERT INTO sources (id, url) VALUES ('a', 'http://a.example/feed');
                 INSERT INTO stories (id, guid, published, created, updated) VALUES (1, 'g', 100, 100, 100);",
            )
            .unwrap();
            for (n, fp) in fingerprints.iter().enumerate() {
                conn.execute(
                    "INSERT INTO items (url_key, story_id, source_id, title, first_seen, sort_time, gazetteer)
                     VALUES (?1, 1, 'a', 't', 100, 100, ?2)",
                    rusqlite::params![format!("k{n}"), fp],
                )
                .unwrap();
            }
        }
        let mut store = Store::open(&path).unwrap();
        let kept: String = store
            .conn
            .query_row("SELECT gazetteer FROM tagging", [], |r| r.get(0))
            .unwrap();
        assert_eq!(kept, expected, "{fingerprints:?}");
        let evaluated = store.retag("f1", &|_, _, _| RegionTags::default()).unwrap();
        assert_eq!(
            evaluated,
            if expected == "f1" { 0 } else { 2 },
            "{fingerprints:?}"
        );
    }
}

#[test]
fn failures_count_up_and_success_resets_them_keeping_validators_on_304() {
    let (_dir, mut store) = open_temp();
    let with_etag = FetchRecord {
        etag: Some("\"v1\"".into()),
        last_modified: Some("Fri".into()),
        ..ok_record()
    };
    store
        .ingest("a", &[], &with_etag, "fp", &mut EachItemItsOwnStory)
        .unwrap();
    let fail = FetchRecord {
        status: Some(500),
        error: Some("HTTP 500".into()),
        ..ok_record()
    };
    store
        .ingest("a", &[], &fail, "fp", &mut EachItemItsOwnStory)
        .unwrap();
    store
        .ingest("a", &[], &fail, "fp", &mut EachItemItsOwnStory)
        .unwrap();
    let s = store.source_state("a").unwrap().unwrap();
    assert_eq!(
        (s.consecutive_failures, s.last_status, s.etag.as_deref()),
        (2, Some(500), Some("\"v1\""))
    );
    let not_modified = FetchRecord {
        status: Some(304),
        ..ok_record()
    };
    store
        .ingest("a", &[], &not_modified, "fp", &mut EachItemItsOwnStory)
        .unwrap();
    let s = store.source_state("a").unwrap().unwrap();
    assert_eq!(
        (s.consecutive_failures, s.last_error, s.etag.as_deref()),
        (0, None, Some("\"v1\""))
    );
    assert!(s.last_success.is_some());
}

#[test]
fn a_permanent_redirect_moves_the_source_only_once_stable() {
    let (_dir, mut store) = open_temp();
    let moved = FetchRecord {
        permanent_redirect: Some("https://new.example/feed".into()),
        ..ok_record()
    };
    for poll in 1..=STABLE_REDIRECT_POLLS {
        let (_, change) = store
            .ingest("a", &[], &moved, "fp", &mut EachItemItsOwnStory)
            .unwrap();
        assert_eq!(
            change.moved_to.is_some(),
            poll == STABLE_REDIRECT_POLLS,
            "poll {poll}"
        );
    }
    assert_eq!(
        store
            .source_state("a")
            .unwrap()
            .unwrap()
            .moved_to
            .as_deref(),
        Some("https://new.example/feed")
    );
    // The operator edits the URL: the stored move is forgotten.
    store
        .sync_sources([("a", "https://edited.example/rss")])
        .unwrap();
    let s = store.source_state("a").unwrap().unwrap();
    assert_eq!(
        (s.url.as_str(), s.moved_to),
        ("https://edited.example/rss", None)
    );
}

#[test]
fn a_failed_ingest_stores_nothing_of_it() {
    let (_dir, mut store) = open_temp();
    let batch = vec![item("g1", "https://a.example/1", "خبر", 0)];
    // A placer pointing at a story that does not exist makes the item insert fail mid-transaction.
    let err = store.ingest("a", &batch, &ok_record(), "fp", &mut JoinFirst(Some(12345)));
    assert!(err.is_err());
    assert_eq!(store.counts().unwrap(), (0, 0));
    assert_eq!(store.source_state("a").unwrap().unwrap().last_status, None);
}

/// Asks for every item before its first new one's window, like the story index meeting a backlog.
struct RecallAll {
    asked: Vec<(chrono::DateTime<Utc>, chrono::DateTime<Utc>)>,
    seen: Vec<i64>,
}
impl StoryPlacer for RecallAll {
    fn needs(&mut self, _: usize) -> Vec<(chrono::DateTime<Utc>, chrono::DateTime<Utc>)> {
        let t = Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap();
        vec![(t, t + Duration::minutes(61))]
    }
    fn recall(
        &mut self,
        from: chrono::DateTime<Utc>,
        to: chrono::DateTime<Utc>,
        items: Vec<WindowItem>,
    ) {
        self.asked.push((from, to));
        self.seen.extend(items.iter().map(|i| i.id));
    }
    fn place(&mut self, _: usize) -> Option<i64> {
        None
    }
    fn placed(&mut self, _: usize, _: i64, _: i64) {}
}

#[test]
fn a_placer_reads_back_stored_days_by_an_indexed_range_query() {
    let (_dir, mut store) = open_temp();
    let stored = vec![
        item("g1", "https://a.example/1", "خبر", 0),
        item("g2", "https://a.example/2", "خبر آخر", 60),
        item("g3", "https://a.example/3", "خبر ثالث", 120),
    ];
    store
        .ingest("a", &stored, &ok_record(), "fp", &mut EachItemItsOwnStory)
        .unwrap();
    let mut placer = RecallAll {
        asked: vec![],
        seen: vec![],
    };
    let new = vec![item("h1", "https://b.example/1", "جديد", 30)];
    store
        .ingest("b", &new, &ok_record(), "fp", &mut placer)
        .unwrap();
    assert_eq!(placer.asked.len(), 1);
    assert_eq!(placer.seen, [1, 2], "items dated in [08:00, 09:01)");
    // The range is read through the sort_time index, never by scanning the table.
    let plan: Vec<String> = store
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {}", query::ITEMS_BETWEEN))
        .unwrap()
        .query_map([0, 1], |r| r.get::<_, String>(3))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(
        plan.iter()
            .any(|p| p.contains("USING INDEX items_sort_time")),
        "{plan:?}"
    );
    assert!(
        !plan.iter().any(|p| p.starts_with("SCAN items")),
        "{plan:?}"
    );
}

#[test]
fn a_group_stores_several_sources_in_one_commit_or_nothing() {
    let (dir, mut store) = open_temp();
    let reader = rusqlite::Connection::open(dir.path().join("sub/q.db")).unwrap();
    let count = |table: &str| -> i64 {
        reader
            .query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    let a: Vec<IncomingItem> = (0..5)
        .map(|n| {
            item(
                &format!("a{n}"),
                &format!("https://a.example/{n}"),
                "قازاخستان",
                n,
            )
        })
        .collect();
    let b = vec![item("b0", "https://b.example/0", "أذربيجان", 3)];
    let with_etag = |etag: &str| FetchRecord {
        etag: Some(etag.into()),
        ..ok_record()
    };

    // Dropped before its commit: none of it is stored, neither items nor fetch state.
    let mut group = store.begin_group().unwrap();
    let mut placer = EachItemItsOwnStory;
    group
        .ingest("a", &a, &with_etag("\"a1\""), "fp", &mut placer)
        .unwrap();
    group
        .ingest("b", &b, &with_etag("\"b1\""), "fp", &mut placer)
        .unwrap();
    drop(group);
    assert_eq!(store.counts().unwrap(), (0, 0));
    assert_eq!(store.source_state("a").unwrap().unwrap().etag, None);
    assert_eq!(count("item_search"), 0);

    // Committed: both sources at once, with their validators and their search rows. Another connection sees
    // nothing of the group until the commit.
    let mut group = store.begin_group().unwrap();
    let (a_counts, _) = group
        .ingest("a", &a, &with_etag("\"a1\""), "fp", &mut placer)
        .unwrap();
    let (b_counts, _) = group
        .ingest("b", &b, &with_etag("\"b1\""), "fp", &mut placer)
        .unwrap();
    assert_eq!((a_counts.new, b_counts.new), (5, 1));
    assert_eq!(count("items"), 0, "uncommitted items are invisible");
    group.commit().unwrap();
    assert_eq!((count("items"), count("item_search")), (6, 6));
    let etag = |id: &str| store.source_state(id).unwrap().unwrap().etag;
    assert_eq!(
        (etag("a").as_deref(), etag("b").as_deref()),
        (Some("\"a1\""), Some("\"b1\""))
    );
    let query = crate::search::Query::parse("أذربيجان", &[], &|_| false).unwrap();
    let hits = store.search(&query, 0, &[]).unwrap();
    assert_eq!(
        hits.len(),
        1,
        "the last source's rows were written at the commit"
    );
}

/// A story whose first item an older qafila's retention removed while the story lived on (before `story_origins`
/// recorded such stories) is found through its guid after the upgrade: that item, brought again, rejoins its
/// story instead of starting a second story under the same guid. Stories whose first item is stored need no row.
#[test]
fn an_upgraded_database_remembers_stories_that_lost_their_first_item() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let (first, second) = (
        item("g1", "https://a.example/1", "one", 0),
        item("g2", "https://a.example/2", "two", 5),
    );
    let key = |i: &IncomingItem| i.url_key.clone().unwrap();
    let lost_guid = crate::identity::story_guid(&key(&first));
    let kept = item("g3", "https://a.example/3", "three", 10);
    // A first item without a link: its story's guid comes from its source and its key there.
    let unlinked_key = crate::identity::source_key(Some("g4"), None, "four", None);
    let unlinked_guid = crate::identity::story_guid(&format!("a/{unlinked_key}"));
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        for migration in &MIGRATIONS[..7] {
            conn.execute_batch(migration).unwrap();
        }
        conn.execute_batch("PRAGMA user_version = 7;").unwrap();
        conn.execute(
            "INSERT INTO sources (id, url) VALUES ('a', 'http://a.example/feed')",
            [],
        )
        .unwrap();
        let story = |id: i64, guid: &str| {
            conn.execute(
                "INSERT INTO stories (id, guid, published, created, updated) VALUES (?1, ?2, 100, 100, 100)",
                rusqlite::params![id, guid],
            )
            .unwrap();
        };
        story(3, &lost_guid);
        story(7, &crate::identity::story_guid(&key(&kept)));
        story(9, &unlinked_guid);
        let stored = |id: i64, story: i64, url_key: Option<String>, source_key: &str| {
            conn.execute(
                "INSERT INTO items (id, url_key, story_id, source_id, title, first_seen, sort_time)
                 VALUES (?1, ?2, ?3, 'a', 't', 100, 100)",
                rusqlite::params![id, url_key, story],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO item_sources (source_id, source_key, item_id, first_seen) VALUES ('a', ?1, ?2, 100)",
                rusqlite::params![source_key, id],
            )
            .unwrap();
        };
        // Story 3's first item (`first`) is gone; `second` joined it later.
        stored(2, 3, Some(key(&second)), &second.source_key);
        stored(4, 7, Some(key(&kept)), &kept.source_key);
        stored(5, 7, Some("k5".into()), "s5");
        stored(6, 9, None, &unlinked_key);
    }
    let mut store = Store::open(&path).unwrap();
    let origins: Vec<(String, i64)> = store
        .conn
        .prepare("SELECT guid, story_id FROM story_origins")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(origins, [(lost_guid.clone(), 3)]);
    store
        .ingest("a", &[first], &ok_record(), "fp", &mut EachItemItsOwnStory)
        .unwrap();
    let (stories, story_of_first): (i64, i64) = store
        .conn
        .query_row(
            "SELECT (SELECT COUNT(*) FROM stories WHERE guid = ?1),
                    (SELECT story_id FROM items WHERE url_key = ?2)",
            rusqlite::params![
                lost_guid,
                crate::identity::url_key(Some("https://a.example/1"))
            ],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((stories, story_of_first), (1, 3));
}
