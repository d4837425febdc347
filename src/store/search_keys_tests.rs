//! Search keys (see the module doc): unique, never sorting after their item's second, and free however the
//! transactions that took them ended (`TakenKeys`).

use chrono::Utc;

use super::tests::{incoming, item, parse, store_with, Item};
use super::*;
use crate::store::{FetchRecord, IncomingItem};

/// The items' keys with their times, newest first, checked: all distinct, each bounding its item's time.
fn checked_keys(store: &Store) -> Vec<(i64, i64)> {
    let keys: Vec<(i64, i64)> = store
        .conn
        .prepare("SELECT search_key, sort_time FROM items ORDER BY search_key")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let distinct: HashSet<i64> = keys.iter().map(|k| k.0).collect();
    assert_eq!(distinct.len(), keys.len(), "keys taken twice: {keys:?}");
    for (key, sort_time) in &keys {
        assert!(
            *sort_time <= newest_after(*key),
            "{key} sorts after {sort_time}"
        );
    }
    keys
}

fn same_second_items(prefix: &str, count: usize) -> Vec<Item<'static>> {
    (0..count)
        .map(|i| {
            item(
                Box::leak(format!("{prefix}{i}").into_boxed_str()),
                "خبر عن الغاز",
                0,
            )
        })
        .collect()
}

/// `count` items of one second (see [`same_second_items`]) stored as one fetch of source `a`, in a group of their
/// own that is committed, or else rolled back.
fn fetch_same_second(store: &mut Store, prefix: &str, count: usize, commit: bool) {
    let items = same_second_items(prefix, count);
    let incoming: Vec<IncomingItem> = items.iter().map(|i| incoming(i, "a")).collect();
    let record = FetchRecord {
        at: Utc::now(),
        status: Some(200),
        ..Default::default()
    };
    let mut group = store.begin_group().unwrap();
    group
        .ingest(
            "a",
            &incoming,
            &record,
            "g",
            &mut crate::store::EachItemItsOwnStory,
        )
        .unwrap();
    if commit {
        group.commit().unwrap();
    }
}

#[test]
fn keys_are_unique_and_bound_their_item_time() {
    // Forty items in the same second overflow its sixteen slots.
    let items = same_second_items("g", 40);
    let (_dir, store) = store_with(&items);
    let keys = checked_keys(&store);
    assert_eq!(keys.len(), 40);
    assert_eq!(store.search(&parse("الغاز"), 0, &[]).unwrap().len(), 40);
}

#[test]
fn keys_taken_by_one_transaction_are_free_for_none_of_the_next() {
    // Twelve items of one second in each of three fetches: the second and third transactions find the slots the
    // earlier ones took (sixteen a second) and go on below them, then into the next newer second.
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("q.db")).unwrap();
    store
        .sync_sources([("a", "http://a.example/feed")])
        .unwrap();
    for fetch in 0..3 {
        fetch_same_second(&mut store, &format!("g{fetch}-"), 12, true);
    }
    let keys = checked_keys(&store);
    assert_eq!(keys.len(), 36);
    let seconds: std::collections::HashSet<i64> = keys.iter().map(|k| k.0 >> SHIFT).collect();
    assert_eq!(seconds.len(), 3, "16 + 16 + 4 keys");
    assert_eq!(store.search(&parse("الغاز"), 0, &[]).unwrap().len(), 36);
}

#[test]
fn keys_stay_unique_after_a_rolled_back_group_and_in_a_new_store() {
    // The store remembers the keys it took from one transaction to the next (`TakenKeys`): a group rolled back
    // leaves it remembering keys that are not stored, and a store opened later remembers nothing; in both cases
    // the next keys are free ones.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let mut store = Store::open(&path).unwrap();
    store
        .sync_sources([("a", "http://a.example/feed")])
        .unwrap();
    fetch_same_second(&mut store, "g0-", 6, true);
    fetch_same_second(&mut store, "g1-", 6, false);
    fetch_same_second(&mut store, "g2-", 6, true);
    drop(store);
    let mut store = Store::open(&path).unwrap();
    fetch_same_second(&mut store, "g3-", 6, true);
    let keys = checked_keys(&store);
    assert_eq!(keys.len(), 18);
    assert_eq!(store.search(&parse("الغاز"), 0, &[]).unwrap().len(), 18);
}

#[test]
fn taken_keys_forget_every_second_once_they_hold_too_many() {
    let mut taken = TakenKeys::default();
    for second in 0..TakenKeys::MAX_SECONDS as i64 {
        taken.remember(second, second << SHIFT);
    }
    taken.remember(0, 1);
    assert_eq!(
        taken.0.len(),
        TakenKeys::MAX_SECONDS,
        "a second it holds is moved on"
    );
    taken.remember(-1, 7);
    assert_eq!(taken.0.len(), 1);
    assert_eq!(taken.0.get(&-1), Some(&7));
}
