//! The in-memory story index: an inverted index over items' tokens, ordered by publication time, and the spans
//! of time it holds in full (see the module doc of `dedup` for why it is built this way).

use std::cell::RefCell;
use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use rustc_hash::FxHashMap;

use super::coverage::Coverage;
use super::features::{weight, Facts, Token};
use super::postings::Postings;
use super::verdict::{decide, Side, Similarity, Tokens};
use super::{DedupSettings, ItemFeatures, Reason};

/// An indexed item. What every comparison reads is inline or in one allocation (`ids`); the rest of the decision's
/// inputs sit behind a pointer, read only for candidates whose figures allow a merge. No token strings: the rules
/// that read the other item's words get them through the vocabulary.
#[derive(Debug)]
struct Entry {
    item_id: i64,
    story: i64,
    /// Token ids of the headline (the first `title_len`), then of the headline words dropped as boilerplate (the
    /// next `dropped_len`), then of headline + summary (also the postings to clean up on eviction), each part in
    /// the order of its tokens. Nothing needs them sorted by id: what two items share is counted through marks,
    /// and the weights (quarters) add up exactly in any order.
    ids: Box<[u32]>,
    title_len: u16,
    dropped_len: u16,
    /// Headline tokens dropped as the outlet's boilerplate: part of the headline's size, never shared.
    title_boilerplate: u16,
    /// Total weight of the headline + summary tokens (boilerplate left out).
    text_total: f32,
    /// Everything the decision reads besides the figures and the tokens.
    facts: Box<Facts>,
}

impl Entry {
    fn title(&self) -> &[u32] {
        &self.ids[..self.title_len as usize]
    }

    fn dropped(&self) -> &[u32] {
        &self.ids[self.title_len as usize..(self.title_len + self.dropped_len) as usize]
    }

    fn text(&self) -> &[u32] {
        &self.ids[(self.title_len + self.dropped_len) as usize..]
    }
}

/// A new item's tokens as ids of the vocabulary. Tokens the index has never seen can be shared with no stored
/// item; they only count in the sizes and totals.
#[derive(Debug, Default)]
struct Probe {
    title: Vec<u32>,
    title_len: usize,
    /// Headline words dropped as boilerplate.
    title_boilerplate: u16,
    /// Ids of those the vocabulary knows.
    dropped: Vec<u32>,
    text: Vec<u32>,
    text_total: f32,
    /// Every token's id (`UNKNOWN` for a token the vocabulary lacks) as an entry lays them out: headline, dropped
    /// headline words, text. `insert_placed` takes them, so that a placed item's tokens are looked up once.
    layout: Vec<u32>,
}

/// In `Probe::layout`: a token the vocabulary did not hold when the item was placed.
const UNKNOWN: u32 = u32::MAX;

/// A placed item's token ids, kept by [`StoryIndex::place_keeping`] for [`StoryIndex::insert_placed`].
#[derive(Debug)]
pub struct Placed {
    /// The index that looked them up (ids are its vocabulary's).
    index: u64,
    /// `Probe::layout`.
    layout: Vec<u32>,
}

/// Gives every index (and every cleared one) its own number, so that ids looked up in one are never used in
/// another.
static INDEXES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// A candidate of one placement: its slot, figures and (once judged) the decision without its detail.
#[derive(Debug)]
struct Candidate {
    slot: u32,
    sim: Similarity,
    verdict: Option<(bool, Reason)>,
}

/// Per-placement working memory, kept between placements so that a placement allocates nothing.
#[derive(Debug, Default)]
struct Scratch {
    ranking: Ranking,
    /// By token id: whether the item being placed has it (zero outside a placement).
    marks: Vec<u8>,
    probe: Probe,
    /// The chosen candidates' slots, best first.
    slots: Vec<u32>,
    candidates: Vec<Candidate>,
    /// (candidate, score) of the candidates the item may join.
    matching: Vec<(usize, f32)>,
}

/// What choosing the candidates works in (`StoryIndex::candidates`).
#[derive(Debug, Default)]
struct Ranking {
    /// The looked-up tokens' postings lists: (generic, length, token id).
    lists: Vec<(bool, usize, u32)>,
    /// Hits per slot (zero outside a placement).
    hits: Vec<u8>,
    /// Slots with a non-zero hit count.
    touched: Vec<u32>,
    /// Number of touched slots by hit count.
    histogram: Vec<usize>,
    /// The candidates with enough hits, as `rank`s.
    ranked: Vec<u128>,
}

