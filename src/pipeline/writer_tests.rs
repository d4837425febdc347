use std::path::Path;

use chrono::{TimeZone, Utc};

use tokio::sync::oneshot;

use super::*;
use crate::model::ParsedItem;
use crate::store::FetchRecord;

fn config(dir: &Path) -> Config {
    let d = dir.display();
    let mut text = format!(
        "[feed]\ntitle = \"قافلة\"\ndescription = \"test\"\nlink = \"http://127.0.0.1/\"\n\
         self_url = \"http://127.0.0.1/feed.xml\"\noutput = \"{d}/feed.xml\"\n\
         [storage]\ndatabase = \"{d}/q.db\"\n"
    );
    for id in ["a", "b", "big"] {
        text += &format!(
            "[[source]]\nid = \"{id}\"\nname = \"{id}\"\nurl = \"http://127.0.0.1:9/{id}.xml\"\n"
        );
    }
    Config::parse(&text, Path::new("qafila.toml")).unwrap()
}

/// `n` items of `source` (distinct stories: each names another country and day), each with `body` as content.
fn fetched(source: &str, n: usize, body: &str, g: &Gazetteer) -> Vec<(IncomingItem, ItemFeatures)> {
    let places = ["كازاخستان", "أوزبكستان", "أذربيجان", "أرمينيا", "جورجيا"];
    (0..n)
        .map(|i| {
            let title = format!("{} خبر رقم {i} من {source}", places[i % places.len()]);
            let at = Utc.with_ymd_and_hms(2026, 11, 1, 8, 0, 0).unwrap()
                + chrono::Duration::days(i as i64);
            let link = format!("https://{source}.example/{i}");
            let features = dedup::item_features(&title, None, Some(body), None, g);
            let item = IncomingItem {
                boilerplate: None,
                source_key: crate::identity::source_key(Some(&link), Some(&link), &title, None),
                url_key: crate::identity::url_key(Some(&link)),
                item: ParsedItem {
                    guid: Some(link.clone()),
                    link: Some(link),
                    title,
                    content: Some(body.to_string()),
                    published: Some(at),
                    ..Default::default()
                },
                sort_time: at,
                tags: features.region_tags(),
                folded: None,
            };
            (item, features)
        })
        .collect()
}

fn record(etag: &str) -> FetchRecord {
    FetchRecord {
        at: Utc::now(),
        status: Some(200),
        etag: Some(etag.into()),
        ..Default::default()
    }
}

/// Queues a fetch into room that must be there.
fn submit(
    queue: &WriteQueue,
    id: String,
    items: Vec<(IncomingItem, ItemFeatures)>,
    record: FetchRecord,
) -> oneshot::Receiver<Answer> {
    let room = queue.room_now().expect("room in the backlog");
    queue.submit(room, id, items, record).answer
}

fn answer(mut rx: oneshot::Receiver<Answer>) -> Result<Stored> {
    rx.try_recv().expect("answered once stored").result
}

#[test]
fn queued_fetches_are_stored_together_and_each_is_answered() {
    let dir = tempfile::tempdir().unwrap();
    let g = Arc::new(Gazetteer::builtin());
    let mut writer = Writer::open(&config(dir.path()), g.clone()).unwrap();
    let queue = WriteQueue::new(64);
    let a = submit(
        &queue,
        "a".into(),
        fetched("a", 4, "نص", &g),
        record("\"a\""),
    );
    let b = submit(
        &queue,
        "b".into(),
        fetched("b", 2, "نص", &g),
        record("\"b\""),
    );
    writer.store_queued(&queue);
    assert_eq!(answer(a).unwrap().0.new, 4);
    assert_eq!(answer(b).unwrap().0.new, 2);
    assert!(queue.take().is_empty(), "the queue was emptied");
    assert_eq!(writer.store.counts().unwrap().0, 6);
    let etag = |id: &str| writer.store.source_state(id).unwrap().unwrap().etag;
    assert_eq!(etag("b").as_deref(), Some("\"b\""));
    // Nothing queued: nothing to do.
    writer.store_queued(&queue);
    assert_eq!(writer.store.counts().unwrap().0, 6);
}

