//! The differential test of [`super::read`] (see `tests.rs`) over generated RSS documents: Arabic text,
//! references, CDATA, comments, missing and repeated fields, odd links, foreign elements, and the same cut short.

use proptest::prelude::*;

use super::tests::same_both_ways;

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
