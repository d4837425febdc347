//! Mapping feed-rs's model onto ours ([`ParsedFeed`], [`ParsedItem`]), cleaning each field on the way.

use feed_rs::model::{Content, Entry, Feed, FeedType, Link, Text};
use url::Url;

use super::media::ScannedItem;
use super::ParseLimits;
use crate::model::{Media, ParsedFeed, ParsedItem};
use crate::text::{cut_bytes, cut_chars, drop_non_xml_chars, escape_markup, plain_text};

/// Links longer than this are dropped: no real article URL is this long, and each one is stored and published.
const MAX_LINK_BYTES: usize = 4096;
/// A longer guid is replaced by its hash (it stays a stable identity without being stored at any length).
const MAX_GUID_BYTES: usize = 1024;

/// Maps a parsed feed; `media` is what [`super::media`] found per item of the same text.
pub(crate) fn feed(
    mut feed: Feed,
    base: &Url,
    limits: &ParseLimits,
    media: Vec<ScannedItem>,
) -> ParsedFeed {
    let atom = feed.feed_type == FeedType::Atom;
    let ids: Vec<&str> = feed.entries.iter().map(|e| e.id.trim()).collect();
    let mut media = super::media::for_entries(media, &ids);
    // Feeds were cut before feed-rs (see `prescan`); this only acts if that scan read the document differently.
    let over_cap = feed.entries.len().saturating_sub(limits.max_items);
    if over_cap > 0 {
        let mut ranked: Vec<(usize, (Entry, Vec<Media>))> = feed
            .entries
            .drain(..)
            .zip(media.drain(..))
            .enumerate()
            .collect();
        ranked.sort_by_key(|(i, (e, _))| (std::cmp::Reverse(e.published.or(e.updated)), *i));
        ranked.truncate(limits.max_items);
        ranked.sort_by_key(|(i, _)| *i);
        (feed.entries, media) = ranked.into_iter().map(|(_, pair)| pair).unzip();
    }
    ParsedFeed {
        title: feed
            .title
            .as_ref()
            .map(|t| cut_chars(plain_text(&t.content), limits.max_title_chars))
            .filter(|t| !t.is_empty()),
        site_link: pick_link(&feed.links, base),
        ttl_minutes: feed.ttl,
        items: feed
            .entries
            .into_iter()
            .zip(media)
            .map(|(e, media)| item(e, base, atom, limits, media))
            .collect(),
        items_over_cap: over_cap,
    }
}

fn item(
    entry: Entry,
    base: &Url,
    atom: bool,
    limits: &ParseLimits,
    mut media: Vec<Media>,
) -> ParsedItem {
    // feed-rs was told to leave missing ids empty, so a non-empty id is the feed's own.
    let guid = Some(drop_non_xml_chars(entry.id.trim()).into_owned())
        .filter(|g| !g.is_empty())
        .map(|g| {
            if g.len() > MAX_GUID_BYTES {
                format!("sha256:{}", crate::identity::hash_hex(&[&g]))
            } else {
                g
            }
        });
    let link = pick_link(&entry.links, base).or_else(|| {
        // An RSS <guid> is a permalink unless it says otherwise (feed-rs drops isPermaLink), so a guid that is
        // an http(s) URL is the best link an item without <link> has. An Atom id is a name, but an entry with no
        // link at all whose id is an http(s) URL is nearly always naming its own page (feedparser reads it so
        // too). Only an absolute URL counts: a relative-looking guid ("story-17") is a name, not a path.
        // A root-relative id ("/2026/11/story") is as clearly a path on the feed's site.
        guid.as_deref()
            .filter(|g| Url::parse(g).is_ok() || (g.starts_with('/') && !g.starts_with("//")))
            .and_then(|g| absolute_http(g, base))
    });
    // Media RSS can carry the only description an entry has (`media:description`, e.g. in a `media:group`).
    let media_description = || {
        entry
            .media
            .iter()
            .find_map(|m| m.description.as_ref())
            .and_then(text_as_html)
    };
    let summary = entry
        .summary
        .as_ref()
        .and_then(text_as_html)
        .or_else(|| entry.content.is_none().then(media_description).flatten())
        .map(|s| cut_bytes(s, limits.max_content_bytes));
    let content = entry
        .content
        .as_ref()
        .and_then(content_as_html)
        .map(|s| cut_bytes(s, limits.max_content_bytes));
    if !media.iter().any(Media::is_image) {
        // No picture declared: the first <img> of the text, resolved against the content's xml:base if any.
        let content_base = entry.base.as_deref().and_then(|b| base.join(b).ok());
        let html_base = content_base.as_ref().unwrap_or(base);
        let img = [content.as_deref(), summary.as_deref()]
            .into_iter()
            .flatten()
            .find_map(|html| super::media::first_img(html, html_base));
        media.extend(img);
    }
    ParsedItem {
        guid,
        link,
        title: entry
            .title
            .as_ref()
            .map(|t| cut_chars(title_text(t, atom), limits.max_title_chars))
            .unwrap_or_default(),
        summary,
        content,
        author: entry
            .authors
            .iter()
            .filter_map(|p| p.name.as_deref().map(plain_text).filter(|n| !n.is_empty()))
            .next()
            .map(|a| cut_chars(a, limits.max_title_chars)),
        published: entry.published,
        updated: entry.updated,
        media,
    }
}