#[test]
fn a_fetch_that_cannot_be_stored_fails_alone_and_the_index_stays_true() {
    let dir = tempfile::tempdir().unwrap();
    let g = Arc::new(Gazetteer::builtin());
    let mut writer = Writer::open(&config(dir.path()), g.clone()).unwrap();
    // Room for a few small items, not for a large feed (as when the disk fills up mid-round).
    let size = writer.store.size_bytes().unwrap();
    writer.store.set_max_size(Some(size + 64 * 1024)).unwrap();
    let queue = WriteQueue::new(64);
    let a = submit(
        &queue,
        "a".into(),
        fetched("a", 3, "نص", &g),
        record("\"a\""),
    );
    let big = "كلمة ".repeat(4_000);
    let too_big = submit(
        &queue,
        "big".into(),
        fetched("big", 10, &big, &g),
        record("\"big\""),
    );
    let b = submit(
        &queue,
        "b".into(),
        fetched("b", 2, "نص", &g),
        record("\"b\""),
    );
    writer.store_queued(&queue);
    assert_eq!(answer(a).unwrap().0.new, 3);
    assert_eq!(answer(b).unwrap().0.new, 2);
    assert!(answer(too_big).is_err());
    assert_eq!(writer.store.counts().unwrap().0, 5);
    let state = writer.store.source_state("big").unwrap().unwrap();
    assert_eq!(
        (state.etag, state.last_status),
        (None, None),
        "its fetch state was not stored either"
    );
    // The index holds what is stored and nothing else: the same items again are seen, not new.
    writer.store.set_max_size(None).unwrap();
    let again = submit(
        &queue,
        "a".into(),
        fetched("a", 3, "نص", &g),
        record("\"a\""),
    );
    writer.store_queued(&queue);
    let (counts, _) = answer(again).unwrap();
    assert_eq!((counts.new, counts.seen), (0, 3));
    // (Only 5 at most: the rebuild after `big` failed keeps the horizon's days, and these items are older.)
    assert!(writer.index.len() <= 5, "{}", writer.index.len());
}

#[test]
fn a_database_that_takes_nothing_fails_a_group_with_at_most_two_index_rebuilds() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().display();
    let mut text = format!(
        "[feed]\ntitle = \"قافلة\"\ndescription = \"test\"\nlink = \"http://127.0.0.1/\"\n\
         self_url = \"http://127.0.0.1/feed.xml\"\noutput = \"{d}/feed.xml\"\n\
         [storage]\ndatabase = \"{d}/q.db\"\n"
    );
    let ids: Vec<String> = (0..16).map(|i| format!("s{i}")).collect();
    for id in &ids {
        text += &format!(
            "[[source]]\nid = \"{id}\"\nname = \"{id}\"\nurl = \"http://127.0.0.1:9/{id}.xml\"\n"
        );
    }
    let config = Config::parse(&text, Path::new("qafila.toml")).unwrap();
    let g = Arc::new(Gazetteer::builtin());
    let mut writer = Writer::open(&config, g.clone()).unwrap();
    // As a full disk: not one more page (what `[storage] max_database_bytes` reached does too).
    let size = writer.store.size_bytes().unwrap();
    writer.store.set_max_size(Some(size)).unwrap();
    let rebuilt_at_open = writer.rebuilds;
    let queue = WriteQueue::new(64);
    // Each item needs pages of its own (overflow pages), which the database cannot add.
    let body = "نص ".repeat(3_000);
    let answers: Vec<_> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            // Sizes differ, so that the smallest is tried first.
            let items = fetched(id, 2 + i % 5, &body, &g);
            submit(&queue, id.clone(), items, record(&format!("\"{id}\"")))
        })
        .collect();
    writer.store_queued(&queue);
    for (id, answer_rx) in ids.iter().zip(answers) {
        let e = answer(answer_rx).expect_err("nothing fits");
        assert!(e.public_reason().contains("full"), "{id}: {e}");
    }
    // The group, then the smallest fetch alone; the others would not fit either (before: one per fetch, 17).
    assert!(
        writer.rebuilds - rebuilt_at_open <= 2,
        "{} rebuilds",
        writer.rebuilds - rebuilt_at_open
    );
    // Nothing lost: no fetch state was stored, so each source fetches (and stores) its items again later.
    for id in &ids {
        let state = writer.store.source_state(id).unwrap().unwrap();
        assert_eq!((state.etag, state.last_status), (None, None), "{id}");
    }
    assert_eq!(writer.store.counts().unwrap().0, 0);
    writer.store.set_max_size(None).unwrap();
    let again = submit(
        &queue,
        "s3".into(),
        fetched("s3", 3, &body, &g),
        record("\"s3\""),
    );
    writer.store_queued(&queue);
    assert_eq!(answer(again).unwrap().0.new, 3);
    assert_eq!(writer.index.len(), 3, "the index holds what is stored");
}

