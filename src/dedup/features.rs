//! What one item contributes to matching: stemmed token sets with entities collapsed to one token each, region
//! and foreign entities, quantities with their units, months, and what its headline is about.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use rustc_hash::FxHashSet;
use smol_str::{SmolStr, SmolStrBuilder};

use super::boilerplate::Dropped;
use super::figures::{collect_quantities, months_in};
use super::relevance;
use super::subject::{self, Qualified, Stage};
use crate::model::{EntityTag, RegionTags};
use crate::normalize::{self, FoldedItem};
use crate::regions::{Gazetteer, Kind, Match, Words};

/// Summaries are cut to this many words: the lead carries the facts, the tail is background that differs from
/// outlet to outlet and would only dilute similarity.
const SUMMARY_WORDS: usize = 60;

/// A text to match this short is folded whole without looking for where its lead ends: a summary usually is,
/// and its whole fold also serves the search index (see [`item_features_folded`]).
const WHOLE_BYTES: usize = 1024;

/// The matching view of one item, computed from its title and summary. Holds no reference to the gazetteer.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemFeatures {
    /// Stems of the title's content words, sorted, unique; an entity mention is one `@id` token.
    pub(crate) title_tokens: Vec<Token>,
    /// Stems of title and summary together, sorted, unique.
    pub(crate) text_tokens: Vec<Token>,
    /// Headline tokens left out of `title_tokens` as the outlet's boilerplate (`boilerplate::Dropped`): they still
    /// make up the headline's size, but are never shared.
    pub(crate) title_boilerplate: u16,
    /// Those dropped headline words, sorted: another outlet's headline may hold them as words of its own (a word
    /// for word copy), and then they are shared.
    pub(crate) title_dropped: Vec<Token>,
    /// Region entities named anywhere, gazetteer order.
    pub(crate) entities: Vec<EntityTag>,
    /// The region is the item's subject, not a passing mention (see `relevance`).
    pub(crate) about_region: bool,
    /// What the decision reads besides the tokens.
    pub(crate) facts: Facts,
}

/// One matching token (a stem, a number, an `@id`). Tokens are a few letters, so they are kept inline (up to 23
/// bytes, longer ones shared) rather than as a `String` each: an item has about 40 of them, and allocating and
/// freeing them was a visible share of preparing an item. Compares, orders, hashes and prints as its `str`.
pub(crate) type Token = SmolStr;

/// A gazetteer entity id, shared with the gazetteer rather than copied per item.
pub(crate) type EntityId = Arc<str>;

/// A country named in a headline, with the wider regions it lies in.
pub(crate) type HeadlineCountry = (EntityId, Arc<[EntityId]>);

/// A unit stem and the values quantified in it.
pub(crate) type Quantity = (Box<str>, Box<[f64]>);

/// What `verdict::decide` reads of an item besides its tokens: all the story index keeps of an item beyond its
/// interned token ids, so it is compact — entity ids are shared with the gazetteer (`Arc<str>`), lists are boxed
/// slices without spare capacity, and nothing is kept that no rule reads.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Facts {
    /// Country/republic entities named in the title (the story's protagonists), each with the wider regions it
    /// lies in.
    pub(crate) title_countries: Box<[HeadlineCountry]>,
    /// Ids of every region entity (country, republic or region) named anywhere, sorted.
    pub(crate) mentioned: Box<[EntityId]>,
    /// Ids of the countries and republics named anywhere (not wider regions), sorted.
    pub(crate) countries: Box<[EntityId]>,
    /// Outside partners named in the title, sorted.
    pub(crate) title_foreign: Box<[EntityId]>,
    /// Outside partners named anywhere, sorted.
    pub(crate) foreign: Box<[EntityId]>,
    /// Unit stem → values quantified in that unit ("دولار" → [3000000]), sorted by unit.
    pub(crate) quantities: Box<[Quantity]>,
    /// Months named (1–12), sorted.
    pub(crate) months: Box<[u8]>,
    /// The title reports a failure, refusal, postponement, acquittal or negation.
    pub(crate) title_negative: bool,
    /// Places the headline names (folded words).
    pub(crate) title_places: Box<[Box<str>]>,
    /// Which law, ministry or victims the headline names.
    pub(crate) title_qualified: Box<[Qualified]>,
    /// How far a law has got, if the headline says it.
    pub(crate) title_stage: Option<Stage>,
}

