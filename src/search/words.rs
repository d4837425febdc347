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
//!
//! Every index word is one FTS5 token: the folded text contains only letters, digits and a `.` inside numbers, and
//! the index's `ascii` tokenizer (with `.` as a token character) splits it exactly at the spaces this module puts.

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
    while let Some(rest) = SUFFIXES
        .iter()
        .find_map(|s| w.strip_suffix(s).filter(|r| r.chars().count() >= MIN_STEM))
    {
        w = rest;
    }
    w
}

/// The index words of `text`, in order: folded, stopwords dropped, article stripped, stemmed.
pub(crate) fn index_words(text: &str) -> Vec<String> {
    normalize::tokens(text)
        .iter()
        .map(|w| stem(w).to_string())
        .collect()
}

/// The folded, article-stripped (not yet stemmed) words of a query fragment. `is_known` lets a word the gazetteer
/// knows lose a single-letter proclitic, as in story matching.
pub(crate) fn query_words(text: &str, is_known: &dyn Fn(&str) -> bool) -> Vec<String> {
    normalize::tokens_with(text, is_known)
}

/// The index words under which a query word (from [`query_words`]) is found: its stem, and the stem of every
/// proclitic form of it — exactly what [`index_words`] stores for "و"+word, "ب"+word… Numbers and words shorter
/// than three letters are looked up as they are (a proclitic in front of "5" or "اب" is noise, not a form).
pub(crate) fn lookup_forms(word: &str) -> Vec<String> {
    let mut forms = vec![stem(word).to_string()];
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    if letters < MIN_STEM || word.chars().any(|c| c.is_ascii()) {
        return forms;
    }
    for p in PROCLITICS {
        let form = stem(&format!("{p}{word}")).to_string();
        if !forms.contains(&form) {
            forms.push(form);
        }
    }
    forms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> String {
        index_words(text).join(" ")
    }

    #[test]
    fn spellings_fold_to_one_index_word() {
        let bare = one("كازاخستان");
        for variant in [
            "كازاخستان",
            "كَازَاخِسْتَانْ",
            "كازاخـــستان",
            "الكازاخستانية",
            "والكازاخستانيين",
            "كازاخستاني",
        ] {
            assert_eq!(one(variant), bare, "{variant}");
        }
        assert_eq!(one("أذربيجان"), one("اذربيجان"));
        assert_eq!(one("إيران"), "ايران");
        assert_eq!(one("مستشفى"), one("مستشفي"));
        assert_eq!(one("القمة"), one("قمه"));
        assert_eq!(one("٢٠٢٦"), "2026");
        assert_eq!(one("۳٫۵"), "3.5");
        assert_eq!(one("گاز"), one("كاز"));
    }

    #[test]
    fn plural_and_singular_meet() {
        assert_eq!(one("ولاية"), one("الولايات"));
        assert_eq!(one("اتفاقية"), one("الاتفاقيات"));
        assert_eq!(one("انتخابات"), one("الانتخاب"));
    }

    #[test]
    fn short_words_and_names_keep_their_letters() {
        assert_eq!(stem("صين"), "صين");
        assert_eq!(stem("بكين"), "بكين");
        assert_eq!(stem("ايران"), "ايران");
        assert_eq!(stem("غاز"), "غاز");
    }

    #[test]
    fn stopwords_are_not_indexed() {
        assert_eq!(one("في كازاخستان من أجل الغاز"), "كازاخستان اجل غاز");
    }

    #[test]
    fn proclitic_forms_are_looked_up() {
        let forms = lookup_forms("كازاخستان");
        for surface in ["بكازاخستان", "وكازاخستان", "لكازاخستانية", "وبكازاخستان"]
        {
            let stored = one(surface);
            assert!(
                forms.contains(&stored),
                "{surface} → {stored} not in {forms:?}"
            );
        }
        assert_eq!(lookup_forms("2026"), vec!["2026"]);
        assert_eq!(lookup_forms("اب"), vec!["اب"]);
    }

    #[test]
    fn gazetteer_words_lose_their_proclitic_in_queries() {
        let known = |w: &str| w == "كازاخستان";
        assert_eq!(query_words("بكازاخستان", &known), vec!["كازاخستان"]);
        assert_eq!(query_words("بالغاز", &known), vec!["غاز"]);
    }
}