/// The page a feed or entry points at: `rel="alternate"` (or no rel) first, else any link that is not the feed
/// itself or an attachment.
fn pick_link(links: &[Link], base: &Url) -> Option<String> {
    let alternate = |l: &&Link| {
        l.rel
            .as_deref()
            .is_none_or(|r| r.eq_ignore_ascii_case("alternate"))
    };
    let other = |l: &&Link| {
        !matches!(
            l.rel.as_deref(),
            Some("self" | "enclosure" | "edit" | "hub" | "next" | "previous" | "first" | "last")
        )
    };
    let choose = |pred: &dyn Fn(&&Link) -> bool| {
        links
            .iter()
            .filter(pred)
            .find_map(|l| absolute_http(&l.href, base))
    };
    choose(&alternate).or_else(|| choose(&other))
}

/// `href` made absolute against `base`; only http(s) survives (no `javascript:` or `data:` links downstream).
pub(super) fn absolute_http(href: &str, base: &Url) -> Option<String> {
    let href = drop_non_xml_chars(href.trim()).into_owned();
    if href.is_empty() || href.len() > MAX_LINK_BYTES {
        return None;
    }
    // Nearly every link is already absolute and written as the parser would write it (see `is_plain_url`).
    if crate::identity::is_plain_url(&href) {
        return Some(href);
    }
    let url = base.join(&href).ok()?;
    (matches!(url.scheme(), "http" | "https") && url.as_str().len() <= MAX_LINK_BYTES)
        .then(|| url.to_string())
}

/// A title as plain text. An Atom title declared `type="text"` *is* plain text: "the <blink> tag" keeps its
/// brackets and "&lt;" stays those four characters. Every other title (RSS titles have no type and in practice
/// hold HTML) has its tags stripped and its entities decoded.
fn title_text(t: &Text, atom: bool) -> String {
    if atom && is_plain(t.content_type.as_str()) {
        let words: Vec<&str> = t.content.split_whitespace().collect();
        drop_non_xml_chars(&words.join(" ")).into_owned()
    } else {
        plain_text(&t.content)
    }
}

fn is_plain(media_type: &str) -> bool {
    media_type
        .trim()
        .to_ascii_lowercase()
        .starts_with("text/plain")
}

/// A summary as HTML: HTML stays as the outlet wrote it, plain text (Atom `type="text"`, JSON Feed `summary`)
/// is escaped so that downstream can treat every summary as HTML.
fn text_as_html(t: &Text) -> Option<String> {
    let body = drop_non_xml_chars(t.content.trim());
    if body.is_empty() {
        None
    } else if is_plain(t.content_type.as_str()) {
        Some(escape_markup(&body))
    } else {
        Some(body.into_owned())
    }
}

fn content_as_html(c: &Content) -> Option<String> {
    let body = drop_non_xml_chars(c.body.as_deref()?.trim());
    if body.is_empty() {
        None
    } else if is_plain(c.content_type.as_str()) {
        Some(escape_markup(&body))
    } else {
        Some(body.into_owned())
    }
}
