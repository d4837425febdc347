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
//! index from token to the items containing it, each posting list sorted by publication time. A query looks up at
//! most `query_tokens` of its tokens, rarest (shortest posting list) first and generic news words last; of each it
//! reads the `posting_cap` postings nearest in time to the new item that fall within `window_hours` (one binary
//! search, then a few cache lines). It counts hits per item and computes the figures of the `max_candidates`
//! items with most hits; the full decision runs only where the figures allow a merge (and, for the complete-link
//! veto, on the other members of a story the item would join). Work per placement is thus bounded by
//! `query_tokens × posting_cap` postings and `max_candidates` comparisons whatever the index size. An inverted
//! index was chosen over MinHash/SimHash because headlines are short (5–12 words): a couple of shared rare words
//! (a surname, a place) is the signal, and sketches of so few shingles are noisy.
//!
//! # Speed (why it is built this way)
//! Measured with `perf`, placement used to cost 250–430 µs an item, 40× parsing and storing it: comparing token
//! *strings* (memcmp), SipHash lookups of every token's weight in every comparison, sorting all hit counts, and
//! formatting a human-readable reason for every candidate. Now:
//! - tokens are interned once into `u32` ids (an FxHash map, `rustc-hash`: the keys are our own normalized words,
//!   so DoS-resistant hashing buys nothing) with their weight computed once per token;
//! - an indexed item is its sorted ids plus its total weight; what it shares with the new item is one pass over
//!   its ids against a vocabulary-wide mark array (no search, no hashing), and `verdict::Similarity::from_counts`
//!   turns the counts into the same figures `same_story` computes from strings (a unit test checks they agree);
//! - postings are `minute | tie | slot` integers (`index::posting`), so the time search touches nothing else, and
//!   hits are counted in a reused per-slot byte array (branch-free); a histogram of hit counts picks the top candidates without sorting;
//! - the decision's detail text is formatted lazily (`verdict::decide` takes a describer; the index passes one
//!   that formats nothing);
//! - defaults were tightened (postings 200 → 64, tokens 24 → 16, candidates 32 → 16) because postings are now the
//!   *nearest in time* rather than the most recently inserted, and rare words — the signal — have short lists that
//!   are read whole anyway.
//!
//! # Memory and features
//! An indexed item keeps only what placing another item reads: its token ids (title, then text) and
//! `features::Facts` — entity ids shared with the gazetteer, figures, months, headline places and qualifiers —
//! never its folded text or token strings (a rule that reads the other item's words, `OtherPlace`, reads them
//! through the vocabulary). That took the index from ~3 KB to a few hundred bytes an item, and the 10 000-item poll
//! round's peak heap from 95 MB to 73 MB (heaptrack). Features fold each text once: the gazetteer's words feed the
//! matches, tokens, figures and subject alike (the folded title and summary used to be computed a second time
//! just to be kept), a long article is folded only as far as its first `SUMMARY_WORDS`, and
//! `crate::normalize` folds Arabic and ASCII without Unicode tables. The pipeline computes features on blocking
//! threads beside the fetches, so the single writer only places and stores.
//!
//! # Timeline
//! Whether two items are compared depends only on their own dates (first-seen time for undated items): an item
//! published at T meets every stored item published within T ± `window_hours`, whether it was stored a minute or a
//! month ago, fetched first or last, before or after a restart. The index remembers which spans of time it holds
//! in full (`coverage`); before placing an item the writer asks it what part of the item's window is missing and
//! reads those days from the store with one range query on the `items_sort_time` index. Memory stays bounded
//! because the index may forget whatever lies before its horizon (two windows back from now) once it grows past a
//! capacity; forgotten days are simply missing again and are read back when a backlog needs them. (It used to
//! forget by the wall clock, so a first poll's month of backlog met only its own outlet: recall 0.18 on the
//! backlog test's 30 days from six outlets, 1.00 now.)
//!
//! # Order of arrival
//! On a dense day the caps (`posting_cap` postings a token, `max_candidates`) decide which pairs are compared at
//! all, so every choice among equals is made on the items' own data, never on the order they reached the writer:
//! postings of one minute are ordered by a hash of the item's tokens (`index::tie_of`) rather than by its slot,
//! candidates with as many hits and as near in time are ranked by that hash, and tokens with posting lists of one
//! length are looked up in the order of the words, not of their vocabulary ids (assigned as words first arrive).
//! A unit test inserts the same 300 items forwards, backwards and shuffled and gets the same candidates. What the
//! caps cannot make order-free is *which* items are already stored when an item is placed: with more than
//! `posting_cap` items sharing a word within reach, the nearest ones present are read, and those are a function
//! of what arrived before. Cost: the criterion `place` bench was unchanged within its noise (see the note of
//! issue 9).
//!
//! An outlet's boilerplate (what it repeats in nearly every item, see `boilerplate`) is dropped from its items'
//! tokens at ingest and stored with each item, so it never counts as shared text.
//!
//! A new item joins the story of its best-scoring matching candidate, provided it contradicts no other member
//! of that story seen among the candidates (complete-link veto against chaining two different events).

