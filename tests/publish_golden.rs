//! Golden-file tests for the publish stage: a fixed set of stories and a fixed clock must render to exactly the
//! bytes in `tests/fixtures/golden/`. Any change to the output shows up as a diff in review.
//!
//! Regenerate after an intended change with `UPDATE_GOLDEN=1 cargo test --test publish_golden`, then check the new
//! files with the W3C validator and feedparser (`tests/tools/w3c_validate.py`, `tests/tools/feedparser_view.py`)
//! before committing them.

use std::path::PathBuf;

use chrono::{DateTime, TimeZone, Utc};
use qafila::model::{EntityTag, Media, ReportView, StoryView};
use qafila::publish::*;

fn at(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, h, m, 0).unwrap()
}

/// Fixed in the past so that the W3C validator does not call the dates implausible.
fn built_at() -> DateTime<Utc> {
    at(27, 14, 5)
}

fn meta(file: &str) -> FeedMeta {
    FeedMeta {
        title: "قافلة: أخبار آسيا الوسطى والقوقاز".into(),
        description: "قصص آسيا الوسطى والقوقاز من الصحافة العربية، مدمجة عبر المصادر".into(),
        link: "https://qafila.example/".into(),
        self_url: format!("https://qafila.example/{file}"),
        language: "ar".into(),
        websub_hub: Some("https://hub.qafila.example/".into()),
    }
}

fn tag(id: &str, name: &str) -> EntityTag {
    EntityTag {
        id: id.into(),
        name: name.into(),
    }
}

fn report(
    source_id: &str,
    source_name: &str,
    title: &str,
    link: &str,
    published: DateTime<Utc>,
) -> ReportView {
    ReportView {
        title: title.into(),
        link: Some(link.into()),
        description: None,
        author: None,
        published,
        source_id: source_id.into(),
        source_name: source_name.into(),
        source_url: format!("https://{source_id}.example/rss.xml"),
        media: vec![],
    }
}

fn media(url: &str, mime: &str, size: Option<u64>, dims: Option<(u32, u32)>) -> Media {
    Media {
        url: url.into(),
        mime: Some(mime.into()),
        size,
        width: dims.map(|d| d.0),
        height: dims.map(|d| d.1),
        picture: false,
    }
}

/// The report's description as the views give it to the renderers: sanitized against the report's link.
fn described(r: &ReportView, html: &str) -> Option<SafeHtml> {
    let base = r.link.as_deref().and_then(|l| url::Url::parse(l).ok());
    Some(SafeHtml::sanitize(html, base.as_ref()))
}

fn countries() -> Vec<EntityTag> {
    vec![
        tag("kz", "كازاخستان"),
        tag("uz", "أوزبكستان"),
        tag("kg", "قيرغيزستان"),
        tag("ge", "جورجيا"),
        tag("az", "أذربيجان"),
        tag("am", "أرمينيا"),
    ]
}

