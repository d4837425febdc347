//! Whether two items report the same event, and why: the pairwise decision `StoryIndex::place` relies on and
//! `explain` prints for operators.
//!
//! Evidence *against* a merge is checked first and vetoes: a wrong merge hides a story from readers, a missed
//! merge only shows it twice. Only then does similarity decide.

use std::fmt;

use chrono::{DateTime, Utc};

use super::features::weight;
use super::subject;
use super::{DedupSettings, ItemFeatures};

/// Why two items were, or were not, put in the same story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Published further apart than the window.
    TooFarApart,
    /// A headline names a country or republic the other item never mentions.
    OtherCountry,
    /// Each headline names an outside partner (UAE, Kuwait, France…) the other item never mentions.
    OtherPartner,
    /// The same unit is quantified with different figures (3 vs 5 million dollars).
    OtherFigure,
    /// Both name months and none in common (October vs November edition of a statistic).
    OtherMonth,
    /// One headline reports failure, refusal, postponement, acquittal or a negation and the other does not.
    OtherOutcome,
    /// The two items name no region country in common (the Uzbek central bank vs the Kyrgyz one).
    OtherCountries,
    /// The headlines name different places of one country (a quake in Khujand vs one in Kulob).
    OtherPlace,
    /// The headlines name a different law, ministry or victims ("وزير النقل" vs "وزير الزراعة").
    OtherSubject,
    /// One headline has a bill passed in a reading, the other a law signed (or another reading).
    OtherStage,
    /// Published more than `follow_up_hours` apart without near-identical headlines: a follow-up.
    FollowUp,
    /// Nothing contradicts, but too little is shared.
    LowSimilarity,
    /// Headlines share most of their words.
    SimilarTitle,
    /// Headline and summary together share enough words, and at least one region entity.
    SimilarText,
}

/// The outcome of comparing two items.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Whether the two items report the same story.
    pub same: bool,
    /// The rule that decided.
    pub reason: Reason,
    /// Human-readable specifics of the reason (which country, which figures…).
    pub detail: String,
    /// Jaccard similarity of the headlines' stemmed words.
    pub title_similarity: f32,
    /// Weighted count of words shared by headline + summary (see `weight`).
    pub shared_weight: f32,
    /// `shared_weight` over the smaller item's total weight.
    pub shared_fraction: f32,
    /// Used to prefer the best of several matching candidates.
    pub score: f32,
}

fn jaccard(a: &[String], b: &[String]) -> f32 {
    let inter = intersection(a, b);
    let union = a.len() + b.len() - inter;
    if union == 0 {
        0.0
    } else {
        inter as f32 / union as f32
    }
}

/// Weighted size of the intersection, and that over the lighter side's total.
fn shared(a: &[String], b: &[String]) -> (f32, f32) {
    let total = |x: &[String]| x.iter().map(|t| weight(t)).sum::<f32>();
    let common: f32 = a
        .iter()
        .filter(|t| b.binary_search(t).is_ok())
        .map(|t| weight(t))
        .sum();
    let lighter = total(a).min(total(b));
    (common, if lighter > 0.0 { common / lighter } else { 0.0 })
}

/// Size of the intersection of two sorted, unique lists.
fn intersection(a: &[String], b: &[String]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += 1;
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// A headline country the other item mentions neither directly nor through a region containing it.
fn missing<'a>(named: &'a [(String, Vec<String>)], other: &[String]) -> Option<&'a String> {
    named
        .iter()
        .find(|(id, regions)| !other.contains(id) && !regions.iter().any(|r| other.contains(r)))
        .map(|(id, _)| id)
}

fn missing_partner<'a>(named: &'a [String], other_all: &[String]) -> Option<&'a String> {
    named.iter().find(|x| !other_all.contains(x))
}

