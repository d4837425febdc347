//! Figures and dates in an item: quantities with the unit they count ("3 ملايين دولار" → 3000000 دولار,
//! "١٢٫٤٪" → 12.4 %), and months in both the Egyptian/Gulf (أكتوبر) and Levantine (تشرين الأول) names. They are
//! the strongest evidence that two look-alike reports are different events.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use rustc_hash::FxHashMap;

use super::features::stem;
use crate::normalize;
use crate::regions::Lex;

/// A word as a number: digits, digits behind a clitic (و2022، بـ7.9) or a number word. `lex`: the word's
/// entry in the gazetteer's lexicon, which holds what [`number_word_of`] says of it.
fn number_of(word: &str, lex: Lex) -> Option<f64> {
    // A number's digits come after one of the prefixes below, of 0, 2, 4 or 6 bytes (none holds a digit), so
    // only those four bytes are looked at: where one is a digit behind such a prefix, it is the word's first
    // digit. A word with digits anywhere else has a prefix no number has, and is no figure word either (none
    // holds a digit), so it reads as nothing, like one without digits that is not a figure word.
    let bytes = word.as_bytes();
    let Some(at) = [0, 2, 4, 6]
        .into_iter()
        .find(|&p| bytes.get(p).is_some_and(u8::is_ascii_digit))
    else {
        return lex.figure.number();
    };
    let (prefix, digits) = word.split_at(at);
    if matches!(
        prefix,
        "" | "و" | "ب" | "ل" | "ف" | "ك" | "ال" | "وال" | "بال" | "لل"
    ) {
        return parse_number(digits);
    }
    // No number word holds a digit.
    None
}

/// `digits.parse::<f64>().ok()`, with whole numbers of up to fifteen digits (nearly every figure) read as
/// integers: each is below 2^53, so exactly the double the parse gives, and the float parser cost several hundred
/// instructions a figure (each is read more than once).
fn parse_number(digits: &str) -> Option<f64> {
    if !digits.is_empty() && digits.len() <= 15 && digits.bytes().all(|b| b.is_ascii_digit()) {
        let n = digits
            .bytes()
            .fold(0u64, |n, b| n * 10 + u64::from(b - b'0'));
        return Some(n as f64);
    }
    digits.parse().ok()
}

/// A word without digits as a number: a number word, also behind ب or ل. (What [`FigureWord::of`] keeps.)
fn number_word_of(word: &str) -> Option<f64> {
    number_words()
        .get(word)
        .or_else(|| {
            word.strip_prefix(['ب', 'ل'])
                .and_then(|w| number_words().get(w))
        })
        .copied()
}

/// A spelled-out number (ثلاثة، اثنا، ستمئة), also behind a و ("وعشرين").
pub(crate) fn is_number_word(word: &str) -> Option<f64> {
    let words = number_words();
    words
        .get(word)
        .or_else(|| word.strip_prefix('و').and_then(|w| words.get(w)))
        .copied()
}

/// The number a "و…" word adds to the one before it: "و600" after "ثلاثة ملايين", "وعشرين" after "خمسة".
fn addend_of(word: &str) -> Option<f64> {
    let rest = word.strip_prefix('و')?;
    if !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit() || c == '.') {
        return rest.parse().ok();
    }
    number_words().get(rest).copied()
}

/// Scale words (folded): the word, its multiplier, and its value when no number precedes it (duals mean two,
/// plurals mean nothing exact).
const SCALES: &[(&str, f64, Option<f64>)] = &[
    ("الف", 1e3, Some(1e3)),
    ("الاف", 1e3, None),
    ("الفين", 1e3, Some(2e3)),
    ("الفان", 1e3, Some(2e3)),
    ("الفي", 1e3, Some(2e3)),
    ("مليون", 1e6, Some(1e6)),
    ("ملايين", 1e6, None),
    ("مليوني", 1e6, Some(2e6)),
    ("مليونين", 1e6, Some(2e6)),
    ("مليونان", 1e6, Some(2e6)),
    ("مليار", 1e9, Some(1e9)),
    ("بليون", 1e9, Some(1e9)),
    ("مليارات", 1e9, None),
    ("ملياري", 1e9, Some(2e9)),
    ("مليارين", 1e9, Some(2e9)),
    ("ملياران", 1e9, Some(2e9)),
];

