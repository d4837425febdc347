//! Each item's pictures, sound and video, read from the document itself.
//!
//! feed-rs loses too much of it to rely on: it drops the `<enclosure>` of an item that also has `media:content`,
//! drops a `media:thumbnail` (and `media:description`) that is not beside a `media:content`, keeps
//! `itunes:image` nowhere, and reads no JSON Feed `image`. So one more streaming quick-xml pass over the text
//! feed-rs parsed collects, per `<item>`/`<entry>` and in document order: `<enclosure>`, `media:content`,
//! `media:thumbnail` (also inside `media:group`), `itunes:image` and Atom `link rel="enclosure"`, each URL
//! resolved against the element's `xml:base` (else the document's base). JSON Feeds are read with serde_json.
//! Only http(s) URLs survive: a `data:` or `javascript:` URL is dropped here. Items without any picture get the
//! first `<img>` of their content ([`first_img`]).

use quick_xml::events::{BytesStart, Event};
use quick_xml::name::ResolveResult;
use quick_xml::NsReader;
use url::Url;

use super::upgrade::attr;
use crate::model::Media;

/// No item needs more; a hostile feed could list thousands.
const MAX_MEDIA_PER_ITEM: usize = 16;

const MEDIA_NS: [&str; 2] = [
    "http://search.yahoo.com/mrss/",
    "http://search.yahoo.com/mrss",
];
const ITUNES_NS: &str = "http://www.itunes.com/dtds/podcast-1.0.dtd";
const ATOM_NS: &str = "http://www.w3.org/2005/Atom";

/// One item's media as found in the document, with its id (`guid`/`id` text) for matching it to feed-rs's entry.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct ScannedItem {
    pub id: Option<String>,
    pub media: Vec<Media>,
}

#[derive(Clone, Copy, PartialEq)]
enum Ns {
    None,
    Media,
    Itunes,
    Atom,
    Other,
}

fn classify(r: &ResolveResult) -> Ns {
    match r {
        ResolveResult::Bound(ns) if MEDIA_NS.contains(&ns.0) => Ns::Media,
        ResolveResult::Bound(ns) if ns.0 == ITUNES_NS => Ns::Itunes,
        ResolveResult::Bound(ns) if ns.0 == ATOM_NS => Ns::Atom,
        ResolveResult::Unbound => Ns::None,
        _ => Ns::Other,
    }
}

/// The media of every item of an XML feed, in document order. Stops quietly at a reader error (feed-rs, which
/// read the same text, decides what the document is). An empty list when the text cannot name any media (see
/// [`may_name_media`]): every item then has none.
pub(crate) fn scan_xml(text: &str, base: &Url) -> Vec<ScannedItem> {
    if !may_name_media(text) {
        return Vec::new();
    }
    let mut reader = NsReader::from_str(text);
    let mut items = Vec::new();
    // The `xml:base` of the open elements that have one (it applies to the element and what is inside it), and
    // for each open element whether it has one: most have none, and share their parent's base without a copy.
    let mut bases: Vec<Url> = Vec::new();
    let mut has_base: Vec<bool> = Vec::new();
    // Depth (in `has_base`) of the open item, if any.
    let mut item_depth: Option<usize> = None;
    let mut current = ScannedItem::default();
    while let Ok((ns, event)) = reader.read_resolved_event() {
        let ns = classify(&ns);
        let (e, empty) = match event {
            Event::Start(e) => (e, false),
            Event::Empty(e) => (e, true),
            Event::End(_) => {
                if has_base.pop() == Some(true) {
                    bases.pop();
                }
                if item_depth == Some(has_base.len()) {
                    items.push(std::mem::take(&mut current));
                    item_depth = None;
                }
                continue;
            }
            Event::Eof => break,
            _ => continue,
        };
        let parent = bases.last().unwrap_or(base);
        let own_base = attr(&e, "xml:base").and_then(|b| parent.join(&b).ok());
        let here = own_base.as_ref().unwrap_or(parent);
        let local_name = e.local_name();
        let local: &str = local_name.as_ref();
        if item_depth.is_none() && matches!(local, "item" | "entry") {
            if !empty {
                item_depth = Some(has_base.len());
                current = ScannedItem::default();
            } else {
                items.push(ScannedItem::default());
            }
        } else if let Some(depth) = item_depth {
            let direct = has_base.len() == depth + 1;
            if direct && !empty && matches!(local, "guid" | "id") && current.id.is_none() {
                let name = e.name().0.to_owned();
                let id = reader
                    .read_text(quick_xml::name::QName(&name))
                    .ok()
                    .map(|t| t.xml10_content().trim().to_owned());
                current.id = id.filter(|i| !i.is_empty());
                continue;
            }
            if let Some(media) = media_of(ns, local, &e, here) {
                add(&mut current.media, media);
            }
        }
        if !empty {
            has_base.push(own_base.is_some());
            bases.extend(own_base);
        }
    }
    items
}

/// Whether the text can hold a media element at all, found with a few plain searches instead of reading the
/// XML (many news feeds carry no media, and the read costs as much as a fifth of parsing): an `enclosure`
/// element or Atom link `rel` is spelled out in the text, the MRSS and iTunes namespaces are declared by their
/// URIs, and an element's name cannot be escaped. Only a character reference (`&#…;`) could spell one of those
/// words otherwise, so a text with any makes the scan run.
fn may_name_media(text: &str) -> bool {
    text.contains("enclosure")
        || text.contains("search.yahoo.com/mrss")
        || text.contains(ITUNES_NS)
        || text.contains("&#")
}

