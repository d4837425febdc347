//! The story index: reach and candidates by publication time whatever the insertion order, the interned figures
//! against the token-list ones, spans covered, and an item inserted with the ids its placement found.

use chrono::{Duration, TimeZone};

use super::*;
use crate::dedup::features;
use crate::regions::Gazetteer;

fn day(d: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 12, 0, 0).unwrap() + Duration::days(d)
}

fn oil(g: &Gazetteer) -> (ItemFeatures, ItemFeatures) {
    (
        features(
            "كازاخستان ترفع إنتاج النفط إلى 2 مليون برميل يوميا",
            None,
            g,
        ),
        features(
            "كازاخستان ترفع انتاج النفط الى ٢ مليون برميل يومياً",
            None,
            g,
        ),
    )
}

#[test]
fn reach_follows_publication_time_not_insertion_order() {
    let g = Gazetteer::builtin();
    let (a, b) = oil(&g);
    let mut index = StoryIndex::new(DedupSettings::default());
    // Recent items first, then a report from a month ago arrives (a backlog).
    for i in 0..50 {
        let f = features(&format!("باكو تستضيف معرضا للكتاب رقم {i}"), None, &g);
        index.insert(100 + i, 100 + i, &f, day(30));
    }
    index.insert(1, 7, &a, day(0));
    assert_eq!(index.place(&b, day(0) + Duration::hours(3)), Some(7));
    assert_eq!(index.place(&b, day(4)), None, "beyond the window");
    index.evict_older_than(day(10));
    assert_eq!(index.place(&b, day(0)), None);
    assert_eq!(index.len(), 50);
}

#[test]
fn common_words_look_up_the_postings_nearest_in_time() {
    let g = Gazetteer::builtin();
    let (a, b) = oil(&g);
    let settings = DedupSettings {
        posting_cap: 8,
        ..DedupSettings::default()
    };
    let mut index = StoryIndex::new(settings);
    index.insert(1, 7, &a, day(0));
    // Many later items sharing every word, each its own (contradicting: another figure) story.
    for i in 0..40 {
        let f = features(
            &format!("كازاخستان ترفع إنتاج النفط إلى {} مليون برميل يوميا", i + 3),
            None,
            &g,
        );
        index.insert(100 + i, 100 + i, &f, day(0) + Duration::hours(10 + i));
    }
    assert_eq!(index.place(&b, day(0) + Duration::minutes(30)), Some(7));
}

/// Two reports of one oil figure and one of an earthquake (headline, summary): the items the figure and
/// insertion tests start from.
const OIL_AND_QUAKE: [(&str, &str); 3] = [
    (
        "كازاخستان ترفع إنتاج النفط إلى 2 مليون برميل يوميا",
        "قال وزير الطاقة إن الإنتاج بلغ مستوى قياسيا",
    ),
    (
        "أستانا: إنتاج الخام يبلغ مليوني برميل في اليوم",
        "بلغت كازاخستان مستوى قياسيا في انتاج الخام",
    ),
    (
        "زلزال بقوة ٥٫٦ درجة يهز طاجيكستان",
        "وقع الزلزال على عمق ١٥ كيلومترا في منطقة راشت",
    ),
];