/// The prepositions a scale word may carry ("بألفي سوم", "بمليون دولار").
const SCALE_CLITICS: [char; 3] = ['ب', 'ل', 'و'];

/// Which [`SCALES`] row a word is, a preposition in front allowed.
fn scale_row(word: &str) -> Option<usize> {
    let bare = |w: &str| SCALES.iter().position(|(s, _, _)| *s == w);
    bare(word).or_else(|| word.strip_prefix(SCALE_CLITICS).and_then(bare))
}

/// Scale words: (multiplier, value when no number precedes it), read from the word's lexicon entry.
fn scale_of(lex: Lex) -> Option<(f64, Option<f64>)> {
    lex.figure.scale()
}

/// Every quantity with the unit it counts: the first content word after it (scale words folded into the value).
/// `lex[k]`: the lexicon entry of `words[k]` (see `Gazetteer::words_lexed`).
pub(crate) fn collect_quantities(
    words: &[&str],
    lex: &[Lex],
    out: &mut BTreeMap<String, Vec<f64>>,
) {
    let number_of = |k: usize| number_of(words[k], lex[k]);
    let scale_at = |k: usize| (k < words.len()).then(|| scale_of(lex[k])).flatten();
    let mut i = 0;
    while i < words.len() {
        let (mut value, mut j) = match (number_of(i), scale_of(lex[i])) {
            (Some(v), _) => (v, i + 1),
            (None, Some((_, Some(v)))) => (v, i + 1),
            _ => {
                i += 1;
                continue;
            }
        };
        if words.get(j).is_some_and(|w| matches!(*w, "عشر" | "عشره")) {
            value += 10.0;
            j += 1;
        }
        // "خمسة وعشرين": units then tens.
        if value < 10.0 {
            if let Some(tens) = words.get(j).and_then(|w| addend_of(w)) {
                if (20.0..100.0).contains(&tens) && tens % 10.0 == 0.0 {
                    value += tens;
                    j += 1;
                }
            }
        }
        let mut scale = scale_of(lex[i]).map(|(m, _)| m);
        if let Some((mult, _)) = scale_at(j) {
            if number_of(i).is_some() {
                value *= mult;
                scale = Some(mult);
                j += 1;
            }
        }
        // "ثلاثة ملايين و600 ألف", "ثلاثة مليارات و200 مليون", "ألف وسبعمئة": a smaller part added.
        if let Some(mult) = scale {
            if let Some(part) = words.get(j).and_then(|w| addend_of(w)) {
                let smaller = scale_at(j + 1).map(|(m, _)| m);
                match smaller {
                    Some(m) if m < mult => {
                        value += part * m;
                        j += 2;
                    }
                    None if part < mult => {
                        value += part;
                        j += 1;
                    }
                    _ => {}
                }
            }
        }
        // "12 بالمئة" / "12 في المئة" / "12%" (spelled out by `prepare`): a percentage, not a hundred.
        let percent_at = [j, j + 1]
            .into_iter()
            .find(|&k| words.get(k).is_some_and(|w| is_hundred(w)) && (k == j || words[j] == "في"));
        let unit = if let Some(k) = percent_at {
            j = k + 1;
            "%".to_string()
        } else {
            (j..words.len())
                .take(3)
                .find(|&k| {
                    !lex[k].is_stopword() && number_of(k).is_none() && scale_of(lex[k]).is_none()
                })
                .map(|k| stem(words[k]).to_string())
                .unwrap_or_default()
        };
        // Years date the story rather than quantify it (and months already tell editions apart).
        // Only a year written in digits: "ألفي سوم" is two thousand som.
        let is_year = value.fract() == 0.0
            && (1900.0..=2100.0).contains(&value)
            && words[i].chars().any(|c| c.is_ascii_digit())
            && !words[i].contains('.');
        if is_year || unit.is_empty() {
            i = j;
            continue;
        }
        let values = out.entry(unit).or_default();
        if !values.contains(&value) {
            values.push(value);
            values.sort_by(f64::total_cmp);
        }
        i = j;
    }
}