/// The items the index holds, findable by token and publication time. Single owner; not thread-safe by design
/// (the pipeline places items one at a time so two outlets' reports cannot both start a story).
#[derive(Debug)]
pub struct StoryIndex {
    settings: DedupSettings,
    /// This index's number (`INDEXES`).
    number: u64,
    /// Token → id. Ids are never reused; the vocabulary grows with the language, not with the item count.
    vocabulary: FxHashMap<Box<str>, u32>,
    /// Id → token.
    words: Vec<Box<str>>,
    /// Token id → its weight (`features::weight`), computed once per token rather than per comparison.
    weights: Vec<f32>,
    /// Token id → the items containing it as `posting(time, tie, slot)` keys, sorted: ordered by publication
    /// minute, then by the item's own tie-break value, searched by time without touching any other array.
    postings: Vec<Postings>,
    /// Slot → item (None: free).
    entries: Vec<Option<Entry>>,
    /// Slot → publication time in seconds, apart from `entries` so that binary searches over postings touch
    /// one dense array.
    times: Vec<i64>,
    /// Slot → the item's tie-break value (`tie_of`): which of several equally good items is read or ranked first
    /// depends on the items themselves, never on the order they were inserted in.
    ties: Vec<u32>,
    free: Vec<u32>,
    by_item: FxHashMap<i64, u32>,
    /// (published, slot): eviction order.
    by_time: BTreeSet<(i64, u32)>,
    covered: Coverage,
    scratch: RefCell<Scratch>,
}

/// Bits of a posting holding the slot: 4 M items, far beyond what the writer keeps (`INDEX_CAPACITY`, 100 k) and
/// ~3 GB of index (`insert` refuses more).
const SLOT_BITS: u32 = 22;
/// Bits of a posting holding the item's tie-break value: two items of one minute have the same bits once in
/// 65 536 pairs, and only then does the insertion order (the slot) decide between them.
const TIE_BITS: u32 = 16;
/// Bits of a posting holding the publication minute: minutes since 1970, until 2097 (later dates are clamped;
/// an item's date is never ahead of its fetch).
const MINUTE_BITS: u32 = 64 - TIE_BITS - SLOT_BITS;

/// A posting: publication minute in the high bits, then the low bits of the item's tie-break value, then its
/// slot. Postings are sorted and cut (`Postings::near`) by this key, so among items of one minute the order is
/// the items' own (their tie-break values), not the order they were inserted in; the slot only separates two
/// items whose minute and tie bits are equal.
fn posting(t: i64, tie: u32, slot: u32) -> u64 {
    let minute = t.div_euclid(60).clamp(0, (1 << MINUTE_BITS) - 1) as u64;
    minute << (TIE_BITS + SLOT_BITS)
        | u64::from(tie & ((1 << TIE_BITS) - 1)) << SLOT_BITS
        | u64::from(slot)
}

/// The last possible posting of the minute of `t`.
fn last_posting(t: i64) -> u64 {
    posting(t, 0, 0) | ((1 << (TIE_BITS + SLOT_BITS)) - 1)
}

/// A candidate's place in the ranking as one integer, ordered as (most hits, nearest in time, tie-break value,
/// slot): hits (inverted) in the top 8 bits, the time gap in the next 64, the tie-break value in 32, the slot in
/// the low 24 (`SLOT_BITS` of them used).
fn rank(hits: u8, gap: u64, tie: u32, slot: u32) -> u128 {
    u128::from(u8::MAX - hits) << 120
        | u128::from(gap) << 56
        | u128::from(tie) << 24
        | u128::from(slot)
}

const SLOT_MASK: u32 = (1 << SLOT_BITS) - 1;

fn slot_of(posting: u64) -> u32 {
    (posting & ((1 << SLOT_BITS) - 1)) as u32
}

