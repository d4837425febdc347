//! An outlet's boilerplate: the words it repeats in (nearly) every item — a fixed lead-in ("قالت مصادر رسمية
//! في…"), a closing sentence, «اقرأ أيضا», its tagline, a headline template. Shared by two items they say nothing
//! about the two reporting one event, yet they weigh as much as the event's own words: two different events of
//! one country on one day merged on a shared template alone (`explain`: "shared weight 13.25 (0.82)" for a
//! headline similarity of 0.42), and which pairs merged then depended on the order fetches reached the writer.
//!
//! # Rule
//! A word (a stemmed token, as the decision compares them) is boilerplate for a feed document when it occurs in
//! at least [`SHARE_PERCENT`] % of the document's items, and the document holds at least [`MIN_ITEMS`] items —
//! fewer items are too few to tell an outlet's template from a busy day's subject. Boilerplate words are dropped
//! from that document's items' headline and text tokens, so they add nothing to what two items share nor to an
//! item's total weight; a headline's still count in the headline similarity's union (the larger count of the
//! two, once): they are there, they are just no evidence. So two headlines of one template are never more alike
//! than before (a unit test checks it), and a
//! headline left with three words after its template is not "most words shared" with another on an entity, a
//! figure and a generic verb (two bench items did exactly that). A region entity (`@id` token) the item's own
//! headline names is never its boilerplate: an outlet that covers one country names it in most headlines because
//! it is their subject. Named only in the text of nearly every item, it is the outlet's tagline ("أبرز عناوين
//! القوقاز وآسيا الوسطى") and dropped like any word. Entities, figures, months and relevance (the item's `Facts`
//! and tags) are computed before and are never changed by it: boilerplate only changes what counts as *shared
//! text*.
//!
//! # One function, same features whenever an item is looked at
//! The words dropped from an item are decided once, when the item is first stored, from the document it came
//! in, and stored with the item (`items.boilerplate`, space-separated token forms). `features::item_features`
//! takes them, so ingest, the index rebuilt at start-up or read back from the store, and `explain` compute the
//! very same features (ingest computes the plain features, finds the document's boilerplate, and drops it —
//! which gives what `item_features` gives with the stored words; a unit test checks it). Re-tagging needs no
//! boilerplate: tags do not depend on it. Detection depends only on the source's own document, never on which
//! other sources were fetched before or after it.

use rustc_hash::{FxHashMap, FxHashSet};

use super::features::Token;
use super::ItemFeatures;

/// A document with fewer items has no boilerplate: too few to tell a template from a busy day's subject.
pub(crate) const MIN_ITEMS: usize = 8;

/// The share of a document's items (percent) a word must occur in to be boilerplate. Real boilerplate is in
/// every item; a busy day's subject (an earthquake in 30 of 50 items) stays well below.
pub(crate) const SHARE_PERCENT: usize = 80;

/// The boilerplate words of one feed document.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Boilerplate {
    words: FxHashSet<Box<str>>,
}

impl Boilerplate {
    /// The words occurring in at least [`SHARE_PERCENT`] % of `items` (the features of every item of one
    /// document, before any boilerplate is dropped); none when there are fewer than [`MIN_ITEMS`].
    pub fn of_feed<'a>(items: impl IntoIterator<Item = &'a ItemFeatures>) -> Boilerplate {
        let items: Vec<&ItemFeatures> = items.into_iter().collect();
        // Sized for the document's tokens once, instead of growing (and hashing every word again) several times:
        // its items share most of their words, so half the tokens is room enough for nearly every document.
        let tokens: usize = items.iter().map(|f| f.text_tokens.len()).sum();
        let mut counts: FxHashMap<&str, usize> =
            FxHashMap::with_capacity_and_hasher(tokens / 2, Default::default());
        let mut n = 0;
        for f in items {
            n += 1;
            // `text_tokens` is unique per item (and holds the headline's), so a count is a number of items.
            for t in &f.text_tokens {
                *counts.entry(t.as_str()).or_default() += 1;
            }
        }
        if n < MIN_ITEMS {
            return Boilerplate::default();
        }
        Boilerplate {
            words: counts
                .into_iter()
                .filter(|&(_, c)| c * 100 >= n * SHARE_PERCENT)
                .map(|(t, _)| t.into())
                .collect(),
        }
    }

    /// Whether the document has no boilerplate.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Drops the boilerplate words from `f`'s tokens; returns the words dropped, as stored with the item
    /// ([`Dropped::stored`]).
    pub fn strip(&self, f: &mut ItemFeatures) -> Dropped {
        if self.words.is_empty() {
            return Dropped::default();
        }
        // A region entity the headline names is the item's subject, whatever the outlet's other items say.
        let title = &f.title_tokens;
        let subject = |t: &Token| t.starts_with('@') && title.binary_search(t).is_ok();
        // `text_tokens` is sorted and unique, so the words dropped are too. They leave the text tokens in this
        // same pass (what `Dropped::apply` does to them).
        let mut dropped = Vec::with_capacity(self.words.len().min(f.text_tokens.len()));
        f.text_tokens.retain(|t| {
            let drop = self.words.contains(t.as_str()) && !subject(t);
            if drop {
                dropped.push(t.clone());
            }
            !drop
        });
        // The headline's tokens are text tokens too, so those dropped are the ones this set holds, other than the
        // entities it names: found with the same lookup, rather than by walking the dropped words along them
        // (what `Dropped::apply_to_title` does, comparing strings).
        debug_assert!(f
            .title_tokens
            .iter()
            .all(|t| f.text_tokens.binary_search(t).is_ok() || dropped.binary_search(t).is_ok()));
        let before = f.title_dropped.len();
        f.title_tokens.retain(|t| {
            let drop = !t.starts_with('@') && self.words.contains(t.as_str());
            if drop {
                f.title_dropped.push(t.clone());
            }
            !drop
        });
        f.title_boilerplate += (f.title_dropped.len() - before) as u16;
        if before > 0 {
            f.title_dropped.sort_unstable();
            f.title_dropped.dedup();
        }
        Dropped(dropped)
    }
}

