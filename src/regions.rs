//! The region gazetteer: which region entities (countries, autonomous republics, wider regions) a text mentions.
//!
//! Entities, their spellings, places, leaders and demonyms live in `data/regions.toml` (embedded in the binary;
//! an operator may load another file). Every phrase is folded with [`crate::normalize`] and matched as a sequence
//! of whole words against the folded text, so hamza/alef/ta-marbuta variants, diacritics and clitics
//! (بكازاخستان، وأذربيجان، والأذربيجاني) need no listing. At each position the longest phrase wins, so
//! "أوسيتيا الشمالية" is not read as a partial "أوسيتيا الجنوبية" and "روسيا البيضاء" is not Russia.
//!
//! Ambiguous names (Georgia the US state, al-Bukhari the scholar, the Syrian "Astana talks") are handled with
//! per-entity `exclude` phrases: a match is ignored when an exclude phrase overlaps it or stands within
//! [`EXCLUDE_WINDOW`] words of it. One sense per item: once a phrase is excluded somewhere in an item (headline or
//! text), its other occurrences in that item mean the same thing ("ولاية جورجيا الأمريكية" in the lead, a bare
//! "جورجيا" further on), see [`Gazetteer::matches_item`]. The words of exclude phrases count as known words, so
//! a clitic in front of them is stripped like in front of a name ("بولاية جورجيا").
//!
//! The file may also list `[[foreign]]` countries. They are never returned by [`Gazetteer::tag`] (an item only
//! about them is off-region) but story clustering uses them to tell "a deal with the UAE" from "a deal with Saudi
//! Arabia".

mod load;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use sha2::{Digest, Sha256};

use load::Entry;
pub use load::GazetteerError;
pub(crate) use load::{Kind, PhraseKind};

use crate::model::EntityTag;
use crate::normalize;

/// How many words away an exclude phrase still suppresses a match ("أتلانتا بجورجيا" is one word away).
pub const EXCLUDE_WINDOW: usize = 3;

/// Bumped whenever the way matches become an item's tags or its relevance changes (exclusions, one sense per
/// item, the weighing of mentions), so items stored under older rules are re-tagged like a gazetteer change.
pub(crate) const RULES_VERSION: u32 = 2;

const BUILTIN: &str = include_str!("../data/regions.toml");

/// A percent sign spelled out, folded ("بالمئة").
const PERCENT_SPELLED: &str = "بالميه";

/// A loaded gazetteer, ready to tag text. Cheap to share by reference; immutable once built.
#[derive(Debug, Clone)]
pub struct Gazetteer {
    entries: Vec<Entry>,
    /// First word of a phrase → (entry, phrase) pairs starting with it. (FxHash: the keys are our own folded
    /// words, looked up for every word of every item.)
    by_first: FxHashMap<String, Vec<(usize, usize)>>,
    /// Every word that occurs in some phrase: lets a single-letter proclitic be stripped in front of it.
    known: FxHashSet<String>,
    /// Words of exclude phrases, at least one of each phrase (its words other than wildcards and stopwords, or
    /// all but wildcards if that leaves none): an exclude can only occur where one of them does.
    exclude_words: FxHashSet<String>,
    /// The most words an exclude phrase has.
    longest_exclude: usize,
    /// What a percent sign reads as ("بالمئة" after the gazetteer's clitic rule), see [`Gazetteer::words`].
    percent_word: &'static str,
    fingerprint: String,
}

/// One phrase occurrence in a word sequence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Match {
    /// Index of the entity in gazetteer order (including foreign entries, which come last).
    pub entry: usize,
    /// Which phrase of the entry matched.
    pub phrase: usize,
    pub start: usize,
    pub end: usize,
}

impl Gazetteer {
    /// The shipped `data/regions.toml`, embedded at compile time.
    pub fn builtin() -> Gazetteer {
        Self::parse_str(BUILTIN, Path::new("data/regions.toml (built in)"))
            .expect("the built-in gazetteer is validated by the test suite")
    }