#[test]
fn a_failed_write_reports_its_own_error_when_the_index_rebuild_fails_too() {
    let dir = tempfile::tempdir().unwrap();
    let g = Arc::new(Gazetteer::builtin());
    let mut writer = Writer::open(&config(dir.path()), g.clone()).unwrap();
    let now = Utc::now().timestamp();
    // Beside the writer: `b`'s second item is refused (after its first was placed into the index), and a stored
    // item the rebuild cannot read (a fractional time), within the horizon the rebuild reads.
    rusqlite::Connection::open(dir.path().join("q.db"))
        .unwrap()
        .execute_batch(&format!(
            "CREATE TRIGGER refuse_b BEFORE INSERT ON item_sources
               WHEN NEW.source_id = 'b' AND EXISTS (SELECT 1 FROM item_sources WHERE source_id = 'b')
               BEGIN SELECT RAISE(ABORT, 'b refused'); END;
             INSERT INTO stories (guid, published, created, updated) VALUES ('s', {now}, {now}, {now});
             INSERT INTO items (story_id, source_id, title, first_seen, sort_time)
               VALUES (last_insert_rowid(), 'a', 'x', {now}, {now} + 0.5);"
        ))
        .unwrap();
    let queue = WriteQueue::new(64);
    let a = submit(
        &queue,
        "a".into(),
        fetched("a", 2, "نص", &g),
        record("\"a\""),
    );
    let b = submit(
        &queue,
        "b".into(),
        fetched("b", 2, "نص", &g),
        record("\"b\""),
    );
    writer.store_queued(&queue);
    assert_eq!(answer(a).unwrap().0.new, 2);
    let e = answer(b).expect_err("b's second item is refused");
    assert!(e.to_string().contains("b refused"), "{e}");
}

#[test]
fn a_panic_while_writing_does_not_stop_later_writes() {
    let dir = tempfile::tempdir().unwrap();
    let g = Arc::new(Gazetteer::builtin());
    let writer = Arc::new(Mutex::new(
        Writer::open(&config(dir.path()), g.clone()).unwrap(),
    ));
    let queue = WriteQueue::new(64);
    let a = submit(
        &queue,
        "a".into(),
        fetched("a", 4, "نص", &g),
        record("\"a\""),
    );
    Writer::lock(&writer).store_queued(&queue);
    assert_eq!(answer(a).unwrap().0.new, 4);
    // A bug panics mid-write, after the index learned of an item the store never got.
    let w = writer.clone();
    let panicked = std::thread::spawn(move || {
        let mut w = w.lock().unwrap();
        let f = dedup::item_features("خبر لم يحفظ", None, None, None, &w.gazetteer);
        w.index.insert(999_999, 999_999, &f, Utc::now());
        panic!("a bug while writing");
    })
    .join();
    assert!(panicked.is_err() && writer.is_poisoned());
    let mut w = Writer::lock(&writer);
    assert!(!writer.is_poisoned(), "the lock is usable again");
    assert_eq!(
        w.rebuilds, 2,
        "the index was rebuilt from the store (once at open, once now)"
    );
    assert_eq!(
        w.index.len(),
        0,
        "the item that was never stored is gone from the index"
    );
    // Writes go on, and what was stored before the panic is still known.
    let again = submit(
        &queue,
        "a".into(),
        fetched("a", 4, "نص", &g),
        record("\"a\""),
    );
    let b = submit(
        &queue,
        "b".into(),
        fetched("b", 2, "نص", &g),
        record("\"b\""),
    );
    w.store_queued(&queue);
    let (counts, _) = answer(again).unwrap();
    assert_eq!((counts.new, counts.seen), (0, 4));
    assert_eq!(answer(b).unwrap().0.new, 2);
}

#[test]
fn the_backlog_gives_room_back_once_a_fetch_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let g = Arc::new(Gazetteer::builtin());
    let mut writer = Writer::open(&config(dir.path()), g.clone()).unwrap();
    let queue = WriteQueue::new(2);
    let a = submit(
        &queue,
        "a".into(),
        fetched("a", 1, "نص", &g),
        record("\"a\""),
    );
    let room = queue.room_now().expect("room for a second");
    assert!(queue.room_now().is_none(), "no room for a third");
    // Room taken but nothing queued into it yet: still full.
    let b = queue
        .submit(room, "b".into(), fetched("b", 1, "نص", &g), record("\"b\""))
        .answer;
    assert!(queue.room_now().is_none());
    writer.store_queued(&queue);
    assert_eq!(answer(a).unwrap().0.new, 1);
    assert_eq!(answer(b).unwrap().0.new, 1);
    assert!(queue.room_now().is_some() && queue.room_now().is_some());
}