mod boilerplate;
mod coverage;
mod features;
mod figures;
#[cfg(test)]
mod golden;
mod index;
mod postings;
mod relevance;
mod subject;
#[cfg(test)]
mod tests;
mod verdict;

use serde::Deserialize;

use crate::config::{bounded, fraction, weight};

pub use boilerplate::{Boilerplate, Dropped};
pub use features::{features, item_features, item_features_folded, text_to_match, ItemFeatures};
pub(crate) use figures::FigureWord;
pub use index::{Placed, StoryIndex};
pub use verdict::{explain, same_story, Explanation, Reason, Verdict};

/// Clustering settings; the `[dedup]` table of the configuration file. Every field has a default.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DedupSettings {
    /// Items further apart than this never join one story, and the index forgets items older than this. Default 72,
    /// 1 to 8,760 (a year).
    #[serde(deserialize_with = "bounded::<_, _, 1, 8_760>")]
    pub window_hours: u32,
    /// Beyond this gap two items only merge with near-identical headlines: later news is a follow-up. Default 24,
    /// 0 to 8,760.
    #[serde(deserialize_with = "bounded::<_, _, 0, 8_760>")]
    pub follow_up_hours: u32,
    /// Headline similarity (Jaccard, 0–1) at or above which two items merge. Default 0.5.
    #[serde(deserialize_with = "fraction")]
    pub title_similarity: f32,
    /// Weighted count of headline+summary words two items sharing a region entity must have in common to merge
    /// (content words and entities count 1, figures 1.5, generic news words 0.25). Default 4.0, 0 to 1000.
    #[serde(deserialize_with = "weight")]
    pub shared_weight: f32,
    /// …and that shared weight must be at least this fraction of the lighter item's total. Default 0.2, 0 to 1.
    #[serde(deserialize_with = "fraction")]
    pub shared_fraction: f32,
    /// Headline similarity required past `follow_up_hours`. Default 0.8, 0 to 1.
    #[serde(deserialize_with = "fraction")]
    pub follow_up_title_similarity: f32,
    /// Postings read per looked-up token: those nearest in time to the new item. Bounds query cost. Default 64,
    /// 1 to 100,000.
    #[serde(deserialize_with = "bounded::<_, _, 1, 100_000>")]
    pub posting_cap: usize,
    /// Tokens of the new item looked up, rarest first (generic news words last). Default 16, 1 to 1,000.
    #[serde(deserialize_with = "bounded::<_, _, 1, 1_000>")]
    pub query_tokens: usize,
    /// Candidates (most shared tokens first) whose figures are computed. Default 16, 1 to 10,000.
    #[serde(deserialize_with = "bounded::<_, _, 1, 10_000>")]
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
            posting_cap: 64,
            query_tokens: 16,
            max_candidates: 16,
        }
    }
}