    /// Loads a gazetteer file in the `data/regions.toml` format. Errors name the file, line and key to fix.
    pub fn load(path: &Path) -> Result<Gazetteer, GazetteerError> {
        let src = std::fs::read_to_string(path).map_err(|source| GazetteerError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse_str(&src, path)
    }

    /// Parses gazetteer text; `path` is only used in error messages.
    pub fn parse_str(src: &str, path: &Path) -> Result<Gazetteer, GazetteerError> {
        let entries = load::parse(src, path)?;
        let mut by_first: FxHashMap<String, Vec<(usize, usize)>> = FxHashMap::default();
        let mut known = FxHashSet::default();
        let mut exclude_words = FxHashSet::default();
        let mut longest_exclude = 0;
        for (ei, e) in entries.iter().enumerate() {
            for (pi, p) in e.phrases.iter().enumerate() {
                by_first.entry(p[0].clone()).or_default().push((ei, pi));
                known.extend(p.iter().filter(|w| !normalize::is_stopword(w)).cloned());
            }
            for x in &e.excludes {
                longest_exclude = longest_exclude.max(x.len());
                let words = || x.iter().filter(|w| *w != load::WILDCARD);
                let telling: Vec<&String> =
                    words().filter(|w| !normalize::is_stopword(w)).collect();
                if telling.is_empty() {
                    exclude_words.extend(words().cloned());
                } else {
                    exclude_words.extend(telling.into_iter().cloned());
                }
                known.extend(
                    x.iter()
                        .filter(|w| !normalize::is_stopword(w) && *w != load::WILDCARD)
                        .cloned(),
                );
            }
        }
        let mut h = Sha256::new();
        h.update(format!(
            "qafila-gazetteer normalize-v{} rules-v{RULES_VERSION}\n",
            normalize::VERSION
        ));
        h.update(src.as_bytes());
        let fingerprint = crate::text::hex(&h.finalize());
        let percent_word = normalize::strip_clitics(PERCENT_SPELLED, &|w| known.contains(w));
        Ok(Gazetteer {
            entries,
            by_first,
            known,
            exclude_words,
            longest_exclude,
            percent_word,
            fingerprint,
        })
    }

    /// The region entities `text` mentions, in gazetteer order, each once. Foreign countries are never returned.
    pub fn tag(&self, text: &str) -> Vec<EntityTag> {
        let folded = normalize::normalize(text);
        let words = self.words(&folded);
        self.tags_of(&self.matches(&words), false)
    }

    /// The region entity with this id.
    pub fn entity(&self, id: &str) -> Option<EntityTag> {
        self.entries
            .iter()
            .find(|e| *e.id == *id && e.kind != Kind::Foreign)
            .map(tag_of)
    }

    /// All region entities, in gazetteer order.
    pub fn entities(&self) -> Vec<EntityTag> {
        self.entries
            .iter()
            .filter(|e| e.kind != Kind::Foreign)
            .map(tag_of)
            .collect()
    }

    /// Changes whenever the data (or the folding it relies on) changes, so stored relevance can be re-evaluated.
    pub fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    /// Whether `word` (normalized) occurs in some phrase: a و/ب/ل/ف/ك in front of it is a clitic.
    pub fn is_known_word(&self, word: &str) -> bool {
        self.known.contains(word)
    }

    /// The clitic-stripped words of a text folded by [`normalize::fold_marking_percent`] (or by
    /// [`normalize::normalize`]), as the gazetteer matches them: stopwords kept, and a percent mark read as the
    /// spelled-out "بالمئة", so that "12%" and "12 بالمئة" quantify the same unit. The words borrow the folded
    /// text: an item's word lists cost one allocation each, not one per word.
    pub(crate) fn words<'a>(&self, folded: &'a str) -> Vec<&'a str> {
        folded
            .split(' ')
            .filter(|w| !w.is_empty())
            .map(|w| {
                if w == normalize::PERCENT_MARK {
                    self.percent_word
                } else {
                    normalize::strip_clitics(w, &|w| self.known.contains(w))
                }
            })
            .collect()
    }

    pub(crate) fn kind(&self, entry: usize) -> Kind {
        self.entries[entry].kind
    }

    /// What the matched phrase names.
    pub(crate) fn phrase_kind(&self, m: &Match) -> PhraseKind {
        self.entries[m.entry].kinds[m.phrase]
    }

    /// Whether the phrase names a place or person (specific to a story) rather than the entity itself.
    pub(crate) fn is_specific(&self, m: &Match) -> bool {
        matches!(self.phrase_kind(m), PhraseKind::Place | PhraseKind::Person)
    }

    /// Wider regions the entry lies in.
    pub(crate) fn part_of(&self, entry: usize) -> &Arc<[Arc<str>]> {
        &self.entries[entry].part_of
    }

    /// The id of the entry (shared, not copied).
    pub(crate) fn id_at(&self, entry: usize) -> &Arc<str> {
        &self.entries[entry].id
    }

    pub(crate) fn tag_at(&self, entry: usize) -> EntityTag {
        tag_of(&self.entries[entry])
    }

    /// Entity tags of `matches` in gazetteer order without duplicates; foreign ones only if asked.
    pub(crate) fn tags_of(&self, matches: &[Match], foreign: bool) -> Vec<EntityTag> {
        let mut hit = vec![false; self.entries.len()];
        for m in matches {
            hit[m.entry] = true;
        }
        (0..self.entries.len())
            .filter(|&i| hit[i] && (foreign || self.entries[i].kind != Kind::Foreign))
            .map(|i| self.tag_at(i))
            .collect()
    }

    /// Matches in each part of one item (headline, text), one sense per item: a phrase excluded in one place is
    /// dropped everywhere in the item.
    pub(crate) fn matches_item(&self, parts: &[&[&str]]) -> Vec<Vec<Match>> {
        let raw: Vec<Vec<Match>> = parts.iter().map(|w| self.raw_matches(w)).collect();
        let mut other_sense: Vec<(usize, usize)> = Vec::new();
        for (words, ms) in parts.iter().zip(&raw) {
            if ms.is_empty() {
                continue;
            }
            let flags = self.exclude_flags(words);
            for m in ms.iter().filter(|m| self.excluded(words, &flags, m)) {
                other_sense.push((m.entry, m.phrase));
            }
        }
        let mut kept = raw;
        if !other_sense.is_empty() {
            for ms in &mut kept {
                ms.retain(|m| !other_sense.contains(&(m.entry, m.phrase)));
            }
        }
        kept
    }

    /// Non-overlapping phrase matches in `words` (leftmost, then longest), with excluded ones removed.
    pub(crate) fn matches(&self, words: &[&str]) -> Vec<Match> {
        let mut found = self.raw_matches(words);
        let flags = self.exclude_flags(words);
        found.retain(|m| !self.excluded(words, &flags, m));
        found
    }

    /// Every phrase occurrence, exclusions not yet applied.
    fn raw_matches(&self, words: &[&str]) -> Vec<Match> {
        let mut found = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let best = self.by_first.get(words[i]).and_then(|cands| {
                cands
                    .iter()
                    .filter(|&&(e, p)| starts_with(&words[i..], &self.entries[e].phrases[p]))
                    .max_by_key(|&&(e, p)| (self.entries[e].phrases[p].len(), std::cmp::Reverse(e)))
            });
            match best {
                Some(&(e, p)) => {
                    let end = i + self.entries[e].phrases[p].len();
                    found.push(Match {
                        entry: e,
                        phrase: p,
                        start: i,
                        end,
                    });
                    i = end;
                }
                None => i += 1,
            }
        }
        found
    }

    /// Which of `words` occur in some exclude phrase.
    fn exclude_flags(&self, words: &[&str]) -> Vec<bool> {
        words
            .iter()
            .map(|w| self.exclude_words.contains(*w))
            .collect()
    }

    /// `flags`: [`Gazetteer::exclude_flags`] of `words`.
    fn excluded(&self, words: &[&str], flags: &[bool], m: &Match) -> bool {
        let lo = m.start.saturating_sub(EXCLUDE_WINDOW);
        let hi = (m.end + EXCLUDE_WINDOW).min(words.len());
        // Every exclude phrase has a word that is no wildcard, so an occurrence intersecting [lo, hi) has one of
        // the exclude words within reach; most matches have none (then no phrase is compared at all).
        let reach =
            lo.saturating_sub(self.longest_exclude)..(hi + self.longest_exclude).min(words.len());
        if !flags[reach].contains(&true) {
            return false;
        }
        // Any exclude occurrence intersecting [lo, hi) suppresses the match.
        self.entries[m.entry]
            .excludes
            .iter()
            .any(|x| (lo.saturating_sub(x.len() - 1)..hi).any(|s| phrase_at(&words[s..], x)))
    }
}

/// Whether `words` starts with the phrase `p`.
fn starts_with(words: &[&str], p: &[String]) -> bool {
    words.len() >= p.len() && p.iter().zip(words).all(|(p, w)| p == w)
}

/// Whether `words` starts with the exclude phrase `x` (a `*` word matches any one word).
fn phrase_at(words: &[&str], x: &[String]) -> bool {
    words.len() >= x.len()
        && x.iter()
            .zip(words)
            .all(|(p, w)| p == load::WILDCARD || p == w)
}

fn tag_of(e: &Entry) -> EntityTag {
    EntityTag {
        id: e.id.to_string(),
        name: e.name.clone(),
    }
}
