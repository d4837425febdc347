//! Property test from raw bytes through parse → sanitize → publish: whatever a server sends, nothing panics, and
//! every document qafila would publish from it is well formed, free of active content and bidi-balanced.
//!
//! Two generators: arbitrary bytes (mostly "not a feed", which must be an error value, never a panic) and
//! feed-shaped documents (RSS, Atom, RSS 1.0, JSON Feed) whose titles, authors and descriptions are stitched from
//! hostile fragments (deep nesting, bidi controls, CDATA ends, entity declarations, forbidden characters, scripts).
//! The case count is modest so that it runs in CI on every `cargo test`; raise `PROPTEST_CASES` to search longer.

use chrono::{TimeZone, Utc};
use proptest::prelude::*;
use qafila::model::{EntityTag, ReportView, StoryView};
use qafila::parse::parse_feed;
use qafila::publish::{render_atom, render_html, render_json, render_rss, FeedMeta, SafeHtml};

fn base() -> url::Url {
    url::Url::parse("https://outlet.example/ar/rss.xml").unwrap()
}

fn meta() -> FeedMeta {
    FeedMeta {
        title: "قافلة".into(),
        description: "أخبار".into(),
        link: "https://qafila.example/".into(),
        self_url: "https://qafila.example/feed.xml".into(),
        language: "ar".into(),
        websub_hub: None,
    }
}

/// Embedding/override openers and their closer, isolate openers and theirs, in one published document.
fn bidi_counts(s: &str) -> (usize, usize, usize, usize) {
    let count = |set: &[char]| s.chars().filter(|c| set.contains(c)).count();
    (
        count(&['\u{202A}', '\u{202B}', '\u{202D}', '\u{202E}']),
        count(&['\u{202C}']),
        count(&['\u{2066}', '\u{2067}', '\u{2068}']),
        count(&['\u{2069}']),
    )
}

fn assert_balanced(doc: &str, what: &str) {
    let (emb, pdf, iso, pdi) = bidi_counts(doc);
    assert_eq!((emb, iso), (pdf, pdi), "{what}: bidi controls unbalanced");
}

/// Parses `bytes` as a fetched body and, when it is a feed, publishes its items in every format and checks them.
fn through_the_pipeline(bytes: &[u8]) {
    let Ok(feed) = parse_feed(bytes, None, &base()) else {
        return;
    };
    let at = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
    let stories: Vec<StoryView> = feed
        .items
        .iter()
        .enumerate()
        .map(|(n, item)| {
            let link = item.link.clone();
            let page = link.as_deref().and_then(|l| url::Url::parse(l).ok());
            let description = item
                .content
                .as_deref()
                .or(item.summary.as_deref())
                .map(|html| SafeHtml::sanitize(html, page.as_ref()));
            StoryView {
                guid: item.guid.clone().unwrap_or_else(|| format!("g{n}")),
                lead: ReportView {
                    title: item.title.clone(),
                    link,
                    description,
                    author: item.author.clone(),
                    published: item.published.unwrap_or(at),
                    source_id: "fuzz".into(),
                    source_name: feed.title.clone().unwrap_or_else(|| "منفذ".into()),
                    source_url: base().to_string(),
                    media: item.media.clone(),
                },
                also: Vec::new(),
                entities: vec![EntityTag {
                    id: "kz".into(),
                    name: "كازاخستان".into(),
                }],
                picture: item.media.iter().find(|m| m.is_image()).cloned(),
            }
        })
        .collect();
    let rss = render_rss(&meta(), &stories, at);
    let channel = rss::Channel::read_from(rss.as_bytes()).expect("published RSS parses back");
    assert_eq!(channel.items().len(), stories.len());
    let atom = render_atom(&meta(), &stories, at);
    let parsed = feed_rs::parser::parse(atom.as_bytes()).expect("published Atom parses back");
    assert_eq!(parsed.entries.len(), stories.len());
    let json = render_json(&meta(), &stories, at);
    let value: serde_json::Value =
        serde_json::from_str(&json).expect("published JSON Feed parses back");
    let html = render_html(&meta(), "آخر الأخبار", &stories, &[], &[], at);
    for (what, doc) in [
        ("rss", &rss),
        ("atom", &atom),
        ("json", &json),
        ("html", &html),
    ] {
        assert_balanced(doc, what);
    }
    // The HTML each format carries, as a reader gets it once the format's own escaping is undone.
    let mut bodies: Vec<String> = channel
        .items()
        .iter()
        .filter_map(|i| i.description().map(String::from))
        .collect();
    bodies.extend(
        parsed
            .entries
            .iter()
            .filter_map(|e| e.content.as_ref()?.body.clone()),
    );
    bodies.extend(
        value["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["content_html"].as_str().map(String::from)),
    );
    bodies.push(html);
    for body in &bodies {
        assert_no_active_content(body);
    }
}

/// No tag of `html` is a script, carries an event handler or points at a `javascript:` URL. Text and attribute
/// values may say anything: published HTML escapes `<` in text and quotes every attribute value, so every literal
/// `<` opens a tag and every attribute can be read off it.
fn assert_no_active_content(html: &str) {
    for tag in html.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or("");
        let name_end = tag
            .find(|c: char| c.is_whitespace() || c == '/')
            .unwrap_or(tag.len());
        let name = tag[..name_end].to_ascii_lowercase();
        assert!(name != "script" && name != "iframe", "<{tag}> in {html}");
        let mut rest = &tag[name_end..];
        loop {
            rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
            if rest.is_empty() {
                break;
            }
            let end = rest
                .find(|c: char| c.is_whitespace() || c == '=')
                .unwrap_or(rest.len());
            let attr = rest[..end].to_ascii_lowercase();
            rest = &rest[end..];
            let mut value = "";
            if let Some(after) = rest.strip_prefix('=') {
                let after = after.trim_start();
                if let Some(quoted) = after.strip_prefix('"') {
                    let close = quoted.find('"').unwrap_or(quoted.len());
                    value = &quoted[..close];
                    rest = quoted.get(close + 1..).unwrap_or("");
                } else {
                    let close = after.find(char::is_whitespace).unwrap_or(after.len());
                    value = &after[..close];
                    rest = &after[close..];
                }
            }
            assert!(
                !attr.starts_with("on"),
                "event handler in <{tag}> of {html}"
            );
            let url = value.trim().to_ascii_lowercase();
            assert!(
                !(matches!(attr.as_str(), "href" | "src" | "action" | "formaction")
                    && url.starts_with("javascript:")),
                "javascript: URL in <{tag}> of {html}"
            );
        }
    }
}

