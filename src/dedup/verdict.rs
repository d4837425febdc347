//! Whether two items report the same event, and why: the pairwise decision `StoryIndex::place` relies on and
//! `explain` prints for operators.
//!
//! Evidence *against* a merge is checked first and vetoes: a wrong merge hides a story from readers, a missed
//! merge only shows it twice. Only then does similarity decide.

use std::fmt;

use chrono::{DateTime, Utc};

use super::features::{weight, EntityId, Facts, HeadlineCountry, Token};
use super::subject;
use super::{DedupSettings, ItemFeatures};

/// One side of a decision: its facts and its headline + summary tokens, as strings (an item's features) or as
/// ids of the story index's vocabulary (an indexed item, which keeps no token strings of its own).
#[derive(Clone, Copy)]
pub(crate) struct Side<'a> {
    pub(crate) facts: &'a Facts,
    pub(crate) text: Tokens<'a>,
}

/// Headline + summary tokens of one side.
#[derive(Clone, Copy)]
pub(crate) enum Tokens<'a> {
    Words(&'a [Token]),
    /// Ids and the vocabulary they index.
    Ids(&'a [u32], &'a [Box<str>]),
}

impl Tokens<'_> {
    fn any(self, mut f: impl FnMut(&str) -> bool) -> bool {
        match self {
            Tokens::Words(words) => words.iter().any(|w| f(w)),
            Tokens::Ids(ids, vocabulary) => ids.iter().any(|&id| f(&vocabulary[id as usize])),
        }
    }
}

impl ItemFeatures {
    /// This item as one side of a decision.
    pub(crate) fn side(&self) -> Side<'_> {
        Side {
            facts: &self.facts,
            text: Tokens::Words(&self.text_tokens),
        }
    }
}

/// Why two items were, or were not, put in the same story.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// Published further apart than the window.
    TooFarApart,
    /// A headline names a country or republic the other item never mentions.
    OtherCountry,
    /// One headline names an outside partner (UAE, Kuwait, France…) the other item never mentions, and the other
    /// item names another partner the first never mentions.
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

/// The similarity figures of two items. `same_story` computes them from the token lists; the story index counts
/// the shared tokens by interned id and both go through [`Similarity::from_counts`] (weights are multiples of
/// 0.25, so sums are exact in any order and both ways give the very same figures).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Similarity {
    /// Jaccard similarity of the headlines' stemmed words.
    pub(crate) title_similarity: f32,
    /// Weighted count of words shared by headline + summary (see `weight`).
    pub(crate) shared_weight: f32,
    /// `shared_weight` over the lighter item's total weight.
    pub(crate) shared_fraction: f32,
}

impl Similarity {
    /// The figures of two items from their token lists.
    pub(crate) fn of(a: &ItemFeatures, b: &ItemFeatures) -> Similarity {
        let total = |x: &ItemFeatures| x.text_tokens.iter().map(|t| weight(t)).sum::<f32>();
        Similarity::from_counts(
            (
                intersection(&a.title_tokens, &b.title_tokens, |_| 1.0) as usize,
                a.title_tokens.len(),
                b.title_tokens.len(),
                (a.title_boilerplate, b.title_boilerplate),
                (
                    intersection(&a.title_dropped, &b.title_tokens, |_| 1.0) as usize,
                    intersection(&b.title_dropped, &a.title_tokens, |_| 1.0) as usize,
                ),
            ),
            (
                intersection(&a.text_tokens, &b.text_tokens, |t| weight(t)),
                total(a),
                total(b),
            ),
        )
    }

    /// The figures from what the two items share: (headline words in common, headline sizes, the numbers of
    /// headline words each dropped as boilerplate) and (weight of the headline+summary words in common, total
    /// weights). The story index counts these its own way.
    ///
    /// Boilerplate words are never shared but are still there: the larger of the two headlines' counts stays in
    /// the union (once — two headlines in one template hold the same ones), so a headline left with three words
    /// after its template is not "most words shared" with another on an entity, a figure and a generic verb.
    /// Except when the headlines are the same: every word left is shared and as many were dropped from each (the
    /// same headline in the same template, an outlet posting a report again), which stays 1.0 as it was before
    /// boilerplate was dropped — else a report posted again past `follow_up_hours` would be a story of its own.
    ///
    /// A word one headline dropped and the other holds as a word of its own (a word-for-word copy by an outlet
    /// without that template: `cross`, A's dropped words in B's headline and B's in A's) is shared, once.
    pub(crate) fn from_counts(
        (title_common, title_a, title_b, (boilerplate_a, boilerplate_b), (cross_a, cross_b)): (
            usize,
            usize,
            usize,
            (u16, u16),
            (usize, usize),
        ),
        (shared_weight, total_a, total_b): (f32, f32, f32),
    ) -> Similarity {
        let same_headline =
            title_common == title_a && title_common == title_b && boilerplate_a == boilerplate_b;
        let unshared_boilerplate = if same_headline {
            0
        } else {
            usize::from(boilerplate_a)
                .saturating_sub(cross_a)
                .max(usize::from(boilerplate_b).saturating_sub(cross_b))
        };
        let union = title_a + title_b - title_common + unshared_boilerplate;
        let title_common = title_common + cross_a + cross_b;
        let lighter = total_a.min(total_b);
        Similarity {
            title_similarity: if union == 0 {
                0.0
            } else {
                title_common as f32 / union as f32
            },
            shared_weight,
            shared_fraction: if lighter > 0.0 {
                shared_weight / lighter
            } else {
                0.0
            },
        }
    }

