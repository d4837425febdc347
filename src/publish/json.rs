//! JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>).
//!
//! Typed structs rather than `json!` so that keys come out in a fixed, readable order (serde_json's map sorts
//! keys) and a missing required field is a compile error. `_qafila` is a JSON Feed extension object (keys starting
//! with `_` are reserved for that) carrying which outlets reported each story.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{
    clean_text, report_title, rfc3339, safe_link, story_author, story_html, story_media, FeedMeta,
};
use crate::model::{ReportView, StoryView};

const VERSION: &str = "https://jsonfeed.org/version/1.1";

#[derive(Serialize)]
struct Feed {
    version: &'static str,
    title: String,
    home_page_url: String,
    feed_url: String,
    description: String,
    language: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub>,
    items: Vec<Entry>,
}

#[derive(Serialize)]
struct Hub {
    #[serde(rename = "type")]
    kind: &'static str,
    url: String,
}

#[derive(Serialize)]
struct Entry {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    title: String,
    /// JSON Feed requires content_html or content_text; an empty string is valid when there is nothing to say.
    content_html: String,
    date_published: String,
    authors: Vec<Author>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    /// The story's picture.
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    /// Sound and video, and the picture when its type is known (`mime_type` is required).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<Attachment>,
    #[serde(rename = "_qafila")]
    qafila: Ext,
}

#[derive(Serialize)]
struct Attachment {
    url: String,
    mime_type: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_in_bytes: Option<u64>,
}

#[derive(Serialize)]
struct Author {
    name: String,
}

#[derive(Serialize)]
struct Ext {
    /// Entity ids (`kz`, `ge`…), matching `tags` position by position.
    entities: Vec<String>,
    /// The lead outlet first, then the others in the order they reported the story.
    outlets: Vec<Outlet>,
}

#[derive(Serialize)]
struct Outlet {
    id: String,
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

/// Renders the merged feed as JSON Feed 1.1 (pretty-printed, trailing newline).
pub fn render_json(meta: &FeedMeta, stories: &[StoryView], built_at: DateTime<Utc>) -> String {
    // JSON Feed has no feed-level date; `built_at` is kept in the signature for symmetry with the other renderers.
    let _ = built_at;
    let feed = Feed {
        version: VERSION,
        title: clean_text(&meta.title),
        home_page_url: clean_text(&meta.link),
        feed_url: clean_text(&meta.self_url),
        description: clean_text(&meta.description),
        language: clean_text(&meta.language),
        hubs: meta
            .websub_hub
            .iter()
            .map(|h| Hub {
                kind: "WebSub",
                url: clean_text(h),
            })
            .collect(),
        items: stories.iter().map(entry).collect(),
    };
    let mut out = serde_json::to_string_pretty(&feed).unwrap_or_default();
    out.push('\n');
    out
}

fn entry(s: &StoryView) -> Entry {
    let media = story_media(s);
    let attachments = media
        .audio_video
        .iter()
        .chain(&media.picture)
        .filter_map(|m| {
            Some(Attachment {
                url: m.url.clone(),
                mime_type: m.mime.clone()?,
                size_in_bytes: m.size,
            })
        })
        .collect();
    Entry {
        image: media.picture.as_ref().map(|p| p.url.clone()),
        attachments,
        id: clean_text(&s.guid),
        url: s.lead.link.as_deref().and_then(safe_link).map(String::from),
        title: report_title(&s.lead),
        content_html: story_html(s),
        date_published: rfc3339(s.lead.published),
        authors: vec![Author {
            name: story_author(s),
        }],
        tags: s.entities.iter().map(|e| clean_text(&e.name)).collect(),
        qafila: Ext {
            entities: s.entities.iter().map(|e| clean_text(&e.id)).collect(),
            outlets: std::iter::once(&s.lead)
                .chain(&s.also)
                .map(outlet)
                .collect(),
        },
    }
}

fn outlet(r: &ReportView) -> Outlet {
    Outlet {
        id: clean_text(&r.source_id),
        name: clean_text(&r.source_name),
        url: r.link.as_deref().and_then(safe_link).map(String::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::tests::{built_at, meta, stories};
    use serde_json::Value;

    #[test]
    fn required_fields_present_and_typed() {
        let v: Value = serde_json::from_str(&render_json(&meta(), &stories(), built_at())).unwrap();
        assert_eq!(v["version"], VERSION);
        assert!(
            v["title"].is_string() && v["feed_url"].is_string() && v["home_page_url"].is_string()
        );
        assert_eq!(v["language"], "ar");
        assert_eq!(v["hubs"][0]["type"], "WebSub");
        let items = v["items"].as_array().unwrap();
        assert_eq!(items.len(), 2);
        let it = &items[0];
        assert_eq!(it["id"], "qafila:story:0001");
        assert_eq!(it["url"], "https://wafa.example/news/1");
        assert_eq!(it["title"], "أستانا & بيشكيك توقعان اتفاق المياه");
        assert_eq!(it["date_published"], "2026-11-27T11:00:00Z");
        assert_eq!(it["authors"][0]["name"], "سارة");
        assert_eq!(it["tags"][0], "كازاخستان");
        assert!(it["content_html"]
            .as_str()
            .unwrap()
            .starts_with("<div dir=\"rtl\">"));
        assert_eq!(it["_qafila"]["outlets"][1]["id"], "rudaw");
        assert!(items[1].get("tags").is_none(), "empty tags are omitted");
    }

    #[test]
    fn no_hubs_key_without_hub() {
        let mut m = meta();
        m.websub_hub = None;
        let v: Value = serde_json::from_str(&render_json(&m, &[], built_at())).unwrap();
        assert!(v.get("hubs").is_none());
        assert_eq!(v["items"].as_array().unwrap().len(), 0);
    }
}