/// Newest first, as the store hands them over.
fn stories() -> Vec<StoryView> {
    // 1: "&" in the title (must come out as &amp; exactly once), two other outlets, an author, a relative image.
    let mut s1 = report(
        "wafa",
        "وكالة وفا",
        "كازاخستان & أوزبكستان توقعان اتفاقية لتقاسم مياه سير داريا",
        "https://wafa.example/ar/news/2026/11/27/water",
        at(27, 13, 20),
    );
    s1.author = Some("سارة الأحمد".into());
    s1.description = described(&s1, "<p>وقّع وزيرا الطاقة في <strong>أستانا</strong> وطشقند اتفاقية جديدة.</p><img src=\"/img/dam.jpg\" alt=\"سد\">");
    // 2: hostile description; an Arabic path in the link (percent-encoded on output).
    let mut s2 = report(
        "arabi",
        "عربي آسيا",
        "قيرغيزستان: انتخابات برلمانية مبكرة في بيشكيك",
        "https://arabi.example/أخبار/قيرغيزستان-انتخابات",
        at(27, 11, 5),
    );
    s2.description = described(
        &s2,
        "<p onclick=\"steal()\">دعت اللجنة إلى <a href=\"/news/1\">انتخابات</a> مبكرة.</p>\
         <script>alert('x')</script><img src=x onerror=alert(1)>\
         <a href=\"javascript:alert(document.cookie)\">اضغط هنا</a><style>p{}</style>\
         <iframe src=\"https://evil.example/\"></iframe>",
    );
    // 3: Latin-script title, left as is; no description, no other outlets.
    let s3 = report(
        "caucasus",
        "القوقاز اليوم",
        "Georgia: Tbilisi protests enter their third week",
        "https://caucasus.example/en/2026/11/26/tbilisi",
        at(26, 10, 0),
    );
    // 4: a U+0001 control character in the title; "]]>" in the description; an outlet with no link.
    let mut s4 = report(
        "baku",
        "باكو بالعربي",
        "أذربيجان\u{1} وأرمينيا تستأنفان محادثات ترسيم الحدود",
        "https://baku.example/ar/2026/11/23/border",
        at(23, 8, 30),
    );
    s4.description = described(&s4, "<p>جولة جديدة ]]&gt; من المحادثات\u{1}</p>");
    // A podcast episode: its sound survives as an enclosure.
    s4.media = vec![media(
        "https://oc-media.example/audio/talks.mp3",
        "audio/mpeg",
        Some(3_145_728),
        None,
    )];
    let mut also4 = report("rudaw", "رووداو", "x", "", at(24, 9, 0));
    also4.link = None;
    vec![
        StoryView {
            guid: "qafila:story:3f2a9c".into(),
            lead: s1,
            picture: Some(media(
                "https://wafa.example/img/water.jpg",
                "image/jpeg",
                Some(48213),
                Some((800, 450)),
            )),
            also: vec![
                report(
                    "aljazeera",
                    "الجزيرة نت",
                    "x",
                    "https://aljazeera.example/news/2026/11/27/water",
                    at(27, 13, 40),
                ),
                report(
                    "rt",
                    "آر تي عربي",
                    "x",
                    "https://rt.example/world/123456",
                    at(27, 13, 55),
                ),
            ],
            entities: vec![tag("kz", "كازاخستان"), tag("uz", "أوزبكستان")],
        },
        StoryView {
            guid: "qafila:story:7b10e4".into(),
            lead: s2,
            also: vec![],
            entities: vec![tag("kg", "قيرغيزستان")],
            picture: None,
        },
        StoryView {
            guid: "qafila:story:a0c551".into(),
            lead: s3,
            also: vec![],
            entities: vec![tag("ge", "جورجيا")],
            picture: None,
        },
        StoryView {
            guid: "qafila:story:d94e02".into(),
            lead: s4,
            also: vec![also4],
            entities: vec![tag("az", "أذربيجان"), tag("am", "أرمينيا")],
            // A member's picture (the lead has none), without dimensions.
            picture: Some(Media {
                url: "https://oc-media.example/photo/baku.png".into(),
                picture: true,
                ..Media::default()
            }),
        },
    ]
}

fn sources() -> Vec<OpmlSource> {
    vec![
        OpmlSource {
            id: "wafa".into(),
            name: "وكالة وفا".into(),
            url: "https://wafa.example/rss.xml?cat=asia&lang=ar".into(),
            site: Some("https://wafa.example/".into()),
        },
        OpmlSource {
            id: "caucasus".into(),
            name: "القوقاز \"اليوم\" & جيرانه".into(),
            url: "https://caucasus.example/rss.xml".into(),
            site: None,
        },
    ]
}

fn alternates() -> Vec<PageLink> {
    vec![
        PageLink {
            title: "RSS".into(),
            href: "/feed.xml".into(),
            mime: "application/rss+xml",
        },
        PageLink {
            title: "Atom".into(),
            href: "/feed.atom".into(),
            mime: "application/atom+xml",
        },
        PageLink {
            title: "JSON Feed".into(),
            href: "/feed.json".into(),
            mime: "application/feed+json",
        },
    ]
}

/// Compares `actual` with the golden file, or rewrites it when `UPDATE_GOLDEN=1`.
fn golden(name: &str, actual: &str) {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        "golden",
        name,
    ]
    .iter()
    .collect();
    if std::env::var("UPDATE_GOLDEN").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{name} differs from {}; run with UPDATE_GOLDEN=1 if intended",
        path.display()
    );
}

fn rss_out() -> String {
    render_rss(&meta("feed.xml"), &stories(), built_at())
}

#[test]
fn golden_rss() {
    golden("feed.xml", &rss_out());
}

#[test]
fn golden_atom() {
    golden(
        "feed.atom",
        &render_atom(&meta("feed.atom"), &stories(), built_at()),
    );
}

#[test]
fn golden_json() {
    golden(
        "feed.json",
        &render_json(&meta("feed.json"), &stories(), built_at()),
    );
}

#[test]
fn golden_html() {
    let html = render_html(
        &meta("feed.xml"),
        "آخر الأخبار",
        &stories(),
        &alternates(),
        &countries(),
        built_at(),
    );
    golden("index.html", &html);
}

#[test]
fn golden_opml() {
    golden(
        "sources.opml",
        &render_opml("مصادر قافلة", &sources(), built_at()),
    );
}