    /// Prefers the best of several matching candidates.
    pub(crate) fn score(&self) -> f32 {
        self.title_similarity.max(self.shared_fraction)
    }

    /// Whether these figures could ever make two items one story (no rule merges below them). The index skips
    /// the full decision for candidates that cannot match; keep this in step with the merge rules of `judge`.
    pub(crate) fn may_merge(&self, s: &DedupSettings) -> bool {
        self.title_similarity >= s.title_similarity
            || (self.shared_weight >= s.shared_weight && self.shared_fraction >= s.shared_fraction)
    }
}

/// Weighted size of the intersection of two sorted, unique lists.
fn intersection<T: Ord>(a: &[T], b: &[T], weight: impl Fn(&T) -> f32) -> f32 {
    let (mut i, mut j, mut n) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                n += weight(&a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    n
}

/// A partner in `a`'s headline that `b` never mentions, and one `b` mentions that `a` never does.
fn other_partner<'a>(a: &'a Facts, b: &'a Facts) -> Option<(&'a EntityId, &'a EntityId)> {
    missing_partner(&a.title_foreign, &b.foreign).zip(missing_partner(&b.foreign, &a.foreign))
}

/// A headline country the other item mentions neither directly nor through a region containing it.
fn missing<'a>(named: &'a [HeadlineCountry], other: &[EntityId]) -> Option<&'a EntityId> {
    named
        .iter()
        .find(|(id, regions)| !other.contains(id) && !regions.iter().any(|r| other.contains(r)))
        .map(|(id, _)| id)
}

fn missing_partner<'a>(named: &'a [EntityId], other_all: &[EntityId]) -> Option<&'a EntityId> {
    named.iter().find(|x| !other_all.contains(x))
}

/// Both headlines name places, none of one headline's places is named anywhere in the other item: two events
/// in two cities. (A capital in one headline and none in the other is no contradiction.)
fn other_place(a: Side, b: Side) -> Option<(String, String)> {
    let (pa, pb) = (&a.facts.title_places, &b.facts.title_places);
    if pa.is_empty() || pb.is_empty() {
        return None;
    }
    let named_in = |p: &str, x: Side| {
        let token = p.replace(' ', "_");
        x.facts
            .title_places
            .iter()
            .any(|q| subject::same_place(p, q))
            || x.text.any(|t| {
                // Lengths further apart than two edits cannot be one place: skip the distance.
                t.len().abs_diff(token.len()) <= 4 && subject::same_place(&token, t)
            })
    };
    let a_alone = pa.iter().all(|p| !named_in(p, b));
    let b_alone = pb.iter().all(|p| !named_in(p, a));
    (a_alone && b_alone).then(|| (pa.join(", "), pb.join(", ")))
}

