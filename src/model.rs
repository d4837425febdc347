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
    pub title: String,
    pub summary: Option<String>,
    pub content: Option<String>,
    pub author: Option<String>,
    pub published: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
}

/// A whole feed document as parsed.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParsedFeed {
    pub title: Option<String>,
    /// The outlet's home page, when the feed names one.
    pub site_link: Option<String>,
    /// RSS `<ttl>` in minutes: a floor on how soon the source should be polled again.
    pub ttl_minutes: Option<u32>,
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
    pub title: String,
    pub link: Option<String>,
    /// The outlet's HTML content or summary, sanitized against the article's URL (done once, when the view is
    /// built: see `publish::SanitizeCache`).
    pub description: Option<crate::publish::SafeHtml>,
    pub author: Option<String>,
    /// The item's date, else when qafila first saw it.
    pub published: DateTime<Utc>,
    pub source_id: String,
    /// The outlet's display name (Arabic).
    pub source_name: String,
    /// The outlet's feed URL (for RSS `<source url>`).
    pub source_url: String,
}

/// What the gazetteer says about one item: the region entities it mentions, and whether the region is its
/// subject (a region-filtered source publishes only those). A passing mention tags an item without making it
/// about the region.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegionTags {
    pub entities: Vec<String>,
    pub region_match: bool,
}
