use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::model::ParsedItem;
use crate::store::{EachItemItsOwnStory, FetchRecord, IncomingItem, RegionTags, StoryPlacer};

fn item(n: usize, days_ago: i64) -> IncomingItem {
    let t = Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap() - Duration::days(days_ago);
    let link = format!("https://news.example/kz/{n}");
    IncomingItem {
        boilerplate: None,
        source_key: crate::identity::source_key(Some(&link), Some(&link), "t", None),
        url_key: crate::identity::url_key(Some(&link)),
        item: ParsedItem {
            guid: Some(link.clone()),
            link: Some(link),
            title: format!("خبر {n}"),
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

fn record() -> FetchRecord {
    FetchRecord {
        at: Utc::now(),
        status: Some(200),
        ..Default::default()
    }
}

fn open(dir: &tempfile::TempDir) -> Store {
    let mut store = Store::open(&dir.path().join("q.db")).unwrap();
    store
        .sync_sources([("a", "http://a.example/feed")])
        .unwrap();
    store
}

/// Every item joins the story of the first one.
struct OneStory(Option<i64>);
impl StoryPlacer for OneStory {
    fn place(&mut self, _: usize) -> Option<i64> {
        self.0
    }
    fn placed(&mut self, _: usize, _: i64, story: i64) {
        self.0.get_or_insert(story);
    }
}

fn count(store: &Store, sql: &str) -> i64 {
    store.conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn prune_removes_old_items_but_keeps_published_stories_and_cascades() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    // Items 0..5 are 100 days old, 5..8 are 1 day old; each its own story.
    let batch: Vec<_> = (0..8)
        .map(|n| item(n, if n < 5 { 100 } else { 1 }))
        .collect();
    store
        .ingest("a", &batch, &record(), "fp", &mut EachItemItsOwnStory)
        .unwrap();
    // A story with one old and one new item keeps the new one and moves its date.
    store
        .ingest(
            "a",
            &[item(10, 100), item(11, 2)],
            &record(),
            "fp",
            &mut OneStory(None),
        )
        .unwrap();
    let stories = store.latest_stories(0, &[]).unwrap();
    let guid_of = |link: &str| {
        stories
            .iter()
            .find(|s| s.items.iter().any(|i| i.link.as_deref() == Some(link)))
            .unwrap()
            .guid
            .clone()
    };
    let keep = vec![guid_of("https://news.example/kz/0")];
    let cutoff = Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap() - Duration::days(90);

    let report = store.prune(cutoff, &keep).unwrap();
    assert_eq!(
        report,
        PruneReport {
            items: 5,
            stories: 4
        }
    );
    assert_eq!(store.counts().unwrap(), (5, 5));
    assert!(store
        .item_by_link("https://news.example/kz/0")
        .unwrap()
        .is_some());
    assert!(store
        .item_by_link("https://news.example/kz/1")
        .unwrap()
        .is_none());
    // item_sources followed the items; no story is empty; dates are the earliest remaining item.
    assert_eq!(count(&store, "SELECT COUNT(*) FROM item_sources"), 5);
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM stories s WHERE s.published <>
             (SELECT MIN(sort_time) FROM items i WHERE i.story_id = s.id)"
        ),
        0
    );
    assert_eq!(store.integrity_check().unwrap(), "ok");
    // Pruned items are new again if a feed still carries them (its keys went with them): nothing stays "seen".
    let (counts, _) = store
        .ingest(
            "a",
            &[item(1, 100)],
            &record(),
            "fp",
            &mut EachItemItsOwnStory,
        )
        .unwrap();
    assert_eq!(counts.new, 1);
    // Idempotent.
    store.prune(cutoff, &keep).unwrap();
    assert_eq!(store.prune(cutoff, &keep).unwrap(), PruneReport::default());
}

/// The guid of the story holding the item at `link`.
fn guid_of(store: &Store, link: &str) -> String {
    store
        .conn
        .query_row(
            "SELECT s.guid FROM stories s JOIN items i ON i.story_id = s.id WHERE i.link = ?1",
            [link],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn a_pruned_first_item_brought_again_rejoins_its_story_under_the_same_guid() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    // Item 10 (100 days old) starts the story and gives it its guid; item 11 (2 days old) joins it.
    store
        .ingest(
            "a",
            &[item(10, 100), item(11, 2)],
            &record(),
            "fp",
            &mut OneStory(None),
        )
        .unwrap();
    let guid = guid_of(&store, "https://news.example/kz/11");
    assert_eq!(
        guid,
        crate::identity::story_guid(item(10, 100).url_key.as_deref().unwrap())
    );
    let cutoff = Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap() - Duration::days(90);
    let report = store.prune(cutoff, &[]).unwrap();
    assert_eq!(
        report,
        PruneReport {
            items: 1,
            stories: 0
        }
    );
    // The feed still carries item 10: it is new again (its keys went with it) and, placed nowhere by the story
    // index, it would start a story under the guid its own story still has.
    let (counts, _) = store
        .ingest(
            "a",
            &[item(10, 100)],
            &record(),
            "fp",
            &mut EachItemItsOwnStory,
        )
        .unwrap();
    assert_eq!((counts.new, counts.merged), (1, 1));
    assert_eq!(store.counts().unwrap(), (2, 1));
    assert_eq!(guid_of(&store, "https://news.example/kz/10"), guid);
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) FROM (SELECT guid FROM stories GROUP BY guid HAVING COUNT(*) > 1)"
        ),
        0
    );
    // The story's date is its earliest item's again.
    assert_eq!(
        count(&store, "SELECT published FROM stories"),
        item(10, 100).sort_time.timestamp()
    );
    // Once the story itself is pruned, its record goes with it.
    let later = Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap();
    assert_eq!(
        store.prune(later, &[]).unwrap(),
        PruneReport {
            items: 2,
            stories: 1
        }
    );
    assert_eq!(count(&store, "SELECT COUNT(*) FROM story_origins"), 0);
    assert_eq!(store.integrity_check().unwrap(), "ok");
}

