//! The in-memory story index: an inverted index over items' tokens, ordered by publication time, and the spans
//! of time it holds in full (see the module doc of `dedup` for why it is built this way).

use std::cell::RefCell;
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;

use super::coverage::Coverage;
use super::{same_story, DedupSettings, ItemFeatures, Reason, Verdict};

#[derive(Debug)]
struct Entry {
    item_id: i64,
    story: i64,
    /// Token ids of `features.text_tokens`, to find its postings again on eviction.
    tokens: Box<[u32]>,
    features: ItemFeatures,
}

/// Per-placement working memory, kept between placements so that a placement allocates nothing large.
#[derive(Debug, Default)]
struct Scratch {
    /// Hits per slot (zero outside a placement).
    hits: Vec<u16>,
    /// Slots with a non-zero hit count.
    touched: Vec<u32>,
}

/// The items the index holds, findable by token and publication time. Single owner; not thread-safe by design
/// (the pipeline places items one at a time so two outlets' reports cannot both start a story).
#[derive(Debug)]
pub struct StoryIndex {
    settings: DedupSettings,
    /// Token → id. Ids are never reused; the vocabulary grows with the language, not with the item count.
    vocabulary: FxHashMap<Box<str>, u32>,
    /// Token id → slots of the items containing it, ordered by (publication time, slot).
    postings: Vec<Vec<u32>>,
    /// Slot → item (None: free).
    entries: Vec<Option<Entry>>,
    /// Slot → publication time in seconds, apart from `entries` so that binary searches over postings touch
    /// one dense array.
    times: Vec<i64>,
    free: Vec<u32>,
    by_item: FxHashMap<i64, u32>,
    /// (published, slot): eviction order.
    by_time: BTreeSet<(i64, u32)>,
    covered: Coverage,
    scratch: RefCell<Scratch>,
}

