//! The words the search index holds for a text, and the index words a query word is looked up under.
//!
//! Both sides start from the matching normalizer ([`normalize::tokens`]): hamza/alef forms, ى/ي, ة/ه, diacritics,
//! tatweel, Persian letters and digits are folded, stopwords dropped, and the article with its prepositions
//! (ال، بال، وال، لل، كال، فال…) stripped. Two search-only steps follow:
//!
//! - **suffixes**: [`stem`] takes off feminine, nisba, plural and pronoun endings (ية، ات، ون، ين، ة/ه، ي) as long
//!   as three letters stay, repeatedly, so "الكازاخستانية", "كازاخستاني" and "كازاخستانيين" are all indexed as
//!   "كازاخستان", and "ولاية"/"ولايات" meet. Proper nouns ending in ان (إيران، أذربيجان) are never cut there.
//! - **single-letter proclitics** (و ب ل ف ك and the pairs وب ول فب فل وك) cannot be stripped blindly at index
//!   time — "كازاخستان" itself starts with ك, "بيشكيك" with ب, "لبنان" with ل — so the index keeps them, and a
//!   query word is looked up under each proclitic form ([`lookup_forms`]): "كازاخستان" finds "بكازاخستان",
//!   "وكازاخستان" and "لكازاخستانية". A query word the gazetteer knows behind a proclitic ("بكازاخستان") is reduced
//!   to the bare word first, as story matching does.
//! - **attached pronouns** (ها، هم، هما، هن، نا، كم، ه، ي): a feminine noun's ة is written ت before one
//!   ("عاصمة" → "عاصمتها"), which no suffix rule can undo without also cutting real ت endings (وقت، بيروت). The
//!   index keeps such words as they are; the query side bridges them ([`lookup_forms`]): a query word with a
//!   pronoun is also read as its bare noun ("عاصمتها" → "عاصمة", "سياساتهم" → "سياسات"), and a word is also
//!   looked up under its pronoun forms ("عاصمة" finds "عاصمتها", "لعاصمتهم", "عاصمته"; "اقتصاد" "اقتصادها").
//!
//! Every index word is one FTS5 token: the folded text contains only letters, digits and a `.` inside numbers, and
//! the index's `ascii` tokenizer (with `.` as a token character) splits it exactly at the spaces this module puts.

use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use crate::normalize;

/// Bumped whenever the words stored for a text change (with [`normalize::VERSION`]): a stored index built by
/// another version is rebuilt when the database is opened.
pub(crate) const VERSION: u32 = 1;

/// What the index records about the tokenization it was built with.
pub(crate) fn index_version() -> String {
    format!("normalize {} / search {}", normalize::VERSION, VERSION)
}

/// Endings [`stem`] removes, longest first within each family.
const SUFFIXES: &[&str] = &["يه", "ات", "ون", "ين", "ه", "ي"];

/// Single-letter proclitics and their pairs, which the index keeps attached (see the module doc).
const PROCLITICS: &[&str] = &["و", "ب", "ل", "ف", "ك", "وب", "ول", "فب", "فل", "وك"];

/// Fewest letters a stem keeps: below three an Arabic word has no root left to match on.
const MIN_STEM: usize = 3;

/// Removes endings from one folded word until none applies or three letters are left (see the module doc).
pub(crate) fn stem(word: &str) -> &str {
    let mut w = word;
    // Every ending ends in one of these letters: most words are left as they are after one look at their end.
    while w.ends_with(SUFFIX_ENDS) {
        let Some(rest) = SUFFIXES.iter().find_map(|s| {
            w.strip_suffix(s)
                .filter(|r| normalize::has_chars(r, MIN_STEM))
        }) else {
            break;
        };
        w = rest;
    }
    w
}

/// The last letters of [`SUFFIXES`].
const SUFFIX_ENDS: [char; 4] = ['ه', 'ت', 'ن', 'ي'];

/// The index words of `text`, in order: folded, stopwords dropped, article stripped, stemmed.
#[cfg(test)]
pub(crate) fn index_words(text: &str) -> Vec<String> {
    index_words_of_folded(&normalize::normalize(text))
        .map(str::to_string)
        .collect()
}

