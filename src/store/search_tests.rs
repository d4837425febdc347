//! The search index against a real SQLite file: spellings, operators, stories, and keeping in step.

use std::collections::HashMap;

use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;

use super::*;
use crate::model::ParsedItem;
use crate::store::{FetchRecord, IncomingItem, StoryPlacer};

/// Joins items of the same `group` into one story (the first one's).
struct ByGroup<'a> {
    groups: &'a [&'a str],
    stories: HashMap<String, i64>,
}

impl StoryPlacer for ByGroup<'_> {
    fn place(&mut self, i: usize) -> Option<i64> {
        self.stories.get(self.groups[i]).copied()
    }
    fn placed(&mut self, i: usize, _: i64, story_id: i64) {
        self.stories
            .entry(self.groups[i].to_string())
            .or_insert(story_id);
    }
}

pub(super) struct Item<'a> {
    guid: &'a str,
    title: &'a str,
    summary: &'a str,
    minutes: i64,
    entities: &'a [&'a str],
    group: &'a str,
}

pub(super) fn incoming(it: &Item, source: &str) -> IncomingItem {
    let t = Utc.with_ymd_and_hms(2026, 11, 20, 8, 0, 0).unwrap() + Duration::minutes(it.minutes);
    let link = format!("https://{source}.example/{}", it.guid);
    IncomingItem {
        boilerplate: None,
        source_key: it.guid.to_string(),
        url_key: crate::identity::url_key(Some(&link)),
        item: ParsedItem {
            guid: Some(it.guid.into()),
            link: Some(link),
            title: it.title.into(),
            summary: (!it.summary.is_empty()).then(|| format!("<p>{}</p>", it.summary)),
            published: Some(t),
            ..Default::default()
        },
        sort_time: t,
        tags: crate::model::RegionTags {
            entities: it.entities.iter().map(|e| e.to_string()).collect(),
            region_match: !it.entities.is_empty(),
        },
        folded: None,
    }
}

pub(super) fn store_with(items: &[Item]) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("q.db")).unwrap();
    store
        .sync_sources([("a", "http://a.example/feed")])
        .unwrap();
    let incoming: Vec<IncomingItem> = items.iter().map(|i| incoming(i, "a")).collect();
    let groups: Vec<&str> = items.iter().map(|i| i.group).collect();
    let mut placer = ByGroup {
        groups: &groups,
        stories: HashMap::new(),
    };
    let record = FetchRecord {
        at: Utc::now(),
        status: Some(200),
        ..Default::default()
    };
    store
        .ingest("a", &incoming, &record, "g", &mut placer)
        .unwrap();
    (dir, store)
}

pub(super) fn item<'a>(guid: &'a str, title: &'a str, minutes: i64) -> Item<'a> {
    Item {
        guid,
        title,
        summary: "",
        minutes,
        entities: &[],
        group: guid,
    }
}

const KNOWN: &[&str] = &["kz", "uz", "az", "am", "tm", "tj"];

pub(super) fn parse(q: &str) -> Query {
    let ids: Vec<String> = KNOWN.iter().map(|s| s.to_string()).collect();
    Query::parse(q, &ids, &|w| w == "كازاخستان").unwrap()
}

/// The guids of the matching reports, in result order.
fn found(store: &Store, q: &str) -> Vec<String> {
    store
        .search(&parse(q), 0, &[])
        .unwrap()
        .iter()
        .map(|h| h.story.items[h.matched].guid.clone().unwrap_or_default())
        .collect()
}

