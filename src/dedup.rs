//! Story clustering: recognising that a new item reports an event some earlier item (any outlet, within a
//! window) already reported, so the merged feed shows each story once.
//!
//! # Decision
//! [`same_story`] compares two items' [`ItemFeatures`]. Contradictions veto first — a headline country the other
//! item never mentions, different figures for the same unit, different months, opposite outcomes, a gap beyond
//! `follow_up_hours`, each side naming another outside partner — because a wrong merge hides news while a missed
//! merge only repeats it. Then either the headlines' Jaccard similarity reaches `title_similarity`, or the items
//! share a region entity and enough weighted headline+summary words (`shared_weight`, `shared_fraction`: an
//! absolute count works better than a ratio because outlets paraphrase freely and summaries differ in length).
//! Words are light-stemmed and stopword-free, and every gazetteer mention is one `@id` token (a city or leader
//! also keeps its own token), so transliterations (قرغيزستان/قيرغيزستان) and demonyms (الكازاخي) meet.
//!
//! # Index
//! Placing an item must not cost more as the store grows, so [`StoryIndex`] never scans. It keeps an inverted
//! index from token to the items containing it, each posting list capped at `posting_cap` most recent entries.
//! A query looks up at most `query_tokens` of its tokens, rarest (shortest posting list) first, counts hits per
//! item, and runs the full comparison on the `max_candidates` items with most hits. Work per placement is thus
//! bounded by `query_tokens × posting_cap + max_candidates` comparisons whatever the index size. An inverted
//! index was chosen over MinHash/SimHash because headlines are short (5–12 words): a couple of shared rare
//! words (a surname, a place) is the signal, and sketches of so few shingles are noisy.
//! Capping only drops the oldest postings of very common tokens, which are the least discriminating anyway.
//!
//! A new item joins the story of its best-scoring matching candidate, provided it contradicts no other member
//! of that story seen among the candidates (complete-link veto against chaining two different events).

mod features;
mod figures;
#[cfg(test)]
mod tests;
mod verdict;

use std::collections::{BTreeSet, HashMap, VecDeque};

use chrono::{DateTime, Utc};
use serde::Deserialize;

pub use features::{features, item_features, text_to_match, ItemFeatures};
pub use verdict::{explain, same_story, Explanation, Reason, Verdict};

/// Clustering settings; the `[dedup]` table of the configuration file. Every field has a default.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DedupSettings {
    /// Items further apart than this never join one story, and the index forgets items older than this. Default 72.
    pub window_hours: u32,
    /// Beyond this gap two items only merge with near-identical headlines: later news is a follow-up. Default 24.
    pub follow_up_hours: u32,
    /// Headline similarity (Jaccard, 0–1) at or above which two items merge. Default 0.5.
    pub title_similarity: f32,
    /// Weighted count of headline+summary words two items sharing a region entity must have in common to merge
    /// (content words and entities count 1, figures 1.5, generic news words 0.25). Default 4.0.
    pub shared_weight: f32,
    /// …and that shared weight must be at least this fraction of the lighter item's total. Default 0.2.
    pub shared_fraction: f32,
    /// Headline similarity required past `follow_up_hours`. Default 0.8.
    pub follow_up_title_similarity: f32,
    /// Postings kept per token (most recent). Bounds query cost. Default 200.
    pub posting_cap: usize,
    /// Tokens of the new item looked up, rarest first. Default 24.
    pub query_tokens: usize,
    /// Candidates compared in full. Default 32.
    pub max_candidates: usize,
}

impl Default for DedupSettings {
    fn default() -> Self {
        DedupSettings {
            window_hours: 72,
            follow_up_hours: 24,
            title_similarity: 0.5,
            shared_weight: 4.0,
            shared_fraction: 0.2,
            follow_up_title_similarity: 0.8,
            posting_cap: 200,
            query_tokens: 24,
            max_candidates: 32,
        }
    }
}

#[derive(Debug)]
struct Stored {
    item_id: i64,
    story: i64,
    published: DateTime<Utc>,
    features: ItemFeatures,
}