/// Both headlines name places, none of one headline's places is named anywhere in the other item: two events
/// in two cities. (A capital in one headline and none in the other is no contradiction.)
fn other_place(a: &ItemFeatures, b: &ItemFeatures) -> Option<(String, String)> {
    if a.title_places.is_empty() || b.title_places.is_empty() {
        return None;
    }
    let named_in = |p: &String, x: &ItemFeatures| {
        let token = p.replace(' ', "_");
        x.title_places.iter().any(|q| subject::same_place(p, q))
            || x.text_tokens.iter().any(|t| {
                // Lengths further apart than two edits cannot be one place: skip the distance.
                t.len().abs_diff(token.len()) <= 4 && subject::same_place(&token, t)
            })
    };
    let a_alone = a.title_places.iter().all(|p| !named_in(p, b));
    let b_alone = b.title_places.iter().all(|p| !named_in(p, a));
    (a_alone && b_alone).then(|| (a.title_places.join(", "), b.title_places.join(", ")))
}

/// The first contradiction between two items, if any.
fn contradiction(a: &ItemFeatures, b: &ItemFeatures) -> Option<(Reason, String)> {
    if let Some(x) = missing(&a.title_countries, &b.mentioned)
        .or_else(|| missing(&b.title_countries, &a.mentioned))
    {
        return Some((
            Reason::OtherCountry,
            format!("`{x}` is in one headline and absent from the other item"),
        ));
    }
    if let (Some(x), Some(y)) = (
        missing_partner(&a.title_foreign, &b.foreign),
        missing_partner(&b.title_foreign, &a.foreign),
    ) {
        return Some((
            Reason::OtherPartner,
            format!("partners differ: `{x}` vs `{y}`"),
        ));
    }
    for (unit, va) in &a.quantities {
        if let Some(vb) = b.quantities.get(unit) {
            if !va.iter().any(|x| vb.contains(x)) {
                let unit = if unit.is_empty() { "(no unit)" } else { unit };
                return Some((Reason::OtherFigure, format!("{unit}: {va:?} vs {vb:?}")));
            }
        }
    }
    if !a.months.is_empty()
        && !b.months.is_empty()
        && !a.months.iter().any(|m| b.months.contains(m))
    {
        return Some((
            Reason::OtherMonth,
            format!("months {:?} vs {:?}", a.months, b.months),
        ));
    }
    if !a.countries.is_empty()
        && !b.countries.is_empty()
        && !a.countries.iter().any(|c| b.countries.contains(c))
    {
        return Some((
            Reason::OtherCountries,
            format!("countries {:?} vs {:?}", a.countries, b.countries),
        ));
    }
    if let Some((x, y)) = other_place(a, b) {
        return Some((Reason::OtherPlace, format!("places `{x}` vs `{y}`")));
    }
    if let Some((head, x, y)) = subject::other_qualifier(&a.title_qualified, &b.title_qualified) {
        return Some((Reason::OtherSubject, format!("{head:?}: `{x}` vs `{y}`")));
    }
    if let (Some(x), Some(y)) = (a.title_stage, b.title_stage) {
        if x != y {
            return Some((Reason::OtherStage, format!("{x:?} vs {y:?}")));
        }
    }
    if a.title_negative != b.title_negative {
        return Some((
            Reason::OtherOutcome,
            "only one headline reports a failure, refusal or negation".into(),
        ));
    }
    None
}

