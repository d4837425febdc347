//! The bench round's feeds, as `bench/poll_bench.py` generates them: outlets' RSS documents of templated Arabic
//! items. `benches/dedup.rs` measures features, preparing and placement on them, and the fast RSS reader's tests
//! (`parse::fastrss`) check that it reads them as feed-rs does: one Rust generator, so that the two cannot drift
//! apart (the Python script is the reference it follows).

/// The RSS document `bench/poll_bench.py` serves for `source`, around its items' headlines and summaries (from
/// [`templated_feeds`]; the summary's markup is escaped, as there).
pub fn rss_document(source: usize, items: &[(String, String)]) -> Vec<u8> {
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>منفذ {source}</title>\
         <link>https://outlet{source}.example/</link><description>أخبار</description>"
    );
    for (i, (title, summary)) in items.iter().enumerate() {
        let n = source * 1000 + i;
        let (hour, minute) = ((n / 60) % 24, n % 60);
        let summary = summary.replace('<', "&lt;").replace('>', "&gt;");
        out.push_str(&format!(
            "<item><title>{title}</title><link>https://outlet{source}.example/news/{n}</link>\
             <guid isPermaLink=\"false\">o{source}-{n}</guid><pubDate>Fri, 20 Nov 2026 {hour:02}:{minute:02}:00 GMT</pubDate>\
             <description>{summary}</description></item>"
        ));
    }
    out.push_str("</channel></rss>\n");
    out.into_bytes()
}

const PLACES: &[&str] = &[
    "كازاخستان",
    "قرغيزستان",
    "طاجيكستان",
    "تركمانستان",
    "أوزبكستان",
    "أذربيجان",
    "أرمينيا",
    "جورجيا",
    "الشيشان",
    "داغستان",
    "أستانا",
    "بيشكيك",
    "دوشنبه",
    "عشق آباد",
    "طشقند",
    "باكو",
    "يريفان",
    "تبليسي",
];
const VERBS: &[&str] = &[
    "تستضيف",
    "توقع",
    "تبحث",
    "تعلن",
    "تفتتح",
    "ترفض",
    "تدعم",
    "تستقبل",
    "تطلق",
    "تناقش",
];
const TOPICS: &[&str] = &[
    "اتفاقية للطاقة",
    "منتدى للاستثمار",
    "محادثات حدودية",
    "خط أنابيب جديد",
    "قمة إقليمية",
    "مشروعا للسكك الحديدية",
    "خطة لمكافحة التضخم",
    "مهرجانا ثقافيا",
    "انتخابات برلمانية",
    "ممرا تجاريا",
];

/// Feeds like `bench/poll_bench.py` serves: one outlet's template around each item (the same lead-in and
/// closing words in every summary, the amount and unit in every headline).
pub fn templated_feeds(feeds: usize, items: usize) -> Vec<Vec<(String, String)>> {
    (0..feeds)
        .map(|source| outlet_items(source, items))
        .collect()
}

/// The headlines and summaries of outlet `source`'s `items` items (one outlet of [`templated_feeds`]).
pub fn outlet_items(source: usize, items: usize) -> Vec<(String, String)> {
    (0..items)
        .map(|i| {
            let n = source * 1000 + i;
            let (place, verb, topic) = (
                PLACES[n % PLACES.len()],
                VERBS[(n / 7) % VERBS.len()],
                TOPICS[(n / 13) % TOPICS.len()],
            );
            (
                format!("{place} {verb} {topic} بقيمة {} مليون دولار", n % 97 + 1),
                format!(
                    "<p>قالت مصادر رسمية في {place} إن الحكومة {verb} {topic} في إطار خطة التنمية لعام \
                     2027، وسط اهتمام إقليمي ودولي متزايد.</p>"
                ),
            )
        })
        .collect()
}