/// Pieces of hostile text, stitched into titles, authors and descriptions.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        (1usize..300).prop_map(|n| "<div>".repeat(n)),
        (1usize..300).prop_map(|n| "</div>".repeat(n)),
        Just("<b><i><a href=\"/x\">".to_string()),
        Just("<script>alert(1)</script>".to_string()),
        Just("<a href=\"javascript:alert(1)\">x</a>".to_string()),
        Just("<img src=x onerror=alert(1)>".to_string()),
        Just("\u{202E}".to_string()),
        Just("\u{202B}".to_string()),
        Just("\u{2067}".to_string()),
        Just("\u{202C}".to_string()),
        Just("\u{2069}".to_string()),
        Just("]]>".to_string()),
        Just("&lol9;".to_string()),
        Just("&amp;".to_string()),
        Just("&".to_string()),
        Just("<".to_string()),
        Just("\u{1}\u{FFFE}".to_string()),
        Just("<!-- x".to_string()),
        Just("<p title=\"a>b".to_string()),
        Just("كازاخستان".to_string()),
        "[a-z<>&\"' /=\u{600}-\u{6ff}]{0,40}",
    ]
}

fn text() -> impl Strategy<Value = String> {
    proptest::collection::vec(fragment(), 0..6).prop_map(|v| v.concat())
}

/// A feed-shaped document: `kind` picks RSS 2.0, Atom, RSS 1.0 or JSON Feed; `prolog` may declare entities.
fn document(kind: usize, prolog: bool, items: &[(String, String, String)]) -> String {
    let dtd = if prolog {
        "<!DOCTYPE rss [<!ENTITY lol \"lol\"><!ENTITY lol9 \"&lol;&lol;\">]>"
    } else {
        ""
    };
    let body: String = items
        .iter()
        .enumerate()
        .map(|(n, (title, author, desc))| match kind {
            0 => format!(
                "<item><title>{title}</title><author>{author}</author><link>/n/{n}</link>\
                 <description><![CDATA[{desc}]]></description></item>"
            ),
            1 => format!(
                "<entry><id>urn:x:{n}</id><title>{title}</title><author><name>{author}</name></author>\
                 <updated>2026-11-27T10:00:00Z</updated><content type=\"html\"><![CDATA[{desc}]]></content></entry>"
            ),
            2 => format!(
                "<item rdf:about=\"https://outlet.example/{n}\"><title>{title}</title>\
                 <link>https://outlet.example/{n}</link><description><![CDATA[{desc}]]></description></item>"
            ),
            _ => serde_json::json!({
                "id": n.to_string(),
                "title": title,
                "authors": [{ "name": author }],
                "content_html": desc,
                "url": format!("https://outlet.example/{n}"),
            })
            .to_string(),
        })
        .collect::<Vec<_>>()
        .join(if kind == 3 { "," } else { "" });
    match kind {
        0 => format!(
            "<?xml version=\"1.0\"?>{dtd}<rss version=\"2.0\"><channel><title>t</title>{body}</channel></rss>"
        ),
        1 => format!(
            "<?xml version=\"1.0\"?>{dtd}<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title>\
             <id>urn:x</id><updated>2026-11-27T10:00:00Z</updated>{body}</feed>"
        ),
        2 => format!(
            "<?xml version=\"1.0\"?>{dtd}<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\" \
             xmlns=\"http://purl.org/rss/1.0/\"><channel rdf:about=\"x\"><title>t</title></channel>{body}</rdf:RDF>"
        ),
        _ => format!(
            "{{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"t\",\"items\":[{body}]}}"
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        through_the_pipeline(&bytes);
    }

    #[test]
    fn hostile_feeds_publish_clean_documents(
        kind in 0usize..4,
        prolog in proptest::bool::weighted(0.1),
        items in proptest::collection::vec((text(), text(), text()), 1..5),
    ) {
        through_the_pipeline(document(kind, prolog, &items).as_bytes());
    }
}

#[test]
fn one_deep_feed_goes_through() {
    let desc = "<div>".repeat(20_000) + "x" + &"</div>".repeat(20_000);
    let items = [("\u{202E}باكو".to_string(), "مراسل".to_string(), desc)];
    for kind in 0..4 {
        through_the_pipeline(document(kind, false, &items).as_bytes());
    }
}
