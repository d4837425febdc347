//! The day archive: reading `/day/…` paths, and day pages from a real SQLite file (the region filter, the links,
//! the empty and missing days, the cache and its validators).

use std::path::Path;

use chrono::{Duration, TimeZone};
use proptest::prelude::*;

use super::*;
use crate::model::{ParsedItem, RegionTags};
use crate::store::{EachItemItsOwnStory, FetchRecord, IncomingItem, Store};

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn day_paths_are_read_strictly() {
    assert_eq!(
        day_path("/day/2026-11-27"),
        Some(DayPath::Day(date(2026, 11, 27)))
    );
    assert_eq!(
        day_path("/day/2024-02-29"),
        Some(DayPath::Day(date(2024, 2, 29)))
    );
    assert_eq!(day_path("/"), None);
    assert_eq!(day_path("/daylight"), None);
    assert_eq!(day_path("/days/2026-11-27"), None);
    for malformed in [
        "/day",
        "/day/",
        "/day/2026-11-27/",
        "/day/2026-11-7",
        "/day/26-11-27",
        "/day/2026/11/27",
        "/day/2026-11-27x",
        "/day/+026-11-27",
        "/day/2026-1a-27",
        "/day/%32026-11-27",
        "/day/٢٠٢٦-١١-٢٧",
        "/day/2026-11-27/../feed.xml",
    ] {
        assert!(
            matches!(day_path(malformed), Some(DayPath::Malformed(_))),
            "{malformed}"
        );
    }
    for impossible in [
        "/day/2026-02-29",
        "/day/2026-13-01",
        "/day/2026-00-10",
        "/day/2026-11-31",
    ] {
        assert_eq!(
            day_path(impossible),
            Some(DayPath::Malformed(
                "no such date: use /day/YYYY-MM-DD with a real month and day (UTC)\n"
            )),
            "{impossible}"
        );
    }
}

proptest! {
    #[test]
    fn any_path_is_read_without_panicking(rest in "\\PC{0,24}") {
        let _ = day_path(&format!("/day/{rest}"));
        let _ = day_path(&rest);
    }

    #[test]
    fn every_calendar_day_reads_back(days in 0i64..3_000_000) {
        let day = date(1, 1, 1) + Duration::days(days);
        prop_assume!(day.year() <= 9999);
        prop_assert_eq!(day_path(&publish::day_path(day)), Some(DayPath::Day(day)));
    }
}

use chrono::Datelike;

fn at(day: u32, hour: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, hour, 0, 0).unwrap()
}

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
            summary: Some(format!("<p>ملخص {guid}</p>")),
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

fn config(dir: &Path) -> Arc<Config> {
    let text = format!(
        r#"[feed]
title = "قافلة"
description = "أخبار آسيا الوسطى والقوقاز"
link = "http://qafila.test/"
self_url = "http://qafila.test/feed.xml"
output = "{out}"

[storage]
database = "{db}"

[[source]]
id = "a"
name = "منفذ أ"
url = "http://a.example/feed"
region_filter = true
"#,
        out = dir.join("feed.xml").display(),
        db = dir.join("q.db").display(),
    );
    Arc::new(Config::parse(&text, Path::new("qafila.toml")).unwrap())
}

fn store_items(store: &mut Store, items: &[IncomingItem]) {
    let record = FetchRecord {
        at: Utc::now(),
        status: Some(200),
        ..Default::default()
    };
    store
        .ingest("a", items, &record, "g", &mut EachItemItsOwnStory)
        .unwrap();
}

/// 20 Nov: two stories; 21 Nov: only one the region filter hides; 22 Nov: none; 23 Nov: one.
fn archive() -> (tempfile::TempDir, Arc<Config>, Store, ArchiveService) {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let mut store = Store::open(&config.storage.database).unwrap();
    store
        .sync_sources([("a", "http://a.example/feed")])
        .unwrap();
    store_items(
        &mut store,
        &[
            incoming("early", at(20, 1), true),
            incoming("late", at(20, 22), true),
            incoming("hidden", at(21, 12), false),
            incoming("next", at(23, 9), true),
        ],
    );
    let service = ArchiveService::new(
        &config.storage.database,
        Arc::new(crate::regions::Gazetteer::builtin()),
    )
    .unwrap();
    (dir, config, store, service)
}

