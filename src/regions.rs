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

use crate::dedup::FigureWord;
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
    /// What every word the rules know is to them, found with one lookup (see [`Lex`]). (FxHash: the keys are
    /// our own folded words, looked up for every word of every item.)
    lexicon: FxHashMap<Box<str>, Lex>,
    /// The phrases starting with a word, indexed by [`Lex::first`].
    first_lists: Vec<PhraseList>,
    /// Every word that occurs in some phrase: lets a single-letter proclitic be stripped in front of it.
    known: FxHashSet<String>,
    /// The most words an exclude phrase has.
    longest_exclude: usize,
    /// What a percent sign reads as ("بالمئة" after the gazetteer's clitic rule), see [`Gazetteer::words`].
    percent_word: &'static str,
    /// Its lexicon entry.
    percent_lex: Lex,
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

/// The words of a folded text (`folded.split(' ')` without empty pieces), found by a walk over its bytes eight at
/// a time ([`next_space`]): words are a few letters long, and searching for each space with `memchr` cost more
/// than a walk, and a walk a byte at a time most of what reading an item's words took.
fn folded_words(folded: &str) -> impl Iterator<Item = &str> {
    let bytes = folded.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        while start < bytes.len() {
            let end = next_space(bytes, start);
            let word = &folded[start..end];
            start = end + 1;
            if !word.is_empty() {
                return Some(word);
            }
        }
        None
    })
}