#[test]
fn interned_figures_equal_the_token_list_figures() {
    let g = Gazetteer::builtin();
    let texts = [
        OIL_AND_QUAKE[0],
        OIL_AND_QUAKE[1],
        OIL_AND_QUAKE[2],
        (
            "رئيس وزراء أذربيجان يصل إلى أستانا في زيارة رسمية",
            "يبحث مع نظيره توسيع التعاون",
        ),
        (
            "بكتينوف وأسدوف يبحثان في آستانة تعزيز الممر الأوسط",
            "زيادة الشحن عبر بحر قزوين",
        ),
    ];
    let mut all: Vec<ItemFeatures> = texts
        .iter()
        .map(|(t, s)| features(t, Some(s), &g))
        .collect();
    // Two items with words dropped as their outlet's boilerplate: still counted in their sizes.
    for f in &mut all[..2] {
        let words: Vec<Token> = f.title_tokens[..2].to_vec();
        crate::dedup::Dropped::parse(Some(&words.join(" "))).apply(f);
        assert_eq!(f.title_boilerplate, 2);
    }
    for skip in 0..all.len() {
        // Every item but one indexed: the probe also has tokens the index never saw.
        let mut index = StoryIndex::new(DedupSettings::default());
        for (i, f) in all.iter().enumerate().filter(|(i, _)| *i != skip) {
            index.insert(i as i64, i as i64, f, day(0));
        }
        let mut probe = Probe::default();
        index.probe_into(&all[skip], &mut probe);
        let mut marks = vec![0u8; index.weights.len()];
        probe.text.iter().for_each(|&id| marks[id as usize] |= 1);
        probe.title.iter().for_each(|&id| marks[id as usize] |= 2);
        probe.dropped.iter().for_each(|&id| marks[id as usize] |= 4);
        for (i, f) in all.iter().enumerate().filter(|(i, _)| *i != skip) {
            let slot = index.by_item[&(i as i64)];
            let e = index.entries[slot as usize].as_ref().unwrap();
            assert_eq!(
                index.similarity(&probe, &marks, e),
                Similarity::of(&all[skip], f),
                "{skip} vs {i}"
            );
        }
    }
}

/// The item ids `place` would compare a probe with.
fn candidate_items(index: &StoryIndex, f: &ItemFeatures, t: DateTime<Utc>) -> Vec<i64> {
    let mut scratch = index.scratch.borrow_mut();
    let Scratch {
        ranking,
        probe,
        slots,
        ..
    } = &mut *scratch;
    index.probe_into(f, probe);
    index.candidates(&probe.text, secs(t), ranking, slots);
    slots
        .iter()
        .map(|&slot| index.entry(slot).item_id)
        .collect()
}

#[test]
fn candidates_do_not_depend_on_the_order_items_were_inserted_in() {
    let g = Gazetteer::builtin();
    // A dense day: 300 items, many sharing a minute and most of their words, far more than the caps read.
    let items: Vec<(i64, ItemFeatures, DateTime<Utc>)> = (0..300)
        .map(|i| {
            let f = features(
                &format!("باكو تستضيف معرضا للكتاب بمشاركة {} دار نشر", i % 40),
                Some(&format!("يشارك في المعرض ناشرون من {} دولة", i % 7)),
                &g,
            );
            (i, f, day(0) + Duration::minutes(i % 9))
        })
        .collect();
    let settings = DedupSettings {
        posting_cap: 8,
        max_candidates: 5,
        ..DedupSettings::default()
    };
    let probe = features("باكو تستضيف معرضا للكتاب بمشاركة 12 دار نشر", None, &g);
    let mut orders: Vec<Vec<usize>> = vec![(0..300).collect(), (0..300).rev().collect()];
    let mut rng = fastrand::Rng::with_seed(5);
    let mut shuffled: Vec<usize> = (0..300).collect();
    rng.shuffle(&mut shuffled);
    orders.push(shuffled);
    let mut seen = Vec::new();
    for order in orders {
        let mut index = StoryIndex::new(settings.clone());
        for &i in &order {
            let (id, f, t) = &items[i];
            index.insert(*id, *id, f, *t);
        }
        let mut got = candidate_items(&index, &probe, day(0) + Duration::minutes(4));
        assert_eq!(got.len(), 5);
        got.sort();
        seen.push(got);
    }
    assert_eq!(seen[0], seen[1], "forwards vs backwards");
    assert_eq!(seen[0], seen[2], "forwards vs shuffled");
}

/// What the index holds of `item`: its words (headline, dropped, text), the words it is found under, and
/// its figures.
fn held(index: &StoryIndex, item: i64) -> (Vec<&str>, Vec<&str>, u16, u16, u16, f32) {
    let slot = index.by_item[&item];
    let e = index.entry(slot);
    let word = |id: &u32| &*index.words[*id as usize];
    let mut under: Vec<&str> = (0..index.postings.len())
        .filter(|&id| {
            let mut found = false;
            index.postings[id].near(0, usize::MAX / 2, |keys| {
                found |= keys.iter().any(|&k| slot_of(k) == slot)
            });
            found
        })
        .map(|id| &*index.words[id])
        .collect();
    under.sort();
    (
        e.ids.iter().map(word).collect(),
        under,
        e.title_len,
        e.dropped_len,
        e.title_boilerplate,
        e.text_total,
    )
}