/// Decides whether `a` (published `ta`) and `b` (published `tb`) report the same event.
pub fn same_story(
    a: &ItemFeatures,
    ta: DateTime<Utc>,
    b: &ItemFeatures,
    tb: DateTime<Utc>,
    s: &DedupSettings,
) -> Verdict {
    let title_similarity = jaccard(&a.title_tokens, &b.title_tokens);
    let (shared_weight, shared_fraction) = shared(&a.text_tokens, &b.text_tokens);
    let score = title_similarity.max(shared_fraction);
    let verdict = |same, reason, detail: String| Verdict {
        same,
        reason,
        detail,
        title_similarity,
        shared_weight,
        shared_fraction,
        score,
    };
    let gap_hours = (ta - tb).num_minutes().unsigned_abs() as f64 / 60.0;
    if gap_hours > f64::from(s.window_hours) {
        return verdict(
            false,
            Reason::TooFarApart,
            format!("{gap_hours:.1} h apart"),
        );
    }
    if let Some((reason, detail)) = contradiction(a, b) {
        return verdict(false, reason, detail);
    }
    if gap_hours > f64::from(s.follow_up_hours) && title_similarity < s.follow_up_title_similarity {
        return verdict(
            false,
            Reason::FollowUp,
            format!("{gap_hours:.1} h apart and headlines differ"),
        );
    }
    if title_similarity >= s.title_similarity {
        return verdict(
            true,
            Reason::SimilarTitle,
            format!("headline similarity {title_similarity:.2}"),
        );
    }
    let shares_entity = a.entities.iter().any(|e| b.entities.contains(e));
    if shares_entity && shared_weight >= s.shared_weight && shared_fraction >= s.shared_fraction {
        return verdict(
            true,
            Reason::SimilarText,
            format!("shared weight {shared_weight:.2} ({shared_fraction:.2}) with a shared entity"),
        );
    }
    verdict(
        false,
        Reason::LowSimilarity,
        format!("headline {title_similarity:.2}, shared weight {shared_weight:.2} ({shared_fraction:.2})"),
    )
}

/// Everything that went into one decision, for operators wondering why two items were (not) merged.
#[derive(Debug, Clone)]
pub struct Explanation {
    /// The first item's features.
    pub a: ItemFeatures,
    /// The second item's features.
    pub b: ItemFeatures,
    /// Hours between the two items' publication times.
    pub gap_hours: f64,
    /// What [`same_story`] decided, and why.
    pub verdict: Verdict,
}

/// Compares two items and keeps the evidence.
pub fn explain(
    a: &ItemFeatures,
    a_time: DateTime<Utc>,
    b: &ItemFeatures,
    b_time: DateTime<Utc>,
    settings: &DedupSettings,
) -> Explanation {
    Explanation {
        a: a.clone(),
        b: b.clone(),
        gap_hours: (a_time - b_time).num_minutes().abs() as f64 / 60.0,
        verdict: same_story(a, a_time, b, b_time, settings),
    }
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (label, x) in [("A", &self.a), ("B", &self.b)] {
            let ents: Vec<&str> = x.entities.iter().map(|e| e.id.as_str()).collect();
            writeln!(f, "{label} title:    {}", x.title_norm)?;
            writeln!(f, "{label} summary:  {}", x.summary_norm)?;
            writeln!(f, "{label} tokens:   {}", x.title_tokens.join(" "))?;
            writeln!(f, "{label} text:     {}", x.text_tokens.join(" "))?;
            let heads: Vec<&str> = x
                .title_countries
                .iter()
                .map(|(id, _)| id.as_str())
                .collect();
            writeln!(
                f,
                "{label} entities: {ents:?} headline countries {heads:?} partners {:?}",
                x.foreign
            )?;
            writeln!(
                f,
                "{label} figures:  {:?} months {:?} negative headline {}",
                x.quantities, x.months, x.title_negative
            )?;
            writeln!(
                f,
                "{label} subject:  countries {:?} headline places {:?} qualified {:?} stage {:?}; about the region: {}",
                x.countries, x.title_places, x.title_qualified, x.title_stage, x.about_region
            )?;
        }
        let v = &self.verdict;
        writeln!(f, "gap {:.1} h, headline similarity {:.2}, shared weight {:.2} ({:.2} of the lighter item)", self.gap_hours, v.title_similarity, v.shared_weight, v.shared_fraction)?;
        write!(
            f,
            "verdict: {} ({:?}: {})",
            if v.same {
                "SAME story"
            } else {
                "different stories"
            },
            v.reason,
            v.detail
        )
    }
}