/// The recent items, indexed for finding the story a new item belongs to. Single owner; not thread-safe by design
/// (the pipeline places items one at a time so two outlets' reports cannot both start a story).
#[derive(Debug)]
pub struct StoryIndex {
    settings: DedupSettings,
    items: HashMap<u64, Stored>,
    postings: HashMap<String, VecDeque<u64>>,
    /// (published, slot): eviction order.
    by_time: BTreeSet<(DateTime<Utc>, u64)>,
    next_slot: u64,
}

impl StoryIndex {
    pub fn new(settings: DedupSettings) -> StoryIndex {
        StoryIndex {
            settings,
            items: HashMap::new(),
            postings: HashMap::new(),
            by_time: BTreeSet::new(),
            next_slot: 0,
        }
    }

    pub fn settings(&self) -> &DedupSettings {
        &self.settings
    }

    /// The story this item belongs to, if any (story ids are the caller's).
    pub fn place(&self, f: &ItemFeatures, published: DateTime<Utc>) -> Option<i64> {
        let window = chrono::Duration::hours(i64::from(self.settings.window_hours));
        let mut keys: Vec<&VecDeque<u64>> = f
            .text_tokens
            .iter()
            .filter_map(|t| self.postings.get(t))
            .collect();
        keys.sort_by_key(|p| p.len());
        let mut hits: HashMap<u64, u32> = HashMap::new();
        for posting in keys.into_iter().take(self.settings.query_tokens) {
            for &slot in posting {
                *hits.entry(slot).or_default() += 1;
            }
        }
        let mut ranked: Vec<(u32, u64)> = hits.into_iter().map(|(slot, n)| (n, slot)).collect();
        ranked.sort_unstable_by(|a, b| b.cmp(a));
        let candidates: Vec<&Stored> = ranked
            .iter()
            .filter_map(|&(_, slot)| self.items.get(&slot))
            .filter(|s| (s.published - published).abs() <= window)
            .take(self.settings.max_candidates)
            .collect();
        let verdicts: Vec<(&Stored, Verdict)> = candidates
            .iter()
            .map(|s| {
                (
                    *s,
                    same_story(f, published, &s.features, s.published, &self.settings),
                )
            })
            .collect();
        let mut matching: Vec<&(&Stored, Verdict)> =
            verdicts.iter().filter(|(_, v)| v.same).collect();
        matching.sort_by(|a, b| b.1.score.total_cmp(&a.1.score));
        matching.into_iter().map(|(s, _)| s.story).find(|&story| {
            // Complete-link veto: no member of that story among the candidates may contradict the new item.
            !verdicts
                .iter()
                .any(|(s, v)| s.story == story && !v.same && is_contradiction(v.reason))
        })
    }

    /// Records an item (new, or rebuilt at start-up) as a member of `story`.
    pub fn insert(&mut self, item_id: i64, story: i64, f: ItemFeatures, published: DateTime<Utc>) {
        let slot = self.next_slot;
        self.next_slot += 1;
        for t in &f.text_tokens {
            let posting = self.postings.entry(t.clone()).or_default();
            posting.push_back(slot);
            if posting.len() > self.settings.posting_cap {
                posting.pop_front();
            }
        }
        self.by_time.insert((published, slot));
        self.items.insert(
            slot,
            Stored {
                item_id,
                story,
                published,
                features: f,
            },
        );
    }

    /// Forgets items published before `cutoff` (the caller passes now − window), keeping memory bounded.
    pub fn evict_older_than(&mut self, cutoff: DateTime<Utc>) {
        while let Some(&(published, slot)) = self.by_time.first() {
            if published >= cutoff {
                break;
            }
            self.by_time.pop_first();
            if let Some(s) = self.items.remove(&slot) {
                for t in &s.features.text_tokens {
                    if let Some(p) = self.postings.get_mut(t) {
                        p.retain(|&x| x != slot);
                        if p.is_empty() {
                            self.postings.remove(t);
                        }
                    }
                }
            }
        }
    }

    /// Items currently indexed.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Item ids currently indexed as members of `story` (diagnostics; linear in the index size).
    pub fn members(&self, story: i64) -> Vec<i64> {
        let mut v: Vec<i64> = self
            .items
            .values()
            .filter(|s| s.story == story)
            .map(|s| s.item_id)
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
