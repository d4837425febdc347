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
#[path = "boilerplate_tests.rs"]
mod tests;
