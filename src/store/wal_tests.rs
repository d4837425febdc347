//! The log (`-wal`) that [`Store::close`] leaves for the next open (`qafila poll` ends this way): it is read by
//! whatever opens the file next, and SQLite's automatic checkpoint keeps it bounded however many closes in a row
//! leave it.

use super::tests::{item, ok_record, open_temp};
use super::*;

/// `close` leaves the log, which holds every commit (fsynced there at each one): whatever opens the file next reads
/// it, and a store closed as SQLite always closes (the daemon's, dropped) checkpoints it into the file.
#[test]
fn closing_leaves_the_log_to_the_next_open_which_reads_it() {
    let (dir, mut store) = open_temp();
    let batch = vec![item("g1", "http://news.example/1", "عنوان", 1)];
    store
        .ingest("a", &batch, &ok_record(), "fp", &mut EachItemItsOwnStory)
        .unwrap();
    let db = dir.path().join("sub/q.db");
    let log = dir.path().join("sub/q.db-wal");
    store.close().unwrap();
    assert!(
        log.metadata().unwrap().len() > 0,
        "the log is left, with the commit in it"
    );
    // What answers afterwards is nothing of the file.
    assert!(store.counts().is_err());
    let titles = |conn: &rusqlite::Connection| -> i64 {
        conn.query_row(
            "SELECT COUNT(*) FROM items WHERE title = 'عنوان'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    // A read-only connection (the CLI's views) reads the log.
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    assert_eq!(titles(&conn), 1);
    drop(conn);
    // So does the next writer, and dropping it checkpoints the log into the file and removes it.
    let again = Store::open(&db).unwrap();
    assert_eq!(again.integrity_check().unwrap(), "ok");
    assert_eq!(again.counts().unwrap().0, 1);
    drop(again);
    assert!(!log.exists(), "dropping a store checkpoints as before");
    let conn =
        rusqlite::Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    assert_eq!(titles(&conn), 1, "the file alone holds it now");
}

/// As polls in a row, each storing new items in several commits and closing without a checkpoint: once the log
/// passes the automatic checkpoint's limit (SQLite's 1 000 pages in production; 64 here, to keep the test small),
/// a commit copies it into the file and a later write starts it over, so the log stays within the limit and a few
/// commits while the data it carried grows far past it. (The next open counts a left log's frames as not yet
/// copied, so its first commit past the limit checkpoints them again.) Measured with the real `poll`, 20 rounds of
/// 5 000 new items each: the log levels off at ~32 MB, twice the 16 MB limit, as the round's readers hold
/// checkpoints back while it runs.
#[test]
fn the_log_left_by_many_closes_stays_near_the_checkpoint_limit() {
    const LIMIT_PAGES: i64 = 64;
    const ROUNDS: usize = 20;
    let (dir, store) = open_temp();
    drop(store);
    let db = dir.path().join("sub/q.db");
    let log = dir.path().join("sub/q.db-wal");
    let mut highest = 0;
    for round in 0..ROUNDS {
        let mut store = Store::open(&db).unwrap();
        store
            .conn
            .pragma_update(None, "wal_autocheckpoint", LIMIT_PAGES)
            .unwrap();
        for group in 0..4 {
            let batch: Vec<IncomingItem> = (0..25)
                .map(|i| {
                    let n = (round * 4 + group) * 25 + i;
                    let mut it = item(
                        &format!("g{n}"),
                        &format!("http://news.example/{n}"),
                        &format!("عنوان {n}"),
                        n as i64,
                    );
                    // Words of their own, so that the search index grows with the items.
                    let words: Vec<String> = (0..100).map(|w| format!("كلمة{n}x{w}")).collect();
                    it.item.content = Some(words.join(" "));
                    it
                })
                .collect();
            store
                .ingest("a", &batch, &ok_record(), "fp", &mut EachItemItsOwnStory)
                .unwrap();
        }
        store.close().unwrap();
        highest = highest.max(log.metadata().map_or(0, |m| m.len()));
    }
    let file = db.metadata().unwrap().len();
    let limit = LIMIT_PAGES as u64 * u64::from(PAGE_SIZE);
    assert!(
        file > 4 * limit,
        "the rounds wrote {file} bytes into the file, more than the log could hold"
    );
    assert!(
        highest < 4 * limit,
        "the log reached {highest} bytes, over {} pages: it was not checkpointed",
        highest / u64::from(PAGE_SIZE)
    );
    let again = Store::open(&db).unwrap();
    assert_eq!(again.counts().unwrap().0 as usize, ROUNDS * 100);
    assert_eq!(again.integrity_check().unwrap(), "ok");
}
