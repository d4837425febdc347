//! The differential test of [`super::read`]: wherever it reads a document, feed-rs reads it too and gives the
//! same fields, and the whole parse gives the same `ParsedFeed` either way. Over every file in `tests/fixtures`,
//! the bench round's feeds and generated RSS documents (Arabic text, references, CDATA, comments, missing and
//! repeated fields, odd links, foreign elements).

use std::path::Path;

use feed_rs::model::Feed;
use proptest::prelude::*;
use url::Url;

use super::super::{encoding, parse_feed_reading, run_feed_rs, ParseLimits, Reading};

fn base() -> Url {
    Url::parse("https://www.qafila-news.example/ar/rss.xml").unwrap()
}

/// Everything of a feed-rs model that `map` reads, in one comparable text.
fn view(feed: &Feed) -> String {
    let text = |t: &Option<feed_rs::model::Text>| {
        t.as_ref()
            .map(|t| format!("{}|{:?}", t.content_type, t.content))
    };
    let links = |links: &[feed_rs::model::Link]| {
        links
            .iter()
            .map(|l| format!("{:?} {:?}", l.href, l.rel))
            .collect::<Vec<_>>()
    };
    let mut out = format!(
        "{:?} title={:?} links={:?} ttl={:?}\n",
        feed.feed_type,
        text(&feed.title),
        links(&feed.links),
        feed.ttl
    );
    for e in &feed.entries {
        out.push_str(&format!(
            "id={:?} title={:?} links={:?} summary={:?} content={:?} authors={:?} published={:?} \
             updated={:?} base={:?} media_descriptions={:?}\n",
            e.id,
            text(&e.title),
            links(&e.links),
            text(&e.summary),
            e.content
                .as_ref()
                .map(|c| format!("{}|{:?}", c.content_type, c.body)),
            e.authors.iter().map(|p| &p.name).collect::<Vec<_>>(),
            e.published,
            e.updated,
            e.base,
            e.media
                .iter()
                .filter_map(|m| text(&m.description))
                .collect::<Vec<_>>(),
        ));
    }
    out
}

/// Checks one document both ways; true when the fast reader read it.
fn same_both_ways(body: &[u8]) -> bool {
    let base = base();
    let text = encoding::decode(body, None).text;
    let fast = super::read(&text, &base);
    if let Some(fast) = &fast {
        let slow = run_feed_rs(&text, &base)
            .unwrap_or_else(|e| panic!("fastrss read what feed-rs refuses ({e}):\n{text}"));
        assert_eq!(view(fast), view(&slow), "{text}");
    }
    let limits = ParseLimits::default();
    let small = ParseLimits {
        max_items: 2,
        ..limits
    };
    for limits in [limits, small] {
        // feed-rs panics on a few non-feeds (quick-xml's decoder asked to change encoding late, by a
        // declaration deep in the text); then it must panic either way.
        let both = [Reading::Fast, Reading::FeedRsOnly].map(|reading| {
            std::panic::catch_unwind(|| parse_feed_reading(body, None, &base, &limits, reading))
                .ok()
        });
        assert_eq!(both[0], both[1], "{text}");
    }
    fast.is_some()
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn every_fixture_reads_the_same_both_ways() {
    let mut paths = Vec::new();
    files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures"),
        &mut paths,
    );
    paths.sort();
    let mut fast = Vec::new();
    for path in &paths {
        if same_both_ways(&std::fs::read(path).unwrap()) {
            fast.push(path.file_name().unwrap().to_string_lossy().into_owned());
        }
    }
    // The fast reader is not a reader that always gives up: the plain RSS 2.0 fixtures take it.
    for name in [
        "rss2.xml",
        "no-guid.xml",
        "iso-8859-6.xml",
        "windows-1256.xml",
    ] {
        assert!(
            fast.iter().any(|f| f == name),
            "{name} not read fast: {fast:?}"
        );
    }
}