fn news() -> Vec<Item<'static>> {
    vec![
        Item {
            entities: &["kz", "uz"],
            ..item(
                "corridor",
                "رئيس كازاخستان يبحث مع نظيره الأوزبكي ممر الشمال – الجنوب",
                0,
            )
        },
        item(
            "baikonur",
            "إطلاق صاروخ من قاعدة بايكونور الفضائية بكازاخستان",
            10,
        ),
        item(
            "lng",
            "الحكومة الكازاخستانية ترفع أسعار الغاز المسال ٣٫٥ بالمئة في ٢٠٢٦",
            20,
        ),
        Item {
            entities: &["az", "am"],
            ..item("zangezur", "مباحثات أذربيجانية – أرمنية حول ممر زنغزور", 30)
        },
        item(
            "tashkent",
            "مؤتمر الطاقة في طشقند يناقش صادرات أوزبكستان",
            40,
        ),
        item("dushanbe", "وَزِيرُ الخَارِجِيَّةِ الطَّاجِيكِيُّ يَزُورُ مُوسْكُو", 50),
        item(
            "pipeline",
            "تركمانستان تصدّر الغـــاز إلى الصين عبر خط أنابيب جديد",
            60,
        ),
        item("vote", "انتخابات برلمانية في ترکمانستان", 70),
        item("hospital", "افتتاح مستشفى جديد في بيشكيك", 80),
        item("summit", "القمة الخليجية مع آسيا الوسطى", 90),
        item("reverse", "من الجنوب إلى الشمال: ممر جديد للشحن", 100),
        Item {
            summary: "قال المتحدث إن بعثة بايكونور ستعود في الربيع",
            ..item("later", "رواد الفضاء يعودون إلى الأرض", 110)
        },
    ]
}

#[test]
fn every_spelling_finds_the_item() {
    let (_dir, store) = store_with(&news());
    let cases: &[(&str, &str)] = &[
        ("بكازاخستان", "baikonur"),
        ("كازاخستان", "baikonur"),
        ("كازاخستان", "lng"),
        ("كازاخـــستان", "corridor"),
        ("كَازَاخِسْتَان", "corridor"),
        ("الغاز", "pipeline"),
        ("غاز", "lng"),
        ("المؤتمر", "tashkent"),
        ("موتمر", "tashkent"),
        ("اوزبكستان", "tashkent"),
        ("إوزبكستان", "tashkent"),
        ("الطاجيكي", "dushanbe"),
        ("وزير الخارجية", "dushanbe"),
        ("تركمانستان", "vote"),
        ("مستشفي", "hospital"),
        ("المستشفى", "hospital"),
        ("القمه", "summit"),
        ("قمة", "summit"),
        ("2026", "lng"),
        ("۲۰۲۶", "lng"),
        ("3.5", "lng"),
        ("بايكونور", "later"),
    ];
    for (q, guid) in cases {
        let hits = found(&store, q);
        assert!(
            hits.iter().any(|g| g == guid),
            "{q} → {hits:?}, expected {guid}"
        );
    }
}

#[test]
fn excluded_words_exclude() {
    let (_dir, store) = store_with(&news());
    assert_eq!(found(&store, "كازاخستان"), ["lng", "baikonur", "corridor"]);
    assert_eq!(found(&store, "كازاخستان -بايكونور"), ["lng", "corridor"]);
    assert_eq!(
        found(&store, "كازاخستان -\"الغاز المسال\""),
        ["baikonur", "corridor"]
    );
}

#[test]
fn phrase_matches_only_in_order() {
    let (_dir, store) = store_with(&news());
    assert_eq!(found(&store, "ممر الشمال الجنوب"), ["reverse", "corridor"]);
    assert_eq!(found(&store, "\"ممر الشمال الجنوب\""), ["corridor"]);
    assert_eq!(found(&store, "«ممر الشمال – الجنوب»"), ["corridor"]);
    assert_eq!(found(&store, "\"الجنوب الشمال ممر\""), ["reverse"]);
}

#[test]
fn or_and_countries() {
    let (_dir, store) = store_with(&news());
    assert_eq!(
        found(&store, "بايكونور OR زنغزور"),
        ["later", "zangezur", "baikonur"]
    );
    assert_eq!(found(&store, "ممر country:az"), ["zangezur"]);
    assert_eq!(found(&store, "ممر -country:az"), ["reverse", "corridor"]);
    assert_eq!(found(&store, "country:uz"), ["corridor"]);
    assert_eq!(found(&store, "country:tm"), Vec::<String>::new());
}