fn now() -> DateTime<Utc> {
    at(27, 14)
}

fn page(answer: DayAnswer) -> (Document, String) {
    match answer {
        DayAnswer::Found(doc) => {
            let html = String::from_utf8(doc.body.to_vec()).unwrap();
            (doc, html)
        }
        DayAnswer::NotFound(why) => panic!("not found: {why}"),
    }
}

fn not_found(answer: DayAnswer) -> String {
    match answer {
        DayAnswer::NotFound(why) => why,
        DayAnswer::Found(_) => panic!("found"),
    }
}

#[test]
fn a_day_page_has_the_days_visible_stories_and_the_nearest_days_with_stories() {
    let (_dir, config, _store, service) = archive();
    let (doc, html) = page(service.answer(&config, date(2026, 11, 20), now()).unwrap());
    assert_eq!(doc.content_type, site::HTML_TYPE);
    assert!(doc.has_compressed(false) && doc.has_compressed(true));
    assert!(html.contains("<h1>أخبار ٢٠ نوفمبر ٢٠٢٦</h1>"), "{html}");
    let late = html.find("خبر late").unwrap();
    let early = html.find("خبر early").unwrap();
    assert!(late < early, "newest first");
    assert!(html.contains("ملخص early"), "the snippet");
    assert!(
        html.contains("href=\"/day/2026-11-23\">→ اليوم التالي: ٢٣ نوفمبر ٢٠٢٦</a>"),
        "the next day with visible stories, past the one the filter hides: {html}"
    );
    assert!(!html.contains("class=\"older\""), "nothing before the 20th");

    let (_, html) = page(service.answer(&config, date(2026, 11, 23), now()).unwrap());
    assert!(html.contains("href=\"/day/2026-11-20\">اليوم السابق: ٢٠ نوفمبر ٢٠٢٦ ←</a>"));
    assert!(html.contains("href=\"/\">→ آخر الأخبار</a>"), "{html}");
}

#[test]
fn an_empty_day_inside_the_archive_is_a_page_and_outside_it_is_not_found() {
    let (_dir, config, _store, service) = archive();
    for empty in [date(2026, 11, 21), date(2026, 11, 22), date(2026, 11, 27)] {
        let (_, html) = page(service.answer(&config, empty, now()).unwrap());
        assert!(html.contains("لا أخبار في هذا اليوم."), "{empty}");
        assert!(!html.contains("خبر hidden"), "the region filter holds");
        assert!(html.contains("href=\"/day/2026-11-"), "{empty}: {html}");
    }
    let before = not_found(service.answer(&config, date(2026, 11, 19), now()).unwrap());
    assert_eq!(
        before,
        "no stories on 2026-11-19: the archive starts on 2026-11-20 (/day/2026-11-20)\n"
    );
    let future = not_found(service.answer(&config, date(2026, 11, 28), now()).unwrap());
    assert!(future.contains("has not come yet"), "{future}");
    for far in [date(1, 1, 1), date(1969, 12, 31), date(9999, 12, 31)] {
        not_found(service.answer(&config, far, now()).unwrap());
    }
}

#[test]
fn a_page_is_cached_per_generation_and_keeps_its_validators_while_its_bytes_do() {
    let (_dir, config, mut store, service) = archive();
    let day = date(2026, 11, 20);
    let (first, _) = page(service.answer(&config, day, now()).unwrap());
    let (again, _) = page(
        service
            .answer(&config, day, now() + Duration::hours(1))
            .unwrap(),
    );
    assert!(
        Arc::ptr_eq(&first.body, &again.body),
        "served from the cache"
    );

    // A story on a day far from the 20th moves the generation but not the 20th's page.
    store_items(&mut store, &[incoming("later", at(26, 8), true)]);
    let (same, _) = page(
        service
            .answer(&config, day, now() + Duration::hours(2))
            .unwrap(),
    );
    assert_eq!(same.etag, first.etag);
    assert_eq!(
        same.last_modified, first.last_modified,
        "a reader's If-Modified-Since still gets 304"
    );

    // A story on the 20th changes it.
    store_items(&mut store, &[incoming("newest", at(20, 23), true)]);
    let (changed, html) = page(
        service
            .answer(&config, day, now() + Duration::hours(3))
            .unwrap(),
    );
    assert_ne!(changed.etag, first.etag);
    assert!(html.contains("خبر newest"));

    // So does a reloaded config (another outlet name).
    let renamed = Arc::new({
        let mut c = (*config).clone();
        c.sources[0].name = "منفذ جديد".into();
        c
    });
    let (_, html) = page(service.answer(&renamed, day, now()).unwrap());
    assert!(html.contains("منفذ جديد"));
}