impl Facts {
    /// The values quantified in `unit`, if any.
    pub(crate) fn quantity(&self, unit: &str) -> Option<&[f64]> {
        self.quantities
            .binary_search_by(|(u, _)| (**u).cmp(unit))
            .ok()
            .map(|i| &*self.quantities[i].1)
    }
}

impl ItemFeatures {
    /// Region entities the item mentions, gazetteer order (empty → off-region).
    pub fn entities(&self) -> &[EntityTag] {
        &self.entities
    }

    /// What the store records: the entity ids, and whether the region is the item's subject (what a
    /// region-filtered source publishes).
    pub fn region_tags(&self) -> RegionTags {
        RegionTags {
            entities: self.entities.iter().map(|e| e.id.clone()).collect(),
            region_match: self.about_region,
        }
    }

    /// All values quantified in the item, sorted.
    #[cfg(test)]
    pub(crate) fn numbers(&self) -> Vec<f64> {
        let mut v: Vec<f64> = self
            .facts
            .quantities
            .iter()
            .flat_map(|(_, v)| v.iter())
            .copied()
            .collect();
        v.sort_by(f64::total_cmp);
        v.dedup();
        v
    }
}

/// The text an item is matched on besides its headline: its summary, or its full content when the feed gives
/// no summary (or an empty one, such as a lone picture). Feed HTML is stripped.
pub fn text_to_match(summary: Option<&str>, content: Option<&str>) -> String {
    choose_text(summary, content).0
}

/// [`text_to_match`], and whether it is the summary.
fn choose_text(summary: Option<&str>, content: Option<&str>) -> (String, bool) {
    let summary = summary.map(crate::text::plain_text).unwrap_or_default();
    if !summary.trim().is_empty() {
        return (summary, true);
    }
    (
        content.map(crate::text::plain_text).unwrap_or_default(),
        false,
    )
}

/// An item's features from what the store and the parser hold: title, summary, content, and the boilerplate
/// words dropped from it when it was stored (`boilerplate`, the stored form of `boilerplate::Dropped`; `None` for
/// none). The one entry point for every path that computes features — ingest (through
/// [`item_features_folded`], which is this function keeping its folds), the index rebuilt at start-up or read
/// back from the store, re-tagging after a gazetteer change, and `explain` — so an item is matched and tagged
/// the same way whenever it is looked at. (Ingest finds the boilerplate of a fetched document from the
/// features of all its items and drops it with `Boilerplate::strip`, which gives the same features.)
pub fn item_features(
    title: &str,
    summary: Option<&str>,
    content: Option<&str>,
    boilerplate: Option<&str>,
    gazetteer: &Gazetteer,
) -> ItemFeatures {
    item_features_folded(title, summary, content, boilerplate, gazetteer).0
}

/// [`item_features`], and the folded texts it made them from, for the search index to reuse (see
/// [`FoldedItem`]): ingest folds each text once for both.
pub fn item_features_folded(
    title: &str,
    summary: Option<&str>,
    content: Option<&str>,
    boilerplate: Option<&str>,
    gazetteer: &Gazetteer,
) -> (ItemFeatures, FoldedItem) {
    let (folded_text, whole, from_summary) = fold_text_to_match(summary, content);
    let title = normalize::fold_marking_percent(title);
    let mut features = compute(&title, &folded_text, gazetteer);
    Dropped::parse(boilerplate).apply(&mut features);
    let whole = whole.then_some(folded_text);
    let folded = if from_summary {
        FoldedItem {
            title,
            summary: whole,
            content: None,
        }
    } else {
        FoldedItem {
            title,
            summary: None,
            content: whole.filter(|_| content.is_some()),
        }
    };
    (features, folded)
}