/// `bench/poll_bench.py`'s feed for `source` (the feeds of the 10 000-item bench round).
fn bench_feed(source: usize, items: usize) -> Vec<u8> {
    const PLACES: [&str; 18] = [
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
    const VERBS: [&str; 10] = [
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
    const TOPICS: [&str; 10] = [
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
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rss version=\"2.0\"><channel><title>منفذ {source}</title>\
         <link>https://outlet{source}.example/</link><description>أخبار</description>"
    );
    for i in 0..items {
        let n = source * 1000 + i;
        let (place, verb, topic) = (
            PLACES[n % PLACES.len()],
            VERBS[(n / 7) % VERBS.len()],
            TOPICS[(n / 13) % TOPICS.len()],
        );
        out.push_str(&format!(
            "<item><title>{place} {verb} {topic} بقيمة {} مليون دولار</title>\
             <link>https://outlet{source}.example/news/{n}</link><guid isPermaLink=\"false\">o{source}-{n}</guid>\
             <pubDate>Fri, 20 Nov 2026 {:02}:{:02}:00 GMT</pubDate><description>&lt;p&gt;قالت مصادر رسمية في \
             {place} إن الحكومة {verb} {topic} في إطار خطة التنمية لعام 2027، وسط اهتمام إقليمي ودولي \
             متزايد.&lt;/p&gt;</description></item>",
            n % 97 + 1,
            (n / 60) % 24,
            n % 60
        ));
    }
    out.push_str("</channel></rss>\n");
    out.into_bytes()
}

#[test]
fn the_bench_feeds_are_read_fast_and_the_same() {
    for source in [0, 3, 17, 199] {
        assert!(same_both_ways(&bench_feed(source, 50)), "source {source}");
    }
}

/// A stream of choices a generated document is built from (proptest shrinks it towards plain documents).
struct Choices(std::vec::IntoIter<usize>);

impl Choices {
    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        options[self.0.next().unwrap_or(0) % options.len()]
    }

    fn count(&mut self, max: usize) -> usize {
        self.0.next().unwrap_or(0) % (max + 1)
    }
}

/// Text content: Arabic words, references, CDATA, comments, line breaks; rarely something the fast reader
/// refuses (a named HTML entity, an element inside).
fn text(c: &mut Choices) -> String {
    let mut out = String::new();
    for _ in 0..c.count(4) {
        out.push_str(c.pick(&[
            "قافلة الأخبار",
            " عاجل: ",
            "آسيا الوسطى",
            "&amp;",
            "&lt;b&gt;نص&lt;/b&gt;",
            "&#1575;&#x644;",
            "<![CDATA[<p>نص & \"مقتبس\"</p>]]>",
            "<![CDATA[]]>",
            "\r\n  ",
            "\t",
            "<!-- تعليق -->",
            "&quot;&apos;",
            "",
            "&nbsp;",
            "<b>عريض</b>",
            "x@example.com (مراسل)",
            "  ",
        ]));
    }
    out
}

fn href(c: &mut Choices) -> String {
    c.pick(&[
        "https://www.qafila-news.example/ar/news/1",
        "https://outlet3.example/news/3000",
        "/ar/news/2?id=5&amp;lang=ar",
        "news/3",
        " https://x.example/p ",
        "http://EXAMPLE.org/a/../b",
        "javascript:alert(1)",
        "",
        "https://exa mple.org/",
        "https://www.qafila-news.example/ar/news/1#comments",
        "//cdn.example/x",
        "\r\nhttps://www.qafila-news.example/ar/news/4\r\n",
    ])
    .to_owned()
}

fn date(c: &mut Choices) -> &'static str {
    c.pick(&[
        "Fri, 20 Nov 2026 02:00:00 GMT",
        " Sat, 21 Nov 2026 10:15:00 +0300 ",
        "2026-11-20T02:00:00Z",
        "Thurs, 19 Nov 2026 9:05:00 UTC",
        "غدا",
        "",
    ])
}

/// A leaf element with generated text, sometimes empty (`<x/>`).
fn leaf(c: &mut Choices, name: &str, body: impl FnOnce(&mut Choices) -> String) -> String {
    match c.count(5) {
        0 => format!("<{name}/>"),
        _ => format!("<{name}>{}</{name}>", body(c)),
    }
}

fn a_date(c: &mut Choices) -> String {
    date(c).to_owned()
}

