//! A golden check that an item's features never change by accident: every item of the labeled sets and the
//! fixture feeds, plus thousands of generated items made of the gazetteer's names, exclude phrases, clitics,
//! stopwords, number and month words, figures and percent signs, are computed through
//! `item_features_folded`, their boilerplate found and dropped per generated feed as ingest does, and each
//! result (features, folds, stored boilerplate) is reduced to a digest compared with
//! `tests/fixtures/features_golden.txt`.
//!
//! The file was written by the code before the features path was made faster (interned lookups, fewer
//! allocations), so the check proves the faster path gives bit-for-bit the same features. Should a change to
//! the rules *mean* to change features, write the file again with `QAFILA_WRITE_GOLDEN=1 cargo test --lib
//! golden` and say so in the commit.

use std::fmt::Write as _;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::{item_features, item_features_folded, Boilerplate};
use crate::regions::Gazetteer;

const GOLDEN: &str = "tests/fixtures/features_golden.txt";

/// (title, summary, content) of one item.
type Raw = (String, Option<String>, Option<String>);

/// Every title/summary/content string table of the labeled sets.
fn labeled_items() -> Vec<Raw> {
    fn walk(v: &toml::Value, out: &mut Vec<Raw>) {
        match v {
            toml::Value::Table(t) => {
                if let Some(title) = t.get("title").and_then(|v| v.as_str()) {
                    let s = |k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_string);
                    out.push((title.to_string(), s("summary"), s("content")));
                }
                t.values().for_each(|v| walk(v, out));
            }
            toml::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    for file in [
        "dedup_eval.toml",
        "dedup_dense_week.toml",
        "region_relevance.toml",
    ] {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        walk(
            &toml::Value::Table(toml::from_str(&text).unwrap()),
            &mut out,
        );
    }
    out
}

/// The items of the fixture feeds (real-looking HTML, content-only items, long articles), one list per feed.
fn fixture_feeds() -> Vec<Vec<Raw>> {
    let base = url::Url::parse("https://example.org/feed").unwrap();
    let mut out = Vec::new();
    for dir in ["tests/fixtures/e2e", "tests/fixtures/feeds"] {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.extension()
                    .is_some_and(|e| e == "xml" || e == "atom" || e == "json")
            })
            .collect();
        files.sort();
        for f in files {
            let body = std::fs::read(&f).unwrap();
            if let Ok(feed) = crate::parse::parse_feed(&body, None, &base) {
                out.push(
                    feed.items
                        .into_iter()
                        .map(|i| (i.title, i.summary, i.content))
                        .collect(),
                );
            }
        }
    }
    out
}

