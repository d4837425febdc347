//! Publish: turns a list of stories into the bytes readers fetch.
//!
//! One merged story list is rendered five ways: RSS 2.0 ([`render_rss`]), Atom 1.0 ([`render_atom`]), JSON Feed 1.1
//! ([`render_json`]), an Arabic right-to-left HTML page ([`render_html`], and per day: `render_day_page`) and an OPML list of the outlets
//! ([`render_opml`]). All renderers are pure functions of their arguments (the clock is passed in), so the same
//! input gives the same bytes and the golden files in `tests/fixtures/golden/` can pin them.
//!
//! What every format shares lives here: which link is safe to publish, a story's title and author, the story body
//! (the lead's sanitized description plus "أيضاً في:" links to the other outlets) and the entry id.

mod atom;
mod bidi;
mod bound;
mod day_page;
mod html;
mod json;
mod opml;
mod rss;
mod sanitize;
mod search_page;
mod timefmt;

pub use atom::render_atom;
pub(crate) use day_page::{day_link, day_path, home_link, older_than, render_day_page};
pub use html::render_html;
pub(crate) use html::{render_page, PageExtras, Pager};
pub use json::render_json;
pub use opml::render_opml;
pub use rss::render_rss;
pub use sanitize::{clean_text, sanitize_html, SafeHtml, SanitizeCache};
pub use search_page::render_search_page;

use chrono::{DateTime, SecondsFormat, Utc};

use crate::model::{Media, ReportView, StoryView};
use crate::text::escape_markup;

/// What a feed says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedMeta {
    /// The feed's title.
    pub title: String,
    /// The feed's description.
    pub description: String,
    /// The site/page URL.
    pub link: String,
    /// This feed's public URL (`atom:link rel="self"`).
    pub self_url: String,
    /// `"ar"`.
    pub language: String,
    /// A WebSub hub to advertise, if any.
    pub websub_hub: Option<String>,
}

/// A feed the HTML page advertises with `<link rel="alternate">` and in its footer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageLink {
    /// The link's text.
    pub title: String,
    /// Where it points.
    pub href: String,
    /// `application/rss+xml`, `application/atom+xml` or `application/feed+json`.
    pub mime: &'static str,
}

/// One outlet as listed in `/sources.opml`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpmlSource {
    /// The source's id.
    pub id: String,
    /// The outlet's display name.
    pub name: String,
    /// The outlet's feed URL.
    pub url: String,
    /// The outlet's home page.
    pub site: Option<String>,
}

/// Shown when an outlet sent an item whose title is empty after cleaning: RSS needs a title or a description and
/// Atom always needs a title, and a blank line in a reader's list is useless.
const UNTITLED: &str = "بلا عنوان";

/// The label before the list of other outlets that reported the story.
const ALSO_LABEL: &str = "أيضاً في:";

/// The Arabic comma, used between outlet names.
const AR_COMMA: &str = "، ";

/// `s` as an absolute http(s) URL, or `None`.
///
/// Links come from outlets' feeds; a `javascript:` link there would become clickable in every reader, and
/// serializing through `url` percent-encodes Arabic paths, which RSS (URIs, not IRIs) requires.
pub(crate) fn safe_link(s: &str) -> Option<url::Url> {
    let u = url::Url::parse(s.trim()).ok()?;
    matches!(u.scheme(), "http" | "https").then_some(u)
}

/// A story's media as every format publishes them: its picture (safe URL, MIME type when known or evident from
/// the file name) and the lead report's sound and video (podcast episodes), each URL once.
pub(crate) struct StoryMedia {
    pub picture: Option<PublishedMedia>,
    pub audio_video: Vec<PublishedMedia>,
}