#[test]
fn one_hit_per_story_newest_first_led_by_the_matching_report() {
    let items = [
        Item {
            group: "s1",
            ..item("s1-first", "روسيا وكازاخستان توقعان اتفاق الطاقة", 0)
        },
        Item {
            group: "s1",
            ..item(
                "s1-later",
                "توقيع اتفاق للطاقة بين موسكو وأستانا بشأن الغاز",
                30,
            )
        },
        Item {
            group: "s2",
            ..item("s2", "ارتفاع صادرات الطاقة والغاز التركمانية", 10)
        },
    ];
    let (_dir, store) = store_with(&items);
    let hits = store.search(&parse("الطاقة"), 0, &[]).unwrap();
    assert_eq!(hits.len(), 2);
    // Story s2 (published at 10) is newer than s1 (published at 0, its first report).
    assert_eq!(hits[0].story.items[0].guid.as_deref(), Some("s2"));
    assert_eq!(hits[1].story.items.len(), 2);
    assert_eq!(
        hits[1].story.items[hits[1].matched].guid.as_deref(),
        Some("s1-later"),
        "the newest matching report leads"
    );
    // Only the report that leads carries its text (the only description published).
    let lead = &hits[1].story.items[hits[1].matched];
    let other = &hits[1].story.items[1 - hits[1].matched];
    assert!(lead.title.contains("موسكو") && other.summary.is_none() && other.content.is_none());
    let gas = store.search(&parse("الغاز"), 0, &[]).unwrap();
    assert_eq!(
        gas[1].story.items[gas[1].matched].guid.as_deref(),
        Some("s1-later")
    );
}

#[test]
fn region_filtered_items_stay_hidden() {
    let (_dir, store) = store_with(&[item("x", "أسعار الغاز في أوروبا", 0)]);
    assert_eq!(store.search(&parse("الغاز"), 0, &[]).unwrap().len(), 1);
    // The item mentions no region entity: a region-filtered source does not publish it, so search does not either.
    assert!(store
        .search(&parse("الغاز"), 0, &["a".into()])
        .unwrap()
        .is_empty());
}

#[test]
fn the_limit_keeps_the_newest_stories_as_a_full_search_would() {
    // Many stories, several reports each, reports of one story spread over hours and ingested out of order.
    let mut rng = fastrand::Rng::with_seed(7);
    let titles = [
        "الغاز الطبيعي",
        "أسعار الغاز",
        "خط أنابيب الغاز",
        "النفط والغاز",
    ];
    let specs: Vec<(String, String, i64)> = (0..300)
        .map(|i| {
            let story = rng.usize(0..80);
            let minutes = story as i64 * 37 + rng.i64(0..600);
            (format!("i{i}"), format!("s{story}"), minutes)
        })
        .collect();
    let items: Vec<Item> = specs
        .iter()
        .map(|(guid, group, minutes)| Item {
            group,
            ..item(guid, titles[rng.usize(0..titles.len())], *minutes)
        })
        .collect();
    let (_dir, store) = store_with(&items);
    let all = store.search(&parse("الغاز"), 0, &[]).unwrap();
    for limit in [1, 5, 20, 79] {
        let top = store.search(&parse("الغاز"), limit, &[]).unwrap();
        let ids = |h: &[SearchHit]| h.iter().map(|h| h.story.id).collect::<Vec<_>>();
        assert_eq!(ids(&top), ids(&all[..limit]), "limit {limit}");
    }
    for pair in all.windows(2) {
        assert!(pair[0].story.published >= pair[1].story.published);
    }
}