/// Retention reads stories through `stories_published` only (there is no index on guids): never a scan of a
/// table that grows with every story.
#[test]
fn pruning_reads_stories_through_the_published_index() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    for sql in [
        "SELECT s.guid, s.id FROM stories s
         WHERE s.published < ?1 AND s.guid NOT IN (SELECT value FROM json_each(?2))
           AND EXISTS (SELECT 1 FROM items i WHERE i.story_id = s.id AND i.sort_time >= ?1)",
        "SELECT id FROM items WHERE sort_time < ?1 AND story_id NOT IN
             (SELECT id FROM stories WHERE published < ?1 AND guid IN (SELECT value FROM json_each(?2)))",
    ] {
        let plan: Vec<String> = store
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap()
            .query_map(rusqlite::params![0, "[]"], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            plan.iter().all(|step| !step.starts_with("SCAN s") && !step.starts_with("SCAN stories")),
            "{sql}: {plan:?}"
        );
        assert!(
            plan.iter().any(|step| step.contains("stories_published")),
            "{sql}: {plan:?}"
        );
    }
}

#[test]
fn optimize_and_size() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = open(&dir);
    let before = store.size_bytes().unwrap();
    assert!(before > 0);
    let batch: Vec<_> = (0..500).map(|n| item(n, 1)).collect();
    store
        .ingest("a", &batch, &record(), "fp", &mut EachItemItsOwnStory)
        .unwrap();
    store.optimize().unwrap();
    assert!(store.size_bytes().unwrap() > before);
    let wal = std::fs::metadata(dir.path().join("q.db-wal")).unwrap();
    assert_eq!(wal.len(), 0, "TRUNCATE checkpoint empties the WAL");
}

