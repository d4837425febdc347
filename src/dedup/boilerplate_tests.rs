//! Tests of `dedup::boilerplate`.

use super::*;
use crate::dedup::{item_features, same_story, DedupSettings, Reason};
use crate::regions::Gazetteer;

/// One outlet's day: each item its own event, all about Uzbekistan, all in the outlet's template.
fn templated(g: &Gazetteer) -> Vec<ItemFeatures> {
    let events = [
        ("تفتتح خطة لمكافحة التضخم", 61),
        ("تستقبل ممرا تجاريا", 61),
        ("تطلق برنامجا للطاقة الشمسية", 12),
        ("توقع اتفاقا لتحديث السكك الحديدية", 40),
        ("تبني مستشفى جديدا للأطفال", 7),
        ("تدشن مطارا في نوكوس", 33),
        ("تمول مشروعا لتحلية المياه", 25),
        ("تعلن مناقصة لبناء الطرق", 18),
        ("تخصص منحا للطلاب", 9),
        ("توسع شبكة الإنترنت في الأرياف", 50),
    ];
    events
            .iter()
            .map(|(what, n)| {
                item_features(
                    &format!("أوزبكستان {what} بقيمة {n} مليون دولار"),
                    Some(&format!(
                        "قالت مصادر رسمية في أوزبكستان إن الحكومة {what} في إطار خطة التنمية لعام 2027، \
                         وسط اهتمام إقليمي ودولي متزايد."
                    )),
                    None,
                    None,
                    g,
                )
            })
            .collect()
}

#[test]
fn words_in_nearly_every_item_of_a_feed_are_boilerplate_and_the_subject_is_not() {
    let g = Gazetteer::builtin();
    let mut items = templated(&g);
    let b = Boilerplate::of_feed(&items);
    for word in ["مصادر", "تنميه", "متزايد", "2027", "بقيم"] {
        let words = crate::normalize::words_with(word, &|_| false);
        let stem = crate::dedup::features::token_form(&words[0]);
        assert!(b.words.contains(stem), "{word} ({stem}) in {b:?}");
    }
    // The country every headline names is in nearly every item, yet it is their subject: kept.
    assert!(b.words.contains("@uz"), "{b:?}");
    let before = items[0].title_tokens.clone();
    let dropped = b.strip(&mut items[0]);
    assert!(!dropped.words().is_empty());
    assert!(
        !dropped.words().iter().any(|w| w.starts_with('@')),
        "{dropped:?}"
    );
    assert!(items[0].title_tokens.iter().any(|t| t == "@uz"));
    assert!(items[0].text_tokens.iter().any(|t| t == "@uz"));
    assert!(items[0].title_tokens.len() < before.len());
    assert!(items[0]
        .title_tokens
        .iter()
        .any(|t| t.starts_with("تضخم") || t.starts_with("مكافح")));
}

#[test]
fn the_template_alone_no_longer_merges_two_events() {
    let g = Gazetteer::builtin();
    let s = DedupSettings::default();
    let t = chrono::Utc::now();
    let items = templated(&g);
    let (a, b) = (&items[0], &items[1]);
    let before = same_story(a, t, b, t, &s);
    assert!(before.same, "the shared template merges them: {before:?}");
    let boilerplate = Boilerplate::of_feed(&items);
    let (mut a, mut b) = (a.clone(), b.clone());
    boilerplate.strip(&mut a);
    boilerplate.strip(&mut b);
    let after = same_story(&a, t, &b, t, &s);
    assert!(!after.same, "{after:?}");
    assert_eq!(after.reason, Reason::LowSimilarity);
}

#[test]
fn stripping_at_ingest_gives_the_features_the_stored_words_give() {
    let g = Gazetteer::builtin();
    let items = templated(&g);
    let boilerplate = Boilerplate::of_feed(&items);
    for (i, f) in items.iter().enumerate() {
        let mut stripped = f.clone();
        let dropped = boilerplate.strip(&mut stripped);
        let stored = dropped.stored();
        let again = Dropped::parse(stored.as_deref());
        assert_eq!(again, dropped);
        let what = ["تفتتح خطة لمكافحة التضخم", "تستقبل ممرا تجاريا"];
        if i < 2 {
            let title = format!("أوزبكستان {} بقيمة 61 مليون دولار", what[i]);
            let summary = format!(
                "قالت مصادر رسمية في أوزبكستان إن الحكومة {} في إطار خطة التنمية لعام 2027، \
                     وسط اهتمام إقليمي ودولي متزايد.",
                what[i]
            );
            let recomputed = item_features(&title, Some(&summary), None, stored.as_deref(), &g);
            assert_eq!(recomputed, stripped, "item {i}");
        }
        // Tags never depend on boilerplate.
        assert_eq!(stripped.region_tags(), f.region_tags());
    }
}

#[test]
fn dropping_boilerplate_never_makes_two_headlines_more_alike_nor_adds_to_what_is_shared() {
    use crate::dedup::verdict::Similarity;
    let g = Gazetteer::builtin();
    let items = templated(&g);
    let boilerplate = Boilerplate::of_feed(&items);
    let stripped: Vec<ItemFeatures> = items
        .iter()
        .map(|f| {
            let mut f = f.clone();
            boilerplate.strip(&mut f);
            f
        })
        .collect();
    for i in 0..items.len() {
        for j in 0..items.len() {
            let (before, after) = (
                Similarity::of(&items[i], &items[j]),
                Similarity::of(&stripped[i], &stripped[j]),
            );
            assert!(after.title_similarity <= before.title_similarity, "{i} {j}");
            assert!(after.shared_weight <= before.shared_weight, "{i} {j}");
        }
    }
}