/// Computes features from a headline and the text to match (see [`text_to_match`]; feed HTML is stripped).
/// Production paths call [`item_features`]; this form serves labeled sets that only have a summary.
pub fn features(title: &str, summary: Option<&str>, gazetteer: &Gazetteer) -> ItemFeatures {
    compute(
        &normalize::fold_marking_percent(title),
        &fold_text_to_match(summary, None).0,
        gazetteer,
    )
}

/// The text to match ([`choose_text`]) folded as [`fold_lead`] folds it, whether that is the whole text, and
/// whether it is the summary. A short summary (nearly every one) is folded straight from its untagged text
/// ([`crate::text::untagged_text`]) without making its plain text first: the two fold alike, since folding makes
/// every run of whitespace one word boundary (every whitespace character folds to a separator, a unit test checks
/// it) and trims the ends; only a text holding characters the plain text drops needs it, and a long one, whose
/// lead is cut from the plain text.
fn fold_text_to_match(summary: Option<&str>, content: Option<&str>) -> (String, bool, bool) {
    if let Some(untagged) = summary.map(crate::text::untagged_text) {
        let short = untagged.len() <= WHOLE_BYTES && crate::text::all_xml_chars(&untagged);
        if short && !untagged.trim().is_empty() {
            return (normalize::fold_marking_percent(&untagged), true, true);
        }
    }
    let (text, from_summary) = choose_text(summary, content);
    let (folded, whole) = fold_lead(&text);
    (folded, whole, from_summary)
}

/// The text folded (percent signs marked, see [`normalize::fold_marking_percent`]) at least as far as its first
/// [`SUMMARY_WORDS`] words, and whether that is the whole text. A full article (an item with content but no
/// summary) is not folded whole: only a prefix long enough to yield that many words, cut at whitespace (nothing
/// folds across whitespace, so the prefix's words are the text's first words).
fn fold_lead(text: &str) -> (String, bool) {
    if text.len() <= WHOLE_BYTES {
        return (normalize::fold_marking_percent(text), true);
    }
    let enough = SUMMARY_WORDS * 2;
    let cut = text
        .char_indices()
        .filter(|(_, c)| c.is_whitespace())
        .map(|(i, _)| i)
        .nth(enough);
    if let Some(at) = cut {
        let lead = normalize::fold_marking_percent(&text[..at]);
        if word_count(&lead) >= SUMMARY_WORDS {
            return (lead, false);
        }
        // Mostly punctuation or symbols: fold it all.
    }
    (normalize::fold_marking_percent(text), true)
}

/// Words of a folded text (single spaces between them, none at either end).
fn word_count(folded: &str) -> usize {
    if folded.is_empty() {
        0
    } else {
        folded.bytes().filter(|&b| b == b' ').count() + 1
    }
}

