//! Fixtures shared by the publish unit tests, and tests of the helpers in `mod.rs`.
//!
//! The golden-file tests in `tests/publish_golden.rs` carry their own, larger fixture: integration tests cannot see
//! `cfg(test)` items.

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::model::EntityTag;

pub(crate) fn built_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 27, 14, 5, 0).unwrap()
}

pub(crate) fn meta() -> FeedMeta {
    FeedMeta {
        title: "قافلة: آسيا الوسطى والقوقاز".into(),
        description: "أخبار آسيا الوسطى والقوقاز من عدة مصادر عربية".into(),
        link: "https://qafila.example/".into(),
        self_url: "https://qafila.example/feed.xml".into(),
        language: "ar".into(),
        websub_hub: Some("https://hub.example/".into()),
    }
}

pub(crate) fn report(title: &str, source: &str, link: &str, hour: u32) -> ReportView {
    ReportView {
        title: title.into(),
        link: Some(link.into()),
        description: None,
        author: None,
        published: Utc.with_ymd_and_hms(2026, 11, 27, hour, 0, 0).unwrap(),
        source_id: source.into(),
        source_name: source.into(),
        source_url: format!("https://{source}.example/rss"),
        media: vec![],
    }
}

/// A picture as a feed gives it.
pub(crate) fn picture(url: &str, width: u32, height: u32) -> crate::model::Media {
    crate::model::Media {
        url: url.into(),
        mime: Some("image/jpeg".into()),
        width: Some(width),
        height: Some(height),
        ..Default::default()
    }
}

pub(crate) fn stories() -> Vec<StoryView> {
    let mut lead = report(
        "أستانا & بيشكيك توقعان اتفاق المياه",
        "wafa",
        "https://wafa.example/news/1",
        11,
    );
    lead.source_name = "وكالة الأنباء".into();
    lead.author = Some("سارة".into());
    lead.description = Some(SafeHtml::sanitize(
        "<p>نص <b>الخبر</b></p>",
        safe_link("https://wafa.example/news/1").as_ref(),
    ));
    vec![
        StoryView {
            guid: "qafila:story:0001".into(),
            lead,
            also: vec![report("x", "rudaw", "https://rudaw.example/a", 12)],
            entities: vec![EntityTag {
                id: "kz".into(),
                name: "كازاخستان".into(),
            }],
            picture: Some(picture("https://wafa.example/img/water.jpg", 800, 450)),
        },
        StoryView {
            guid: "qafila:story:0002".into(),
            lead: report("Tbilisi\u{1} talks", "civil", "https://civil.example/b", 9),
            also: vec![],
            entities: vec![],
            picture: None,
        },
    ]
}

#[test]
fn safe_link_accepts_only_http() {
    assert!(safe_link("javascript:alert(1)").is_none());
    assert!(safe_link("/relative").is_none());
    assert_eq!(
        safe_link(" https://a.example/أخبار ").unwrap().as_str(),
        "https://a.example/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1"
    );
}

#[test]
fn entry_id_is_a_valid_stable_uri() {
    assert_eq!(
        entry_id("qafila:story:ab12"),
        "urn:qafila:qafila:story:ab12"
    );
    assert_eq!(entry_id("a b/ج"), "urn:qafila:a%20b%2F%D8%AC");
    assert_eq!(entry_id("https://x.example/1"), "https://x.example/1");
    assert_eq!(entry_id("tag:x.example,2026:1"), "tag:x.example,2026:1");
}

#[test]
fn story_html_joins_outlets_with_arabic_comma() {
    let mut s = stories().remove(0);
    s.also.push(report("y", "bbc", "https://bbc.example/c", 13));
    s.lead.description = None;
    assert_eq!(
        story_html(&s),
        "<div dir=\"rtl\"><p>أيضاً في: <a href=\"https://rudaw.example/a\" rel=\"noopener noreferrer\">rudaw</a>، \
         <a href=\"https://bbc.example/c\" rel=\"noopener noreferrer\">bbc</a></p></div>"
    );
}

#[test]
fn story_html_is_empty_without_description_or_outlets() {
    assert_eq!(story_html(&stories()[1]), "");
}

#[test]
fn author_falls_back_to_outlet() {
    let s = stories();
    assert_eq!(story_author(&s[0]), "سارة");
    assert_eq!(story_author(&s[1]), "civil");
}

#[test]
fn empty_title_gets_placeholder() {
    let r = report(" \u{1} ", "a", "https://a.example/", 1);
    assert_eq!(report_title(&r), UNTITLED);
}