fn is_hundred(w: &str) -> bool {
    // Folded: the hamza on its chair is dropped (مئة → ميه).
    matches!(w, "ميه" | "مايه" | "مئه" | "مائه")
}

/// The months `words` name; `lex[k]`: the lexicon entry of `words[k]`.
pub(crate) fn months_in(words: &[&str], lex: &[Lex]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).copied();
        let month = match (*w, next) {
            ("كانون", Some("ثاني")) => Some(1),
            ("كانون", Some("اول")) => Some(12),
            ("تشرين", Some("اول")) => Some(10),
            ("تشرين", Some("ثاني")) => Some(11),
            // Words that are also common verbs or nouns (مارس "practised", أب "father") count only next to a
            // number or after "شهر".
            ("مارس" | "اب" | "تموز", _) => {
                let dated = i
                    .checked_sub(1)
                    .is_some_and(|p| number_of(words[p], lex[p]).is_some() || words[p] == "شهر")
                    || next.is_some_and(|n| n.len() >= 4 && n.chars().all(|c| c.is_ascii_digit()));
                dated.then_some(match *w {
                    "مارس" => 3,
                    "اب" => 8,
                    _ => 7,
                })
            }
            (_, _) => lex[i].figure.month(),
        };
        out.extend(month);
    }
    out
}

/// What the figure rules read of a word without digits, kept in the gazetteer's lexicon (`regions::Lex`) so
/// that one lookup per word answers them all: the number it spells ([`number_word_of`]), the scale word it is
/// ([`SCALES`], a preposition in front allowed), and the month it names. Compact: number words are whole numbers
/// up to 900.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FigureWord {
    /// The number spelled, 0 for none.
    number: u16,
    /// 1 + the [`SCALES`] row, 0 for none.
    scale: u8,
    /// The month (1–12), 0 for none.
    month: u8,
}

impl FigureWord {
    /// What the rules read of `word` (folded, clitic-stripped, without digits).
    pub(crate) fn of(word: &str) -> FigureWord {
        let number = number_word_of(word).map_or(0, |n| {
            assert!(n.fract() == 0.0 && (1.0..=f64::from(u16::MAX)).contains(&n));
            n as u16
        });
        FigureWord {
            number,
            scale: scale_row(word).map_or(0, |r| r as u8 + 1),
            month: month_of(word).unwrap_or(0),
        }
    }

    /// Every word [`FigureWord::of`] finds something in: the lexicon holds at least these.
    pub(crate) fn vocabulary() -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for w in number_words().keys() {
            out.push(w.clone());
            out.extend(['ب', 'ل'].map(|c| format!("{c}{w}")));
        }
        for (w, _, _) in SCALES {
            out.push(w.to_string());
            out.extend(SCALE_CLITICS.map(|c| format!("{c}{w}")));
        }
        out.extend(month_words().iter().map(|(w, _)| w.to_string()));
        out
    }

    pub(crate) fn number(self) -> Option<f64> {
        (self.number > 0).then_some(f64::from(self.number))
    }

    fn scale(self) -> Option<(f64, Option<f64>)> {
        (self.scale > 0).then(|| {
            let (_, mult, alone) = SCALES[self.scale as usize - 1];
            (mult, alone)
        })
    }

    fn month(self) -> Option<u8> {
        (self.month > 0).then_some(self.month)
    }
}