fn secs(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

fn from_secs(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(s, 0).unwrap_or(if s < 0 {
        DateTime::<Utc>::MIN_UTC
    } else {
        DateTime::<Utc>::MAX_UTC
    })
}

impl StoryIndex {
    /// An empty index with these settings.
    pub fn new(settings: DedupSettings) -> StoryIndex {
        StoryIndex {
            settings,
            vocabulary: FxHashMap::default(),
            postings: Vec::new(),
            entries: Vec::new(),
            times: Vec::new(),
            free: Vec::new(),
            by_item: FxHashMap::default(),
            by_time: BTreeSet::new(),
            covered: Coverage::default(),
            scratch: RefCell::default(),
        }
    }

    /// The settings the index was built with.
    pub fn settings(&self) -> &DedupSettings {
        &self.settings
    }

    fn window_secs(&self) -> i64 {
        i64::from(self.settings.window_hours) * 3600
    }

    /// The story this item belongs to, if any (story ids are the caller's). Only items the index holds are
    /// candidates: a caller placing an item dated outside what it covers asks `missing` first.
    pub fn place(&self, f: &ItemFeatures, published: DateTime<Utc>) -> Option<i64> {
        let t = secs(published);
        let candidates = self.candidates(f, t);
        let verdicts: Vec<(&Entry, Verdict)> = candidates
            .into_iter()
            .filter_map(|slot| self.entries[slot as usize].as_ref().map(|e| (slot, e)))
            .map(|(slot, e)| {
                let when = from_secs(self.times[slot as usize]);
                (
                    e,
                    same_story(f, published, &e.features, when, &self.settings),
                )
            })
            .collect();
        let mut matching: Vec<&(&Entry, Verdict)> =
            verdicts.iter().filter(|(_, v)| v.same).collect();
        matching.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
        matching.into_iter().map(|(e, _)| e.story).find(|&story| {
            // Complete-link veto: no member of that story among the candidates may contradict the new item.
            !verdicts
                .iter()
                .any(|(e, v)| e.story == story && !v.same && is_contradiction(v.reason))
        })
    }

    /// Slots of at most `max_candidates` items within the window of `t` sharing the most looked-up tokens.
    fn candidates(&self, f: &ItemFeatures, t: i64) -> Vec<u32> {
        let (from, to) = (t - self.window_secs(), t + self.window_secs());
        let mut lists: Vec<&[u32]> = f
            .text_tokens
            .iter()
            .filter_map(|tok| self.vocabulary.get(tok.as_str()))
            .map(|&id| self.postings[id as usize].as_slice())
            .filter(|p| !p.is_empty())
            .collect();
        // Rarest first: a shared rare word (a surname, a place) says most, and its list is the cheapest to read.
        lists.sort_by_key(|p| p.len());
        let mut scratch = self.scratch.borrow_mut();
        let Scratch { hits, touched } = &mut *scratch;
        if hits.len() < self.entries.len() {
            hits.resize(self.entries.len(), 0);
        }
        let time = |s: &u32| self.times[*s as usize];
        let cap = self.settings.posting_cap.max(1);
        for list in lists.into_iter().take(self.settings.query_tokens) {
            let lo = list.partition_point(|s| time(s) < from);
            let hi = lo + list[lo..].partition_point(|s| time(s) <= to);
            let mut range = &list[lo..hi];
            if range.len() > cap {
                // A common word: only its postings nearest in time to the new item.
                let mid = range.partition_point(|s| time(s) < t);
                let start = mid.saturating_sub(cap / 2).min(range.len() - cap);
                range = &range[start..start + cap];
            }
            for &slot in range {
                let h = &mut hits[slot as usize];
                if *h == 0 {
                    touched.push(slot);
                }
                *h = h.saturating_add(1);
            }
        }
        let mut ranked: Vec<(u16, i64, u32)> = touched
            .drain(..)
            .map(|slot| {
                let h = std::mem::take(&mut hits[slot as usize]);
                (h, (time(&slot) - t).abs(), slot)
            })
            .collect();
        // Most hits first, then nearest in time.
        let order = |a: &(u16, i64, u32), b: &(u16, i64, u32)| {
            b.0.cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2))
        };
        let k = self.settings.max_candidates;
        if ranked.len() > k && k > 0 {
            ranked.select_nth_unstable_by(k - 1, order);
            ranked.truncate(k);
        }
        ranked.sort_unstable_by(order);
        ranked.truncate(k);
        ranked.into_iter().map(|(_, _, slot)| slot).collect()
    }

    /// Records an item (new, rebuilt at start-up, or read back from the store) as a member of `story`. An item
    /// the index already holds is left as it is.
    pub fn insert(&mut self, item_id: i64, story: i64, f: ItemFeatures, published: DateTime<Utc>) {
        if self.by_item.contains_key(&item_id) {
            return;
        }
        let t = secs(published);
        let slot = match self.free.pop() {
            Some(slot) => slot,
            None => {
                self.entries.push(None);
                self.times.push(0);
                (self.entries.len() - 1) as u32
            }
        };
        self.times[slot as usize] = t;
        let mut tokens = Vec::with_capacity(f.text_tokens.len());
        for tok in &f.text_tokens {
            let id = match self.vocabulary.get(tok.as_str()) {
                Some(&id) => id,
                None => {
                    let id = self.postings.len() as u32;
                    self.vocabulary.insert(tok.as_str().into(), id);
                    self.postings.push(Vec::new());
                    id
                }
            };
            tokens.push(id);
            let times = &self.times;
            let posting = &mut self.postings[id as usize];
            let key = |s: &u32| (times[*s as usize], *s);
            // New items mostly arrive in time order: append; a backlog item goes to its place.
            if posting.last().is_none_or(|last| key(last) < (t, slot)) {
                posting.push(slot);
            } else {
                let at = posting.partition_point(|s| key(s) < (t, slot));
                posting.insert(at, slot);
            }
        }
        self.by_time.insert((t, slot));
        self.by_item.insert(item_id, slot);
        self.entries[slot as usize] = Some(Entry {
            item_id,
            story,
            tokens: tokens.into_boxed_slice(),
            features: f,
        });
    }

    /// Forgets items published before `cutoff`, keeping memory bounded; the spans it covered before `cutoff`
    /// are no longer covered.
    pub fn evict_older_than(&mut self, cutoff: DateTime<Utc>) {
        let cutoff = secs(cutoff);
        self.covered.forget_before(cutoff);
        let mut affected: BTreeSet<u32> = BTreeSet::new();
        let mut evicted = Vec::new();
        while let Some(&(t, slot)) = self.by_time.first() {
            if t >= cutoff {
                break;
            }
            self.by_time.pop_first();
            if let Some(e) = self.entries[slot as usize].take() {
                affected.extend(e.tokens.iter().copied());
                self.by_item.remove(&e.item_id);
                evicted.push(slot);
            }
        }
        if evicted.is_empty() {
            return;
        }
        let entries = &self.entries;
        for id in affected {
            self.postings[id as usize].retain(|&s| entries[s as usize].is_some());
        }
        self.free.extend(evicted);
    }

    /// The spans (from, to) within the window of an item published at `published` that the index does not hold
    /// in full: the caller reads the stored items of those spans, `insert`s them, and marks them `covered`.
    pub fn missing(&self, published: DateTime<Utc>) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let t = secs(published);
        self.covered
            .missing(t - self.window_secs(), t + self.window_secs() + 1)
            .into_iter()
            .map(|(a, b)| (from_secs(a), from_secs(b)))
            .collect()
    }

    /// Declares that every stored item published in `[from, to)` is now held.
    pub fn covered(&mut self, from: DateTime<Utc>, to: DateTime<Utc>) {
        self.covered.add(secs(from), secs(to));
    }

    /// Empties the index.
    pub fn clear(&mut self) {
        *self = StoryIndex::new(self.settings.clone());
    }

    /// Items currently indexed.
    pub fn len(&self) -> usize {
        self.by_item.len()
    }

    /// Whether the index holds no item.
    pub fn is_empty(&self) -> bool {
        self.by_item.is_empty()
    }

    /// Item ids currently indexed as members of `story` (diagnostics; linear in the index size).
    pub fn members(&self, story: i64) -> Vec<i64> {
        let mut v: Vec<i64> = self
            .entries
            .iter()
            .flatten()
            .filter(|e| e.story == story)
            .map(|e| e.item_id)
            .collect();
        v.sort();
        v
    }
}

/// Reasons that mean "these are different events" rather than "not enough evidence".
fn is_contradiction(r: Reason) -> bool {
    !matches!(
        r,
        Reason::LowSimilarity | Reason::SimilarTitle | Reason::SimilarText
    )
}

#[cfg(test)]
mod tests {
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
            index.insert(100 + i, 100 + i, f, day(30));
        }
        index.insert(1, 7, a, day(0));
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
        index.insert(1, 7, a.clone(), day(0));
        // Many later items sharing every word, each its own (contradicting: another figure) story.
        for i in 0..40 {
            let f = features(
                &format!("كازاخستان ترفع إنتاج النفط إلى {} مليون برميل يوميا", i + 3),
                None,
                &g,
            );
            index.insert(100 + i, 100 + i, f, day(0) + Duration::hours(10 + i));
        }
        assert_eq!(index.place(&b, day(0) + Duration::minutes(30)), Some(7));
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
}
