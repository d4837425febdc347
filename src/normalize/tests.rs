//! Unit and property tests for the matching normalizer.

use super::*;
use proptest::prelude::*;

#[test]
fn folds_hamza_alef_and_diacritics() {
    assert_eq!(normalize("إِعْلَانُ أَسْتَانَا"), "اعلان استانا");
    assert_eq!(normalize("آسيا الوسطى"), "اسيا الوسطي");
    assert_eq!(normalize("مؤتمر رئيس"), "موتمر رييس");
    assert_eq!(normalize("ٱلقمة"), "القمه");
    assert_eq!(normalize("قمّـــة"), "قمه");
}

#[test]
fn folds_persian_letters_and_digits() {
    assert_eq!(normalize("پ چ ڤ گ ک ی"), "ب ج ف ك ك ي");
    assert_eq!(normalize("٣ ملايين ۲۰۲۶"), "3 ملايين 2026");
}

#[test]
fn punctuation_and_quotes_become_separators() {
    assert_eq!(
        normalize("«باكو»: قمة، ثم؟ “يريفان”…!"),
        "باكو قمه ثم يريفان"
    );
    assert_eq!(normalize("  a\t\nB  "), "a b");
}

#[test]
fn invisible_controls_join_words() {
    assert_eq!(
        normalize("باك\u{200C}و \u{202B}يريفان\u{202C}\u{FEFF}"),
        "باكو يريفان"
    );
}

#[test]
fn presentation_forms_fold() {
    // ﻻ (lam-alef ligature) and isolated/final forms pasted from PDFs.
    assert_eq!(normalize("ﻻ ﺑﺎﻛﻮ"), "لا باكو");
}

#[test]
fn numbers_keep_decimals_and_drop_thousands_separators() {
    assert_eq!(
        normalize("3.5 مليار و1,000 و٣٫٥ و١٬٢٠٠"),
        "3.5 مليار و1000 و3.5 و1200"
    );
    assert_eq!(normalize("عام 2026."), "عام 2026");
    assert_eq!(normalize("1, 2"), "1 2");
}

#[test]
fn tokens_strip_articles_and_stopwords() {
    assert_eq!(
        tokens("وزير الخارجية في بيشكيك"),
        vec!["وزير", "خارجيه", "بيشكيك"]
    );
    assert_eq!(
        tokens("لبنان والأذربيجاني للرئيس"),
        vec!["لبنان", "اذربيجاني", "رييس"]
    );
    assert_eq!(
        tokens("ارتفع 3 ملايين عام ٢٠٢٦"),
        vec!["ارتفع", "3", "ملايين", "عام", "2026"]
    );
    // Negations carry meaning and stay.
    assert!(tokens("القمة تنتهي دون اتفاق").contains(&"دون".to_string()));
}

#[test]
fn every_prefix_starts_with_a_clitic_initial() {
    for p in ARTICLE_PREFIXES.iter().chain(&PROCLITICS) {
        assert!(p.starts_with(CLITIC_INITIALS), "{p}");
    }
}

/// Words of clitic letters, other letters and digits, long and short: where a [`Prefix`] compared with a word's
/// [`head`] could read past its end or miss a byte.
fn clitic_word() -> impl Strategy<Value = String> {
    let letters: Vec<char> = "اوبكفلمنةيأ1a".chars().collect();
    proptest::collection::vec(proptest::sample::select(letters), 0..9)
        .prop_map(|v| v.into_iter().collect())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn prefixes_strip_as_strip_prefix_does(w in clitic_word()) {
        let head = head(&w);
        for (p, text) in PROCLITIC_PREFIXES.iter().zip(PROCLITICS) {
            prop_assert_eq!(p.strip(&w, head), w.strip_prefix(text));
        }
        for (p, text) in ARTICLES.iter().zip(ARTICLE_PREFIXES) {
            prop_assert_eq!(p.strip(&w, head), w.strip_prefix(text));
        }
        prop_assert_eq!(starts_with_clitic_initial(head), w.starts_with(CLITIC_INITIALS));
        // The list read with `strip_prefix`, as `strip_article` was written before.
        let listed = ARTICLE_PREFIXES
            .iter()
            .find_map(|p| w.strip_prefix(p).filter(|rest| rest.chars().count() >= 2));
        prop_assert_eq!(strip_article(&w), listed);
    }

    #[test]
    fn has_chars_counts_characters(s in any::<String>(), n in 0..8usize) {
        prop_assert_eq!(has_chars(&s, n), s.chars().count() >= n);
    }
}

