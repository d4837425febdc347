use std::path::Path;

use super::*;
use crate::config::Config;

const EXPORT: &str = include_str!("../tests/fixtures/opml/reader-export.opml");
const SHIPPED: &str = include_str!("../config/qafila.toml");

fn shipped_sources() -> Vec<(String, String)> {
    Config::parse(SHIPPED, Path::new("qafila.toml"))
        .unwrap()
        .sources
        .iter()
        .map(|s| (s.id().to_string(), s.url.to_string()))
        .collect()
}

#[test]
fn reader_export_appends_to_the_shipped_config_and_parses_back() {
    let existing = shipped_sources();
    let toml = opml_to_toml(EXPORT, &existing).unwrap();
    let text = format!("{SHIPPED}{toml}");
    let config = Config::parse(&text, Path::new("qafila.toml"))
        .unwrap_or_else(|e| panic!("{e}\n---\n{toml}"));
    let new: Vec<(&str, &str, &str)> = config.sources[existing.len()..]
        .iter()
        .map(|s| (s.id(), s.name.as_str(), s.url.as_str()))
        .collect();
    assert_eq!(
        new,
        [
            (
                "kt-kz",
                "كازاخستان اليوم",
                "https://www.kt.kz/ar/rss?lang=ar&section=news"
            ),
            ("kabar-arabic", "Kabar Arabic", "http://ar.kabar.kg/rss/"),
            (
                "uza",
                "UzA — وكالة أنباء أوزبكستان",
                "https://uza.uz/ar/rss?format=rss&limit=50"
            ),
            (
                "tajikistan-khovar",
                "Tajikistan \u{2013} Khovar",
                "https://khovar.tj/ar/feed/"
            ),
            ("azertag-az", "وكالة أذرتاج", "https://azertag.az/ar/rss"),
            (
                "trend",
                "Trend عربي",
                "https://www.trend.az/feeds/arabic.rss"
            ),
            (
                "armenpress-am",
                "أرمنبرس \"عربي\"",
                "https://armenpress.am/ara/rss/?cat=news&n=30"
            ),
            ("arabi21-com", "عربي 21", "https://arabi21.com/feed"),
            (
                "bbc-news",
                "BBC News عربي",
                "https://feeds.bbci.co.uk/arabic/middleeast/rss.xml"
            ),
            (
                "bare-ampersand",
                "bare ampersand",
                "https://news.example.com/rss?a=1&b=2"
            ),
        ]
    );
    // Every skip is explained, and nothing else got lost.
    for needle in [
        "# skipped آر تي عربي <https://arabic.rt.com/rss/>: already configured as `rt-arabic`",
        "# skipped آر تي عربي (نسخة) <http://arabic.rt.com/rss>: already configured as `rt-arabic`",
        "# skipped الجزيرة <https://aljazeera.net/aljazeerarss/",
        "already configured as `aljazeera`",
        "# skipped نشرة بريدية: `mailto:news@example.com` is not an http(s) URL",
        "# skipped Kabar Arabic <http://ar.kabar.kg/rss/>: already imported above as `kabar-arabic`",
        "10 new source(s), 5 skipped",
        "# from OPML folder: القوقاز / جورجيا & أرمينيا\n[[source]]\nid = \"armenpress-am\"",
        "# from OPML folder: عام\n[[source]]\nid = \"arabi21-com\"",
    ] {
        assert!(toml.contains(needle), "missing {needle:?} in\n{toml}");
    }
}

#[test]
fn ids_are_unique_against_config_and_each_other() {
    let opml = r#"<opml version="2.0"><body>
        <outline text="RT Arabic" xmlUrl="https://a.example/1"/>
        <outline text="RT Arabic" xmlUrl="https://a.example/2"/>
        <outline text="قناة" xmlUrl="https://www.b.example/rss"/>
        <outline text="قناة" xmlUrl="https://www.b.example/rss2"/>
    </body></opml>"#;
    let existing = [("rt-arabic".to_string(), "https://x.example/".to_string())];
    let toml = opml_to_toml(opml, &existing).unwrap();
    let ids: Vec<&str> = toml
        .lines()
        .filter_map(|l| l.strip_prefix("id = "))
        .collect();
    assert_eq!(
        ids,
        [
            "\"rt-arabic-2\"",
            "\"rt-arabic-3\"",
            "\"b-example\"",
            "\"b-example-2\""
        ]
    );
}

#[test]
fn scanner_tolerates_real_world_oddities() {
    let opml = "<?xml version='1.0'?>\n<!DOCTYPE opml [<!ENTITY x 'boom'>]>\n<opml:opml xmlns:opml='x'>\
        <!-- <outline xmlUrl='https://comment.example/'/> -->\
        <opml:outline XMLURL = 'https://a.example/?q=&lt;x&gt;' text=\"a&#x41;&#66;&nbsp;&x;\ttab\" title=''/>\
        </opml:opml>";
    let o = scan(opml).unwrap();
    assert_eq!(o.len(), 1);
    assert_eq!(o[0].xml_url.as_deref(), Some("https://a.example/?q=<x>"));
    assert_eq!(o[0].text.as_deref(), Some("aAB&nbsp;&x; tab"));
    assert_eq!(o[0].title, None);
}

#[test]
fn errors_name_the_problem() {
    assert_eq!(
        opml_to_toml("<rss version=\"2.0\"></rss>", &[]),
        Err(OpmlError::NotOpml)
    );
    assert_eq!(
        opml_to_toml(
            "<opml><body><outline text='folder'></outline></body></opml>",
            &[]
        ),
        Err(OpmlError::NoFeeds)
    );
    let err = opml_to_toml("<opml>\n<body>\n<outline text=\"x xmlUrl=\"y\"/>", &[]).unwrap_err();
    assert!(matches!(err, OpmlError::Malformed { line: 3, .. }), "{err}");
    let err = opml_to_toml("<opml>\n<outline text=x/>", &[]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 2: attribute `text` of <outline> is not quoted"
    );
}

#[test]
fn toml_strings_and_comments_are_escaped() {
    assert_eq!(toml_str("a\"b\\c\nd"), "\"a\\\"b\\\\c\\u000Ad\"");
    assert_eq!(comment_text("a\nb\u{7f}"), "a b ");
    assert_eq!(derive_id("عربي 21", "arabi21.com"), "arabi21-com");
    assert_eq!(derive_id("", "arabic.rt.com"), "arabic-rt-com");
    assert_eq!(derive_id("  --Al Jazeera!! ", "x"), "al-jazeera");
}
