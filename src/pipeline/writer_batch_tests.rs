//! The writer's transaction across groups (`writer_batch`): shared while more results are coming, committed before
//! anyone else gets the writer, at its caps, and never answered before it is committed.

use std::time::Duration;

use super::*;
use crate::pipeline::write_queue::{Coming, Submitted, TransactionCaps};
use crate::pipeline::writer::batch::incoming_features;

/// Caps no test reaches: only the queue decides when to commit.
const NO_CAPS: TransactionCaps = TransactionCaps {
    items: usize::MAX,
    text_bytes: usize::MAX,
    open_for: Duration::from_secs(3_600),
};

struct Setup {
    dir: tempfile::TempDir,
    g: Arc<Gazetteer>,
    writer: Arc<Mutex<Writer>>,
    queue: Arc<WriteQueue>,
}

fn setup(caps: TransactionCaps) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let g = Arc::new(Gazetteer::builtin());
    let writer = Arc::new(Mutex::new(
        Writer::open(&config(dir.path()), g.clone()).unwrap(),
    ));
    let queue = Arc::new(WriteQueue::with_caps(8, caps));
    Setup {
        dir,
        g,
        writer,
        queue,
    }
}

impl Setup {
    /// Queues `n` items of `source` as the poll holding `coming` would (which then no longer comes).
    fn poll(&self, source: &str, n: usize, coming: Coming) -> Submitted {
        let room = self.queue.room_now().expect("room in the backlog");
        let submitted = self.queue.submit(
            room,
            source.into(),
            fetched(source, n, "نص", &self.g),
            record(&format!("\"{source}\"")),
        );
        drop(coming);
        submitted
    }

    fn start_drainer(&self) -> std::thread::JoinHandle<()> {
        let (writer, queue) = (self.writer.clone(), self.queue.clone());
        std::thread::spawn(move || Writer::drain(&writer, &queue))
    }

    /// Items committed, as another connection (or the next start after a crash) sees them.
    fn committed_items(&self) -> i64 {
        committed_items(&self.dir.path().join("q.db"))
    }

    fn commits(&self) -> u64 {
        Writer::lock(&self.writer).commits
    }
}

fn committed_items(db: &Path) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM items", [], |r| r.get(0))
        .unwrap()
}

