//! The data that flows between pipeline stages.
//!
//! Each stage of the pipeline (config → schedule → fetch → parse → normalize → dedup → store → publish/serve)
//! takes and returns plain values defined here, so that no stage needs to know how another one works and none of
//! them touches the database except `store`.

use chrono::{DateTime, Utc};

/// One entry of a feed as the parser understood it, before anything is stored.
///
/// Text is kept as the outlet wrote it: `title` is plain text (HTML entities decoded exactly once), `summary` and
/// `content` are the outlet's HTML, unsanitized (sanitizing happens when publishing, so that a better sanitizer
/// later can re-render old items).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedItem {
    /// The feed's own identifier (RSS `<guid>`, Atom `<id>`, JSON Feed `id`) when the feed carried one.
    /// Never a synthesized id.
    pub guid: Option<String>,
    /// The article's URL, made absolute against the feed URL.
    pub link: Option<String>,
    /// Plain text, HTML stripped and entities decoded once.
    pub title: String,
    /// The outlet's summary HTML, as sent (sanitized when published).
    pub summary: Option<String>,
    /// The outlet's full-content HTML, as sent.
    pub content: Option<String>,
    /// The author's name, plain text.
    pub author: Option<String>,
    /// When the item was published, if the feed says.
    pub published: Option<DateTime<Utc>>,
    /// When the item was last updated, if the feed says.
    pub updated: Option<DateTime<Utc>>,
    /// Pictures, sound and video that come with the item, in the feed's order (absolute http(s) URLs only).
    pub media: Vec<Media>,
}

/// One picture, sound or video file attached to an item (`<enclosure>`, `media:content`, `media:thumbnail`,
/// `itunes:image`, Atom `link rel="enclosure"`, JSON Feed `image`/`attachments`, or the first `<img>` of the
/// content).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Media {
    /// Absolute http(s) URL.
    pub url: String,
    /// MIME type as the feed gave it (`image/jpeg`, `audio/mpeg`), if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mime: Option<String>,
    /// Size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Width in pixels, when the feed says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Height in pixels, when the feed says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Whether the feed called it a picture (a thumbnail, `medium="image"`, `itunes:image`, an `<img>`) when the
    /// MIME type does not say.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub picture: bool,
}

impl Media {
    /// A picture: by MIME type, by what the feed called it, else by the file extension.
    pub fn is_image(&self) -> bool {
        match self.mime.as_deref().map(str::to_ascii_lowercase) {
            Some(m) if m.starts_with("image/") => true,
            Some(m) if m.starts_with("audio/") || m.starts_with("video/") => false,
            _ => {
                self.picture || {
                    let path = self.url.split(['?', '#']).next().unwrap_or_default();
                    let ext = path
                        .rsplit('.')
                        .next()
                        .unwrap_or_default()
                        .to_ascii_lowercase();
                    matches!(
                        ext.as_str(),
                        "jpg" | "jpeg" | "png" | "gif" | "webp" | "avif"
                    )
                }
            }
        }
    }

    /// Sound or video (a podcast episode): published as an enclosure, never as the story's picture.
    pub fn is_audio_or_video(&self) -> bool {
        self.mime.as_deref().is_some_and(|m| {
            let m = m.to_ascii_lowercase();
            m.starts_with("audio/") || m.starts_with("video/")
        })
    }
}

/// A whole feed document as parsed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedFeed {
    /// The feed's own title.
    pub title: Option<String>,
    /// The outlet's home page, when the feed names one.
    pub site_link: Option<String>,
    /// RSS `<ttl>` in minutes: a floor on how soon the source should be polled again.
    pub ttl_minutes: Option<u32>,
    /// The entries, in feed order.
    pub items: Vec<ParsedItem>,
    /// Items the feed carried beyond `[limits] max_items_per_fetch`: not parsed, not stored, reported.
    pub items_over_cap: usize,
}

/// One story as the publisher sees it: the first report and the others that joined it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoryView {
    /// Stable, never changes once published.
    pub guid: String,
    /// The first report (its title and link are the story's).
    pub lead: ReportView,
    /// Later reports of the same story by other outlets, oldest first.
    pub also: Vec<ReportView>,
    /// The region entities the story mentions, in gazetteer order.
    pub entities: Vec<EntityTag>,
    /// The story's picture: the lead report's first, else the first of any other report.
    pub picture: Option<Media>,
}

/// A region entity of the gazetteer, as a story is tagged with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTag {
    /// Short stable id such as `kz` (used in URLs: `/country/kz.xml`).
    pub id: String,
    /// The Arabic display name, such as `كازاخستان`.
    pub name: String,
}

/// One stored item, with the outlet that delivered it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportView {
    /// The report's headline.
    pub title: String,
    /// The report's article URL.
    pub link: Option<String>,
    /// The outlet's HTML content or summary, sanitized against the article's URL (done once, when the view is
    /// built: see `publish::SanitizeCache`).
    pub description: Option<crate::publish::SafeHtml>,
    /// The report's author.
    pub author: Option<String>,
    /// The item's date, else when qafila first saw it.
    pub published: DateTime<Utc>,
    /// The id of the source that sent it.
    pub source_id: String,
    /// The outlet's display name (Arabic).
    pub source_name: String,
    /// The outlet's feed URL (for RSS `<source url>`).
    pub source_url: String,
    /// The item's pictures, sound and video.
    pub media: Vec<Media>,
}

/// What the gazetteer says about one item: the region entities it mentions, and whether the region is its
/// subject (a region-filtered source publishes only those). A passing mention tags an item without making it
/// about the region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionTags {
    /// The region entity ids the story mentions.
    pub entities: Vec<String>,
    /// Whether the story is about the region (not only a passing mention).
    pub region_match: bool,
}