/// [`index_words`] of a text already folded by [`normalize::normalize`] or [`normalize::fold_marking_percent`]
/// (whose percent marks are separators here, as they are for `normalize`), borrowed from it: the words
/// [`normalize::tokens`] gives, stemmed.
pub(crate) fn index_words_of_folded(folded: &str) -> impl Iterator<Item = &str> {
    split_at_spaces(folded).filter_map(|w| {
        if w.is_empty() || w == normalize::PERCENT_MARK {
            return None;
        }
        let bare = match kept_word(w) {
            Some(Kept::Stopword) => return None,
            Some(Kept::Whole) => w,
            None => match w.starts_with(normalize::CLITIC_INITIALS) {
                true => match normalize::strip_article(w) {
                    Some(rest) if normalize::is_stopword(rest) => return None,
                    Some(rest) => rest,
                    None => w,
                },
                false => w,
            },
        };
        Some(stem(bare))
    })
}

/// `text.split(' ')`, found by looking at each byte: a word is a few bytes, and `split` calls `memchr`
/// for each, whose setup costs more than the word (a fifth of the search index's folding thread).
fn split_at_spaces(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    std::iter::from_fn(move || {
        let rest = text.as_bytes().get(start..)?;
        let end = rest
            .iter()
            .position(|&b| b == b' ')
            .map_or(text.len(), |at| start + at);
        let word = &text[start..end];
        start = end + 1;
        Some(word)
    })
}

/// A word [`normalize::strip_clitics`] keeps whole ([`normalize::kept_words`]), and whether it is a stopword.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kept {
    Stopword,
    Whole,
}