#[test]
fn the_drainer_stores_group_after_group_and_one_is_started_only_when_none_runs() {
    let dir = tempfile::tempdir().unwrap();
    let g = Arc::new(Gazetteer::builtin());
    let writer = Mutex::new(Writer::open(&config(dir.path()), g.clone()).unwrap());
    let queue = WriteQueue::new(8);
    let first = queue.submit(
        queue.room_now().unwrap(),
        "a".into(),
        fetched("a", 2, "نص", &g),
        record("\"a\""),
    );
    assert!(first.start_drainer, "no drainer runs yet");
    let second = queue.submit(
        queue.room_now().unwrap(),
        "b".into(),
        fetched("b", 3, "نص", &g),
        record("\"b\""),
    );
    assert!(
        !second.start_drainer,
        "the first one's drainer takes it too"
    );
    Writer::drain(&writer, &queue);
    assert_eq!(answer(first.answer).unwrap().0.new, 2);
    assert_eq!(answer(second.answer).unwrap().0.new, 3);
    assert_eq!(queue.len(), 0);
    // It ended with the queue empty: the next fetch must start one again.
    let third = queue.submit(
        queue.room_now().unwrap(),
        "a".into(),
        fetched("a", 2, "نص", &g),
        record("\"a2\""),
    );
    assert!(third.start_drainer);
    Writer::drain(&writer, &queue);
    assert_eq!(answer(third.answer).unwrap().0.seen, 2);
}

#[test]
fn a_group_that_panics_fails_alone_and_the_drainer_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let g = Arc::new(Gazetteer::builtin());
    let writer = Arc::new(Mutex::new(
        Writer::open(&config(dir.path()), g.clone()).unwrap(),
    ));
    let queue = Arc::new(WriteQueue::new(8));
    // A bug: a fetch whose items have no features (placing the first one panics).
    let (items, _): (Vec<IncomingItem>, Vec<ItemFeatures>) =
        fetched("a", 2, "نص", &g).into_iter().unzip();
    let (reply, broken) = oneshot::channel();
    {
        let mut pending = queue.lock();
        pending.fetches.push(QueuedFetch {
            source_id: "a".into(),
            items,
            features: Vec::new(),
            record: record("\"a\""),
            reply,
            features_back: None,
            room: queue.room_now().unwrap().into(),
        });
        pending.draining = true;
    }
    let drainer = std::thread::spawn({
        let (writer, queue) = (writer.clone(), queue.clone());
        move || Writer::drain(&writer, &queue)
    });
    let mut broken = broken;
    let waited = std::time::Instant::now();
    while matches!(broken.try_recv(), Err(oneshot::error::TryRecvError::Empty)) {
        assert!(waited.elapsed() < std::time::Duration::from_secs(30));
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    assert!(
        matches!(broken.try_recv(), Err(oneshot::error::TryRecvError::Closed)),
        "the broken fetch is failed, not answered"
    );
    // The next fetch is stored: by the same drainer if it is still going, else by the one it starts.
    let b = queue.submit(
        queue.room_now().unwrap(),
        "b".into(),
        fetched("b", 2, "نص", &g),
        record("\"b\""),
    );
    drainer.join().expect("the drainer survived the panic");
    if b.start_drainer {
        Writer::drain(&writer, &queue);
    }
    assert_eq!(answer(b.answer).unwrap().0.new, 2);
    let w = Writer::lock(&writer);
    assert_eq!(
        w.store.counts().unwrap().0,
        2,
        "nothing of the broken fetch"
    );
    assert_eq!(queue.room_left(), 8, "every room was given back");
}

/// Where both waiting tests stand before their end: the drainer holds the writer and waits for the queue (held by
/// the test) with the first fetch in it, a poll is still announced (`more`), and a reader waits for the writer.
struct Waiting<'q> {
    queue: &'q WriteQueue,
    held_queue: std::sync::MutexGuard<'q, crate::pipeline::write_queue::Pending>,
    reader: std::thread::JoinHandle<(usize, u64)>,
    drainer: std::thread::JoinHandle<()>,
    more: crate::pipeline::write_queue::Coming,
}