fn item(c: &mut Choices) -> String {
    let mut out = String::from("<item>");
    for _ in 0..c.count(9) {
        let piece = match c.count(21) {
            0 | 1 => leaf(c, "title", text),
            2 | 3 => leaf(c, "link", href),
            4 => {
                let attr = c.pick(&["", " isPermaLink=\"false\"", " isPermaLink=\"true\""]);
                let g = c.pick(&[
                    "o3-3000",
                    " https://www.qafila-news.example/ar/news/9 ",
                    "/ar/news/10",
                    "",
                    "  ",
                ]);
                format!("<guid{attr}>{g}</guid>")
            }
            5 | 6 => leaf(c, "pubDate", a_date),
            7 => leaf(c, "dc:date", a_date),
            8 | 9 => leaf(c, "description", text),
            10 => leaf(c, "content:encoded", text),
            11 => leaf(c, "author", text),
            12 => leaf(c, "dc:creator", text),
            13 => leaf(c, "category", text),
            14 => format!(
                "<enclosure url=\"{}\" length=\"123\" type=\"image/jpeg\"/>",
                href(c)
            ),
            15 => leaf(c, "comments", href),
            16 => leaf(c, "wfw:commentRss", href),
            17 => {
                let name = c.pick(&["updated", "atom:updated"]);
                leaf(c, name, a_date)
            }
            18 => format!("<sy:note><x>{}</x></sy:note>", text(c)),
            19 => c
                .pick(&[
                    "<media:content url=\"https://x.example/a.jpg\" medium=\"image\"/>",
                    "<!-- تعليق -->",
                    "<?pi data?>",
                    "<dc:subject>سياسة</dc:subject>",
                    "<dc:creator xmlns:dc=\"urn:x\">مراسل</dc:creator>",
                    "<x:creator xmlns:x=\"http://purl.org/dc/elements/1.1/\">مراسل</x:creator>",
                    "<title xmlns=\"urn:x\">عنوان</title>",
                    "<un:known>نص</un:known>",
                ])
                .to_owned(),
            20 => "\n  ".to_owned(),
            _ => leaf(c, "source", text),
        };
        out.push_str(&piece);
    }
    out.push_str("</item>");
    out
}

fn document(c: &mut Choices) -> String {
    let decl = c.pick(&[
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        "",
        "<?xml version=\"1.0\"?>",
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<!-- generated -->\n",
    ]);
    let version = c.pick(&["2.0", "2.0", "2.0", "", "0.91"]);
    let namespaces = c.pick(&[
        " xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
         xmlns:atom=\"http://www.w3.org/2005/Atom\" xmlns:wfw=\"http://wellformedweb.org/CommentAPI/\" \
         xmlns:sy=\"http://purl.org/rss/1.0/modules/syndication/\" xmlns:media=\"http://search.yahoo.com/mrss/\"",
        " xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" \
         xmlns:atom=\"http://www.w3.org/2005/Atom\" xmlns:wfw=\"http://wellformedweb.org/CommentAPI/\" \
         xmlns:sy=\"urn:other\" xmlns:media=\"urn:not-media\"",
        " xmlns=\"http://purl.org/rss/1.0/\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"",
        " xmlns=\"http://backend.userland.com/rss2\" xmlns:content=\"http://purl.org/rss/1.0/modules/content/\"",
        " xmlns:dc=\"http://www.w3.org/2005/Atom\" xmlns:content=\"http://purl.org/dc/elements/1.1/\"",
        "",
    ]);
    let mut out = format!("{decl}<rss version=\"{version}\"{namespaces}>\n<channel>");
    for _ in 0..c.count(6) {
        let piece = match c.count(9) {
            0 => leaf(c, "title", text),
            1 => leaf(c, "link", href),
            2 => {
                let rel = c.pick(&["", " rel=\"self\"", " rel=\"alternate\"", " rel=\"hub\""]);
                format!(
                    "<atom:link href=\"{}\"{rel} type=\"application/rss+xml\"/>",
                    href(c)
                )
            }
            3 => leaf(c, "description", text),
            4 => leaf(c, "ttl", |c| {
                c.pick(&["30", " 30", "x", "", "4294967296"]).to_owned()
            }),
            5 => {
                "<image><url>https://x.example/logo.png</url><title>شعار</title></image>".to_owned()
            }
            6 => "<language>ar</language><sy:updatePeriod>hourly</sy:updatePeriod>".to_owned(),
            _ => String::new(),
        };
        out.push_str(&piece);
    }
    for _ in 0..c.count(4) {
        out.push_str(&item(c));
        out.push('\n');
    }
    out.push_str(c.pick(&[
        "</channel></rss>\n",
        "</channel>\n</rss>",
        "</channel></rss><!-- end -->",
        "</channel>",
    ]));
    out
}