/// Waits (without a bound on how long it may take, but failing rather than hanging) until `done`.
fn wait_until(what: &str, done: &dyn Fn() -> bool) {
    let since = std::time::Instant::now();
    while !done() {
        assert!(since.elapsed() < Duration::from_secs(60), "{what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Whether no answer came yet (an answer that came is taken: only for what must not be answered yet).
fn unanswered(rx: &mut oneshot::Receiver<Answer>) -> bool {
    matches!(rx.try_recv(), Err(oneshot::error::TryRecvError::Empty))
}

/// Waits until the answer comes (failing rather than hanging).
fn answered(rx: oneshot::Receiver<Answer>) -> Result<Stored> {
    received(rx).result
}

/// Waits until `rx` gets its value (failing rather than hanging).
fn received<T>(mut rx: oneshot::Receiver<T>) -> T {
    let since = std::time::Instant::now();
    loop {
        match rx.try_recv() {
            Ok(value) => return value,
            Err(oneshot::error::TryRecvError::Empty) => {
                assert!(since.elapsed() < Duration::from_secs(60), "not answered");
                std::thread::sleep(Duration::from_millis(2));
            }
            Err(oneshot::error::TryRecvError::Closed) => panic!("dropped unanswered"),
        }
    }
}

/// Drops the trigger that made `failed`'s fetch fail, then stores `failed`'s items and a's two again: `failed`'s
/// are all new (nothing of them was kept, in the store or in the index) and a's all seen (they were committed).
fn lift_and_store_again(s: &Setup, w: &mut Writer, trigger: &str, (failed, items): (&str, usize)) {
    rusqlite::Connection::open(s.dir.path().join("q.db"))
        .unwrap()
        .execute_batch(&format!("DROP TRIGGER {trigger};"))
        .unwrap();
    let again_failed = submit(
        &s.queue,
        failed.into(),
        fetched(failed, items, "نص", &s.g),
        record(&format!("\"{failed}\"")),
    );
    let again_a = submit(
        &s.queue,
        "a".into(),
        fetched("a", 2, "نص", &s.g),
        record("\"a\""),
    );
    w.store_queued(&s.queue);
    assert_eq!(answer(again_failed).unwrap().0.new, items);
    assert_eq!(answer(again_a).unwrap().0.seen, 2);
}

#[test]
fn groups_share_one_commit_while_more_results_are_coming_and_none_is_answered_before_it() {
    let s = setup(NO_CAPS);
    let (a_coming, b_coming, c_coming) = (s.queue.coming(), s.queue.coming(), s.queue.coming());
    let commits = s.commits();
    let a = s.poll("a", 2, a_coming);
    assert!(a.start_drainer);
    let drainer = s.start_drainer();
    wait_until("the drainer takes a", &|| s.queue.len() == 0);
    let b = s.poll("b", 3, b_coming);
    assert!(!b.start_drainer, "the drainer still runs");
    wait_until("the drainer takes b", &|| s.queue.len() == 0);
    // Each one's features come back to its poll once it is stored, before the commit.
    assert_eq!(received(a.spent_features).len(), 2);
    assert_eq!(received(b.spent_features).len(), 3);
    let (mut a, mut b) = (a.answer, b.answer);
    assert!(unanswered(&mut a) && unanswered(&mut b));
    assert_eq!(
        s.committed_items(),
        0,
        "nothing is committed while c is coming"
    );
    // c's poll ends without a result (cancelled): nothing more is coming, so the transaction is committed.
    drop(c_coming);
    assert_eq!(answered(a).unwrap().0.new, 2);
    assert_eq!(answered(b).unwrap().0.new, 3);
    drainer.join().unwrap();
    assert_eq!(s.commits(), commits + 1, "a and b in one commit");
    assert_eq!(s.committed_items(), 5);
    assert!(s.queue.is_idle());
}

#[test]
fn a_crash_between_groups_loses_only_the_polls_not_answered() {
    let s = setup(NO_CAPS);
    // z is stored and answered on its own (nothing else is coming).
    let z = s.poll("big", 1, s.queue.coming());
    s.start_drainer().join().unwrap();
    assert_eq!(answered(z.answer).unwrap().0.new, 1);
    // a is stored in a transaction held open for b, which is still coming.
    let b_coming = s.queue.coming();
    let a = s.poll("a", 2, s.queue.coming());
    let drainer = s.start_drainer();
    wait_until("the drainer takes a", &|| s.queue.len() == 0);
    let mut a = a.answer;
    // The process is killed now: what it leaves on disk is the database and its log as they are.
    let crashed = tempfile::tempdir().unwrap();
    for file in ["q.db", "q.db-wal"] {
        std::fs::copy(s.dir.path().join(file), crashed.path().join(file)).unwrap();
    }
    assert!(unanswered(&mut a), "a was never reported");
    let db = crashed.path().join("q.db");
    assert_eq!(committed_items(&db), 1, "z is kept, a is not");
    let etag = |id: &str| -> Option<String> {
        rusqlite::Connection::open(&db)
            .unwrap()
            .query_row("SELECT etag FROM sources WHERE id = ?1", [id], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(etag("big").as_deref(), Some("\"big\""));
    assert_eq!(
        etag("a"),
        None,
        "nor is a's fetch state: its next poll fetches the same items again"
    );
    drop(b_coming);
    assert_eq!(answered(a).unwrap().0.new, 2);
    drainer.join().unwrap();
}

#[test]
fn a_failing_fetch_inside_a_shared_transaction_loses_only_itself() {
    let s = setup(NO_CAPS);
    rusqlite::Connection::open(s.dir.path().join("q.db"))
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER refuse_big BEFORE INSERT ON item_sources WHEN NEW.source_id = 'big'
               BEGIN SELECT RAISE(ABORT, 'big refused'); END;",
        )
        .unwrap();
    let (big_coming, b_coming, last) = (s.queue.coming(), s.queue.coming(), s.queue.coming());
    let a = s.poll("a", 2, s.queue.coming());
    let drainer = s.start_drainer();
    wait_until("the drainer takes a", &|| s.queue.len() == 0);
    // A later group of the same transaction: a fetch that fails, and one that does not.
    let big = s.poll("big", 2, big_coming);
    let b = s.poll("b", 3, b_coming);
    drop(last);
    assert_eq!(answered(a.answer).unwrap().0.new, 2);
    assert_eq!(answered(b.answer).unwrap().0.new, 3);
    let e = answered(big.answer).expect_err("big is refused");
    assert!(e.to_string().contains("big refused"), "{e}");
    drainer.join().unwrap();
    assert_eq!(s.committed_items(), 5);
    let mut w = Writer::lock(&s.writer);
    let state = w.store.source_state("big").unwrap().unwrap();
    assert_eq!(state.etag, None, "its fetch state was not stored either");
    // The index holds what is stored and nothing else: big's items are new, a's are seen.
    lift_and_store_again(&s, &mut w, "refuse_big", ("big", 2));
}

#[test]
fn a_group_that_panics_inside_a_shared_transaction_fails_alone() {
    let s = setup(NO_CAPS);
    let (broken_coming, last) = (s.queue.coming(), s.queue.coming());
    let a = s.poll("a", 2, s.queue.coming());
    let drainer = s.start_drainer();
    wait_until("the drainer takes a", &|| s.queue.len() == 0);
    // A bug: a fetch whose items have no features (placing the first one panics).
    let (items, _): (Vec<IncomingItem>, Vec<ItemFeatures>) =
        fetched("b", 2, "نص", &s.g).into_iter().unzip();
    let (reply, mut broken) = oneshot::channel();
    s.queue.lock().fetches.push(QueuedFetch {
        source_id: "b".into(),
        items,
        features: Vec::new(),
        record: record("\"b\""),
        reply,
        features_back: None,
        room: s.queue.room_now(),
    });
    drop(broken_coming);
    drop(last);
    assert_eq!(
        answered(a.answer).unwrap().0.new,
        2,
        "stored again after the panic"
    );
    drainer.join().unwrap();
    assert!(
        matches!(broken.try_recv(), Err(oneshot::error::TryRecvError::Closed)),
        "the broken fetch is failed, not answered"
    );
    assert_eq!(s.committed_items(), 2);
    assert_eq!(s.queue.room_left(), 8, "every room was given back");
}

#[test]
fn someone_waiting_for_the_writer_gets_in_once_the_open_transaction_is_committed() {
    let s = setup(NO_CAPS);
    let b_coming = s.queue.coming();
    let a = s.poll("a", 2, s.queue.coming());
    let drainer = s.start_drainer();
    wait_until("the drainer takes a", &|| s.queue.len() == 0);
    // The drainer holds its transaction open for b; someone else asks for the writer.
    let (got_in, read) = std::sync::mpsc::channel();
    std::thread::spawn({
        let (writer, queue, db) = (s.writer.clone(), s.queue.clone(), s.dir.path().join("q.db"));
        move || {
            let _w = Writer::lock_between_groups(&writer, &queue);
            got_in.send(committed_items(&db)).unwrap();
        }
    });
    assert_eq!(
        read.recv_timeout(Duration::from_secs(60))
            .expect("they get in while b is still coming"),
        2,
        "they get in after a is committed, not inside its transaction"
    );
    assert_eq!(answered(a.answer).unwrap().0.new, 2);
    // The drainer found nothing queued after letting them in, and ended; b starts the next one.
    drainer.join().unwrap();
    let b = s.poll("b", 3, b_coming);
    assert!(b.start_drainer);
    s.start_drainer().join().unwrap();
    assert_eq!(answered(b.answer).unwrap().0.new, 3);
}

#[test]
fn a_transaction_at_its_cap_is_committed_while_more_results_are_coming() {
    let items_cap = TransactionCaps {
        items: 3,
        ..NO_CAPS
    };
    let time_cap = TransactionCaps {
        open_for: Duration::ZERO,
        ..NO_CAPS
    };
    for caps in [items_cap, time_cap] {
        let s = setup(caps);
        let b_coming = s.queue.coming();
        let a = s.poll("a", 4, s.queue.coming());
        // It commits at once (b is still coming) and, nothing being queued, ends.
        s.start_drainer().join().unwrap();
        assert_eq!(answered(a.answer).unwrap().0.new, 4, "{caps:?}");
        assert_eq!(s.committed_items(), 4);
        drop(b_coming);
    }
}

#[test]
fn features_computed_again_for_a_failed_transaction_are_the_prepared_ones() {
    let g = Gazetteer::builtin();
    let now = Utc::now();
    // An outlet's template (a lead-in and a closing line in every item), so boilerplate is dropped.
    let places = ["كازاخستان", "أوزبكستان", "أذربيجان", "أرمينيا", "جورجيا"];
    let mut prepared: Vec<(IncomingItem, ItemFeatures)> = (0..10)
        .map(|i| {
            let place = places[i % places.len()];
            let item = ParsedItem {
                title: format!("عاجل | {place} توقع اتفاقية رقم {i} للطاقة"),
                summary: Some(format!(
                    "<p>وكالة الأنباء الموحدة: وقعت {place} اتفاقية للطاقة بقيمة {i} مليون دولار. تابعونا على قناتنا</p>"
                )),
                link: Some(format!("https://o.example/{i}")),
                published: Some(now - chrono::Duration::hours(i as i64)),
                ..Default::default()
            };
            crate::pipeline::prepare(item, now, &g)
        })
        .collect();
    crate::pipeline::drop_boilerplate(&mut prepared);
    assert!(
        prepared.iter().any(|(item, _)| item.boilerplate.is_some()),
        "the template is the outlet's boilerplate"
    );
    for (item, features) in &prepared {
        assert_eq!(
            &incoming_features(item, &g),
            features,
            "{}",
            item.item.title
        );
    }
}

#[test]
fn a_transaction_whose_commit_fails_stores_its_fetches_again_each_failing_alone() {
    let s = setup(NO_CAPS);
    // The commit's last statement moves the search generation: refused while more than 4 items are stored, so
    // the shared transaction (a + b, 5 items) fails at its commit, and so does a + b stored again together;
    // a alone (2) goes in, b (then 5) fails on its own.
    rusqlite::Connection::open(s.dir.path().join("q.db"))
        .unwrap()
        .execute_batch(
            "CREATE TRIGGER refuse_commit BEFORE UPDATE ON search_state
               WHEN (SELECT COUNT(*) FROM items) > 4
               BEGIN SELECT RAISE(ABORT, 'commit refused'); END;",
        )
        .unwrap();
    let (b_coming, last) = (s.queue.coming(), s.queue.coming());
    let a = s.poll("a", 2, s.queue.coming());
    let drainer = s.start_drainer();
    wait_until("the drainer takes a", &|| s.queue.len() == 0);
    let b = s.poll("b", 3, b_coming);
    drop(last);
    assert_eq!(answered(a.answer).unwrap().0.new, 2);
    let e = answered(b.answer).expect_err("b fails alone");
    assert!(e.to_string().contains("commit refused"), "{e}");
    drainer.join().unwrap();
    assert_eq!(s.committed_items(), 2);
    let mut w = Writer::lock(&s.writer);
    assert_eq!(w.store.source_state("b").unwrap().unwrap().etag, None);
    assert!(w.store.source_state("a").unwrap().unwrap().etag.is_some());
    // The index holds what is committed and nothing else: b's items (placed in the rolled-back transactions,
    // into stories that no longer exist) are placed again into stored stories.
    lift_and_store_again(&s, &mut w, "refuse_commit", ("b", 3));
    assert_eq!(w.store.integrity_check().unwrap(), "ok");
    let orphans: i64 = rusqlite::Connection::open(s.dir.path().join("q.db"))
        .unwrap()
        .query_row(
            "SELECT COUNT(*) FROM items WHERE story_id NOT IN (SELECT id FROM stories)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(orphans, 0);
}
