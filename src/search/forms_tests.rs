//! Word forms against a real SQLite index, stored through the real ingest path: attached pronouns and proclitics
//! on any word of a phrase.

use chrono::{TimeZone, Utc};

use crate::bench_api::{BenchItem, BenchStore};
use crate::model::{ParsedItem, RegionTags};

fn store_with(titles: &[&str]) -> (tempfile::TempDir, BenchStore) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = BenchStore::open(&dir.path().join("q.db")).unwrap();
    store.add_sources(&["a"]).unwrap();
    let items: Vec<BenchItem> = titles
        .iter()
        .enumerate()
        .map(|(i, title)| BenchItem {
            item: ParsedItem {
                guid: Some(format!("g{i}")),
                link: Some(format!("https://a.example/{i}")),
                title: title.to_string(),
                published: Some(Utc.with_ymd_and_hms(2026, 11, 20, 8, i as u32, 0).unwrap()),
                ..Default::default()
            },
            tags: RegionTags::default(),
            joins: None,
        })
        .collect();
    let at = Utc.with_ymd_and_hms(2026, 11, 21, 0, 0, 0).unwrap();
    store.ingest("a", &items, at).unwrap();
    (dir, store)
}

#[test]
fn a_noun_and_its_pronoun_forms_find_each_other() {
    let (_dir, store) = store_with(&[
        "أستانا عاصمتها الجديدة منذ عام ١٩٩٧",
        "زيارة إلى العاصمة الأذربيجانية باكو",
        "الحكومة القرغيزية تقر الموازنة",
        "قالت إن حكومتهم لن توقع الاتفاق",
        "وقتها كانت الأسعار أدنى",
        "في ذلك الوقت ارتفعت الأسعار",
    ]);
    assert_eq!(store.search("عاصمة", 0).unwrap(), 2);
    assert_eq!(store.search("عاصمتها", 0).unwrap(), 2);
    assert_eq!(store.search("وعاصمتهم", 0).unwrap(), 2);
    assert_eq!(
        store.search("وعاصمة", 0).unwrap(),
        0,
        "a proclitic alone stays on the query word"
    );
    assert_eq!(store.search("حكومتنا", 0).unwrap(), 2);
    assert_eq!(
        store.search("الحكومة -حكومتهم", 0).unwrap(),
        0,
        "all forms are excluded"
    );
    assert_eq!(store.search("وقتها", 0).unwrap(), 2);
    assert_eq!(
        store.search("وقت", 0).unwrap(),
        2,
        "وقت finds الوقت and وقتها"
    );
    assert_eq!(store.search("أستانا", 0).unwrap(), 1);
}

#[test]
fn every_word_of_a_phrase_takes_proclitics_and_pronouns() {
    let (_dir, store) = store_with(&[
        "افتتاح ممر الشمال وجنوب آسيا",
        "رئيس حكومتها يزور طشقند",
        "الجنوب ممر الشمال في عكس الترتيب",
    ]);
    assert_eq!(store.search("\"ممر الشمال جنوب\"", 0).unwrap(), 1);
    assert_eq!(store.search("\"رئيس الحكومة\"", 0).unwrap(), 1);
    assert_eq!(
        store.search("\"الشمال ممر\"", 0).unwrap(),
        0,
        "order still counts"
    );
}