/// `count` items about gas published in the same second, their guids `prefix` and a number.
#[test]
fn pruned_items_leave_the_index_and_move_the_generation() {
    let (_dir, mut store) = store_with(&news());
    let before = store.search_generation().unwrap();
    assert!(!found(&store, "بايكونور").is_empty());
    let cutoff = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
    let report = store.prune(cutoff, &[]).unwrap();
    assert_eq!(report.items, news().len());
    assert!(found(&store, "بايكونور").is_empty());
    assert!(store.search_generation().unwrap() > before);
    let rows: i64 = store
        .conn
        .query_row(
            "SELECT COUNT(*) FROM item_search WHERE item_search MATCH '\"بايكونور\"'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(rows, 0);
}

#[test]
fn retagging_updates_country_filters() {
    let (_dir, mut store) = store_with(&news());
    assert!(found(&store, "country:tm").is_empty());
    let retagged = store
        .retag("g2", &|title, _, _| {
            let entities: Vec<String> = if title.contains("تركمانستان") {
                vec!["tm".into()]
            } else {
                vec![]
            };
            crate::model::RegionTags {
                region_match: !entities.is_empty(),
                entities,
            }
        })
        .unwrap();
    assert_eq!(retagged, news().len());
    assert_eq!(found(&store, "country:tm"), ["pipeline"]);
    assert!(found(&store, "country:kz").is_empty());
}

#[test]
fn an_old_database_gets_its_index_filled_by_the_migration() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(super::super::MIGRATIONS[0]).unwrap();
        conn.execute_batch(
            "PRAGMA user_version = 1;
             INSERT INTO stories (id, guid, published, created, updated) VALUES (1, 'g', 100, 100, 100);
             INSERT INTO items (story_id, source_id, title, content, first_seen, sort_time, entities)
                 VALUES (1, 'a', 'قاعدة بايكونور', '<p>رحلة إلى <b>الفضاء</b></p>', 100, 100, 'kz');",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(found(&store, "بايكونور country:kz").len(), 1);
    assert_eq!(found(&store, "الفضاء").len(), 1);
    assert!(found(&store, "b").is_empty(), "markup is not indexed");
}

#[test]
fn a_changed_tokenization_rebuilds_the_index_on_open() {
    let (dir, store) = store_with(&news());
    store
        .conn
        .execute("UPDATE search_state SET version = 'older'", [])
        .unwrap();
    store
        .conn
        .execute(
            "INSERT INTO item_search (item_search) VALUES ('delete-all')",
            [],
        )
        .unwrap();
    assert!(found(&store, "بايكونور").is_empty());
    drop(store);
    let store = Store::open(&dir.path().join("q.db")).unwrap();
    assert_eq!(found(&store, "بايكونور").len(), 2);
}

#[test]
fn the_read_only_reader_searches_beside_the_writer() {
    let (dir, store) = store_with(&news());
    let reader = SearchReader::open(&dir.path().join("q.db")).unwrap();
    assert_eq!(reader.search(&parse("زنغزور"), 10, &[]).unwrap().len(), 1);
    assert_eq!(
        reader.generation().unwrap(),
        store.search_generation().unwrap()
    );
    let write = reader.conn.execute("DELETE FROM items", []);
    assert!(write.is_err(), "the reader cannot write");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the text, a query either is refused with a message or runs: FTS5 never sees a syntax error.
    #[test]
    fn any_text_parses_to_a_runnable_query_or_a_message(
        raw in proptest::collection::vec(
            prop_oneof![
                Just("الغاز".to_string()), Just("OR".to_string()), Just("-".to_string()),
                Just("\"".to_string()), Just("«".to_string()), Just("»".to_string()), Just("country:kz".to_string()),
                Just("*".to_string()), Just("NEAR(".to_string()), Just(")".to_string()), Just(":".to_string()),
                Just("^".to_string()), Just("{title}".to_string()), Just("AND".to_string()), Just("NOT".to_string()),
                "[\\PC]{0,6}",
            ],
            0..8,
        ).prop_map(|v| v.join(" "))
    ) {
        thread_local! {
            static STORE: (tempfile::TempDir, Store) = store_with(&news());
        }
        let ids: Vec<String> = KNOWN.iter().map(|s| s.to_string()).collect();
        if let Ok(q) = Query::parse(&raw, &ids, &|_| false) {
            STORE.with(|(_, store)| {
                if let Err(e) = store.search(&q, 10, &[]) {
                    panic!("{raw:?} → {} → {e}", q.to_match());
                }
            });
        }
    }
}