/// `title` and `text` are folded ([`normalize::fold_marking_percent`]; `text` from plain text, at least its
/// first [`SUMMARY_WORDS`] words). Each text is folded once: the gazetteer's words feed the matches, the tokens,
/// the figures and the subject alike.
fn compute(title: &str, text: &str, gazetteer: &Gazetteer) -> ItemFeatures {
    let title_lexed = gazetteer.words_lexed(title);
    let summary_lexed = gazetteer.words_lexed_up_to(text, SUMMARY_WORDS);
    let (title_words, summary_words) = (&title_lexed.text[..], &summary_lexed.text[..]);

    let mut item_matches = gazetteer.matches_item(&[&title_lexed, &summary_lexed]);
    let summary_matches = item_matches.pop().unwrap_or_default();
    let title_matches = item_matches.pop().unwrap_or_default();
    let title_tokens = content_tokens(&title_lexed, &title_matches, gazetteer);
    let summary_tokens = content_tokens(&summary_lexed, &summary_matches, gazetteer);
    let text_tokens = merge_unique(&title_tokens, &summary_tokens);

    let ids = |ms: &[Match], pick: &dyn Fn(Kind) -> bool| -> Box<[Arc<str>]> {
        let mut v: Vec<Arc<str>> = ms
            .iter()
            .filter(|m| pick(gazetteer.kind(m.entry)))
            .map(|m| gazetteer.id_at(m.entry).clone())
            .collect();
        v.sort();
        v.dedup();
        v.into_boxed_slice()
    };
    let is_country = |k: Kind| matches!(k, Kind::Country | Kind::Republic);
    let is_foreign = |k: Kind| k == Kind::Foreign;
    let all_matches: Vec<_> = title_matches
        .iter()
        .chain(&summary_matches)
        .copied()
        .collect();

    let mut quantities = BTreeMap::new();
    collect_quantities(title_words, &title_lexed.lex, &mut quantities);
    collect_quantities(summary_words, &summary_lexed.lex, &mut quantities);
    let mut months = months_in(title_words, &title_lexed.lex);
    months.extend(months_in(summary_words, &summary_lexed.lex));
    months.sort();
    months.dedup();

    let title_countries = ids(&title_matches, &is_country)
        .iter()
        .map(|id| {
            let regions = title_matches
                .iter()
                .find(|m| gazetteer.id_at(m.entry) == id)
                .map(|m| gazetteer.part_of(m.entry).clone())
                .unwrap_or_else(|| Arc::from([]));
            (id.clone(), regions)
        })
        .collect();
    let facts = Facts {
        title_countries,
        mentioned: ids(&all_matches, &|k| k != Kind::Foreign),
        countries: ids(&all_matches, &is_country),
        title_foreign: ids(&title_matches, &is_foreign),
        foreign: ids(&all_matches, &is_foreign),
        quantities: quantities
            .into_iter()
            .map(|(unit, values)| (unit.into_boxed_str(), values.into_boxed_slice()))
            .collect(),
        months: months.into_boxed_slice(),
        title_negative: is_negative(title_words),
        title_places: subject::places(title_words, &title_matches, gazetteer),
        title_qualified: subject::qualified(title_words, &title_matches).into_boxed_slice(),
        title_stage: subject::stage(title_words),
    };
    ItemFeatures {
        title_tokens,
        text_tokens,
        title_boilerplate: 0,
        title_dropped: Vec::new(),
        entities: gazetteer.tags_of(&all_matches, false),
        about_region: relevance::region_weight(
            (title_words, &title_matches),
            (summary_words, &summary_matches),
            gazetteer,
        ) >= relevance::SUBJECT_WEIGHT,
        facts,
    }
}

/// The form a content word is compared in: the conjunction و dropped, then [`stem`]. The gazetteer strips و only
/// in front of words it knows, so "وبحث", "واسدوف", "ووقع" would otherwise never meet "بحث", "أسدوف", "وقع" in
/// another outlet's sentence. Words whose root starts with و (وزير، ولاية) lose it in every item alike, so they
/// still meet each other.
pub(crate) fn token_form(word: &str) -> &str {
    let bare = word
        .strip_prefix('و')
        .filter(|rest| normalize::has_chars(rest, 3))
        .unwrap_or(word);
    stem(bare)
}

/// Light stemming for similarity only: one feminine, plural, nisba or accusative ending off words long enough to
/// keep a root, so "الثالثة"/"الثالث", "اتفاقية"/"اتفاق" and "وزيرا"/"وزير" meet.
pub(crate) fn stem(word: &str) -> &str {
    for suffix in ["يه", "ات", "ين", "ون", "ه", "ي", "ا"] {
        if let Some(root) = word.strip_suffix(suffix) {
            if normalize::has_chars(root, 3) {
                return root;
            }
        }
    }
    word
}