/// One media file, ready to write: an http(s) URL, escaped by each writer.
pub(crate) struct PublishedMedia {
    pub url: String,
    pub mime: Option<String>,
    pub size: Option<u64>,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

impl From<&Media> for Option<PublishedMedia> {
    fn from(m: &Media) -> Self {
        let mut url = safe_link(&m.url)?;
        // Stored before credentials were stripped at parse time, or a feed naming them itself: never published.
        let _ = url.set_username("");
        let _ = url.set_password(None);
        let mime = m
            .mime
            .as_deref()
            .map(clean_text)
            .filter(|t| t.contains('/') && !t.contains(char::is_whitespace))
            .or_else(|| m.is_image().then(|| image_mime(url.path())).flatten());
        Some(PublishedMedia {
            url: url.to_string(),
            mime,
            size: m.size,
            width: m.width,
            height: m.height,
        })
    }
}

/// The image MIME type a file name makes evident.
fn image_mime(path: &str) -> Option<String> {
    let ext = path.rsplit('.').next()?.to_ascii_lowercase();
    let mime = match ext.as_str() {
        "jpg" | "jpeg" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        _ => return None,
    };
    Some(mime.to_owned())
}

pub(crate) fn story_media(s: &StoryView) -> StoryMedia {
    let picture = s.picture.as_ref().and_then(Option::<PublishedMedia>::from);
    let mut audio_video: Vec<PublishedMedia> = Vec::new();
    for m in s.lead.media.iter().filter(|m| m.is_audio_or_video()) {
        if let Some(p) = Option::<PublishedMedia>::from(m) {
            if !audio_video.iter().any(|a| a.url == p.url) {
                audio_video.push(p);
            }
        }
    }
    StoryMedia {
        picture,
        audio_video,
    }
}

/// The report's title as plain text, never empty.
pub(crate) fn report_title(r: &ReportView) -> String {
    let t = clean_text(&r.title);
    if t.is_empty() {
        UNTITLED.to_string()
    } else {
        t
    }
}

/// The person credited for the story: the lead's author when the outlet named one, else the outlet.
/// Atom requires an author per entry, and the outlet is the honest fallback.
pub(crate) fn story_author(s: &StoryView) -> String {
    let a = s.lead.author.as_deref().map(clean_text).unwrap_or_default();
    if a.is_empty() {
        clean_text(&s.lead.source_name)
    } else {
        a
    }
}

/// The story's HTML body shared by RSS, Atom and JSON: the lead's description (sanitized once, when the view was
/// built), then a paragraph linking the other outlets, all in `<div dir="rtl">`. Empty when there is nothing to say.
pub(crate) fn story_html(s: &StoryView) -> String {
    let desc = s
        .lead
        .description
        .as_ref()
        .map(SafeHtml::as_str)
        .unwrap_or_default();
    let also = also_html(&s.also);
    if desc.is_empty() && also.is_empty() {
        return String::new();
    }
    format!("<div dir=\"rtl\">{desc}{also}</div>")
}

/// `<p>أيضاً في: <a …>outlet</a>، …</p>`, or empty when no other outlet reported the story.
fn also_html(also: &[ReportView]) -> String {
    if also.is_empty() {
        return String::new();
    }
    let links: Vec<String> = also.iter().map(outlet_link_html).collect();
    format!("<p>{ALSO_LABEL} {}</p>", links.join(AR_COMMA))
}

/// The outlet's name linked to its article (plain name when it has no safe link).
pub(crate) fn outlet_link_html(r: &ReportView) -> String {
    let name = escape_markup(&clean_text(&r.source_name));
    match r.link.as_deref().and_then(safe_link) {
        Some(u) => format!(
            "<a href=\"{}\" rel=\"noopener noreferrer\">{name}</a>",
            escape_markup(u.as_str())
        ),
        None => name,
    }
}

/// Characters allowed as-is in a URN's namespace-specific string (RFC 8141, as the W3C validator checks it).
fn urn_safe(c: char) -> bool {
    c.is_ascii_alphanumeric() || "()+,.:=@;$_!*'-".contains(c)
}

/// A story's Atom/JSON id: the guid itself when it is already an http(s), `urn:` or `tag:` URI, else
/// `urn:qafila:` + the guid percent-encoded. A pure function of the guid, so an entry's id never changes.
pub(crate) fn entry_id(guid: &str) -> String {
    let g = clean_text(guid);
    let lower = g.to_ascii_lowercase();
    let uri_like = ["http://", "https://", "urn:", "tag:"]
        .iter()
        .any(|p| lower.starts_with(p));
    if uri_like && url::Url::parse(&g).is_ok() && g.chars().all(|c| c.is_ascii_graphic()) {
        return g;
    }
    let mut out = String::from("urn:qafila:");
    for b in g.bytes() {
        if urn_safe(b as char) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// RFC 822 date as RSS wants it (`Sat, 28 Nov 2026 14:05:00 +0000`).
pub(crate) fn rfc822(t: DateTime<Utc>) -> String {
    t.to_rfc2822()
}

/// RFC 3339 date in UTC with a `Z` (`2026-11-28T14:05:00Z`).
pub(crate) fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
pub(crate) mod tests;