/// What [`normalize::kept_words`] says of a folded word, in one lookup (none for a word longer than all of them).
///
/// **Why not `strip_clitics(word, &|_| false)`.** That is the index's rule, and the same: a kept word stays whole,
/// else an article comes off if one does. But it is written for story matching, where a single-letter proclitic
/// comes off in front of a word the gazetteer knows: for a word starting with و, ب, ل, ف or ك it strips the
/// proclitic and the article behind it to ask whether the rest is known, which the index never lets be. With the
/// stopword check before it, that was three or four set lookups for a common word where one does (the search
/// index's folding thread spent ~25 ms of a 10 000-item round here).
fn kept_word(word: &str) -> Option<Kept> {
    static KEPT: OnceLock<(usize, FxHashMap<&'static str, Kept>)> = OnceLock::new();
    let (longest, kept) = KEPT.get_or_init(|| {
        let kept: FxHashMap<&'static str, Kept> = normalize::kept_words()
            .map(|w| match normalize::is_stopword(w) {
                true => (w, Kept::Stopword),
                false => (w, Kept::Whole),
            })
            .collect();
        (kept.keys().map(|w| w.len()).max().unwrap_or(0), kept)
    });
    if word.len() > *longest {
        return None;
    }
    kept.get(word).copied()
}

/// The index words of a folded text as the index stores them: separated by single spaces.
pub(crate) fn index_line(folded: &str) -> String {
    let mut line = String::with_capacity(folded.len());
    for w in index_words_of_folded(folded) {
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(w);
    }
    line
}

/// The folded, article-stripped (not yet stemmed) words of a query fragment. `is_known` lets a word the gazetteer
/// knows lose a single-letter proclitic, as in story matching.
pub(crate) fn query_words(text: &str, is_known: &dyn Fn(&str) -> bool) -> Vec<String> {
    normalize::tokens_with(text, is_known)
}

/// Pronouns attached to a noun, the commoner in news first (none is the end of another). The index keeps them on
/// the word (see the module doc).
const PRONOUNS: &[&str] = &["ه", "ها", "هم", "هما", "نا", "هن", "كم", "ي"];

/// The pronouns distinctive enough to read off any word ending in them: نا and كم end too many plain words
/// (أستانا، تراكم), and ه/ي are [`stem`]'s business anyway.
const LONG_PRONOUNS: &[&str] = &["هما", "ها", "هم", "هن"];

/// The folded query word itself, and the bare noun under an attached pronoun: "عاصمتها" is also "عاصمه" (its ة
/// came back) and "عاصمت"; "سياساتهم" is also "سياسات". A word carrying a pronoun is a noun, so a proclitic in
/// front of it is taken off as well: "لعاصمتها" is also read as "عاصمتها", "عاصمه", "عاصمت". (A proclitic alone is
/// never taken off a query word: "كبير" is not "بير".)
fn readings(word: &str) -> Vec<String> {
    let mut readings = pronoun_readings(word);
    if readings.len() > 1 {
        for rest in PROCLITICS.iter().filter_map(|p| word.strip_prefix(p)) {
            let under = pronoun_readings(rest);
            if under.len() > 1 && rest.chars().count() >= MIN_STEM {
                for r in under {
                    if !readings.contains(&r) {
                        readings.push(r);
                    }
                }
            }
        }
    }
    readings
}

/// The word, and the noun under an attached pronoun (see [`readings`]).
fn pronoun_readings(word: &str) -> Vec<String> {
    let mut readings = vec![word.to_string()];
    let letters = |w: &str| w.chars().count();
    if let Some(noun) = PRONOUNS
        .iter()
        .find_map(|p| word.strip_suffix(p)?.strip_suffix('ت'))
        .filter(|n| letters(n) >= 2 && !n.ends_with('ا'))
    {
        readings.push(format!("{noun}ه"));
    }
    if let Some(bare) = LONG_PRONOUNS
        .iter()
        .find_map(|p| word.strip_suffix(p))
        .filter(|b| letters(b) >= MIN_STEM)
    {
        readings.push(bare.to_string());
    }
    readings
}

/// The pronouns a query for a noun ending in ة looks for after it, written with ت: the ones news text uses
/// (its, their, our). ه and ي need no entry: "عاصمته" and "عاصمتي" are stored as "عاصمت".
const WRITTEN_PRONOUNS: &[&str] = &["ها", "هم", "هما", "نا"];

/// The proclitics looked for in front of a pronoun form: the common ones ("وعاصمتها", "بعاصمتهم", "لحكومتنا");
/// every combination would triple a word's forms for spellings news text hardly has.
const PRONOUN_FORM_PROCLITICS: usize = 4;

/// The words an item may write for a noun reading: the noun, and the noun with an attached pronoun — after a ة
/// (folded to ه) written ت ("عاصمه" → "عاصمت", "عاصمتها", "عاصمتهم"…), after other letters as it is
/// ("اقتصاد" → "اقتصادها", "اقتصادهم").
fn written_forms(reading: &str) -> Vec<String> {
    let mut forms = vec![reading.to_string()];
    if let Some(base) = reading.strip_suffix('ه').filter(|b| b.chars().count() >= 2) {
        forms.push(format!("{base}ت"));
        forms.extend(WRITTEN_PRONOUNS.iter().map(|p| format!("{base}ت{p}")));
    } else if reading.chars().count() >= MIN_STEM && !reading.ends_with(['ا', 'ي']) {
        forms.extend(WRITTEN_PRONOUNS.iter().map(|p| format!("{reading}{p}")));
    }
    forms
}

/// The index words under which a query word (from [`query_words`]) is found, likeliest first: for each reading
/// of it (itself, the noun under an attached pronoun), each way an item may write that noun (with a pronoun after
/// a ة) with a proclitic in front ("و"+word, "ب"+word…; the common ones only before a pronoun form), the word
/// [`index_words`] stores for it — about 30 forms for a noun ending in ة, 27 for most words. Within a reading
/// the forms come in order of how many steps they are from the plain word (a proclitic's rank plus a pronoun's),
/// so a phrase that keeps only its words' first forms keeps a mix of both. Numbers and words shorter than three
/// letters are looked up as they are (a proclitic in front of "5" or "اب" is noise, not a form).
pub(crate) fn lookup_forms(word: &str) -> Vec<String> {
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    if letters < MIN_STEM || word.chars().any(|c| c.is_ascii()) {
        return vec![stem(word).to_string()];
    }
    let proclitics: Vec<&str> = std::iter::once("")
        .chain(PROCLITICS.iter().copied())
        .collect();
    let mut forms: Vec<String> = Vec::new();
    for reading in readings(word) {
        let written = written_forms(&reading);
        let mut ranked: Vec<(usize, String)> = Vec::new();
        for (w, form) in written.iter().enumerate() {
            let in_front = if w == 0 {
                &proclitics[..]
            } else {
                &proclitics[..PRONOUN_FORM_PROCLITICS]
            };
            for (p, proclitic) in in_front.iter().enumerate() {
                ranked.push((w + p, format!("{proclitic}{form}")));
            }
        }
        ranked.sort_by_key(|(rank, _)| *rank);
        for (_, surface) in ranked {
            let form = stem(&surface);
            if !forms.iter().any(|f| f == form) {
                forms.push(form.to_string());
            }
        }
    }
    forms
}

#[cfg(test)]
#[path = "words_tests.rs"]
mod tests;
