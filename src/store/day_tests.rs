//! The day archive's reads against a real SQLite file: the day's range, visibility, the nearest days with
//! stories, and the query plans (index ranges, never a scan of stories or items).

use chrono::{Duration, TimeZone, Utc};

use super::*;
use crate::model::{ParsedItem, RegionTags};
use crate::store::{EachItemItsOwnStory, FetchRecord, IncomingItem, Store};

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

/// One item, its own story, dated `t`; `about_region` false marks it as off-topic for a filtered source.
fn incoming(guid: &str, t: DateTime<Utc>, about_region: bool) -> IncomingItem {
    let link = format!("https://a.example/{guid}");
    IncomingItem {
        boilerplate: None,
        source_key: guid.to_string(),
        url_key: crate::identity::url_key(Some(&link)),
        item: ParsedItem {
            guid: Some(guid.into()),
            link: Some(link),
            title: format!("خبر {guid}"),
            published: Some(t),
            ..Default::default()
        },
        sort_time: t,
        tags: RegionTags {
            entities: vec!["kz".into()],
            region_match: about_region,
        },
        folded: None,
    }
}

/// 20 Nov: two stories; 21 Nov: only an off-topic one; 22 Nov: none; 23 Nov: one.
fn archive() -> (tempfile::TempDir, DayReader) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("q.db");
    let mut store = Store::open(&path).unwrap();
    store
        .sync_sources([("a", "http://a.example/feed")])
        .unwrap();
    let items = [
        incoming("early", at(20, 0), true),
        incoming("late", at(20, 23) + Duration::seconds(3599), true),
        incoming("off-topic", at(21, 12), false),
        incoming("next", at(23, 0), true),
    ];
    let record = FetchRecord {
        at: Utc::now(),
        status: Some(200),
        ..Default::default()
    };
    store
        .ingest("a", &items, &record, "g", &mut EachItemItsOwnStory)
        .unwrap();
    drop(store);
    let reader = DayReader::open(&path).unwrap();
    (dir, reader)
}

fn guids(day: &DayStories) -> Vec<String> {
    day.stories
        .iter()
        .map(|s| s.items[0].guid.clone().unwrap_or_default())
        .collect()
}

const FILTERED: &[String] = &[];

fn filtered() -> Vec<String> {
    vec!["a".to_string()]
}

#[test]
fn a_day_is_its_utc_range_newest_first_with_the_nearest_days_around_it() {
    let (_dir, mut reader) = archive();
    let day = reader.day(at(20, 0), at(21, 0), 100, FILTERED).unwrap();
    assert_eq!(guids(&day), ["late", "early"]);
    assert!(!day.truncated);
    assert_eq!(day.before, None);
    assert_eq!(
        day.after,
        Some(at(21, 12)),
        "unfiltered: the off-topic item shows"
    );

    let day = reader.day(at(20, 0), at(21, 0), 1, FILTERED).unwrap();
    assert_eq!(guids(&day), ["late"]);
    assert!(day.truncated);
}

#[test]
fn the_region_filter_hides_what_the_main_feed_hides_and_the_links_skip_it() {
    let (_dir, mut reader) = archive();
    let day = reader.day(at(21, 0), at(22, 0), 100, &filtered()).unwrap();
    assert!(day.stories.is_empty());
    assert_eq!(day.before, Some(at(20, 23) + Duration::seconds(3599)));
    assert_eq!(day.after, Some(at(23, 0)));
    let day = reader.day(at(23, 0), at(24, 0), 100, &filtered()).unwrap();
    assert_eq!(guids(&day), ["next"]);
    assert_eq!(
        day.before.map(|t| t.date_naive()),
        Some(at(20, 0).date_naive())
    );
    assert_eq!(day.after, None);
}

#[test]
fn the_reader_cannot_write() {
    let (_dir, reader) = archive();
    let g = reader.generation().unwrap();
    assert!(g > 0);
    assert!(reader
        .conn
        .execute("UPDATE search_state SET generation = 0", [])
        .is_err());
    assert_eq!(reader.generation().unwrap(), g);
}

/// Every read is a range of an index: a day page costs the day, never the whole archive.
#[test]
fn every_query_searches_an_index() {
    let (_dir, reader) = archive();
    for sql in [
        stories_sql(),
        super::super::query::visible_items_sql(),
        before_sql(),
        from_sql(),
    ] {
        let mut stmt = reader
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .unwrap();
        let values: Vec<Box<dyn rusqlite::ToSql>> =
            vec![Box::new("[]"), Box::new(0), Box::new(1), Box::new(1)];
        let bound = &values[..stmt.parameter_count()];
        let plan: Vec<String> = stmt
            .query_map(rusqlite::params_from_iter(bound), |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        let text = plan.join("\n");
        assert!(
            text.contains("USING INDEX stories_published")
                || text.contains("USING INDEX items_story"),
            "{sql}\n{text}"
        );
        for line in &plan {
            let scans_a_table = line.starts_with("SCAN ") && !line.contains("json_each");
            assert!(!scans_a_table, "{sql}\n{text}");
        }
    }
}