impl Waiting<'_> {
    /// Lets the drainer take the first fetch (`first`, of `items` items), queues a second one while it is being
    /// stored, and checks that the reader got in after the first group and before the second.
    fn gets_in_between(self, (first, items): (oneshot::Receiver<Answer>, u64), g: &Gazetteer) {
        drop(self.held_queue);
        while self.queue.len() > 0 {
            std::hint::spin_loop();
        }
        let second = submit(
            self.queue,
            "b".into(),
            fetched("b", 1, "نص", g),
            record("\"b\""),
        );
        let (queued, stored) = self.reader.join().unwrap();
        assert_eq!(
            (queued, stored),
            (1, items),
            "the reader got in after the first group and before the second"
        );
        drop(self.more);
        self.drainer.join().unwrap();
        assert_eq!(answer(first).unwrap().0.new as u64, items);
        assert_eq!(answer(second).unwrap().0.new, 1);
    }
}

#[test]
fn someone_waiting_for_the_writer_gets_in_before_the_next_group() {
    let dir = tempfile::tempdir().unwrap();
    let g = Arc::new(Gazetteer::builtin());
    let writer = Arc::new(Mutex::new(
        Writer::open(&config(dir.path()), g.clone()).unwrap(),
    ));
    let queue = Arc::new(WriteQueue::new(8));
    let wait_until = |what: &str, done: &dyn Fn() -> bool| {
        let since = std::time::Instant::now();
        while !done() {
            assert!(
                since.elapsed() < std::time::Duration::from_secs(30),
                "{what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
    };
    // More is coming (a poll of the round still fetching), so the drainer would keep its transaction open.
    let more = queue.coming();
    // Large enough that storing it takes a while (the second fetch is queued meanwhile).
    let first = submit(
        &queue,
        "a".into(),
        fetched("a", 30, &"نص طويل ".repeat(200), &g),
        record("\"a\""),
    );
    // The drainer takes the writer's lock, then waits here to take the queue (held by the test).
    let held_queue = queue.lock();
    let drainer = std::thread::spawn({
        let (writer, queue) = (writer.clone(), queue.clone());
        move || Writer::drain(&writer, &queue)
    });
    wait_until("the drainer holds the writer", &|| {
        writer.try_lock().is_err()
    });
    // Someone else asks for the writer meanwhile.
    let reader = std::thread::spawn({
        let (writer, queue) = (writer.clone(), queue.clone());
        move || {
            let w = Writer::lock_between_groups(&writer, &queue);
            (queue.len(), w.store.counts().unwrap().0)
        }
    });
    wait_until("the reader waits", &|| queue.others_waiting() == 1);
    // The drainer takes the first fetch and stores it; the second is queued while it does.
    let waiting = Waiting {
        queue: &queue,
        held_queue,
        reader,
        drainer,
        more,
    };
    waiting.gets_in_between((first, 30), &g);
}

/// As on a loaded machine: the one waiting for the writer counted itself, but its thread runs only 20 ms later.
/// The drainer, having committed for it, still lets it in before the next group (it waits for it without taking
/// the CPU it needs, rather than spinning for 5 ms and then taking the lock back).
#[test]
fn someone_waiting_for_the_writer_gets_in_before_the_next_group_even_when_its_thread_is_slow_to_run(
) {
    let dir = tempfile::tempdir().unwrap();
    let g = Arc::new(Gazetteer::builtin());
    let writer = Arc::new(Mutex::new(
        Writer::open(&config(dir.path()), g.clone()).unwrap(),
    ));
    let queue = Arc::new(WriteQueue::new(8));
    let more = queue.coming();
    let first = submit(
        &queue,
        "a".into(),
        fetched("a", 3, "نص", &g),
        record("\"a\""),
    );
    let held_queue = queue.lock();
    let drainer = std::thread::spawn({
        let (writer, queue) = (writer.clone(), queue.clone());
        move || Writer::drain(&writer, &queue)
    });
    let since = std::time::Instant::now();
    while writer.try_lock().is_ok() {
        assert!(since.elapsed() < std::time::Duration::from_secs(30));
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let reader = std::thread::spawn({
        let (writer, queue) = (writer.clone(), queue.clone());
        move || {
            let waiting = queue.waiting();
            // Counted, but not running yet (what `lock_between_groups` does, with the scheduler's delay).
            std::thread::sleep(std::time::Duration::from_millis(20));
            let w = Writer::lock(&writer);
            drop(waiting);
            (queue.len(), w.store.counts().unwrap().0)
        }
    });
    while queue.others_waiting() == 0 {
        assert!(since.elapsed() < std::time::Duration::from_secs(30));
        std::thread::yield_now();
    }
    // The drainer stores the first fetch, then commits for the reader; the second is queued meanwhile.
    let waiting = Waiting {
        queue: &queue,
        held_queue,
        reader,
        drainer,
        more,
    };
    waiting.gets_in_between((first, 3), &g);
}

#[path = "writer_batch_tests.rs"]
mod batch;
