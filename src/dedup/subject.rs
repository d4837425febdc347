//! What a headline is about, beyond its country: which law, ministry or victims it names, where it happened, and
//! how far a law has got. Busy days bring several look-alike reports about one country — "the minister of
//! transport" and "the minister of agriculture" appointed the same morning, a quake in Khujand and one in Kulob,
//! a bill passed in first reading and another law signed — whose headlines share most words; these features let
//! the verdict tell them apart.

use super::features::{token_form, weight};
use crate::normalize;
use crate::regions::{Gazetteer, Kind, Match, PhraseKind};

/// What a qualified head word names; two headlines are compared only on heads of the same class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Head {
    /// قانون …: which law.
    Law,
    /// وزير/وزارة …: which portfolio.
    Ministry,
    /// مقتل/يقتلون …: who was killed.
    Victims,
}

/// How many content words after a head word describe it ("قانون وسائل الإعلام": وسائل، الإعلام).
const COMPLEMENT_WORDS: usize = 2;

fn head_of(word: &str) -> Option<Head> {
    Some(match word {
        "قانون" | "قانونا" | "لقانون" | "بقانون" => Head::Law,
        "وزير" | "وزيرا" | "وزاره" | "وزيره" | "لوزير" | "لوزاره" => {
            Head::Ministry
        }
        "مقتل" | "قتل" | "يقتل" | "يقتلون" | "تقتل" | "قتلت" | "مصرع" => {
            Head::Victims
        }
        _ => return None,
    })
}

/// A head word of the headline and the stemmed content words that follow it (entities, numbers and generic
/// news words skipped).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Qualified {
    pub(crate) head: Head,
    pub(crate) complement: Vec<String>,
}

/// The qualified heads of a headline.
pub(crate) fn qualified(words: &[&str], matches: &[Match]) -> Vec<Qualified> {
    let in_entity = |i: usize| matches.iter().any(|m| (m.start..m.end).contains(&i));
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let Some(head) = head_of(w) else { continue };
        let complement: Vec<String> = (i + 1..words.len())
            .filter(|&j| !in_entity(j))
            .map(|j| words[j])
            .filter(|w| {
                !normalize::is_stopword(w)
                    && !w.chars().any(|c| c.is_ascii_digit())
                    && super::figures::is_number_word(w).is_none()
                    && head_of(w).is_none()
            })
            .map(token_form)
            .filter(|s| weight(s) >= 1.0)
            .map(str::to_string)
            .take(COMPLEMENT_WORDS)
            .collect();
        if !complement.is_empty() {
            out.push(Qualified { head, complement });
        }
    }
    out
}

/// Two headlines name the same head with different things: the first complement word of each is absent from
/// the other's complement ("وزارة الطاقة" vs "وزارة الزراعة"; but "قانون وسائل الإعلام" and "قانون الإعلام" agree).
pub(crate) fn other_qualifier(a: &[Qualified], b: &[Qualified]) -> Option<(Head, String, String)> {
    for qa in a {
        for qb in b.iter().filter(|q| q.head == qa.head) {
            let (fa, fb) = (&qa.complement[0], &qb.complement[0]);
            if !qb.complement.contains(fa) && !qa.complement.contains(fb) {
                return Some((qa.head, fa.clone(), fb.clone()));
            }
        }
    }
    None
}

/// How far a law has got, when the headline says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stage {
    /// Passed in the n-th reading.
    Reading(u8),
    /// Signed by the head of state.
    Signed,
}

/// The legislative stage a headline names, if any. "يصادق" is left out: outlets use it for both a parliament's
/// vote and a president's signature.
pub(crate) fn stage(words: &[&str]) -> Option<Stage> {
    for (i, w) in words.iter().enumerate() {
        if matches!(*w, "قراءه" | "بالقراءه") {
            let n = match words.get(i + 1).copied() {
                Some("اولي") => 1,
                Some("ثانيه") => 2,
                Some("ثالثه") | Some("نهاييه") => 3,
                _ => continue,
            };
            return Some(Stage::Reading(n));
        }
    }
    let signs = words
        .iter()
        .any(|w| matches!(*w, "يوقع" | "وقع" | "توقيع" | "توقع"));
    let law = words.iter().any(|w| head_of(w) == Some(Head::Law));
    (signs && law).then_some(Stage::Signed)
}

/// Region places (not the country's own name; not a partner's capital, where any visit may take place) a
/// headline names, as folded words ("خجند", "محج قلعه").
pub(crate) fn places(words: &[&str], matches: &[Match], g: &Gazetteer) -> Box<[Box<str>]> {
    let mut v: Vec<Box<str>> = matches
        .iter()
        .filter(|m| g.phrase_kind(m) == PhraseKind::Place && g.kind(m.entry) != Kind::Foreign)
        .map(|m| words[m.start..m.end].join(" ").into_boxed_str())
        .collect();
    v.sort();
    v.dedup();
    v.into_boxed_slice()
}

/// Two spellings of one place (خجند/خوجند، طشقند/طاشقند، دوشنبه/دوشانبي): within two edits, or one for short names.
pub(crate) fn same_place(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let limit = if a.len().min(b.len()) >= 5 { 2 } else { 1 };
    edit_distance(&a, &b) <= limit
}

fn edit_distance(a: &[char], b: &[char]) -> usize {
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        normalize::words_with(s, &|_| false)
    }

    fn qualified_in(s: &str) -> Vec<Qualified> {
        let w = words(s);
        qualified(&w.iter().map(String::as_str).collect::<Vec<_>>(), &[])
    }

    fn stage_in(s: &str) -> Option<Stage> {
        let w = words(s);
        stage(&w.iter().map(String::as_str).collect::<Vec<_>>())
    }

    #[test]
    fn heads_and_their_complements() {
        let a = qualified_in("وزارة الطاقة تعلن خطة");
        let b = qualified_in("وزارة الزراعة تعلن خطة");
        assert!(other_qualifier(&a, &b).is_some());
        let c = qualified_in("جاباروف يوقع قانون وسائل الإعلام الجديد");
        let d = qualified_in("الرئيس يصادق على قانون الإعلام المثير للجدل");
        assert_eq!(other_qualifier(&c, &d), None);
        let e = qualified_in("مقتل 3 مسلحين في اشتباك");
        let f = qualified_in("حرس الحدود يقتلون ثلاثة مهربين مسلحين");
        assert_eq!(other_qualifier(&e, &f), None, "numbers are skipped");
    }

    #[test]
    fn stages_of_a_law() {
        assert_eq!(
            stage_in("البرلمان يقر مشروع القانون في القراءة الأولى"),
            Some(Stage::Reading(1))
        );
        assert_eq!(stage_in("الرئيس يوقع قانون التجمعات"), Some(Stage::Signed));
        assert_eq!(stage_in("الرئيس يصادق على قانون الإعلام"), None);
    }

    #[test]
    fn spellings_of_one_place() {
        assert!(same_place("خجند", "خوجند"));
        assert!(same_place("دوشنبه", "دوشانبي"));
        assert!(!same_place("خجند", "كولاب"));
        assert!(!same_place("نوكوس", "ترمذ"));
    }
}