#[test]
fn rss_parses_back_field_by_field() {
    let ch = rss::Channel::read_from(rss_out().as_bytes()).unwrap();
    assert_eq!(ch.title(), "قافلة: أخبار آسيا الوسطى والقوقاز");
    assert_eq!(ch.link(), "https://qafila.example/");
    assert_eq!(ch.language(), Some("ar"));
    assert_eq!(ch.generator(), Some("qafila"));
    assert_eq!(
        ch.last_build_date(),
        Some("Fri, 27 Nov 2026 14:05:00 +0000")
    );
    let links = ch.atom_ext().unwrap().links();
    assert_eq!(
        (links[0].rel(), links[0].href()),
        ("self", "https://qafila.example/feed.xml")
    );
    assert_eq!(
        (links[1].rel(), links[1].href()),
        ("hub", "https://hub.qafila.example/")
    );

    let items = ch.items();
    assert_eq!(items.len(), 4);
    let want = stories();
    for (it, s) in items.iter().zip(&want) {
        assert_eq!(it.guid().unwrap().value(), s.guid);
        assert!(!it.guid().unwrap().is_permalink());
        assert_eq!(it.pub_date(), Some(s.lead.published.to_rfc2822().as_str()));
        let src = it.source().unwrap();
        assert_eq!(src.url(), s.lead.source_url);
        assert_eq!(src.title(), Some(s.lead.source_name.as_str()));
        let cats: Vec<&str> = it.categories().iter().map(|c| c.name()).collect();
        let names: Vec<&str> = s.entities.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(cats, names);
    }
    assert_eq!(
        items[0].title(),
        Some("كازاخستان & أوزبكستان توقعان اتفاقية لتقاسم مياه سير داريا")
    );
    assert_eq!(
        items[0].link(),
        Some("https://wafa.example/ar/news/2026/11/27/water")
    );
    assert_eq!(
        items[0].dublin_core_ext().unwrap().creators(),
        ["سارة الأحمد"]
    );
    let d0 = items[0].description().unwrap();
    assert!(
        d0.contains("src=\"https://wafa.example/img/dam.jpg\""),
        "{d0}"
    );
    assert!(d0.ends_with(
        "<p>أيضاً في: <a href=\"https://aljazeera.example/news/2026/11/27/water\" rel=\"noopener noreferrer\">الجزيرة نت</a>، \
         <a href=\"https://rt.example/world/123456\" rel=\"noopener noreferrer\">آر تي عربي</a></p></div>"
    ));

    assert_eq!(
        items[1].link(),
        Some("https://arabi.example/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/%D9%82%D9%8A%D8%B1%D8%BA%D9%8A%D8%B2%D8%B3%D8%AA%D8%A7%D9%86-%D8%A7%D9%86%D8%AA%D8%AE%D8%A7%D8%A8%D8%A7%D8%AA")
    );
    let d1 = items[1].description().unwrap().to_ascii_lowercase();
    for bad in [
        "<script",
        "onerror",
        "onclick",
        "javascript:",
        "<iframe",
        "<style",
        "alert(",
    ] {
        assert!(!d1.contains(bad), "{bad} in {d1}");
    }
    assert!(d1.contains("href=\"https://arabi.example/news/1\""), "{d1}");

    assert_eq!(
        items[2].title(),
        Some("Georgia: Tbilisi protests enter their third week")
    );
    assert_eq!(items[2].description(), None);
    assert!(items[2].dublin_core_ext().is_none());

    assert_eq!(
        items[3].title(),
        Some("أذربيجان وأرمينيا تستأنفان محادثات ترسيم الحدود")
    );
    assert_eq!(
        items[3].description(),
        Some("<div dir=\"rtl\"><p>جولة جديدة ]]&gt; من المحادثات</p><p>أيضاً في: رووداو</p></div>")
    );
}

#[test]
fn xml_outputs_are_single_escaped_and_clean() {
    let atom = render_atom(&meta("feed.atom"), &stories(), built_at());
    for doc in [rss_out(), atom] {
        assert!(doc.contains("كازاخستان &amp; أوزبكستان"));
        assert!(!doc.contains("&amp;amp;"));
        assert!(!doc.contains('\u{1}'));
    }
}

#[test]
fn json_parses_back() {
    let v: serde_json::Value =
        serde_json::from_str(&render_json(&meta("feed.json"), &stories(), built_at())).unwrap();
    assert_eq!(v["version"], "https://jsonfeed.org/version/1.1");
    assert_eq!(v["feed_url"], "https://qafila.example/feed.json");
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 4);
    for it in items {
        assert!(it["id"].is_string() && it["title"].is_string() && it["content_html"].is_string());
        assert!(it["date_published"].as_str().unwrap().ends_with('Z'));
        assert!(it["authors"][0]["name"].is_string());
    }
    assert_eq!(
        items[0]["title"],
        "كازاخستان & أوزبكستان توقعان اتفاقية لتقاسم مياه سير داريا"
    );
    assert_eq!(
        items[0]["tags"],
        serde_json::json!(["كازاخستان", "أوزبكستان"])
    );
    assert_eq!(items[2]["authors"][0]["name"], "القوقاز اليوم");
    assert_eq!(
        items[3]["title"],
        "أذربيجان وأرمينيا تستأنفان محادثات ترسيم الحدود"
    );
}