#[test]
fn single_letter_clitics_only_before_known_words() {
    let known = |w: &str| matches!(w, "كازاخستان" | "اذربيجان" | "ارمينيا");
    assert_eq!(
        tokens_with("بكازاخستان وأذربيجان لأرمينيا", &known),
        vec!["كازاخستان", "اذربيجان", "ارمينيا"]
    );
    assert_eq!(tokens_with("وزير بيشكيك", &known), vec!["وزير", "بيشكيك"]);
}

/// Characters that must never survive folding.
fn is_folded(c: char) -> bool {
    is_dropped(c)
        || is_combining_mark(c)
        || matches!(
            c,
            'أ' | 'إ' | 'آ' | 'ٱ' | 'ى' | 'ة' | 'ؤ' | 'ئ' | 'ی' | 'ک' | 'گ' | 'پ' | 'چ' | 'ڤ'
        )
        || ('\u{0660}'..='\u{0669}').contains(&c)
        || ('\u{06F0}'..='\u{06F9}').contains(&c)
        || ('\u{FB50}'..='\u{FDFF}').contains(&c)
        || ('\u{FE70}'..='\u{FEFF}').contains(&c)
        || matches!(
            c,
            '،' | '؛' | '؟' | '«' | '»' | '“' | '”' | '‹' | '›' | '…' | ',' | '"' | '\''
        )
        // Upper-case letters that have a lower-case form (🅐 is "uppercase" but has none).
        || !c.to_lowercase().eq(std::iter::once(c))
        || (c.is_whitespace() && c != ' ')
}

fn arabic_ish() -> impl Strategy<Value = String> {
    // Mix of Arabic blocks, presentation forms, controls, punctuation, digits and arbitrary chars.
    let ranges = prop_oneof![
        proptest::char::range('\u{0600}', '\u{06FF}'),
        proptest::char::range('\u{FB50}', '\u{FDFF}'),
        proptest::char::range('\u{FE70}', '\u{FEFF}'),
        proptest::char::range('\u{2000}', '\u{206F}'),
        proptest::char::range(' ', '~'),
        any::<char>(),
    ];
    proptest::collection::vec(ranges, 0..40).prop_map(|v| v.into_iter().collect())
}

/// The general path alone, as every text took it before the direct path existed.
fn normalize_general(text: &str) -> String {
    let mut folded = Vec::new();
    fold_general(text, &mut folded);
    assemble(&folded, text.len())
}

#[test]
fn the_direct_path_agrees_with_the_general_one_on_every_character_it_takes() {
    let mut taken = 0;
    for c in (0..=0x10FFFF).filter_map(char::from_u32) {
        if common_fold(c).is_none() {
            continue;
        }
        taken += 1;
        // Alone, inside a word, between digits (numeric separators), between spaces.
        for text in [
            format!("{c}"),
            format!("ب{c}ب"),
            format!("a{c}b"),
            format!("1{c}2"),
            format!("12{c}345"),
            format!(" {c} "),
        ] {
            let direct = fold_common::<false>(&text);
            assert!(direct.is_some(), "{c:?} in {text:?}");
            assert_eq!(
                direct.unwrap(),
                normalize_general(&text),
                "U+{:04X} in {text:?}",
                c as u32
            );
        }
    }
    assert!(
        taken > 200,
        "the direct path takes ASCII and Arabic: {taken}"
    );
}