/// The media an element describes, if it is one of the media elements.
fn media_of(ns: Ns, local: &str, e: &BytesStart, base: &Url) -> Option<Media> {
    let number = |name: &str| attr(e, name).and_then(|v| v.trim().parse::<u64>().ok());
    let dimension = |name: &str| {
        number(name)
            .and_then(|v| u32::try_from(v).ok())
            .filter(|v| *v > 0)
    };
    let mime = || {
        attr(e, "type")
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
    };
    let media = match (ns, local) {
        (Ns::None | Ns::Other, "enclosure") => Media {
            url: http_url(&attr(e, "url")?, base)?,
            mime: mime(),
            size: number("length").filter(|n| *n > 0),
            ..Media::default()
        },
        (Ns::Atom, "link") if attr(e, "rel").as_deref() == Some("enclosure") => Media {
            url: http_url(&attr(e, "href")?, base)?,
            mime: mime(),
            size: number("length").filter(|n| *n > 0),
            ..Media::default()
        },
        (Ns::Media, "content") => Media {
            url: http_url(&attr(e, "url")?, base)?,
            mime: mime(),
            size: number("fileSize").filter(|n| *n > 0),
            width: dimension("width"),
            height: dimension("height"),
            picture: attr(e, "medium").as_deref() == Some("image"),
        },
        (Ns::Media, "thumbnail") => Media {
            url: http_url(&attr(e, "url")?, base)?,
            width: dimension("width"),
            height: dimension("height"),
            picture: true,
            ..Media::default()
        },
        (Ns::Itunes, "image") => Media {
            url: http_url(&attr(e, "href")?, base)?,
            picture: true,
            ..Media::default()
        },
        _ => return None,
    };
    Some(media)
}

/// Adds a media entry unless its URL is already there (then the known one gains what it lacked).
fn add(list: &mut Vec<Media>, media: Media) {
    if let Some(known) = list.iter_mut().find(|m| m.url == media.url) {
        known.mime = known.mime.take().or(media.mime);
        known.size = known.size.or(media.size);
        known.width = known.width.or(media.width);
        known.height = known.height.or(media.height);
        known.picture |= media.picture;
    } else if list.len() < MAX_MEDIA_PER_ITEM {
        list.push(media);
    }
}

/// `href` resolved against `base`, if the result is an http(s) URL (never `data:`, `javascript:`…), without any
/// `user:password@`.
pub(crate) fn http_url(href: &str, base: &Url) -> Option<String> {
    let href = href.trim();
    if href.is_empty() || href.len() > 4096 {
        return None;
    }
    let mut url = base.join(href).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    // A relative URL inherits the feed URL's user:password; credentials are never stored or published.
    let _ = url.set_username("");
    let _ = url.set_password(None);
    Some(url.to_string())
}

/// The `image` and `attachments` of every item of a JSON Feed, in order.
pub(crate) fn scan_json(text: &str, base: &Url) -> Vec<ScannedItem> {
    let Ok(doc) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    let Some(items) = doc.get("items").and_then(|i| i.as_array()) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|item| {
            let mut media = Vec::new();
            let text_of = |v: &serde_json::Value, key: &str| {
                v.get(key).and_then(|s| s.as_str()).map(str::to_owned)
            };
            if let Some(url) = text_of(item, "image").and_then(|u| http_url(&u, base)) {
                add(
                    &mut media,
                    Media {
                        url,
                        picture: true,
                        ..Media::default()
                    },
                );
            }
            for a in item
                .get("attachments")
                .and_then(|a| a.as_array())
                .into_iter()
                .flatten()
            {
                if let Some(url) = text_of(a, "url").and_then(|u| http_url(&u, base)) {
                    let media_entry = Media {
                        url,
                        mime: text_of(a, "mime_type"),
                        size: a
                            .get("size_in_bytes")
                            .and_then(|s| s.as_u64())
                            .filter(|n| *n > 0),
                        ..Media::default()
                    };
                    add(&mut media, media_entry);
                }
            }
            ScannedItem {
                id: item.get("id").and_then(|i| match i {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                }),
                media,
            }
        })
        .collect()
}

/// The first `<img>` of an HTML fragment, as a picture (its `width`/`height` attributes kept when numeric).
pub(crate) fn first_img(html: &str, base: &Url) -> Option<Media> {
    if !html.contains("<img") && !html.contains("<IMG") {
        return None;
    }
    let fragment = scraper::Html::parse_fragment(html);
    let selector = scraper::Selector::parse("img").ok()?;
    fragment.select(&selector).find_map(|img| {
        let el = img.value();
        let src = el.attr("src").or_else(|| el.attr("data-src"))?;
        let dimension = |name| {
            el.attr(name)
                .and_then(|v| v.trim().parse::<u32>().ok())
                .filter(|v| *v > 0)
        };
        Some(Media {
            url: http_url(src, base)?,
            width: dimension("width"),
            height: dimension("height"),
            picture: true,
            ..Media::default()
        })
    })
}

/// Pairs scanned media with feed-rs's entries: by position when both list the same number of items (the usual
/// case: both read the same text), else by id.
pub(crate) fn for_entries(scanned: Vec<ScannedItem>, ids: &[&str]) -> Vec<Vec<Media>> {
    if scanned.len() == ids.len() {
        return scanned.into_iter().map(|s| s.media).collect();
    }
    let mut scanned = scanned;
    ids.iter()
        .map(|id| {
            scanned
                .iter_mut()
                .find(|s| !id.is_empty() && s.id.as_deref() == Some(*id))
                .map(|s| std::mem::take(&mut s.media))
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests;