/// The month a month name names.
fn month_of(word: &str) -> Option<u8> {
    static MONTHS: OnceLock<FxHashMap<&'static str, u8>> = OnceLock::new();
    MONTHS
        .get_or_init(|| month_words().iter().copied().collect())
        .get(word)
        .copied()
}

fn month_words() -> &'static [(&'static str, u8)] {
    &[
        ("يناير", 1),
        ("فبراير", 2),
        ("ابريل", 4),
        ("مايو", 5),
        ("يونيو", 6),
        ("يونيه", 6),
        ("يوليو", 7),
        ("يوليه", 7),
        ("يوليوز", 7),
        ("اغسطس", 8),
        ("غشت", 8),
        ("سبتمبر", 9),
        ("شتنبر", 9),
        ("اكتوبر", 10),
        ("نوفمبر", 11),
        ("نونبر", 11),
        ("ديسمبر", 12),
        ("دجنبر", 12),
        ("شباط", 2),
        ("اذار", 3),
        ("نيسان", 4),
        ("ايار", 5),
        ("حزيران", 6),
        ("ايلول", 9),
    ]
}

fn number_words() -> &'static FxHashMap<String, f64> {
    static WORDS: OnceLock<FxHashMap<String, f64>> = OnceLock::new();
    WORDS.get_or_init(|| {
        // Written as outlets spell them and folded like the text. Left out on purpose: اثنين/أحد (also Monday/
        // Sunday), ordinals.
        let mut list: Vec<(String, f64)> = [
            ("واحد", 1.0),
            ("واحدة", 1.0),
            ("اثنان", 2.0),
            ("اثنا", 2.0),
            ("اثني", 2.0),
            ("اثنتان", 2.0),
            ("اثنتين", 2.0),
            ("اثنتا", 2.0),
            ("اثنتي", 2.0),
            ("ثلاث", 3.0),
            ("ثلاثة", 3.0),
            ("أربع", 4.0),
            ("أربعة", 4.0),
            ("خمس", 5.0),
            ("خمسة", 5.0),
            ("ست", 6.0),
            ("ستة", 6.0),
            ("سبع", 7.0),
            ("سبعة", 7.0),
            ("ثماني", 8.0),
            ("ثمانية", 8.0),
            ("ثمان", 8.0),
            ("تسع", 9.0),
            ("تسعة", 9.0),
            ("عشر", 10.0),
            ("عشرة", 10.0),
            ("عشرون", 20.0),
            ("عشرين", 20.0),
            ("ثلاثون", 30.0),
            ("ثلاثين", 30.0),
            ("أربعون", 40.0),
            ("أربعين", 40.0),
            ("خمسون", 50.0),
            ("خمسين", 50.0),
            ("ستون", 60.0),
            ("ستين", 60.0),
            ("سبعون", 70.0),
            ("سبعين", 70.0),
            ("ثمانون", 80.0),
            ("ثمانين", 80.0),
            ("تسعون", 90.0),
            ("تسعين", 90.0),
            ("مئة", 100.0),
            ("مائة", 100.0),
            ("مئتين", 200.0),
            ("مئتان", 200.0),
            ("مائتين", 200.0),
            ("مائتان", 200.0),
        ]
        .into_iter()
        .map(|(w, n)| (w.to_string(), n))
        .collect();
        for (unit, n) in [
            ("ثلاث", 3.0),
            ("أربع", 4.0),
            ("خمس", 5.0),
            ("ست", 6.0),
            ("سبع", 7.0),
            ("ثمان", 8.0),
            ("تسع", 9.0),
        ] {
            for hundred in ["مئة", "مائة"] {
                list.push((format!("{unit}{hundred}"), n * 100.0));
            }
        }
        list.into_iter()
            .flat_map(|(w, n)| {
                normalize::words_with(&w, &|_| false)
                    .into_iter()
                    .map(move |f| (f, n))
            })
            .collect()
    })
}

#[cfg(test)]
#[path = "figures_tests.rs"]
mod tests;