#[test]
fn backup_while_another_connection_writes_is_consistent_and_complete() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir);
    // ~2 KB of Arabic per item, so that a backup takes long enough for commits to land while it runs.
    let with_text = |k: usize| {
        let mut i = item(k, 1);
        i.item.content = Some("خبر عن كازاخستان ".repeat(70));
        i
    };
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (stop, written, path) = (stop.clone(), written.clone(), dir.path().join("q.db"));
        std::thread::spawn(move || {
            let mut w = Store::open(&path).unwrap();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let batch: Vec<_> = (n..n + 20).map(with_text).collect();
                w.ingest("a", &batch, &record(), "fp", &mut EachItemItsOwnStory)
                    .unwrap();
                n += 20;
                written.store(n, Ordering::Relaxed);
            }
        })
    };
    while written.load(Ordering::Relaxed) < 400 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    std::fs::create_dir_all(dir.path().join("backups")).unwrap();
    // Whether a commit lands during one particular backup is up to the scheduler: take backups until one
    // overlapped a commit (checking every one of them), so the test does not depend on timing.
    let mut overlapped = 0;
    let mut taken = 0;
    while overlapped == 0 && taken < 50 {
        taken += 1;
        // Everything committed before the backup starts, as another reader sees it.
        let before: HashSet<i64> = store.story_of_items().unwrap().into_keys().collect();
        let written_before = written.load(Ordering::Relaxed);
        let dest = dir.path().join(format!("backups/q-{taken}.db"));
        let bytes = store.backup_to(&dest).unwrap();
        if written.load(Ordering::Relaxed) > written_before {
            overlapped += 1;
        }
        assert_eq!(bytes, std::fs::metadata(&dest).unwrap().len());
        assert!(!dir
            .path()
            .join(format!("backups/q-{taken}.db-wal"))
            .exists());
        let copy = Store::open(&dest).unwrap();
        assert_eq!(copy.integrity_check().unwrap(), "ok");
        let held: HashSet<i64> = copy.story_of_items().unwrap().into_keys().collect();
        assert!(before.is_subset(&held));
        // Whole transactions only: each batch of 20 is all there or not at all.
        assert_eq!(held.len() % 20, 0);
        // Every item row is whole too.
        assert_eq!(copy.counts().unwrap().0 as usize, held.len());
    }
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    assert!(
        overlapped > 0,
        "no commit landed during any of {taken} backups"
    );

    // No leftovers beside them; and a backup never overwrites.
    let names: Vec<_> = std::fs::read_dir(dir.path().join("backups"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(names
        .iter()
        .all(|n| !n.to_string_lossy().contains("partial")));
    let err = store
        .backup_to(&dir.path().join("backups/q-1.db"))
        .unwrap_err();
    assert!(err.to_string().contains("already exists"), "{err}");
}

#[test]
fn restore_round_trip_replaces_the_database_and_its_wal() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("q.db");
    let backup = dir.path().join("b.db");
    {
        let mut store = open(&dir);
        let batch: Vec<_> = (0..10).map(|n| item(n, 1)).collect();
        store
            .ingest("a", &batch, &record(), "fp", &mut EachItemItsOwnStory)
            .unwrap();
        store.backup_to(&backup).unwrap();
        let more: Vec<_> = (10..30).map(|n| item(n, 1)).collect();
        store
            .ingest("a", &more, &record(), "fp", &mut EachItemItsOwnStory)
            .unwrap();
        assert_eq!(store.counts().unwrap().0, 30);

        // Refused while the database is open elsewhere (the daemon), and nothing changes.
        let err = restore(&backup, &db).unwrap_err();
        assert!(matches!(err, Error::DatabaseInUse { .. }), "{err}");
        assert!(err.to_string().contains("stop the daemon"));
        assert_eq!(store.counts().unwrap().0, 30);
    }
    restore(&backup, &db).unwrap();
    let store = Store::open(&db).unwrap();
    assert_eq!(store.counts().unwrap(), (10, 10));
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert!(store
        .source_state("a")
        .unwrap()
        .is_some_and(|s| s.items_stored == 10));
    // Onto a machine with no database yet.
    let fresh = dir.path().join("new/q.db");
    restore(&backup, &fresh).unwrap();
    assert_eq!(Store::open(&fresh).unwrap().counts().unwrap().0, 10);
}

#[test]
fn restore_refuses_bad_backups_and_leaves_the_database_alone() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("q.db");
    drop(open(&dir));
    let original = std::fs::read(&db).unwrap();

    let garbage = dir.path().join("garbage.db");
    std::fs::write(
        &garbage,
        b"this is not a database at all, just text.".repeat(200),
    )
    .unwrap();
    let newer = dir.path().join("newer.db");
    {
        let c = Connection::open(&newer).unwrap();
        c.execute_batch(MIGRATIONS[0]).unwrap();
        c.pragma_update(None, "user_version", 99).unwrap();
    }
    let empty = dir.path().join("empty.db");
    Connection::open(&empty)
        .unwrap()
        .execute_batch("CREATE TABLE t (x);")
        .unwrap();

    for (path, needle) in [
        (dir.path().join("missing.db"), "no such file"),
        (garbage, "not"),
        (newer, "newer qafila"),
        (empty, "not a qafila database"),
    ] {
        let err = restore(&path, &db).unwrap_err();
        assert!(matches!(err, Error::Restore { .. }), "{err}");
        assert!(err.to_string().contains(needle), "{err}");
        assert!(err.to_string().contains("left untouched"), "{err}");
    }
    assert_eq!(std::fs::read(&db).unwrap(), original);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("restore"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}
