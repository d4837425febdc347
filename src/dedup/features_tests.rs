//! Tests of `dedup::features`.

use super::*;

/// The first [`SUMMARY_WORDS`] words the gazetteer reads in a folded text.
fn lead_of(folded: &str, g: &Gazetteer) -> Vec<String> {
    let mut words = g.words(folded);
    words.truncate(SUMMARY_WORDS);
    words.into_iter().map(str::to_string).collect()
}

#[test]
fn text_tokens_are_the_sorted_union_of_the_headline_and_text_tokens() {
    let cow = |v: &[&'static str]| v.iter().map(Token::new).collect::<Vec<_>>();
    assert_eq!(
        merge_unique(
            &cow(&["@kz", "اتفاق", "غاز"]),
            &cow(&["2027", "اتفاق", "زيار", "غاز", "يناير"])
        ),
        ["2027", "@kz", "اتفاق", "زيار", "غاز", "يناير"]
    );
    assert_eq!(merge_unique(&[], &cow(&["ب"])), ["ب"]);
    let g = Gazetteer::builtin();
    let f = features(
        "كازاخستان توقع اتفاقية للغاز مع أذربيجان بقيمة 3 ملايين دولار",
        Some(
            "<p>وقعت كازاخستان وأذربيجان في باكو اتفاقية للغاز بقيمة 3 ملايين دولار، قال الوزير.</p>",
        ),
        &g,
    );
    let mut union = f.title_tokens.clone();
    union.extend(f.text_tokens.iter().cloned());
    union.sort();
    union.dedup();
    assert_eq!(f.text_tokens, union);
    assert!(f.title_tokens.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn every_whitespace_character_folds_to_a_word_boundary() {
    for c in (0..=0x10FFFF)
        .filter_map(char::from_u32)
        .filter(|c| c.is_whitespace())
    {
        assert_eq!(
            normalize::fold_marking_percent(&format!("با{c}كو")),
            "با كو",
            "U+{:04X}",
            c as u32
        );
    }
}

proptest::proptest! {
    /// Summaries of tags, entities, whitespace of every kind, refused characters, digits and separators, short
    /// and long: folded straight from the untagged text, or through the plain text, they fold alike.
    #[test]
    fn a_summary_folds_alike_from_its_untagged_and_its_plain_text(
        pieces in proptest::collection::vec(proptest::sample::select(vec![
            "<p>", "</p>", "<br/>", "<b>", "&amp;", "&nbsp;", "&#1604;", "&#1;", "&lt;", " ", "  ", "\t", "\n",
            "\u{85}", "\u{A0}", "\u{2003}", "\u{3000}", "\u{200B}", "\u{FEFF}", "\u{1}", "\u{9F}", "باكو",
            "أستانا", "في", "3", ",", ".", "5", "%", "٪", "١٢", "x", "É", "\u{301}", "…", "—",
        ]), 0..40),
        repeat in 1..60usize,
        content in proptest::option::of("[a-z بكو<>/ ]{0,20}"),
    ) {
        let summary = pieces.concat().repeat(if repeat > 50 { repeat } else { 1 });
        let (text, from_summary) = choose_text(Some(&summary), content.as_deref());
        let (folded, whole) = fold_lead(&text);
        proptest::prop_assert_eq!(
            fold_text_to_match(Some(&summary), content.as_deref()),
            (folded, whole, from_summary)
        );
    }
}

proptest::proptest! {
    /// Sorting on the eight-byte keys gives the tokens in their own order, each once.
    #[test]
    fn tokens_sorted_on_their_keys_are_sorted_as_strings(
        words in proptest::collection::vec("[ابت@_0-9a-z]{1,12}", 0..40),
    ) {
        let tokens: Vec<Token> = words.iter().map(Token::new).collect();
        let mut expected = tokens.clone();
        expected.sort();
        expected.dedup();
        let keyed = tokens.into_iter().map(|t| (sort_key(&t), t)).collect();
        proptest::prop_assert_eq!(sorted_unique(keyed), expected);
    }
}

#[test]
fn a_long_text_is_folded_only_as_far_as_its_lead_and_gives_the_same_words() {
    let g = Gazetteer::builtin();
    let sentence =
        "قال وزير الخارجية الكازاخي في أستانا إن 12% من الصادرات — « تذهب » إلى الصين ، ";
    let whole = |text: &str| lead_of(&normalize::fold_marking_percent(text), &g);
    let lead = |text: &str| {
        let (folded, is_whole) = fold_lead(text);
        (lead_of(&folded, &g), is_whole)
    };
    let long = sentence.repeat(200);
    assert_eq!(lead(&long), (whole(&long), false));
    // Mostly punctuation: too few words in the prefix, so the whole text is folded.
    let sparse = format!("{} {}", "— ".repeat(500), sentence.repeat(10));
    assert_eq!(lead(&sparse), (whole(&sparse), true));
    assert_eq!(lead(sentence), (whole(sentence), true));
    assert!(
        whole(sentence).contains(&"ميه".to_string()),
        "12% reads 12 بالمئة"
    );
}