/// Text made only of characters the direct path takes, as headlines are.
fn common_text() -> impl Strategy<Value = String> {
    let common: Vec<char> = (0..0x3000u32)
        .filter_map(char::from_u32)
        .filter(|&c| common_fold(c).is_some())
        .collect();
    proptest::collection::vec(proptest::sample::select(common), 0..60)
        .prop_map(|v| v.into_iter().collect())
}

/// Numbers and their separators, with dropped marks and tatweel in between: the neighbour rules of `assemble`.
fn number_text() -> impl Strategy<Value = String> {
    let chars: Vec<char> = "0123456789٣٤.,٫٬ ـ\u{064B}\u{200F}ab…،".chars().collect();
    proptest::collection::vec(proptest::sample::select(chars), 0..30)
        .prop_map(|v| v.into_iter().collect())
}

/// Text with percent signs among Arabic, numbers, separators and anything else.
fn percent_text() -> impl Strategy<Value = String> {
    let chars = prop_oneof![
        3 => proptest::sample::select("%٪%1234٣.,٫٬ ـ\u{064B}ab…،بال".chars().collect::<Vec<_>>()),
        1 => proptest::char::range('\u{0600}', '\u{06FF}'),
        1 => proptest::char::range('\u{FB50}', '\u{FDFF}'),
        1 => any::<char>(),
    ];
    proptest::collection::vec(chars, 0..40).prop_map(|v| v.into_iter().collect())
}

/// What [`fold_marking_percent`] promises, as two word lists: marks dropped, marks spelled out.
fn unmarked_and_spelled(marked: &str) -> (String, String) {
    let words = || marked.split(' ').filter(|w| !w.is_empty());
    let unmarked: Vec<&str> = words().filter(|w| *w != PERCENT_MARK).collect();
    let spelled: Vec<&str> = words()
        .map(|w| if w == PERCENT_MARK { "بالميه" } else { w })
        .collect();
    (unmarked.join(" "), spelled.join(" "))
}

/// [`fold_common`] as it was written before it read runs of bytes: one character at a time through `chars()`,
/// each folded through the table and pushed. The reference the faster form is checked against.
fn fold_common_by_char<const MARK: bool>(text: &str) -> Option<String> {
    let table = common_table();
    let mut out = String::with_capacity(text.len());
    let mut pending_sep = false;
    // Whether the last fold that was not dropped is a digit (a separator or a numeric separator clears it).
    let mut after_digit = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if MARK && matches!(c, '%' | '٪') {
            // A separator, the mark, a separator.
            if !out.is_empty() {
                out.push(' ');
            }
            out.push('%');
            pending_sep = true;
            after_digit = false;
            continue;
        }
        let kept = match common_at(table, c)? {
            Common::One(Fold::Drop) => continue,
            // Three full stops after NFKD: none of them lies between two digits.
            Common::Ellipsis | Common::One(Fold::Sep) => {
                pending_sep = true;
                after_digit = false;
                continue;
            }
            Common::One(Fold::Keep(k)) => {
                after_digit = k.is_ascii_digit();
                k
            }
            Common::One(Fold::NumSep(s)) => {
                let digits_before = std::mem::replace(&mut after_digit, false);
                let digits_after = leading_digits(table, chars.clone());
                if !digits_before || digits_after == 0 {
                    pending_sep = true;
                    continue;
                }
                // Between digits: a thousands separator (`,`/`٬` before exactly three digits) disappears so
                // "1,000" and "1000" agree; any other one is a decimal point.
                if matches!(s, ',' | '٬') && digits_after == 3 {
                    continue;
                }
                '.'
            }
        };
        if pending_sep && !out.is_empty() {
            out.push(' ');
        }
        pending_sep = false;
        out.push(kept);
    }
    Some(out)
}