/// Content words of `words`, stemmed; each gazetteer mention becomes `@id`, and a place or person mention also
/// keeps its own words (Rasht valley is more specific than Tajikistan).
fn content_tokens(lexed: &Words, matches: &[Match], g: &Gazetteer) -> Vec<Token> {
    let words = &lexed.text[..];
    // Each token with its sort key (see `sorted_unique`), made as it is pushed.
    let mut out: Vec<(u64, Token)> = Vec::with_capacity(words.len());
    let mut push = |t: Token| out.push((sort_key(&t), t));
    let mut next = matches.iter().peekable();
    let mut i = 0;
    while i < words.len() {
        if let Some(m) = next.peek().filter(|m| m.start == i) {
            let mut id = SmolStrBuilder::new();
            id.push('@');
            id.push_str(g.id_at(m.entry));
            push(id.finish());
            if g.is_specific(m) {
                // One token per mention, however many words it spells: محج قلعة is one city.
                let mut place = SmolStrBuilder::new();
                for (k, w) in words[m.start..m.end].iter().enumerate() {
                    if k > 0 {
                        place.push('_');
                    }
                    place.push_str(w);
                }
                push(place.finish());
            }
            i = m.end;
            next.next();
            continue;
        }
        let w = words[i];
        if let Some(n) = clitic_number(w) {
            // "و600", "بـ7.9": the number itself, as the other outlet writes it.
            push(Token::new(n));
        } else if !lexed.lex[i].is_stopword() && !is_number_clitic_noise(w) && !is_percent_word(w) {
            push(Token::new(token_form(w)));
        }
        i += 1;
    }
    sorted_unique(out)
}

/// A token's first eight bytes read as one number (big-endian, zeros past its end), so that comparing keys orders
/// tokens as their strings do wherever the keys differ. No token holds a NUL byte (folding makes every control
/// character a word boundary), so a short token's zero padding orders it before any longer token it starts.
#[inline]
fn sort_key(t: &Token) -> u64 {
    debug_assert!(!t.as_bytes().contains(&0), "{t:?}");
    let bytes = t.as_bytes();
    match bytes.first_chunk::<8>() {
        Some(first) => u64::from_be_bytes(*first),
        None => (0..8).fold(0, |key, k| {
            (key << 8) | u64::from(bytes.get(k).copied().unwrap_or(0))
        }),
    }
}

/// `keyed` tokens ([`sort_key`] beside each) sorted, without repeats. The sort compares the keys, and the whole
/// tokens only where those are equal: comparing every pair through `memcmp` was most of the sort's time.
fn sorted_unique(mut keyed: Vec<(u64, Token)>) -> Vec<Token> {
    keyed.sort_unstable();
    keyed.dedup_by(|a, b| a.1 == b.1);
    keyed.into_iter().map(|(_, t)| t).collect()
}

/// The union of two sorted lists without duplicates, sorted.
fn merge_unique(a: &[Token], b: &[Token]) -> Vec<Token> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i].clone());
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j].clone());
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push(a[i].clone());
                i += 1;
                j += 1;
            }
        }
    }
    out.extend(a[i..].iter().chain(&b[j..]).cloned());
    out
}

