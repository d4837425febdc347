//! The rewrite end to end: each old dialect in `tests/fixtures/feeds/legacy/` read through `parse_feed`, plus the
//! rewrite's own guarantees (untouched modern feeds, unreadable XML left to feed-rs).

use chrono::{TimeZone, Utc};
use url::Url;

use super::upgrade;
use crate::model::ParsedFeed;
use crate::parse::parse_feed;

fn parse(name: &str) -> ParsedFeed {
    let path = format!(
        "{}/tests/fixtures/feeds/legacy/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let body = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let base = Url::parse("https://feeds.example/legacy.xml").unwrap();
    parse_feed(&body, Some("text/xml"), &base).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn atom03_reads_like_atom10() {
    let feed = parse("atom03.xml");
    assert_eq!(feed.title.as_deref(), Some("وكالة قديمة"));
    assert_eq!(
        feed.site_link.as_deref(),
        Some("https://old-agency.example/")
    );
    assert_eq!(feed.items.len(), 2);
    let first = &feed.items[0];
    // mode="escaped" text/html: the markup is HTML, entities decoded once.
    assert_eq!(first.title, "طشقند & سمرقند: افتتاح خط سريع");
    // Relative to the document (there is no xml:base).
    assert_eq!(first.link.as_deref(), Some("https://feeds.example/news/1"));
    assert_eq!(
        first.published,
        Some(Utc.with_ymd_and_hms(2026, 11, 27, 5, 30, 0).unwrap())
    );
    assert_eq!(
        first.updated,
        Some(Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap())
    );
    assert_eq!(first.author.as_deref(), Some("مراسل طشقند"));
    let summary = first.summary.as_deref().unwrap();
    assert!(summary.contains("<b>الخط</b>"), "{summary}");
    // mode="base64", text/plain by default.
    let second = &feed.items[1];
    assert_eq!(second.title, "باكو: قمة الطاقة");
    assert_eq!(second.content.as_deref(), Some("5 &lt; 6 نص عادي"));
    // The empty summary is left out instead of failing the feed.
    assert_eq!(second.summary, None);
}

#[test]
fn rss090_becomes_rss2_and_keeps_items_without_links() {
    let feed = parse("rss090.xml");
    assert_eq!(feed.title.as_deref(), Some("نشرة 0.90"));
    let titles: Vec<&str> = feed.items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(titles, ["بيشكيك تستضيف قمة إقليمية", "خبر بلا رابط"]);
    assert_eq!(
        feed.items[0].link.as_deref(),
        Some("https://netscape-era.example/1")
    );
    assert_eq!(feed.items[1].link, None);
}

#[test]
fn cdf_channel_and_items() {
    let feed = parse("cdf.xml");
    assert_eq!(feed.title.as_deref(), Some("قناة CDF"));
    assert_eq!(feed.items.len(), 1);
    let item = &feed.items[0];
    assert_eq!(item.title, "باكو تعلن خطة للطاقة");
    // HREF is resolved against the channel's BASE.
    assert_eq!(item.link.as_deref(), Some("https://cdf.example/ar/story/7"));
    assert_eq!(item.summary.as_deref(), Some("تفاصيل الخطة"));
    assert_eq!(
        item.published,
        Some(Utc.with_ymd_and_hms(2026, 11, 20, 5, 15, 0).unwrap())
    );
}

#[test]
fn userland_namespace_and_item_fallbacks() {
    let feed = parse("userland.xml");
    assert_eq!(feed.title.as_deref(), Some("يوزرلاند"));
    assert_eq!(feed.items.len(), 2);
    let (a, b) = (&feed.items[0], &feed.items[1]);
    assert_eq!(a.title, "يريفان وتبليسي توقعان اتفاقية");
    // dcterms:modified stands in for the missing pubDate.
    assert_eq!(
        a.published,
        Some(Utc.with_ymd_and_hms(2026, 11, 25, 7, 0, 0).unwrap())
    );
    // dc:title stands in for the missing title; the item's own pubDate wins over dcterms:created.
    assert_eq!(b.title, "عنوان من دبلن كور");
    assert_eq!(
        b.published,
        Some(Utc.with_ymd_and_hms(2026, 11, 25, 6, 0, 0).unwrap())
    );
}

#[test]
fn rss10_item_identified_by_rdf_about_keeps_it_as_link() {
    let feed = parse("rss10_about.xml");
    let links: Vec<&str> = feed
        .items
        .iter()
        .map(|i| i.link.as_deref().unwrap())
        .collect();
    assert_eq!(
        links,
        [
            "https://rdf.example/news/41",
            "https://rdf.example/news/42?from=rss"
        ]
    );
    assert_eq!(feed.items[0].title, "دوشنبه: افتتاح محطة كهرومائية");
}

#[test]
fn atom10_text_constructs_feed_rs_rejects_are_converted_on_retry() {
    let feed = parse("atom10_odd_types.xml");
    assert_eq!(feed.items.len(), 2);
    assert_eq!(feed.items[0].title, "أستانا تستقبل الوفد");
    // No link: the http(s) id is the entry's page.
    assert_eq!(feed.items[0].link.as_deref(), Some("https://odd.example/1"));
    // application/octet-stream: base64, read as HTML.
    assert_eq!(feed.items[0].summary.as_deref(), Some("ملخص <b>مهم</b>"));
    assert_eq!(feed.items[1].title, "عنوان بنوع فارغ");
    assert_eq!(feed.items[1].summary, None);
}

#[test]
fn modern_feeds_and_unreadable_xml_are_left_alone() {
    let rss = r#"<rss version="2.0"><channel><title>t</title><item><title>x</title></item></channel></rss>"#;
    assert_eq!(upgrade(rss, false), None);
    let atom = r#"<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title></feed>"#;
    assert_eq!(upgrade(atom, false), None);
    // Truncated Atom 0.3: quick-xml cannot read it, so there is nothing to rewrite.
    let broken = r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry><title>x</title>"#;
    assert_eq!(upgrade(broken, false), None);
}

#[test]
fn rewrite_copies_what_it_does_not_change() {
    let text = concat!(
        r#"<?xml version="1.0" encoding="UTF-8"?>"#,
        "\n<!-- تعليق -->\n",
        r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#" xmlns:x="urn:x">"#,
        r#"<entry><x:extra a="1">&amp;<![CDATA[<b>]]></x:extra><issued>2026-01-01T00:00:00Z</issued></entry></feed>"#
    );
    let out = upgrade(text, false).unwrap();
    assert!(
        out.starts_with(r#"<?xml version="1.0" encoding="UTF-8"?>"#),
        "{out}"
    );
    assert!(out.contains("<!-- تعليق -->"), "{out}");
    assert!(
        out.contains(r#"xmlns="http://www.w3.org/2005/Atom""#),
        "{out}"
    );
    assert!(!out.contains("version=\"0.3\""), "{out}");
    assert!(
        out.contains(r#"<x:extra a="1">&amp;<![CDATA[<b>]]></x:extra>"#),
        "{out}"
    );
    assert!(
        out.contains("<published>2026-01-01T00:00:00Z</published>"),
        "{out}"
    );
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Whatever the text inside an Atom 0.3 title, the rewrite either gives up or produces XML that feed-rs
    /// reads, with the title's text intact.
    #[test]
    fn escaped_titles_survive_any_text(title in "[\\PC&&[^<&]]{0,40}") {
        let text = format!(
            r#"<feed version="0.3" xmlns="http://purl.org/atom/ns#"><entry><title mode="escaped">{}</title><link href="https://x.example/1"/></entry></feed>"#,
            title.replace('>', "&gt;")
        );
        let out = upgrade(&text, false).expect("readable Atom 0.3 is rewritten");
        let feed = feed_rs::parser::parse(out.as_bytes()).expect("feed-rs reads the rewrite");
        let got = feed.entries[0].title.as_ref().map(|t| t.content.clone()).unwrap_or_default();
        proptest::prop_assert_eq!(got.trim(), title.trim());
    }
}