/// An item's tie-break value: a hash of its tokens (FxHash has no per-process seed), so that two runs that
/// insert the same items in another order rank and cut them the same way.
fn tie_of(f: &ItemFeatures) -> u32 {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    f.title_tokens.hash(&mut h);
    f.text_tokens.hash(&mut h);
    let h = h.finish();
    (h ^ h >> 32) as u32
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
            number: INDEXES.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            vocabulary: FxHashMap::default(),
            words: Vec::new(),
            weights: Vec::new(),
            postings: Vec::new(),
            entries: Vec::new(),
            times: Vec::new(),
            ties: Vec::new(),
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
        self.place_probed(f, published)
    }

    /// [`StoryIndex::place`], keeping the item's token ids for [`StoryIndex::insert_placed`] (which then need not
    /// look them up again).
    pub fn place_keeping(
        &mut self,
        f: &ItemFeatures,
        published: DateTime<Utc>,
    ) -> (Option<i64>, Placed) {
        let story = self.place_probed(f, published);
        let layout = std::mem::take(&mut self.scratch.get_mut().probe.layout);
        (
            story,
            Placed {
                index: self.number,
                layout,
            },
        )
    }

    /// `place`, leaving the item's token ids in the scratch's probe.
    fn place_probed(&self, f: &ItemFeatures, published: DateTime<Utc>) -> Option<i64> {
        let mut scratch = self.scratch.borrow_mut();
        let Scratch {
            ranking,
            marks,
            probe,
            slots,
            candidates,
            matching,
        } = &mut *scratch;
        self.probe_into(f, probe);
        self.candidates(&probe.text, secs(published), ranking, slots);
        self.touch(slots);
        // The probe's tokens marked in a vocabulary-wide array (bit 0: text, bit 1: headline, bit 2: headline word
        // dropped as boilerplate), so that what a candidate shares is a pass over its ids with no search or hashing.
        if marks.len() < self.weights.len() {
            marks.resize(self.weights.len(), 0);
        }
        for &id in &probe.text {
            marks[id as usize] |= 1;
        }
        for &id in &probe.title {
            marks[id as usize] |= 2;
        }
        for &id in &probe.dropped {
            marks[id as usize] |= 4;
        }
        candidates.clear();
        candidates.extend(slots.iter().map(|&slot| Candidate {
            slot,
            sim: self.similarity(probe, marks, self.entry(slot)),
            verdict: None,
        }));
        for &id in probe.text.iter().chain(&probe.title).chain(&probe.dropped) {
            marks[id as usize] = 0;
        }
        // (same, reason): the decision without its human-readable detail.
        let judge = |c: &Candidate| {
            let e = self.entry(c.slot);
            let other = Side {
                facts: &e.facts,
                text: Tokens::Ids(e.text(), &self.words),
            };
            let when = from_secs(self.times[c.slot as usize]);
            let (same, reason, ()) = decide(
                f.side(),
                published,
                other,
                when,
                c.sim,
                &self.settings,
                &|_| (),
            );
            (same, reason)
        };
        // The full decision only where the figures allow a merge; other candidates are judged only if they belong
        // to a story the item would join (the veto below).
        matching.clear();
        for (i, c) in candidates.iter_mut().enumerate() {
            if c.sim.may_merge(&self.settings) {
                let verdict = judge(c);
                c.verdict = Some(verdict);
                if verdict.0 {
                    matching.push((i, c.sim.score()));
                }
            }
        }
        // Stable: equal scores keep the candidates' order.
        matching.sort_by(|a, b| b.1.total_cmp(&a.1));
        for &(i, _) in matching.iter() {
            let story = self.entry(candidates[i].slot).story;
            // Complete-link veto: no member of that story among the candidates may contradict the new item.
            let vetoed = (0..candidates.len()).any(|j| {
                if self.entry(candidates[j].slot).story != story {
                    return false;
                }
                let (same, reason) = match candidates[j].verdict {
                    Some(v) => v,
                    None => {
                        let v = judge(&candidates[j]);
                        candidates[j].verdict = Some(v);
                        v
                    }
                };
                !same && is_contradiction(reason)
            });
            if !vetoed {
                return Some(story);
            }
        }
        None
    }

    /// Keeps the slots that hold an item (all do: eviction takes an item's postings with it), reading the first
    /// token id of each before any is compared. Each is a cache miss or two (a candidate is any item of the window,
    /// cold since it was stored); read one candidate after another, the comparison of each waits for its own,
    /// while these loads do not depend on each other and are waited for together, and also with the marking of
    /// the probe's tokens that follows. (Not the facts: most candidates' figures rule a merge out before the
    /// decision reads them.)
    fn touch(&self, slots: &mut Vec<u32>) {
        let mut any = 0u32;
        slots.retain(|&slot| match &self.entries[slot as usize] {
            Some(e) => {
                any ^= e.ids.first().copied().unwrap_or(0);
                true
            }
            None => false,
        });
        std::hint::black_box(any);
    }

    /// The entry in `slot`, which holds one (a candidate's).
    fn entry(&self, slot: u32) -> &Entry {
        self.entries[slot as usize]
            .as_ref()
            .expect("candidates are held items")
    }

    /// `f`'s tokens as ids, into `probe`'s buffers.
    fn probe_into(&self, f: &ItemFeatures, probe: &mut Probe) {
        let Probe {
            title,
            dropped,
            text,
            layout,
            ..
        } = probe;
        layout.clear();
        // In token order, not sorted by id: the marks and the candidate lists (which `candidates` orders itself)
        // take them in any order.
        let mut look_up = |tokens: &[Token], known: &mut Vec<u32>| {
            known.clear();
            for t in tokens {
                let id = self.vocabulary.get(t.as_str()).copied();
                known.extend(id);
                layout.push(id.unwrap_or(UNKNOWN));
            }
        };
        look_up(&f.title_tokens, title);
        look_up(&f.title_dropped, dropped);
        look_up(&f.text_tokens, text);
        let text_layout = &layout[f.title_tokens.len() + f.title_dropped.len()..];
        let mut text_total = 0.0;
        for (t, &id) in f.text_tokens.iter().zip(text_layout) {
            text_total += match id {
                UNKNOWN => weight(t),
                id => self.weights[id as usize],
            };
        }
        probe.title_len = f.title_tokens.len();
        probe.title_boilerplate = f.title_boilerplate;
        probe.text_total = text_total;
    }

    /// The figures `same_story` would compute from the token lists, from the ids: `marks` flags the probe's.
    fn similarity(&self, p: &Probe, marks: &[u8], e: &Entry) -> Similarity {
        // One pass over the headline for both of its counts: bit 1 (the probe's headline), bit 2 (a word the
        // probe dropped as boilerplate that this headline holds).
        let (mut title_common, mut dropped_in_title) = (0, 0);
        for &id in e.title() {
            let m = usize::from(marks[id as usize]);
            title_common += (m >> 1) & 1;
            dropped_in_title += (m >> 2) & 1;
        }
        // A word one side dropped as its outlet's boilerplate and the other holds in its headline.
        let cross = (
            dropped_in_title,
            e.dropped()
                .iter()
                .filter(|&&id| marks[id as usize] & 2 != 0)
                .count(),
        );
        let weights = &self.weights[..];
        let mut common = 0.0;
        for &id in e.text() {
            if marks[id as usize] & 1 != 0 {
                common += weights[id as usize];
            }
        }
        Similarity::from_counts(
            (
                title_common,
                p.title_len,
                e.title().len(),
                (p.title_boilerplate, e.title_boilerplate),
                cross,
            ),
            (common, p.text_total, e.text_total),
        )
    }

    /// Slots of at most `max_candidates` items within the window of `t` sharing the most looked-up tokens, best
    /// first, into `slots`.
    fn candidates(&self, tokens: &[u32], t: i64, r: &mut Ranking, slots: &mut Vec<u32>) {
        let (from, to) = (t - self.window_secs(), t + self.window_secs());
        let Ranking {
            lists,
            hits,
            touched,
            histogram,
            ranked,
        } = r;
        lists.clear();
        lists.extend(tokens.iter().filter_map(|&id| {
            let len = self.postings[id as usize].len();
            (len > 0).then(|| (self.weights[id as usize] < 1.0, len, id))
        }));
        // Rarest first: a shared rare word (a surname, a place) says most, and its list is the cheapest to read.
        // Generic news words (low weight) come last whatever their counts: sharing them says little. Equal
        // counts are ordered by the words themselves, not by their ids (the order the vocabulary met them in).
        // Only which lists are read matters (hits are counts), not in what order: the first `query_tokens` are
        // selected, not sorted, and an item with fewer tokens has all its lists read.
        let q = self.settings.query_tokens;
        if lists.len() > q && q > 0 {
            lists.select_nth_unstable_by(q - 1, |(ga, a, ia), (gb, b, ib)| {
                (ga, a)
                    .cmp(&(gb, b))
                    .then_with(|| self.words[*ia as usize].cmp(&self.words[*ib as usize]))
            });
        }
        lists.truncate(q);
        if hits.len() < self.entries.len() {
            hits.resize(self.entries.len(), 0);
        }
        let time = |s: &u32| self.times[*s as usize];
        let cap = self.settings.posting_cap.max(1);
        let (lo, hi) = (posting(from, 0, 0), last_posting(to));
        touched.clear();
        for &(_, _, id) in lists.iter() {
            // The `cap` postings nearest in time (one binary search on a long list; the rest is within a few
            // cache lines), then only those within the window.
            self.postings[id as usize].near(posting(t, 0, 0), cap, |range| {
                // Nearly always the whole range (the window is days, the range a few hours of one word's items):
                // then two binary searches are saved.
                let whole = range.first().is_some_and(|&p| p >= lo)
                    && range.last().is_some_and(|&p| p <= hi);
                let range = if whole {
                    range
                } else {
                    let a = range.partition_point(|&p| p < lo);
                    let b = range.partition_point(|&p| p <= hi);
                    &range[a..b]
                };
                // Branch-free: every slot is written at the end of `touched`, which only grows past a first hit.
                // Through local slices: a byte store through the vectors may alias their own lengths and
                // pointers, which were then loaded again for every posting.
                let start = touched.len();
                touched.resize(start + range.len(), 0);
                let (out, hits) = (&mut touched[start..], &mut hits[..]);
                let mut n = 0;
                for &p in range {
                    let slot = slot_of(p);
                    let h = &mut hits[slot as usize];
                    out[n] = slot;
                    n += usize::from(*h == 0);
                    *h = h.saturating_add(1);
                }
                touched.truncate(start + n);
            });
        }
        // The fewest hits that still make the top `max_candidates`, from a histogram of hit counts, so that only
        // the items with at least that many are ranked.
        let k = self.settings.max_candidates;
        histogram.clear();
        // Counted in four interleaved lanes: nearly every slot has the same few counts, and one counter bumped
        // after another waits for its own previous store each time.
        let lanes = self.settings.query_tokens.min(255) + 1;
        histogram.resize(4 * lanes, 0);
        let (counts, hits_of) = (&mut histogram[..], &hits[..]);
        let mut quads = touched.chunks_exact(4);
        for quad in &mut quads {
            for (lane, &slot) in quad.iter().enumerate() {
                counts[lane * lanes + usize::from(hits_of[slot as usize])] += 1;
            }
        }
        for &slot in quads.remainder() {
            counts[usize::from(hits_of[slot as usize])] += 1;
        }
        for h in 0..lanes {
            histogram[h] +=
                histogram[lanes + h] + histogram[2 * lanes + h] + histogram[3 * lanes + h];
        }
        histogram.truncate(lanes);
        let mut threshold = 1;
        let mut above = 0;
        for (h, n) in histogram.iter().enumerate().skip(1).rev() {
            above += n;
            if above >= k {
                threshold = h;
                break;
            }
        }
        // Most hits first, then nearest in time, then by the items' own tie-break values (not their slots): one
        // integer a candidate, compared and moved whole.
        ranked.clear();
        ranked.reserve(touched.len());
        let hits = &mut hits[..];
        for &slot in touched.iter() {
            let h = std::mem::take(&mut hits[slot as usize]);
            if usize::from(h) >= threshold {
                ranked.push(rank(
                    h,
                    (time(&slot) - t).unsigned_abs(),
                    self.ties[slot as usize],
                    slot,
                ));
            }
        }
        touched.clear();
        if ranked.len() > k && k > 0 {
            ranked.select_nth_unstable(k - 1);
            ranked.truncate(k);
        }
        ranked.sort_unstable();
        ranked.truncate(k);
        slots.clear();
        slots.extend(ranked.iter().map(|&r| (r as u32) & SLOT_MASK));
    }

    /// Records an item (new, rebuilt at start-up, or read back from the store) as a member of `story`. An item
    /// the index already holds is left as it is.
    pub fn insert(&mut self, item_id: i64, story: i64, f: &ItemFeatures, published: DateTime<Utc>) {
        let Some(slot) = self.claim_slot(item_id) else {
            return;
        };
        // Headline, dropped headline words and text ids in one allocation.
        let mut ids =
            Vec::with_capacity(f.title_tokens.len() + f.title_dropped.len() + f.text_tokens.len());
        for tokens in [&f.title_tokens, &f.title_dropped, &f.text_tokens] {
            for tok in tokens {
                ids.push(self.intern(tok));
            }
        }
        self.fill(slot, item_id, story, f, published, ids.into_boxed_slice());
    }

    /// [`StoryIndex::insert`] of an item placed with [`StoryIndex::place_keeping`] (`f` the same features): the
    /// ids it looked up are taken as they are, and only the tokens the vocabulary lacked then are looked up (and
    /// added) now. Ids are never reused, so those it found still mean the same tokens.
    pub fn insert_placed(
        &mut self,
        placed: Placed,
        item_id: i64,
        story: i64,
        f: &ItemFeatures,
        published: DateTime<Utc>,
    ) {
        let Placed { index, mut layout } = placed;
        let tokens = f
            .title_tokens
            .iter()
            .chain(&f.title_dropped)
            .chain(&f.text_tokens);
        if index != self.number || layout.len() != tokens.clone().count() {
            return self.insert(item_id, story, f, published);
        }
        let Some(slot) = self.claim_slot(item_id) else {
            return;
        };
        for (id, tok) in layout.iter_mut().zip(tokens) {
            if *id == UNKNOWN {
                *id = self.intern(tok);
            }
        }
        let ids: Box<[u32]> = layout.as_slice().into();
        // The buffer goes back to the probe, for the next placement.
        layout.clear();
        self.scratch.get_mut().probe.layout = layout;
        self.fill(slot, item_id, story, f, published, ids);
    }

    /// A free slot for a new item, or none: the item is held already, or the index is full.
    fn claim_slot(&mut self, item_id: i64) -> Option<u32> {
        if self.by_item.contains_key(&item_id) {
            return None;
        }
        match self.free.pop() {
            Some(slot) => Some(slot),
            None if self.entries.len() >= 1 << SLOT_BITS => {
                // 4 M items would take ~3 GB; the writer evicts long before. Not indexing an item loses no data.
                tracing::warn!(
                    item_id,
                    "the story index is full; the item is stored but not indexed"
                );
                None
            }
            None => {
                self.entries.push(None);
                self.times.push(0);
                self.ties.push(0);
                Some((self.entries.len() - 1) as u32)
            }
        }
    }

    /// Puts an item into `slot` (from `claim_slot`), `ids` its token ids as `Entry::ids` lays them out.
    fn fill(
        &mut self,
        slot: u32,
        item_id: i64,
        story: i64,
        f: &ItemFeatures,
        published: DateTime<Utc>,
        ids: Box<[u32]>,
    ) {
        let t = secs(published);
        let tie = tie_of(f);
        self.times[slot as usize] = t;
        self.ties[slot as usize] = tie;
        let (title_len, dropped_len) = (f.title_tokens.len(), f.title_dropped.len());
        let key = posting(t, tie, slot);
        let text = &ids[title_len + dropped_len..];
        for &id in text {
            self.postings[id as usize].insert(key);
        }
        let text_total = text.iter().map(|&id| self.weights[id as usize]).sum();
        self.by_time.insert((t, slot));
        self.by_item.insert(item_id, slot);
        self.entries[slot as usize] = Some(Entry {
            item_id,
            story,
            ids,
            title_len: title_len as u16,
            dropped_len: dropped_len as u16,
            title_boilerplate: f.title_boilerplate,
            text_total,
            // A copy, made here: the candidates a placement reads are mostly recent items, and their copies lie
            // near each other, where the features' own facts (allocated while the fetches were parsed) do not
            // (shared, they made `place/1000000` a third slower).
            facts: Box::new(f.facts.clone()),
        });
    }

    /// The id of `tok`, added to the vocabulary if it is new.
    fn intern(&mut self, tok: &Token) -> u32 {
        if let Some(&id) = self.vocabulary.get(tok.as_str()) {
            return id;
        }
        let id = self.postings.len() as u32;
        self.vocabulary.insert(tok.as_str().into(), id);
        self.words.push(tok.as_str().into());
        self.weights.push(weight(tok));
        self.postings.push(Postings::default());
        id
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
                affected.extend(e.text().iter().copied());
                self.by_item.remove(&e.item_id);
                evicted.push(slot);
            }
        }
        if evicted.is_empty() {
            return;
        }
        let entries = &self.entries;
        for id in affected {
            self.postings[id as usize].retain(|p| entries[slot_of(p) as usize].is_some());
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
#[path = "index_tests.rs"]
mod tests;