/// The first contradiction between two items, if any.
fn contradiction<D>(a: Side, b: Side, describe: Describe<D>) -> Option<(Reason, D)> {
    let (sa, sb) = (a, b);
    let (a, b) = (a.facts, b.facts);
    if let Some(x) = missing(&a.title_countries, &b.mentioned)
        .or_else(|| missing(&b.title_countries, &a.mentioned))
    {
        return Some((
            Reason::OtherCountry,
            describe(format_args!(
                "`{x}` is in one headline and absent from the other item"
            )),
        ));
    }
    // One headline's partner is absent from the other item, which names another partner of its own (in its
    // headline or its text): the Iranian minister received vs the Chinese one ("وانغ يي" in a headline, "الصيني"
    // only in its summary).
    if let Some((x, y)) = other_partner(a, b).or_else(|| other_partner(b, a).map(|(y, x)| (x, y))) {
        return Some((
            Reason::OtherPartner,
            describe(format_args!("partners differ: `{x}` vs `{y}`")),
        ));
    }
    for (unit, va) in &a.quantities {
        if let Some(vb) = b.quantity(unit) {
            if !va.iter().any(|x| vb.contains(x)) {
                let unit: &str = if unit.is_empty() { "(no unit)" } else { unit };
                return Some((
                    Reason::OtherFigure,
                    describe(format_args!("{unit}: {va:?} vs {vb:?}")),
                ));
            }
        }
    }
    if !a.months.is_empty()
        && !b.months.is_empty()
        && !a.months.iter().any(|m| b.months.contains(m))
    {
        return Some((
            Reason::OtherMonth,
            describe(format_args!("months {:?} vs {:?}", a.months, b.months)),
        ));
    }
    if !a.countries.is_empty()
        && !b.countries.is_empty()
        && !a.countries.iter().any(|c| b.countries.contains(c))
    {
        return Some((
            Reason::OtherCountries,
            describe(format_args!(
                "countries {:?} vs {:?}",
                a.countries, b.countries
            )),
        ));
    }
    if let Some((x, y)) = other_place(sa, sb) {
        return Some((
            Reason::OtherPlace,
            describe(format_args!("places `{x}` vs `{y}`")),
        ));
    }
    if let Some((head, x, y)) = subject::other_qualifier(&a.title_qualified, &b.title_qualified) {
        return Some((
            Reason::OtherSubject,
            describe(format_args!("{head:?}: `{x}` vs `{y}`")),
        ));
    }
    if let (Some(x), Some(y)) = (a.title_stage, b.title_stage) {
        if x != y {
            return Some((Reason::OtherStage, describe(format_args!("{x:?} vs {y:?}"))));
        }
    }
    if a.title_negative != b.title_negative {
        return Some((
            Reason::OtherOutcome,
            describe(format_args!(
                "only one headline reports a failure, refusal or negation"
            )),
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
    judge(a.side(), ta, b.side(), tb, Similarity::of(a, b), s)
}

/// The decision from the similarity figures and everything else the items say.
pub(crate) fn judge(
    a: Side,
    ta: DateTime<Utc>,
    b: Side,
    tb: DateTime<Utc>,
    sim: Similarity,
    s: &DedupSettings,
) -> Verdict {
    let (same, reason, detail) = decide(a, ta, b, tb, sim, s, &|args| args.to_string());
    Verdict {
        same,
        reason,
        detail,
        title_similarity: sim.title_similarity,
        shared_weight: sim.shared_weight,
        shared_fraction: sim.shared_fraction,
        score: sim.score(),
    }
}

/// Builds the human-readable detail of a reason, or nothing: the index decides thousands of pairs a second and
/// reads no detail, so it passes `&|_| ()` and no text is ever formatted for it.
pub(crate) type Describe<'f, D> = &'f dyn Fn(fmt::Arguments<'_>) -> D;

/// The rules: whether `a` and `b` are one story, why, and the detail `describe` makes of it.
pub(crate) fn decide<D>(
    a: Side,
    ta: DateTime<Utc>,
    b: Side,
    tb: DateTime<Utc>,
    sim: Similarity,
    s: &DedupSettings,
    describe: Describe<D>,
) -> (bool, Reason, D) {
    let Similarity {
        title_similarity,
        shared_weight,
        shared_fraction,
    } = sim;
    let verdict = |same, reason, detail: D| (same, reason, detail);
    let gap_hours = (ta - tb).num_minutes().unsigned_abs() as f64 / 60.0;
    if gap_hours > f64::from(s.window_hours) {
        return verdict(
            false,
            Reason::TooFarApart,
            describe(format_args!("{gap_hours:.1} h apart")),
        );
    }
    if let Some((reason, detail)) = contradiction(a, b, describe) {
        return verdict(false, reason, detail);
    }
    if gap_hours > f64::from(s.follow_up_hours) && title_similarity < s.follow_up_title_similarity {
        return verdict(
            false,
            Reason::FollowUp,
            describe(format_args!("{gap_hours:.1} h apart and headlines differ")),
        );
    }
    if title_similarity >= s.title_similarity {
        return verdict(
            true,
            Reason::SimilarTitle,
            describe(format_args!("headline similarity {title_similarity:.2}")),
        );
    }
    // `mentioned` is the item's region entities, by id.
    let shares_entity = a
        .facts
        .mentioned
        .iter()
        .any(|e| b.facts.mentioned.contains(e));
    if shares_entity && shared_weight >= s.shared_weight && shared_fraction >= s.shared_fraction {
        return verdict(
            true,
            Reason::SimilarText,
            describe(format_args!(
                "shared weight {shared_weight:.2} ({shared_fraction:.2}) with a shared entity"
            )),
        );
    }
    verdict(
        false,
        Reason::LowSimilarity,
        describe(format_args!("headline {title_similarity:.2}, shared weight {shared_weight:.2} ({shared_fraction:.2})")),
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
            let facts = &x.facts;
            writeln!(f, "{label} tokens:   {}", x.title_tokens.join(" "))?;
            writeln!(f, "{label} text:     {}", x.text_tokens.join(" "))?;
            let heads: Vec<&str> = facts.title_countries.iter().map(|(id, _)| &**id).collect();
            writeln!(
                f,
                "{label} entities: {ents:?} headline countries {heads:?} partners {:?}",
                facts.foreign
            )?;
            writeln!(
                f,
                "{label} figures:  {:?} months {:?} negative headline {}",
                facts.quantities, facts.months, facts.title_negative
            )?;
            writeln!(
                f,
                "{label} subject:  countries {:?} headline places {:?} qualified {:?} stage {:?}; about the region: {}",
                facts.countries, facts.title_places, facts.title_qualified, facts.title_stage, x.about_region
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