#[test]
fn plain_generated_documents_are_read_fast() {
    // The first choice of everything is a plain, well-formed RSS 2.0 piece.
    for len in [0, 10, 40] {
        let doc = document(&mut Choices(vec![0; len].into_iter()));
        assert!(same_both_ways(doc.as_bytes()), "{doc}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_documents_read_the_same_both_ways(choices in proptest::collection::vec(0usize..10_000, 0..160)) {
        let doc = document(&mut Choices(choices.into_iter()));
        same_both_ways(doc.as_bytes());
    }

    /// The same documents cut short anywhere (truncated downloads): never read differently.
    #[test]
    fn truncated_documents_read_the_same_both_ways(
        choices in proptest::collection::vec(0usize..10_000, 0..160),
        cut in 0.0f64..1.0,
    ) {
        let doc = document(&mut Choices(choices.into_iter()));
        let mut at = (doc.len() as f64 * cut) as usize;
        while !doc.is_char_boundary(at) {
            at -= 1;
        }
        same_both_ways(&doc.as_bytes()[..at]);
    }
}

/// Many more generated documents, from a fixed seed: a good share of them must be read fast, or the
/// differential tests above would only be comparing feed-rs with itself.
#[test]
fn a_share_of_generated_documents_is_read_fast() {
    let mut rng = fastrand::Rng::with_seed(9);
    let total = 1500;
    let fast = (0..total)
        .filter(|_| {
            let len = rng.usize(0..160);
            let choices: Vec<usize> = (0..len).map(|_| rng.usize(0..10_000)).collect();
            same_both_ways(document(&mut Choices(choices.into_iter())).as_bytes())
        })
        .count();
    eprintln!("{fast} of {total} generated documents read fast");
    assert!(fast * 5 > total, "only {fast} of {total} read fast");
}

#[test]
fn it_gives_up_on_what_it_cannot_be_sure_of() {
    let plain = |item: &str| {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><rss version=\"2.0\" \
             xmlns:media=\"http://search.yahoo.com/mrss/\"><channel><title>قافلة</title><item>{item}</item>\
             </channel></rss>"
        )
    };
    let deep = format!("<x>{}{}</x>", "<y>".repeat(1200), "</y>".repeat(1200));
    let refused = [
        plain("<media:content url=\"https://x.example/a.jpg\"/>"),
        plain("<title xml:base=\"https://other.example/\">عنوان</title>"),
        plain("<title>&nbsp;عنوان</title>"),
        plain("<title>&#0;</title>"),
        plain("<title>عنوان <b>عريض</b></title>"),
        plain("<author>a@example.com (مراسل)</author>"),
        plain("<dc:creator>مراسل</dc:creator>"),
        plain("<x:creator xmlns:x=\"http://purl.org/dc/elements/1.1/\">مراسل</x:creator>"),
        plain(&deep),
        plain("<title>عنوان</title>").replace("<?xml", "\u{FEFF}<?xml"),
        plain("<title>عنوان</title>").replace("<rss", "<!DOCTYPE rss><rss"),
        plain("<title>عنوان</title>").replace("version=\"2.0\"", "version=\"0.91\""),
        plain("<title>عنوان</title>").replace("<channel>", "<image/><channel>"),
        plain("<title>عنوان</title>").replace("</channel></rss>", "</item>"),
    ];
    for doc in &refused {
        assert!(super::read(doc, &base()).is_none(), "{doc}");
        // (The parse decodes the body first, which drops the byte-order mark: then it is read fast.)
        same_both_ways(doc.as_bytes());
    }
    assert!(same_both_ways(
        plain("<title>عنوان &amp; &#1575;</title>").as_bytes()
    ));
}
