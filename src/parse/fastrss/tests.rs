//! The differential test of [`super::read`]: wherever it reads a document, feed-rs reads it too and gives the
//! same fields, and the whole parse gives the same `ParsedFeed` either way. Over every file in `tests/fixtures`
//! and the bench round's feeds here, over generated RSS documents in `generated_tests.rs`.

use std::path::Path;

use feed_rs::model::Feed;
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
pub(super) fn same_both_ways(body: &[u8]) -> bool {
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
    use crate::bench_api::feeds::{outlet_items, rss_document};
    rss_document(source, &outlet_items(source, items))
}

#[test]
fn the_bench_feeds_are_read_fast_and_the_same() {
    for source in [0, 3, 17, 199] {
        assert!(same_both_ways(&bench_feed(source, 50)), "source {source}");
    }
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
