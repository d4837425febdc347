//! The index words: spellings, plurals, pronoun endings and proclitics meeting in one word, stopwords left out,
//! and the byte-level fast paths (splitting, stems, kept words) checked against the rules they stand for.

use super::*;
use proptest::prelude::*;

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

proptest! {
    /// The words stored for a text are its matching tokens, stemmed — also when they are read off the text
    /// folded with its percent signs marked (the fold ingest shares with story matching).
    #[test]
    fn index_words_are_the_stemmed_tokens(s in "[ \\x{0600}-\\x{06FF}a-z0-9%٪.,]{0,60}") {
        let tokens: Vec<String> = normalize::tokens(&s).iter().map(|w| stem(w).to_string()).collect();
        prop_assert_eq!(index_words(&s), tokens.clone());
        prop_assert_eq!(index_line(&normalize::fold_marking_percent(&s)), tokens.join(" "));
    }
}

/// Arabic letters, with the clitic initials and the letters of the article over-represented.
const WORD_LETTERS: &str = "[اوبكفللالتيهنمعذرس]";

proptest! {
    /// The one-lookup rule is `strip_clitics` without known words, with stopwords before and after it dropped.
    #[test]
    fn index_words_follow_strip_clitics(
        words in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::sample::select(normalize::kept_words().collect::<Vec<_>>())
                    .prop_map(str::to_string),
                proptest::string::string_regex(&format!("{WORD_LETTERS}{{1,9}}")).unwrap(),
                proptest::sample::select(vec!["ال", "وال", "بال", "لل", "و", "ب"])
                    .prop_flat_map(|p| proptest::sample::select(normalize::kept_words().collect::<Vec<_>>())
                        .prop_map(move |w| format!("{p}{w}"))),
            ],
            0..12,
        )
    ) {
        let folded = words.join(" ");
        let by_strip_clitics: Vec<&str> = folded
            .split(' ')
            .filter(|w| !w.is_empty() && *w != normalize::PERCENT_MARK && !normalize::is_stopword(w))
            .map(|w| normalize::strip_clitics(w, &|_| false))
            .filter(|w| !normalize::is_stopword(w))
            .map(stem)
            .collect();
        prop_assert_eq!(index_words_of_folded(&folded).collect::<Vec<_>>(), by_strip_clitics);
    }
}

proptest! {
    #[test]
    fn words_are_split_at_spaces_as_split_does(s in "[ ab\\x{0600}-\\x{0610}]{0,12}") {
        prop_assert_eq!(split_at_spaces(&s).collect::<Vec<_>>(), s.split(' ').collect::<Vec<_>>());
    }

    #[test]
    fn stems_are_the_endings_taken_off_one_by_one(w in "[اوبكهتنيمسر]{0,9}") {
        let mut by_rule = w.as_str();
        while let Some(rest) = SUFFIXES.iter().find_map(|s| {
            by_rule.strip_suffix(s).filter(|r| normalize::has_chars(r, MIN_STEM))
        }) {
            by_rule = rest;
        }
        prop_assert_eq!(stem(&w), by_rule);
    }
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

/// Whether the query word finds the item word: the item's index word is among the query's lookup forms.
fn finds(query: &str, surface: &str) -> bool {
    let stored = one(surface);
    let query = query_words(query, &|_| false);
    query.len() == 1 && lookup_forms(&query[0]).contains(&stored)
}

#[test]
fn a_pronoun_after_ta_marbuta_meets_the_bare_noun() {
    for (query, surface) in [
        ("عاصمتها", "عاصمة"),
        ("عاصمتها", "العاصمة"),
        ("عاصمتهم", "وعاصمة"),
        ("حكومتنا", "الحكومة"),
        ("ولايته", "ولاية"),
        ("عاصمة", "عاصمتها"),
        ("العاصمة", "لعاصمتها"),
        ("الحكومة", "حكومتهم"),
        ("الحكومة", "بحكومته"),
        ("ولاية", "ولايتهما"),
        ("عاصمتها", "بعاصمتهم"),
        ("حكومتكم", "فبالحكومة"),
        ("لعاصمتها", "العاصمة"),
        ("وبعاصمتهم", "عاصمة"),
        ("وسياساتها", "السياسات"),
    ] {
        assert!(finds(query, surface), "{query} should find {surface}");
    }
}

#[test]
fn a_pronoun_after_other_words_is_read_off() {
    for (query, surface) in [
        ("وقتها", "وقت"),
        ("سياساتهم", "السياسات"),
        ("سياساتهم", "سياسة"),
        ("اقتصادها", "الاقتصاد"),
        ("الاقتصاد", "واقتصادها"),
        ("بلد", "بلدنا"),
        ("رئيس", "لرئيسهم"),
    ] {
        assert!(finds(query, surface), "{query} should find {surface}");
    }
    // Plain words ending like a pronoun keep meaning themselves only.
    assert!(!finds("استانا", "استا"));
    assert!(!finds("تراكم", "ترا"));
    assert!(
        !finds("كبير", "بئر"),
        "a proclitic alone stays on the query word"
    );
    assert!(!finds("بيشكيك", "يشكيك"));
}

#[test]
fn gazetteer_words_lose_their_proclitic_in_queries() {
    let known = |w: &str| w == "كازاخستان";
    assert_eq!(query_words("بكازاخستان", &known), vec!["كازاخستان"]);
    assert_eq!(query_words("بالغاز", &known), vec!["غاز"]);
}

/// Arabic letters a generated noun is made of (no ة/ه/ت/ا/ى at the end: the generator adds the ending).
const LETTERS: &[char] = &[
    'ب', 'ج', 'د', 'ر', 'س', 'ش', 'ص', 'ع', 'غ', 'ق', 'ل', 'م', 'ن', 'و', 'ي', 'ح', 'خ', 'ز', 'ط',
    'ف',
];

proptest! {
    /// Any feminine noun written with any pronoun and proclitic is found by the bare noun with the article,
    /// and the pronoun form as a query finds the bare noun.
    #[test]
    fn feminine_nouns_meet_their_pronoun_forms(
        root in proptest::collection::vec(proptest::sample::select(LETTERS), 3..6),
        pronoun in proptest::sample::select(&["ها", "هم", "هما", "نا", "ه", "ي"][..]),
        proclitic in proptest::sample::select(&["", "و", "ب", "ل"][..]),
    ) {
        // "لل" in front (ل with the article, also after و/ف) is stripped by the normalizer whatever follows.
        let root: String = root.into_iter().collect();
        prop_assume!(!["ل", "ول", "فل"].iter().any(|p| root.starts_with(p)));
        // A "noun" that folds to a stopword (علية folds to عليه, "on him") is never indexed: not a noun.
        prop_assume!(!crate::normalize::is_stopword(&format!("{root}ه")));
        prop_assume!(!crate::normalize::is_stopword(&root));
        let noun = format!("{root}ة");
        let surface = format!("{proclitic}{root}ت{pronoun}");
        prop_assert!(finds(&format!("ال{noun}"), &surface), "{noun} → {surface}");
        prop_assert!(finds(&format!("{root}ت{pronoun}"), &format!("{proclitic}{noun}")), "{surface} → {noun}");
    }
}
