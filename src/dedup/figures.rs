//! Figures and dates in an item: quantities with the unit they count ("3 ملايين دولار" → 3000000 دولار,
//! "١٢٫٤٪" → 12.4 %), and months in both the Egyptian/Gulf (أكتوبر) and Levantine (تشرين الأول) names. They are
//! the strongest evidence that two look-alike reports are different events.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use super::features::stem;
use crate::normalize;

/// A word as a number: digits, digits behind a clitic (و2022، بـ7.9) or a number word.
fn number_of(word: &str) -> Option<f64> {
    let digits = word.trim_start_matches(|c: char| !c.is_ascii_digit());
    let prefix = &word[..word.len() - digits.len()];
    if !digits.is_empty()
        && matches!(
            prefix,
            "" | "و" | "ب" | "ل" | "ف" | "ك" | "ال" | "وال" | "بال" | "لل"
        )
    {
        return digits.parse().ok();
    }
    number_words().get(word).copied()
}

/// Scale words: (multiplier, value when no number precedes it: duals mean two, plurals mean nothing exact).
fn scale_of(word: &str) -> Option<(f64, Option<f64>)> {
    Some(match word {
        "الف" => (1e3, Some(1e3)),
        "الاف" => (1e3, None),
        "الفين" | "الفان" => (1e3, Some(2e3)),
        "مليون" => (1e6, Some(1e6)),
        "ملايين" => (1e6, None),
        "مليوني" | "مليونين" | "مليونان" => (1e6, Some(2e6)),
        "مليار" | "بليون" => (1e9, Some(1e9)),
        "مليارات" => (1e9, None),
        "ملياري" | "مليارين" | "ملياران" => (1e9, Some(2e9)),
        _ => return None,
    })
}

/// Every quantity with the unit it counts: the first content word after it (scale words folded into the value).
pub(crate) fn collect_quantities(words: &[String], out: &mut BTreeMap<String, Vec<f64>>) {
    let mut i = 0;
    while i < words.len() {
        let (mut value, mut j) = match (number_of(&words[i]), scale_of(&words[i])) {
            (Some(v), _) => (v, i + 1),
            (None, Some((_, Some(v)))) => (v, i + 1),
            _ => {
                i += 1;
                continue;
            }
        };
        if words
            .get(j)
            .is_some_and(|w| matches!(w.as_str(), "عشر" | "عشره"))
        {
            value += 10.0;
            j += 1;
        }
        if let Some((mult, _)) = words.get(j).and_then(|w| scale_of(w)) {
            if number_of(&words[i]).is_some() {
                value *= mult;
                j += 1;
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
            words[j..]
                .iter()
                .take(3)
                .find(|w| {
                    !normalize::is_stopword(w) && number_of(w).is_none() && scale_of(w).is_none()
                })
                .map(|w| stem(w))
                .unwrap_or_default()
        };
        // Years date the story rather than quantify it (and months already tell editions apart).
        let is_year =
            value.fract() == 0.0 && (1900.0..=2100.0).contains(&value) && !words[i].contains('.');
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
    matches!(w, "مئه" | "مائه")
}

pub(crate) fn months_in(words: &[String]) -> Vec<u8> {
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let next = words.get(i + 1).map(String::as_str);
        let month = match (w.as_str(), next) {
            ("كانون", Some("ثاني")) => Some(1),
            ("كانون", Some("اول")) => Some(12),
            ("تشرين", Some("اول")) => Some(10),
            ("تشرين", Some("ثاني")) => Some(11),
            // Words that are also common verbs or nouns (مارس "practised", أب "father") count only next to a
            // number or after "شهر".
            ("مارس" | "اب" | "تموز", _) => {
                let prev = i.checked_sub(1).map(|p| words[p].as_str());
                let dated = prev.is_some_and(|p| number_of(p).is_some() || p == "شهر")
                    || next.is_some_and(|n| n.len() >= 4 && n.chars().all(|c| c.is_ascii_digit()));
                dated.then_some(match w.as_str() {
                    "مارس" => 3,
                    "اب" => 8,
                    _ => 7,
                })
            }
            (w, _) => month_words().iter().find(|(m, _)| *m == w).map(|&(_, n)| n),
        };
        out.extend(month);
    }
    out
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

fn number_words() -> &'static HashMap<&'static str, f64> {
    static WORDS: OnceLock<HashMap<&'static str, f64>> = OnceLock::new();
    WORDS.get_or_init(|| {
        // Folded spellings. Left out on purpose: اثنين/احد (also Monday/Sunday), ordinals.
        let list: &[(&str, f64)] = &[
            ("واحد", 1.0),
            ("واحده", 1.0),
            ("اثنان", 2.0),
            ("اثنتان", 2.0),
            ("اثنتين", 2.0),
            ("ثلاث", 3.0),
            ("ثلاثه", 3.0),
            ("اربع", 4.0),
            ("اربعه", 4.0),
            ("خمس", 5.0),
            ("خمسه", 5.0),
            ("ست", 6.0),
            ("سته", 6.0),
            ("سبع", 7.0),
            ("سبعه", 7.0),
            ("ثماني", 8.0),
            ("ثمانيه", 8.0),
            ("ثمان", 8.0),
            ("تسع", 9.0),
            ("تسعه", 9.0),
            ("عشر", 10.0),
            ("عشره", 10.0),
            ("عشرون", 20.0),
            ("عشرين", 20.0),
            ("ثلاثون", 30.0),
            ("ثلاثين", 30.0),
            ("اربعون", 40.0),
            ("اربعين", 40.0),
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
            ("مئه", 100.0),
            ("مائه", 100.0),
            ("مئتين", 200.0),
            ("مئتان", 200.0),
            ("مائتين", 200.0),
            ("مائتان", 200.0),
        ];
        list.iter().copied().collect()
    })
}
