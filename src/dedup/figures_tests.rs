//! Tests of `dedup::figures`.

use super::*;
use crate::regions::Gazetteer;

/// How a word read as a number before the lexicon held number words (the reference for the lexicon).
fn number_of_before(word: &str) -> Option<f64> {
    let digits = match word.bytes().position(|b| b.is_ascii_digit()) {
        Some(at) => &word[at..],
        None => "",
    };
    let prefix = &word[..word.len() - digits.len()];
    if !digits.is_empty()
        && matches!(
            prefix,
            "" | "و" | "ب" | "ل" | "ف" | "ك" | "ال" | "وال" | "بال" | "لل"
        )
    {
        return digits.parse().ok();
    }
    number_words()
        .get(word)
        .or_else(|| {
            word.strip_prefix(['ب', 'ل'])
                .and_then(|w| number_words().get(w))
        })
        .copied()
}

/// How a word read as a scale word before (the reference for [`SCALES`]).
fn scale_of_before(word: &str) -> Option<(f64, Option<f64>)> {
    fn bare(word: &str) -> Option<(f64, Option<f64>)> {
        Some(match word {
            "الف" => (1e3, Some(1e3)),
            "الاف" => (1e3, None),
            "الفين" | "الفان" | "الفي" => (1e3, Some(2e3)),
            "مليون" => (1e6, Some(1e6)),
            "ملايين" => (1e6, None),
            "مليوني" | "مليونين" | "مليونان" => (1e6, Some(2e6)),
            "مليار" | "بليون" => (1e9, Some(1e9)),
            "مليارات" => (1e9, None),
            "ملياري" | "مليارين" | "ملياران" => (1e9, Some(2e9)),
            _ => return None,
        })
    }
    bare(word).or_else(|| word.strip_prefix(['ب', 'ل', 'و']).and_then(bare))
}

proptest::proptest! {
    #[test]
    fn numbers_read_as_the_float_parser_reads_them(digits in "[0-9.e]{0,20}") {
        proptest::prop_assert_eq!(parse_number(&digits), digits.parse::<f64>().ok());
    }

    #[test]
    fn whole_numbers_read_as_the_float_parser_reads_them(digits in "[0-9]{1,18}") {
        proptest::prop_assert_eq!(parse_number(&digits), digits.parse::<f64>().ok());
    }
}

#[test]
fn figures_read_from_the_lexicon_are_the_figures_read_word_by_word() {
    let g = Gazetteer::builtin();
    let mut words = FigureWord::vocabulary();
    for file in ["dedup_eval.toml", "dedup_dense_week.toml"] {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(file);
        let text = normalize::normalize(&std::fs::read_to_string(path).unwrap());
        words.extend(text.split(' ').map(str::to_string));
    }
    let bare = words.clone();
    for prefix in ["و", "ب", "ل", "ف", "ك", "ال", "وال", "بال", "لل", "وب", "x"] {
        words.extend(bare.iter().map(|w| format!("{prefix}{w}")));
    }
    words.extend(
        [
            "و600",
            "ب7.9",
            "12.5.3",
            "x12",
            "وال2026",
            "كل5",
            "abcdefg1",
            "بالمليون3",
            "ووال4",
        ]
        .map(String::from),
    );
    for w in &words {
        let lex = g.lex(w);
        assert_eq!(number_of(w, lex), number_of_before(w), "{w}");
        assert_eq!(scale_of(lex), scale_of_before(w), "{w}");
        assert_eq!(lex.figure.month(), month_of(w), "{w}");
    }
}
