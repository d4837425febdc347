//! Whether the region is an item's subject or only mentioned in passing: what a region-filtered source publishes.
//!
//! A mention is not a subject. Items that name a region word for something else — a community abroad ("the Uzbek
//! community in Istanbul"), a surname ("أبو عمر الأوزبكي"), a venue in passing ("on the sidelines of a forum in
//! Baku") — name it once, late, or only by a demonym, while items about the region name it in the headline or
//! lead, by its own name, a place or a leader, and usually more than once. So every mention is weighed by where it
//! stands (headline, lead, further on) and what it names (a name, place or person, or only a demonym, which also
//! names people and surnames elsewhere), and the item is about the region when the weights reach
//! [`SUBJECT_WEIGHT`].

use crate::regions::{Gazetteer, Kind, Match, PhraseKind};

/// The first words of the text: the lead, where an outlet says what the story is about.
pub(crate) const LEAD_WORDS: usize = 30;

/// Total weight of region mentions that makes the region the item's subject: one name in the headline, or two
/// in the lead, or a demonym in the headline confirmed by a name in the lead.
pub(crate) const SUBJECT_WEIGHT: f32 = 1.0;

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

/// The summed weight of the region mentions of an item (headline matches, text matches).
pub(crate) fn region_weight(title: &[Match], text: &[Match], has_text: bool, g: &Gazetteer) -> f32 {
    let region = |m: &&Match| g.kind(m.entry) != Kind::Foreign;
    let headline: f32 = title
        .iter()
        .filter(region)
        .map(|m| mention_weight(g.phrase_kind(m), true, true, has_text))
        .sum();
    let body: f32 = text
        .iter()
        .filter(region)
        .map(|m| mention_weight(g.phrase_kind(m), false, m.start < LEAD_WORDS, has_text))
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