/// The index of the first space in `bytes` from `from` on (`bytes.len()` for none). Eight bytes are read as one
/// number and a space among them found by the "has a zero byte" test on the number XOR eight spaces: its lowest
/// flagged byte is the first zero byte (a borrow can flag bytes only above a true one).
#[inline]
fn next_space(bytes: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    let mut i = from;
    while let Some(chunk) = bytes.get(i..).and_then(|rest| rest.first_chunk::<8>()) {
        let x = u64::from_le_bytes(*chunk) ^ (ONES * u64::from(b' '));
        let zeros = x.wrapping_sub(ONES) & !x & HIGHS;
        if zeros != 0 {
            return i + (zeros.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    bytes[i..]
        .iter()
        .position(|&b| b == b' ')
        .map_or(bytes.len(), |n| i + n)
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
        let WordSets {
            by_first,
            known,
            exclude_words,
            longest_exclude,
        } = word_sets(&entries);
        let mut h = Sha256::new();
        h.update(format!(
            "qafila-gazetteer normalize-v{} rules-v{RULES_VERSION}\n",
            normalize::VERSION
        ));
        h.update(src.as_bytes());
        let fingerprint = crate::text::hex(&h.finalize());
        let percent_word = normalize::strip_clitics(PERCENT_SPELLED, &|w| known.contains(w));
        let (lexicon, first_lists) = lexicon(&by_first, &known, &exclude_words);
        let percent_lex = lexicon.get(percent_word).copied().unwrap_or_default();
        Ok(Gazetteer {
            entries,
            lexicon,
            first_lists,
            known,
            longest_exclude,
            percent_word,
            percent_lex,
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
        self.words_lexed(folded).text
    }

    /// [`Gazetteer::words`] with each word's lexicon entry, found while its clitics are stripped: one or two
    /// lookups a word answer everything the rules ask of it (phrases starting with it, exclusions, stopwords,
    /// figures), where each rule used to look it up in a set of its own.
    pub(crate) fn words_lexed<'a>(&self, folded: &'a str) -> Words<'a> {
        self.words_lexed_up_to(folded, usize::MAX)
    }

    /// The first `most` words of [`Gazetteer::words_lexed`]: the words after them are not read at all.
    pub(crate) fn words_lexed_up_to<'a>(&self, folded: &'a str, most: usize) -> Words<'a> {
        // At most one word per two bytes (a letter and a space): the lists never grow, and the spaces are not
        // counted first (a pass over every byte).
        let n = (folded.len() / 2 + 1).min(most);
        let mut words = Words {
            text: Vec::with_capacity(n),
            lex: Vec::with_capacity(n),
        };
        for w in folded_words(folded).take(most) {
            let (w, lex) = if w == normalize::PERCENT_MARK {
                (self.percent_word, self.percent_lex)
            } else {
                self.strip_clitics(w)
            };
            words.text.push(w);
            words.lex.push(lex);
        }
        words
    }

    /// The lexicon entry of a folded, clitic-stripped word (the default for a word the rules do not know).
    #[inline]
    pub(crate) fn lex(&self, word: &str) -> Lex {
        self.lexicon.get(word).copied().unwrap_or_default()
    }

    /// `normalize::strip_clitics(word, known)` with the gazetteer's known words, and the lexicon entry of the
    /// word it returns. The same steps, in the same order, each "is it kept / known" answered by the lexicon
    /// (a unit test and a proptest compare the two).
    fn strip_clitics<'a>(&self, word: &'a str) -> (&'a str, Lex) {
        let head = normalize::head(word);
        if !normalize::starts_with_clitic_initial(head) {
            return (word, self.lex(word));
        }
        let whole = self.lex(word);
        if whole.flags & (Lex::KEEP | Lex::KNOWN) != 0 {
            return (word, whole);
        }
        if let Some(rest) = normalize::strip_article_at(word, head) {
            return (rest, self.lex(rest));
        }
        for p in &normalize::PROCLITIC_PREFIXES {
            if let Some(rest) = p.strip(word, head) {
                if normalize::has_chars(rest, 2) {
                    let rest_lex = self.lex(rest);
                    if rest_lex.flags & Lex::KNOWN != 0 {
                        return (rest, rest_lex);
                    }
                    // `strip_clitics(rest, none)`: only an article can come off (a proclitic needs a known
                    // word behind it), and none does from a word kept whole.
                    let rest_head = normalize::head(rest);
                    if normalize::starts_with_clitic_initial(rest_head)
                        && rest_lex.flags & Lex::KEEP == 0
                    {
                        if let Some(inner) = normalize::strip_article_at(rest, rest_head) {
                            let inner_lex = self.lex(inner);
                            if inner_lex.flags & Lex::KNOWN != 0 {
                                return (inner, inner_lex);
                            }
                        }
                    }
                }
            }
        }
        (word, whole)
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
        // The entries matched, in gazetteer order (their index), each once: an item matches a few, and going
        // through every entry of the gazetteer for them was most of what tagging took.
        let mut hit: Vec<usize> = matches
            .iter()
            .map(|m| m.entry)
            .filter(|&i| foreign || self.entries[i].kind != Kind::Foreign)
            .collect();
        hit.sort_unstable();
        hit.dedup();
        hit.into_iter().map(|i| self.tag_at(i)).collect()
    }

    /// Matches in each part of one item (headline, text), one sense per item: a phrase excluded in one place is
    /// dropped everywhere in the item.
    pub(crate) fn matches_item(&self, parts: &[&Words]) -> Vec<Vec<Match>> {
        let raw: Vec<Vec<Match>> = parts.iter().map(|w| self.raw_matches(w)).collect();
        let mut other_sense: Vec<(usize, usize)> = Vec::new();
        for (words, ms) in parts.iter().zip(&raw) {
            if ms.is_empty() {
                continue;
            }
            let flags = exclude_flags(&words.lex);
            let words = &words.text[..];
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
        let words = Words {
            text: words.to_vec(),
            lex: words.iter().map(|w| self.lex(w)).collect(),
        };
        let mut found = self.raw_matches(&words);
        let flags = exclude_flags(&words.lex);
        found.retain(|m| !self.excluded(&words.text, &flags, m));
        found
    }

    /// Every phrase occurrence, exclusions not yet applied.
    fn raw_matches(&self, words: &Words) -> Vec<Match> {
        let (lex, words) = (&words.lex, &words.text);
        let mut found = Vec::new();
        let mut i = 0;
        while i < words.len() {
            let best = lex[i]
                .first()
                .map(|f| &self.first_lists[f])
                .and_then(|cands| {
                    cands
                        .iter()
                        .filter(|&&(e, p)| starts_with(&words[i..], &self.entries[e].phrases[p]))
                        .max_by_key(|&&(e, p)| {
                            (self.entries[e].phrases[p].len(), std::cmp::Reverse(e))
                        })
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

/// The words of a gazetteer's phrases, as each rule reads them; the lexicon is built from these.
struct WordSets {
    /// First word of a phrase → (entry, phrase) pairs starting with it.
    by_first: FxHashMap<String, Vec<(usize, usize)>>,
    /// Every word that occurs in some phrase or exclude phrase (stopwords aside).
    known: FxHashSet<String>,
    /// Words of exclude phrases, at least one of each phrase (its words other than wildcards and stopwords, or
    /// all but wildcards if that leaves none): an exclude can only occur where one of them does.
    exclude_words: FxHashSet<String>,
    /// The most words an exclude phrase has.
    longest_exclude: usize,
}

fn word_sets(entries: &[Entry]) -> WordSets {
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
            let telling: Vec<&String> = words().filter(|w| !normalize::is_stopword(w)).collect();
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
    WordSets {
        by_first,
        known,
        exclude_words,
        longest_exclude,
    }
}

/// Which words occur in some exclude phrase, from their lexicon entries.
fn exclude_flags(lex: &[Lex]) -> Vec<bool> {
    lex.iter().map(|l| l.flags & Lex::EXCLUDE != 0).collect()
}

/// The words of a folded text as the gazetteer matches them ([`Gazetteer::words`]), each with its lexicon entry.
#[derive(Debug, Clone, Default)]
pub(crate) struct Words<'a> {
    pub(crate) text: Vec<&'a str>,
    /// `lex[k]`: the entry of `text[k]`.
    pub(crate) lex: Vec<Lex>,
}

/// What the rules know of one folded word, found with one lookup in the gazetteer's lexicon: whether it keeps its
/// clitics (a stopword, a word like الله) or is a gazetteer word (so a proclitic in front of it comes off),
/// whether it is a stopword or a word of an exclude phrase, which phrases start with it, and what it says as a
/// figure. Built once with the gazetteer from the sets each rule used before (a test checks them word by word).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Lex {
    flags: u8,
    /// 1 + the index of the phrases starting with the word in `first_lists`, 0 for none.
    first: u32,
    /// The number, scale or month the word is.
    pub(crate) figure: FigureWord,
}

impl Lex {
    /// A stopword, or a word that looks like article + word but is not: never stripped.
    const KEEP: u8 = 1;
    /// A word of some phrase or exclude phrase: a single-letter proclitic in front of it comes off.
    const KNOWN: u8 = 2;
    /// A word of an exclude phrase.
    const EXCLUDE: u8 = 4;
    /// A stopword ([`normalize::is_stopword`]).
    const STOP: u8 = 8;

    /// Whether the word is a stopword.
    pub(crate) fn is_stopword(self) -> bool {
        self.flags & Lex::STOP != 0
    }

    fn first(self) -> Option<usize> {
        (self.first > 0).then(|| self.first as usize - 1)
    }
}

/// The (entry, phrase) pairs of the phrases starting with one word.
type PhraseList = Vec<(usize, usize)>;

/// The lexicon of a gazetteer: every word some rule knows, with what each rule says of it.
fn lexicon(
    by_first: &FxHashMap<String, Vec<(usize, usize)>>,
    known: &FxHashSet<String>,
    exclude_words: &FxHashSet<String>,
) -> (FxHashMap<Box<str>, Lex>, Vec<PhraseList>) {
    let mut words: Vec<String> = by_first.keys().cloned().collect();
    words.extend(known.iter().cloned());
    words.extend(exclude_words.iter().cloned());
    words.extend(normalize::kept_words().map(str::to_string));
    words.extend(FigureWord::vocabulary());
    words.sort();
    words.dedup();
    let mut first_lists = Vec::new();
    let lexicon = words
        .into_iter()
        .map(|w| {
            let mut flags = 0;
            for (set, flag) in [
                (normalize::keeps_clitics(&w), Lex::KEEP),
                (known.contains(&w), Lex::KNOWN),
                (exclude_words.contains(&w), Lex::EXCLUDE),
                (normalize::is_stopword(&w), Lex::STOP),
            ] {
                if set {
                    flags |= flag;
                }
            }
            let first = by_first.get(&w).map_or(0, |cands| {
                first_lists.push(cands.clone());
                first_lists.len() as u32
            });
            let lex = Lex {
                flags,
                first,
                figure: FigureWord::of(&w),
            };
            (w.into_boxed_str(), lex)
        })
        .collect();
    (lexicon, first_lists)
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