/// Every string of the gazetteer file: names, spellings, places, people, demonyms, exclude phrases.
fn gazetteer_phrases() -> Vec<String> {
    fn walk(v: &toml::Value, out: &mut Vec<String>) {
        match v {
            toml::Value::String(s) => out.push(s.clone()),
            toml::Value::Table(t) => t.values().for_each(|v| walk(v, out)),
            toml::Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let text = include_str!("../../data/regions.toml");
    let mut out = Vec::new();
    walk(&toml::Value::Table(toml::from_str(text).unwrap()), &mut out);
    out.retain(|s| s.chars().any(|c| ('\u{0600}'..='\u{06FF}').contains(&c)));
    out
}

/// Words and phrases the rules read: stopwords, number, scale, month and outcome words, state nouns, heads of
/// qualified phrases, legislative stages, generic words, percent spellings, figures in several scripts.
const RULE_WORDS: &[&str] = &[
    "في",
    "من",
    "على",
    "إلى",
    "عن",
    "مع",
    "أن",
    "التي",
    "الذي",
    "بعد",
    "قبل",
    "خلال",
    "هذا",
    "كان",
    "قد",
    "ما",
    "أو",
    "ثم",
    "حتى",
    "كل",
    "بين",
    "منذ",
    "حول",
    "لدى",
    "و",
    "ب",
    "ل",
    "ف",
    "ك",
    "وفي",
    "ومن",
    "عليه",
    "لكن",
    "ضمن",
    "عبر",
    "نحو",
    "الآن",
    "الاف",
    "الله",
    "ألف",
    "ألفي",
    "ألفين",
    "ألفان",
    "آلاف",
    "مليون",
    "ملايين",
    "مليوني",
    "مليار",
    "مليارات",
    "ملياري",
    "بليون",
    "بمليون",
    "بألفي",
    "واحد",
    "اثنان",
    "ثلاثة",
    "أربعة",
    "خمسة",
    "ستة",
    "سبعة",
    "ثمانية",
    "تسعة",
    "عشرة",
    "عشر",
    "عشرين",
    "وعشرين",
    "ثلاثين",
    "مئة",
    "مائة",
    "مئتين",
    "ثلاثمئة",
    "خمسمائة",
    "بالمئة",
    "في المئة",
    "بالمائة",
    "%",
    "٪",
    "12%",
    "٣٫٥٪",
    "1,000",
    "3.5",
    "و600",
    "بـ7.9",
    "2026",
    "2027",
    "١٤٤٧",
    "يناير",
    "فبراير",
    "مارس",
    "أبريل",
    "مايو",
    "يونيو",
    "يوليو",
    "أغسطس",
    "سبتمبر",
    "أكتوبر",
    "نوفمبر",
    "ديسمبر",
    "كانون الثاني",
    "كانون الأول",
    "تشرين الأول",
    "تشرين الثاني",
    "شباط",
    "آذار",
    "نيسان",
    "أيار",
    "حزيران",
    "تموز",
    "آب",
    "أيلول",
    "شهر",
    "لم",
    "لن",
    "ليس",
    "فشل",
    "رفض",
    "ترفض",
    "تأجيل",
    "أرجأ",
    "انهيار",
    "تبرئة",
    "دون",
    "بدون",
    "اتفاق",
    "التوصل",
    "نتيجة",
    "الرئيس",
    "الحكومة",
    "وزير",
    "وزارة",
    "البرلمان",
    "الجيش",
    "السفير",
    "البنك",
    "المركزي",
    "المنتخب",
    "الشركة",
    "قانون",
    "قانونا",
    "لقانون",
    "وزيرا",
    "مقتل",
    "قتل",
    "يقتلون",
    "مصرع",
    "قراءة",
    "بالقراءة",
    "الأولى",
    "الثانية",
    "الثالثة",
    "النهائية",
    "يوقع",
    "وقع",
    "توقيع",
    "توقع",
    "يصادق",
    "دولار",
    "سوم",
    "منات",
    "طن",
    "ميغاواط",
    "كيلومتر",
    "درجة",
    "قتيلا",
    "الطاقة",
    "الزراعة",
    "النقل",
    "الإعلام",
    "وسائل",
    "زلزال",
    "خجند",
    "كولوب",
    "ولاية",
    "الأمريكية",
    "أتلانتا",
    "مجلس",
    "الشيوخ",
    "أصل",
    "الجالية",
    "إسطنبول",
    "أبو",
    "عمر",
    "محادثات",
    "الإمارات",
    "السعودية",
    "الصين",
    "روسيا",
    "تركيا",
    "إيران",
    "فرنسا",
    "والرئيس",
    "بالعاصمة",
    "للطاقة",
    "وللمرة",
    "فالحكومة",
    "كالعادة",
    "ولل",
    "بال",
    "ال",
    "وال",
    "يه",
    "ات",
    "the",
    "of",
    "Kazakhstan",
    "COVID-19",
    "İstanbul",
    "ﻛﺎﺯﺍﺧﺴﺘﺎﻥ",
    "كَازَاخْسْتَان",
    "تـــركيا",
    "…",
    "«",
    "»",
    "،",
    "؛",
    "؟",
    ".",
    ",",
    "-",
    "(",
    ")",
    "\u{200F}",
    "ک",
    "ی",
    "ە",
];

/// Items made of the gazetteer's phrases and the rule words, with clitics and punctuation, grouped in feeds of
/// 10 to 14 items; some feeds share a template (lead-in, closing line, headline tagline) to have boilerplate.
fn generated_feeds(n_feeds: usize) -> Vec<Vec<Raw>> {
    let phrases = gazetteer_phrases();
    let mut rng = fastrand::Rng::with_seed(0x9a_f11a);
    let clitics = [
        "", "", "", "و", "ب", "ل", "ال", "وال", "بال", "لل", "ف", "ك", "وب",
    ];
    let punct = ["", "", "", "،", ".", " -", ":", "!"];
    let word = |rng: &mut fastrand::Rng| -> String {
        let base = match rng.u8(..10) {
            0..=1 => phrases[rng.usize(..phrases.len())].clone(),
            2..=7 => RULE_WORDS[rng.usize(..RULE_WORDS.len())].to_string(),
            8 => rng.u32(0..3000).to_string(),
            _ => format!("{}.{}", rng.u32(0..100), rng.u32(0..10)),
        };
        format!(
            "{}{base}{}",
            clitics[rng.usize(..clitics.len())],
            punct[rng.usize(..punct.len())]
        )
    };
    let text = |rng: &mut fastrand::Rng, words: usize| -> String {
        (0..words).map(|_| word(rng)).collect::<Vec<_>>().join(" ")
    };
    (0..n_feeds)
        .map(|f| {
            let templated = f % 3 == 0;
            let (lead, close, tag) = (text(&mut rng, 6), text(&mut rng, 8), text(&mut rng, 2));
            (0..10 + rng.usize(..5))
                .map(|_| {
                    let (title_words, body_words) = (4 + rng.usize(..9), rng.usize(..90));
                    let mut title = text(&mut rng, title_words);
                    let mut body = text(&mut rng, body_words);
                    if templated {
                        title = format!("{title} | {tag}");
                        body = format!("{lead} {body} {close}");
                    }
                    let body = if rng.bool() {
                        format!("<p>{body}</p>")
                    } else {
                        body
                    };
                    match rng.u8(..8) {
                        // Content only, sometimes a long article.
                        0 => {
                            let long = if rng.bool() { body.repeat(8) } else { body };
                            (title, None, Some(long))
                        }
                        1 => (title, Some(" ".to_string()), Some(body)),
                        2 => (title, None, None),
                        3 => (title, Some(body.repeat(6)), None),
                        _ => (title, Some(body), None),
                    }
                })
                .collect()
        })
        .collect()
}

/// The digest of one item: its features, its folds, what ingest stores as its boilerplate, and the features
/// recomputed from that stored form (§3: the same whenever an item is looked at).
fn digests(feed: &[Raw], g: &Gazetteer) -> Vec<String> {
    let mut prepared: Vec<_> = feed
        .iter()
        .map(|(t, s, c)| item_features_folded(t, s.as_deref(), c.as_deref(), None, g))
        .collect();
    let boilerplate = Boilerplate::of_feed(prepared.iter().map(|(f, _)| f));
    prepared
        .iter_mut()
        .zip(feed)
        .map(|((f, folded), (t, s, c))| {
            let stored = boilerplate.strip(f).stored();
            let again = item_features(t, s.as_deref(), c.as_deref(), stored.as_deref(), g);
            assert_eq!(*f, again, "ingest and the stored words disagree on {t}");
            let mut h = Sha256::new();
            h.update(format!("{f:?}\n{folded:?}\n{stored:?}"));
            crate::text::hex(&h.finalize())[..16].to_string()
        })
        .collect()
}

#[test]
fn features_are_the_golden_features() {
    let g = Gazetteer::builtin();
    let mut feeds = vec![labeled_items()];
    feeds.extend(fixture_feeds());
    feeds.extend(generated_feeds(250));
    let mut got = String::new();
    let mut items = 0;
    for (i, feed) in feeds.iter().enumerate() {
        for (j, d) in digests(feed, &g).into_iter().enumerate() {
            writeln!(got, "{i} {j} {d}").unwrap();
            items += 1;
        }
    }
    assert!(items > 3500, "{items} items");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(GOLDEN);
    if std::env::var_os("QAFILA_WRITE_GOLDEN").is_some() {
        std::fs::write(&path, &got).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap();
    for (w, (gl, feed_item)) in want.lines().zip(
        got.lines()
            .zip(feeds.iter().flat_map(|f| f.iter()).collect::<Vec<_>>()),
    ) {
        assert_eq!(
            w,
            gl,
            "features changed for {feed_item:?}: {:?}",
            item_features(
                &feed_item.0,
                feed_item.1.as_deref(),
                feed_item.2.as_deref(),
                None,
                &g
            )
        );
    }
    assert_eq!(want.lines().count(), got.lines().count());
}