/// The digits of a number written behind a clitic (و600، ب7.9), if `w` is one.
fn clitic_number(w: &str) -> Option<&str> {
    // It ends in a digit or a point: most words are turned away by their last byte.
    if !w.ends_with(|c: char| c.is_ascii_digit() || c == '.') {
        return None;
    }
    let digits = w.trim_start_matches(['و', 'ب', 'ل', 'ف', 'ك']);
    (digits.len() < w.len()
        && digits.starts_with(|c: char| c.is_ascii_digit())
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.'))
    .then_some(digits)
}

/// "المئة" of "12 في المئة" (and of a spelled-out "%"): the figure already carries it.
fn is_percent_word(w: &str) -> bool {
    matches!(w, "ميه" | "مايه" | "بالميه" | "بالمايه")
}

fn is_number_clitic_noise(w: &str) -> bool {
    !normalize::has_chars(w, 2) && !w.chars().all(|c| c.is_ascii_digit())
}

/// Whether a headline reports failure, refusal, postponement or a flat negation ("no agreement"). Words that
/// are often the *subject* of a neutral headline (إلغاء التأشيرة، تعليق، دون تأشيرة) are left out on purpose.
fn is_negative(words: &[&str]) -> bool {
    static MARKERS: OnceLock<(FxHashSet<String>, FxHashSet<String>)> = OnceLock::new();
    let (markers, outcomes) = MARKERS.get_or_init(|| {
        let fold = |raw: &str| -> FxHashSet<String> {
            raw.split_whitespace().flat_map(|w| normalize::words_with(w, &|_| false)).collect()
        };
        (
            fold("لم لن ليس ليست فشل يفشل تفشل فشلت إخفاق رفض يرفض ترفض رفضت ترفضان يرفضان تأجيل يؤجل تؤجل أرجأ إرجاء \
                  انهيار تنهار ينهار تبرئ يبرئ برأت تبرئة براءة"),
            fold("اتفاق التوصل نتيجة نتائج بيان تقدم حل"),
        )
    });
    words.iter().enumerate().any(|(i, w)| {
        markers.contains(*w)
            || (matches!(*w, "دون" | "بدون")
                && words.get(i + 1).is_some_and(|n| outcomes.contains(*n)))
    })
}

/// How much sharing one token says about two items being one story. Region and partner entities and ordinary
/// content words count 1; figures count more (a shared "5.6 درجة" is a fingerprint of an event); words every
/// news item uses (president, minister, said, country, billion…) count little.
pub(crate) fn weight(token: &str) -> f32 {
    static GENERIC: OnceLock<FxHashSet<String>> = OnceLock::new();
    let generic = GENERIC.get_or_init(|| {
        let raw = "رئيس الرئيس رؤساء وزير وزيرا وزراء وزارة الوزراء حكومة الحكومة دولة دول الدول البلاد البلدين الجانبين \
                   الجانب عام العام يوم اليوم أمس أول الأول الأولى الخارجية خارجية بلغ يبلغ تبلغ أعلن أعلنت يعلن قال قالت \
                   أكد أكدت أضاف وفق وفقا مليار مليارات مليون ملايين ألف آلاف دولار جديد جديدة بحث يبحث تبحث يبحثان \
                   تعاون التعاون علاقات العلاقات مجال مجالات رسمي رسمية عاصمة العاصمة مدينة المدينة مستوى نحو حوالي أكثر \
                   أقل إطار بشأن مصادر وكالة أنباء الأنباء نظيره نظيرها مسؤولين مسؤول المقبل الماضي الجاري خلال ضمن \
                   بين لدى عبر سنوات سنة شهر الأسبوع الثلاثاء الأربعاء الخميس الجمعة السبت الأحد الاثنين \
                   مجلس المجلس النواب البرلمان برلمان يقر تقر أقر أقرت يصادق تصادق صادق صادقت \
                   البنك المركزي الوطني المحكمة محكمة قرار قررت يقرر إعلان تعلن يعلن وقع توقع يوقع توقيع \
                   مصدر اجتماع لقاء يلتقي التقى زيارة يزور \
                   عدة عدد بعض كل جميع ولاية ولايات منطقة مناطق محافظة محافظات إقليم أنحاء \
                   يناير فبراير مارس أبريل مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر";
        raw.split_whitespace()
            .flat_map(|w| normalize::words_with(w, &|_| false))
            .map(|w| token_form(&w).to_string())
            .collect()
    });
    if token.starts_with('@') {
        1.0
    } else if token.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        1.5
    } else if generic.contains(token) || !normalize::has_chars(token, 3) {
        0.25
    } else {
        1.0
    }
}

#[cfg(test)]
#[path = "features_tests.rs"]
mod tests;
