//! Whether the region is an item's subject or only mentioned in passing: what a region-filtered source publishes.
//!
//! A mention is not a subject. Items that name a region word for something else — a community abroad ("the Uzbek
//! community in Istanbul"), a surname ("أبو عمر الأوزبكي"), a venue in passing ("on the sidelines of a forum in
//! Baku") — name it once, late, or only by a demonym, while items about the region name it in the headline or
//! lead, by its own name, a place or a leader, and usually more than once. So every mention is weighed by where it
//! stands (headline, lead, further on) and what it names (a name, place or person, or only a demonym, which also
//! names people and surnames elsewhere), and the item is about the region when the weights reach
//! [`SUBJECT_WEIGHT`].

use rustc_hash::FxHashSet;
use std::sync::OnceLock;

use crate::normalize;
use crate::regions::{Gazetteer, Kind, Match, PhraseKind};

/// The first words of the text: the lead, where an outlet says what the story is about.
pub(crate) const LEAD_WORDS: usize = 30;

/// Total weight of region mentions that makes the region the item's subject: one name in the headline, or two
/// in the lead, or a demonym in the headline confirmed by a name in the lead.
pub(crate) const SUBJECT_WEIGHT: f32 = 1.0;

/// Nouns that make the demonym after them an adjective of the state rather than of people: "الرئيس الأوزبكي",
/// "الغاز الأذربيجاني", "المنتخب القرغيزي" say the country acts; "الأوزبك", "أبو عمر الأوزبكي", "من أصل شيشاني"
/// name people, who may live anywhere.
fn state_nouns() -> &'static FxHashSet<String> {
    static NOUNS: OnceLock<FxHashSet<String>> = OnceLock::new();
    NOUNS.get_or_init(|| {
        "الرئيس رئيس الرئيسة نظيره نظيرها الحكومة حكومة الوزير وزير وزيرة الوزارة وزارة البرلمان برلمان الجيش جيش \
         الشرطة السلطات سلطات السفير السفارة الخارجية الدفاع الداخلية البنك المركزي العملة الاقتصاد النفط الغاز \
         القمح الصادرات المنتخب منتخب الدوري الجانب الوفد وفد الطيران الخطوط العاصمة المحكمة القضاء الأمن \
         القوات حرس المعارضة الشركة شركة"
            .split_whitespace()
            .flat_map(|w| normalize::words_with(w, &|_| false))
            .collect()
    })
}

/// The weight kind of a mention: a demonym right after a state noun counts as the name.
fn weighed_kind(m: &Match, words: &[&str], g: &Gazetteer) -> PhraseKind {
    let kind = g.phrase_kind(m);
    let after_state_noun = m
        .start
        .checked_sub(1)
        .is_some_and(|p| state_nouns().contains(words[p]));
    if kind == PhraseKind::Demonym && after_state_noun {
        PhraseKind::Name
    } else {
        kind
    }
}

/// What one mention says about the item's subject.
fn mention_weight(kind: PhraseKind, in_headline: bool, in_lead: bool, has_text: bool) -> f32 {
    let demonym = kind == PhraseKind::Demonym;
    match (in_headline, in_lead, demonym) {
        // A headline without any text to weigh it against: trust the headline.
        (true, _, true) if !has_text => 1.0,
        (true, _, false) => 1.0,
        (true, _, true) => 0.5,
        (false, true, false) => 0.5,
        (false, true, true) => 0.25,
        (false, false, false) => 0.25,
        (false, false, true) => 0.1,
    }
}

/// The summed weight of the region mentions of an item: the headline's words and matches, then the text's.
pub(crate) fn region_weight(
    (title_words, title): (&[&str], &[Match]),
    (text_words, text): (&[&str], &[Match]),
    g: &Gazetteer,
) -> f32 {
    let has_text = !text_words.is_empty();
    let region = |m: &&Match| g.kind(m.entry) != Kind::Foreign;
    let headline: f32 = title
        .iter()
        .filter(region)
        .map(|m| mention_weight(weighed_kind(m, title_words, g), true, true, has_text))
        .sum();
    let body: f32 = text
        .iter()
        .filter(region)
        .map(|m| {
            let kind = weighed_kind(m, text_words, g);
            mention_weight(kind, false, m.start < LEAD_WORDS, has_text)
        })
        .sum();
    headline + body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dedup::features;

    fn about(title: &str, summary: &str) -> bool {
        features(title, Some(summary), &Gazetteer::builtin())
            .region_tags()
            .region_match
    }

    #[test]
    fn a_name_in_the_headline_makes_the_subject() {
        assert!(about("زلزال يضرب طاجيكستان", "شعر به السكان."));
        assert!(about("حريق في سوق", "اندلع حريق في سوق دوردوي بالعاصمة القرغيزية بيشكيك، وقالت وزارة الطوارئ في قرغيزستان إنه لم يسفر عن إصابات."));
    }

    #[test]
    fn a_passing_mention_or_a_community_abroad_does_not() {
        assert!(!about(
            "وزراء خارجية الخليج يبحثون أمن الطاقة",
            "بحث وزراء خارجية دول الخليج في اجتماعهم أمن إمدادات الطاقة وأسعار النفط، على هامش منتدى عقد الأسبوع الماضي في باكو."
        ));
        assert!(!about(
            "الأمن السوري يعتقل أبو عمر الأوزبكي في ريف إدلب",
            "أعلنت وزارة الداخلية السورية اعتقال القيادي المسلح المعروف بأبو عمر الأوزبكي خلال مداهمة."
        ));
        let g = Gazetteer::builtin();
        assert!(
            features("الرئيس القرغيزي يزور أنقرة", None, &g)
                .region_tags()
                .region_match,
            "a headline alone is trusted"
        );
    }
}