#[test]
fn a_short_feed_or_a_busy_day_has_no_boilerplate() {
    let g = Gazetteer::builtin();
    let items = templated(&g);
    assert!(Boilerplate::of_feed(&items[..MIN_ITEMS - 1]).is_empty());
    // A quake in 7 of 10 items is the day's subject, not the outlet's template.
    let mut day: Vec<ItemFeatures> = (0..7)
        .map(|i| {
            item_features(
                &format!("زلزال يضرب منطقة {i} في قرغيزستان"),
                Some("أفادت وزارة الطوارئ بوقوع أضرار"),
                None,
                None,
                &g,
            )
        })
        .collect();
    day.extend(items[..3].iter().cloned());
    let b = Boilerplate::of_feed(&day);
    assert!(!b.words.iter().any(|w| w.starts_with("زلزال")), "{b:?}");
}

#[test]
fn a_region_named_only_in_the_outlets_tagline_is_boilerplate() {
    let g = Gazetteer::builtin();
    let heads = [
        "توكاييف يستقبل وزير الخارجية التركي في أستانا",
        "زلزال بقوة 5 درجات يضرب جنوب قرغيزستان",
        "باكو تستضيف معرضا للكتاب",
        "أرمينيا ترفع أسعار الغاز",
        "طاجيكستان تفتتح محطة كهرومائية",
        "تبليسي تشهد احتجاجات جديدة",
        "أوزبكستان تلغي تأشيرات السياح",
        "تركمانستان تصدر الغاز إلى الصين",
    ];
    let mut items: Vec<ItemFeatures> = heads
        .iter()
        .map(|h| {
            item_features(
                h,
                Some(
                    "تفاصيل الخبر. اقرأ أيضا: أبرز عناوين القوقاز وآسيا الوسطى في نشرتنا المسائية.",
                ),
                None,
                None,
                &g,
            )
        })
        .collect();
    let b = Boilerplate::of_feed(&items);
    let dropped = b.strip(&mut items[0]);
    assert!(
        dropped.words().iter().any(|w| &**w == "@caucasus"),
        "{dropped:?}"
    );
    assert!(!items[0].text_tokens.iter().any(|t| t == "@caucasus"));
    // Tags are not changed: boilerplate only changes what counts as shared text.
    assert!(items[0].entities().iter().any(|e| e.id == "caucasus"));
}

#[test]
fn the_stored_form_round_trips() {
    assert_eq!(Dropped::parse(None), Dropped::default());
    assert_eq!(Dropped::parse(Some("  ")).stored(), None);
    let d = Dropped::parse(Some("مصادر 2027 @x_y مصادر"));
    assert_eq!(d.words().len(), 3);
    assert_eq!(Dropped::parse(d.stored().as_deref()), d);
}
/// An outlet posts one of its reports again, word for word, a day later (a new link): the same story, as it
/// was before boilerplate was dropped, though every word its template adds is dropped from both copies.
#[test]
fn a_word_for_word_copy_from_an_outlet_without_the_template_still_merges() {
    // Outlet A's headlines share a template, dropped as its boilerplate; outlet B copies one of them word
    // for word, template included, and B's feed has no such template. The words A dropped are B's own
    // headline words: shared, so the copy is the same story even past `follow_up_hours`.
    let g = Gazetteer::builtin();
    let s = DedupSettings::default();
    let t = chrono::Utc::now();
    let items = templated(&g);
    let copy = items[0].clone();
    let boilerplate = Boilerplate::of_feed(&items);
    let mut stripped = items[0].clone();
    assert!(boilerplate.strip(&mut stripped).stored().is_some());
    for gap in [0, 30] {
        let later = t + chrono::Duration::hours(gap);
        assert!(
            same_story(&items[0], t, &copy, later, &s).same,
            "before, gap {gap} h"
        );
        let v = same_story(&stripped, t, &copy, later, &s);
        assert!(v.same, "gap {gap} h: {v:?}");
        assert_eq!(v.title_similarity, 1.0, "gap {gap} h: {v:?}");
        let v = same_story(&copy, later, &stripped, t, &s);
        assert!(v.same, "reversed, gap {gap} h: {v:?}");
    }
}

#[test]
fn a_report_posted_again_word_for_word_a_day_later_is_the_same_story() {
    let g = Gazetteer::builtin();
    let s = DedupSettings::default();
    let t = chrono::Utc::now();
    let items = templated(&g);
    let boilerplate = Boilerplate::of_feed(&items);
    let mut stripped = items[0].clone();
    assert!(boilerplate.strip(&mut stripped).stored().is_some());
    assert!(stripped.title_boilerplate > 0);
    for gap in [0, 30] {
        let later = t + chrono::Duration::hours(gap);
        assert!(
            same_story(&items[0], t, &items[0], later, &s).same,
            "before, gap {gap} h"
        );
        let v = same_story(&stripped, t, &stripped, later, &s);
        assert!(v.same, "gap {gap} h: {v:?}");
        assert_eq!(v.title_similarity, 1.0, "gap {gap} h: {v:?}");
    }
}