#[test]
fn the_cache_is_bounded_and_forgets_least_recently_used_days() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let mut cache = Cache::default();
    cache.stamp(1, &config);
    let doc = || Document::new("x".repeat(10), "text/plain", now());
    for i in 0..=CACHE_ENTRIES as i64 {
        cache.get(date(2026, 1, 1));
        cache.put(1, &config, date(2000, 1, 1) + Duration::days(i), doc());
        if i == 0 {
            cache.put(1, &config, date(2026, 1, 1), doc());
        }
    }
    assert_eq!(cache.entries.len(), CACHE_ENTRIES);
    assert!(matches!(cache.get(date(2026, 1, 1)), Lookup::Fresh(_)));
    assert!(matches!(cache.get(date(2000, 1, 1)), Lookup::Missing));
    cache.stamp(2, &config);
    assert!(matches!(cache.get(date(2026, 1, 1)), Lookup::Stale(_)));
    cache.put(1, &config, date(1999, 1, 1), doc());
    assert!(
        matches!(cache.get(date(1999, 1, 1)), Lookup::Missing),
        "a page of an older generation is not kept"
    );
}

#[test]
fn a_day_cut_to_the_document_size_says_how_many_stories_it_shows() {
    let (_dir, config, mut store, service) = archive();
    let busy: Vec<IncomingItem> = (0..40)
        .map(|i| {
            incoming(
                &format!("busy{i:02}"),
                at(24, 0) + Duration::minutes(i),
                true,
            )
        })
        .collect();
    store_items(&mut store, &busy);
    let (_, full) = page(service.answer(&config, date(2026, 11, 24), now()).unwrap());
    assert_eq!(full.matches("<li class=\"story\">").count(), 40);
    assert!(
        !full.contains("class=\"notice\""),
        "every story fits: no notice"
    );

    // A document limit that holds only part of the day (the config floor is bypassed to keep the test small).
    let small = Arc::new({
        let mut c = (*config).clone();
        c.limits.max_document_bytes = full.len() / 2;
        c
    });
    let (_, cut) = page(service.answer(&small, date(2026, 11, 24), now()).unwrap());
    let shown = cut.matches("<li class=\"story\">").count();
    assert!(shown > 0 && shown < 40, "{shown}");
    assert!(
        cut.contains(&format!("تعرض هذه الصفحة أحدث {shown} خبراً من هذا اليوم.")),
        "the page says how many of the day's stories it shows ({shown}): {cut}"
    );
}

#[test]
fn a_story_dated_minutes_ahead_across_midnight_is_on_a_page_that_answers() {
    // Ingest keeps a date up to a few minutes ahead (an outlet's clock runs fast): just before midnight UTC a
    // story can belong to tomorrow, and today's page links to it.
    let (_dir, config, mut store, service) = archive();
    let just_before_midnight = at(27, 23) + Duration::minutes(58);
    store_items(
        &mut store,
        &[incoming("ahead", at(28, 0) + Duration::minutes(1), true)],
    );
    let (_, today) = page(
        service
            .answer(&config, date(2026, 11, 27), just_before_midnight)
            .unwrap(),
    );
    assert!(today.contains("href=\"/day/2026-11-28\""), "{today}");
    let (_, tomorrow) = page(
        service
            .answer(&config, date(2026, 11, 28), just_before_midnight)
            .unwrap(),
    );
    assert!(tomorrow.contains("خبر ahead"), "{tomorrow}");
    // A day after that, or tomorrow without stories, has not come yet.
    let later = not_found(
        service
            .answer(&config, date(2026, 11, 29), just_before_midnight)
            .unwrap(),
    );
    assert!(later.contains("has not come yet"), "{later}");
    let (_dir, config, _store, service) = archive();
    let quiet = not_found(service.answer(&config, date(2026, 11, 28), now()).unwrap());
    assert!(quiet.contains("has not come yet"), "{quiet}");
}