/// The boilerplate words dropped from one item, sorted: what is stored with it so that its features are the
/// same whenever they are computed again.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Dropped(Vec<Token>);

impl Dropped {
    /// Reads the stored form (token forms separated by spaces; `None` or blank: nothing dropped).
    pub fn parse(stored: Option<&str>) -> Dropped {
        let mut v: Vec<Token> = stored
            .unwrap_or_default()
            .split_whitespace()
            .map(Token::new)
            .collect();
        v.sort();
        v.dedup();
        Dropped(v)
    }

    /// The stored form; `None` when nothing was dropped. Tokens never hold whitespace (words are split on it).
    pub fn stored(&self) -> Option<String> {
        (!self.0.is_empty()).then(|| self.0.join(" "))
    }

    /// The words dropped.
    pub fn words(&self) -> &[Token] {
        &self.0
    }

    /// Removes these words from `f`'s headline and text tokens, keeping their number in the headline's size.
    pub(crate) fn apply(&self, f: &mut ItemFeatures) {
        if self.0.is_empty() {
            return;
        }
        self.apply_to_title(f);
        debug_assert!(f.text_tokens.windows(2).all(|w| w[0] < w[1]));
        let mut dropped = Sorted::new(&self.0);
        f.text_tokens.retain(|t| !dropped.holds(t));
    }

    /// Removes these words from `f`'s headline tokens, keeping their number in the headline's size.
    fn apply_to_title(&self, f: &mut ItemFeatures) {
        debug_assert!(f.title_tokens.windows(2).all(|w| w[0] < w[1]));
        let before = f.title_dropped.len();
        f.title_dropped
            .reserve(self.0.len().min(f.title_tokens.len()));
        let mut dropped = Sorted::new(&self.0);
        f.title_tokens.retain(|t| {
            if dropped.holds(t) {
                f.title_dropped.push(t.clone());
                false
            } else {
                true
            }
        });
        f.title_boilerplate += (f.title_dropped.len() - before) as u16;
        if before > 0 {
            f.title_dropped.sort_unstable();
            f.title_dropped.dedup();
        }
    }
}

/// Membership in a sorted list, asked for the items of another sorted list in their order: one walk through
/// both instead of a binary search per item. (An item's token lists are sorted and unique.)
struct Sorted<'a> {
    list: &'a [Token],
}

impl<'a> Sorted<'a> {
    fn new(list: &'a [Token]) -> Self {
        Sorted { list }
    }

    /// Whether `t` is in the list; `t` must not be smaller than anything asked before.
    fn holds(&mut self, t: &Token) -> bool {
        while let Some((first, rest)) = self.list.split_first() {
            match first.cmp(t) {
                std::cmp::Ordering::Less => self.list = rest,
                std::cmp::Ordering::Equal => return true,
                std::cmp::Ordering::Greater => return false,
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
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
                    Some("تفاصيل الخبر. اقرأ أيضا: أبرز عناوين القوقاز وآسيا الوسطى في نشرتنا المسائية."),
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
}