/// Text of the characters where the run-reading [`fold_common`] could go wrong: letters that fold to themselves
/// and ones that do not, digits of both kinds and numeric separators, dropped marks and controls, percent signs,
/// separators, and characters outside the table or the direct path.
fn run_text() -> impl Strategy<Value = String> {
    let chars = prop_oneof![
        4 => proptest::sample::select(
            "بكوالةأإآىی0123456789٣٤.,٫٬ ـ\u{064B}\u{0670}\u{200F}\u{FEFF}aZ…،%٪–«»\u{A0}\t\n"
                .chars()
                .collect::<Vec<_>>()
        ),
        2 => proptest::char::range('\u{0600}', '\u{06FF}'),
        1 => proptest::char::range(' ', '~'),
        1 => proptest::char::range('\u{2000}', '\u{206F}'),
        1 => any::<char>(),
    ];
    proptest::collection::vec(chars, 0..60).prop_map(|v| v.into_iter().collect())
}

#[test]
fn percent_signs_become_marks() {
    assert_eq!(fold_marking_percent("ارتفع 12% و٣٫٥٪"), "ارتفع 12 % و3.5 %");
    assert_eq!(fold_marking_percent("%12,000%x"), "% 12000 % x");
    // The general path (a character only NFKD folds) marks them the same way.
    assert_eq!(fold_marking_percent("ﻻ 5%"), "لا 5 %");
    assert_eq!(fold_marking_percent("５%"), "5 %");
    // Only the text's own signs: a full-width ％ is a separator, as in `normalize`.
    assert_eq!(fold_marking_percent("5％"), "5");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn percent_marks_dropped_or_spelled_give_the_plain_folds(s in percent_text()) {
        let (unmarked, spelled) = unmarked_and_spelled(&fold_marking_percent(&s));
        prop_assert_eq!(unmarked, normalize(&s));
        prop_assert_eq!(spelled, normalize(&s.replace(['%', '٪'], " بالمئة ")));
    }

    #[test]
    fn percent_marks_agree_on_any_string(s in any::<String>()) {
        let (unmarked, spelled) = unmarked_and_spelled(&fold_marking_percent(&s));
        prop_assert_eq!(unmarked, normalize(&s));
        prop_assert_eq!(spelled, normalize(&s.replace(['%', '٪'], " بالمئة ")));
    }

    #[test]
    fn the_run_reading_fold_is_the_character_by_character_one(s in run_text()) {
        prop_assert_eq!(fold_common::<false>(&s), fold_common_by_char::<false>(&s));
        prop_assert_eq!(fold_common::<true>(&s), fold_common_by_char::<true>(&s));
    }

    #[test]
    fn the_run_reading_fold_is_the_character_by_character_one_on_common_text(s in common_text()) {
        prop_assert_eq!(fold_common::<false>(&s), fold_common_by_char::<false>(&s));
        prop_assert_eq!(fold_common::<true>(&s), fold_common_by_char::<true>(&s));
    }

    #[test]
    fn the_direct_path_agrees_on_numbers(s in number_text()) {
        prop_assert_eq!(normalize(&s), normalize_general(&s));
    }

    #[test]
    fn the_direct_path_agrees_with_the_general_one(s in common_text()) {
        prop_assert_eq!(normalize(&s), normalize_general(&s));
    }

    #[test]
    fn idempotent(s in arabic_ish()) {
        let once = normalize(&s);
        prop_assert_eq!(normalize(&once), once);
    }

    #[test]
    fn idempotent_on_any_string(s in any::<String>()) {
        let once = normalize(&s);
        prop_assert_eq!(normalize(&once), once);
    }

    #[test]
    fn never_emits_folded_chars(s in arabic_ish()) {
        let out = normalize(&s);
        prop_assert!(!out.chars().any(is_folded), "{:?} -> {:?}", s, out);
        prop_assert!(!out.contains("  ") && !out.starts_with(' ') && !out.ends_with(' '));
    }

    #[test]
    fn tokens_never_panic_and_have_no_spaces(s in arabic_ish()) {
        for t in tokens(&s) {
            prop_assert!(!t.is_empty() && !t.contains(' '));
        }
    }
}

#[test]
fn the_table_reads_as_common_fold_on_every_character() {
    let table = common_table();
    for c in (0..=0x10FFFF).filter_map(char::from_u32) {
        assert_eq!(common_at(table, c), common_fold(c), "{c:?}");
    }
}