#[test]
fn an_item_inserted_with_the_ids_its_placement_found_is_held_as_if_inserted_alone() {
    let g = Gazetteer::builtin();
    let mut items: Vec<ItemFeatures> = [
        OIL_AND_QUAKE[0],
        OIL_AND_QUAKE[1],
        OIL_AND_QUAKE[2],
        (
            "زلزال يهز طاجيكستان ويقطع الكهرباء عن راشت",
            "وقع الزلزال على عمق ١٥ كيلومترا",
        ),
    ]
    .iter()
    .map(|(t, s)| features(t, Some(s), &g))
    .collect();
    // Headline words dropped as boilerplate: a part of the ids the headline does not show.
    let words: Vec<Token> = items[1].title_tokens[..2].to_vec();
    crate::dedup::Dropped::parse(Some(&words.join(" "))).apply(&mut items[1]);
    let (mut kept, mut alone) = (
        StoryIndex::new(DedupSettings::default()),
        StoryIndex::new(DedupSettings::default()),
    );
    for (i, f) in items.iter().enumerate() {
        let id = i as i64;
        let (story, placed) = kept.place_keeping(f, day(0));
        assert_eq!(story, alone.place(f, day(0)), "item {i}");
        if i == 3 {
            // Another item held between the placement and the insertion, with words the placed one has that
            // the vocabulary lacked when it was placed.
            let other = features("الكهرباء تعود إلى راشت بعد الزلزال", None, &g);
            let lacked: Vec<&Token> = f
                .title_tokens
                .iter()
                .chain(&f.title_dropped)
                .chain(&f.text_tokens)
                .zip(&placed.layout)
                .filter(|(_, &id)| id == UNKNOWN)
                .map(|(t, _)| t)
                .collect();
            assert!(
                lacked.iter().any(|t| other.text_tokens.contains(t)),
                "{lacked:?}"
            );
            kept.insert(100, 100, &other, day(0));
            alone.insert(100, 100, &other, day(0));
        }
        kept.insert_placed(placed, id, story.unwrap_or(id), f, day(0));
        alone.insert(id, story.unwrap_or(id), f, day(0));
    }
    // A placement in another index, or another item's, is not taken: the tokens are looked up.
    let f = features("زلزال يهز يريفان وطاجيكستان", None, &g);
    let mut another = StoryIndex::new(DedupSettings::default());
    another.insert(1, 1, &items[3], day(0));
    let (_, elsewhere) = another.place_keeping(&f, day(0));
    assert!(elsewhere.layout.iter().any(|&id| id != UNKNOWN));
    kept.insert_placed(elsewhere, 200, 200, &f, day(0));
    let (_, of_another) = kept.place_keeping(&items[0], day(0));
    kept.insert_placed(of_another, 201, 201, &f, day(0));
    alone.insert(200, 200, &f, day(0));
    alone.insert(201, 201, &f, day(0));
    assert_eq!(kept.words, alone.words);
    for item in (0..4).chain([100, 200, 201]) {
        assert_eq!(held(&kept, item), held(&alone, item), "item {item}");
    }
}

#[test]
fn missing_spans_follow_what_is_covered() {
    let mut index = StoryIndex::new(DedupSettings::default());
    index.covered(day(20), DateTime::<Utc>::MAX_UTC);
    assert!(index.missing(day(25)).is_empty());
    let missing = index.missing(day(10));
    assert_eq!(missing, [(day(7), day(13) + Duration::seconds(1))]);
    index.covered(day(7), day(13));
    assert_eq!(
        index.missing(day(15)),
        [(day(13), day(18) + Duration::seconds(1))]
    );
    index.evict_older_than(day(21));
    assert_eq!(index.missing(day(20)), [(day(17), day(21))]);
}
