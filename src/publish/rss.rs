//! RSS 2.0, written with the `rss` crate.
//!
//! The crate escapes text once and wraps descriptions in CDATA (splitting any `]]>`), but writes XML-forbidden
//! characters raw, so every string goes through [`clean_text`] or the sanitizer first.
//! Dates: `pubDate` is the lead report's original date, never the time the story last grew, so that a story
//! another outlet joins later does not jump back to the top of a reader's list as if it were new.

use chrono::{DateTime, Utc};
use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::extension::{Extension, ExtensionMap};
use rss::{Category, Channel, Enclosure, Guid, Item, Source};
use std::collections::BTreeMap;

use super::{
    clean_text, report_title, rfc822, safe_link, story_html, story_media, FeedMeta, PublishedMedia,
};
use crate::model::StoryView;

/// Names the software, as RSS `<generator>`.
const GENERATOR: &str = "qafila";

/// Renders the merged feed as RSS 2.0 (UTF-8, two-space indent).
pub fn render_rss(meta: &FeedMeta, stories: &[StoryView], built_at: DateTime<Utc>) -> String {
    let mut channel = Channel {
        title: clean_text(&meta.title),
        link: clean_text(&meta.link),
        description: clean_text(&meta.description),
        language: Some(clean_text(&meta.language)),
        // `built_at` is the newest report's time; an empty feed has none, and "1970" would be a lie.
        last_build_date: (!stories.is_empty()).then(|| rfc822(built_at)),
        generator: Some(GENERATOR.to_string()),
        items: stories.iter().map(item).collect(),
        ..Channel::default()
    };
    // Declared once on the channel (even when no item has a picture: readers do not mind, and the document's
    // shape does not change with its content).
    channel.namespaces.insert("media".into(), MEDIA_NS.into());
    let mut links = vec![Link {
        href: clean_text(&meta.self_url),
        rel: "self".into(),
        mime_type: Some("application/rss+xml".into()),
        ..Link::default()
    }];
    if let Some(hub) = meta.websub_hub.as_deref() {
        links.push(Link {
            href: clean_text(hub),
            rel: "hub".into(),
            ..Link::default()
        });
    }
    channel.set_atom_ext(AtomExtension { links });

    // Writing into a Vec cannot fail on I/O, and every string was cleaned, so an error here is a bug in the crate;
    // an empty feed would hide it, so fall back to the unindented writer which shares no state with the first.
    let bytes = channel
        .pretty_write_to(Vec::new(), b' ', 2)
        .unwrap_or_else(|_| channel.to_string().into_bytes());
    let mut out = String::from_utf8(bytes).unwrap_or_default();
    out.push('\n');
    out
}

const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";

/// The one `<enclosure>` RSS allows: a podcast item's sound or video, else the story's picture when its type is
/// known (`type` and `length` are required; an unknown size is written as 0, as the RSS profile allows).
fn enclosure(media: &super::StoryMedia) -> Option<Enclosure> {
    let chosen = media
        .audio_video
        .first()
        .or(media.picture.as_ref().filter(|p| p.mime.is_some()))?;
    Some(Enclosure {
        url: chosen.url.clone(),
        length: chosen.size.unwrap_or(0).to_string(),
        mime_type: chosen.mime.clone().unwrap_or_default(),
    })
}

/// `media:content` (with `medium="image"`) and `media:thumbnail` for the story's picture.
fn media_extensions(picture: &PublishedMedia) -> ExtensionMap {
    let mut attrs = BTreeMap::new();
    attrs.insert("url".to_string(), picture.url.clone());
    let mut thumb_attrs = attrs.clone();
    attrs.insert("medium".to_string(), "image".to_string());
    if let Some(mime) = &picture.mime {
        attrs.insert("type".to_string(), mime.clone());
    }
    if let Some(size) = picture.size {
        attrs.insert("fileSize".to_string(), size.to_string());
    }
    for (name, value) in [("width", picture.width), ("height", picture.height)] {
        if let Some(v) = value {
            attrs.insert(name.to_string(), v.to_string());
            thumb_attrs.insert(name.to_string(), v.to_string());
        }
    }
    let element = |name: &str, attrs| Extension {
        name: name.to_string(),
        attrs,
        ..Extension::default()
    };
    let mut by_name = BTreeMap::new();
    by_name.insert("content".to_string(), vec![element("media:content", attrs)]);
    by_name.insert(
        "thumbnail".to_string(),
        vec![element("media:thumbnail", thumb_attrs)],
    );
    let mut map = ExtensionMap::new();
    map.insert("media".to_string(), by_name);
    map
}

/// One story as an RSS `<item>`.
fn item(s: &StoryView) -> Item {
    let lead = &s.lead;
    let media = story_media(s);
    let body = story_html(s);
    let author = lead
        .author
        .as_deref()
        .map(clean_text)
        .filter(|a| !a.is_empty());
    Item {
        title: Some(report_title(lead)),
        link: lead.link.as_deref().and_then(safe_link).map(String::from),
        description: (!body.is_empty()).then_some(body),
        categories: s
            .entities
            .iter()
            .map(|e| Category {
                name: clean_text(&e.name),
                domain: None,
            })
            .collect(),
        guid: Some(Guid {
            value: clean_text(&s.guid),
            permalink: false,
        }),
        pub_date: Some(rfc822(lead.published)),
        source: Some(Source {
            url: clean_text(&lead.source_url),
            title: Some(clean_text(&lead.source_name)),
        }),
        // RSS <author> must be an e-mail address; outlets give names, which dc:creator is for.
        dublin_core_ext: author.map(|a| DublinCoreExtension {
            creators: vec![a],
            ..Default::default()
        }),
        enclosure: enclosure(&media),
        extensions: media
            .picture
            .as_ref()
            .map(media_extensions)
            .unwrap_or_default(),
        ..Item::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::tests::{meta, stories};

    fn parsed() -> Channel {
        Channel::read_from(
            render_rss(&meta(), &stories(), crate::publish::tests::built_at()).as_bytes(),
        )
        .unwrap()
    }

    #[test]
    fn channel_fields() {
        let ch = parsed();
        assert_eq!(ch.title(), "قافلة: آسيا الوسطى والقوقاز");
        assert_eq!(ch.language(), Some("ar"));
        assert_eq!(ch.generator(), Some("qafila"));
        assert_eq!(
            ch.last_build_date(),
            Some("Fri, 27 Nov 2026 14:05:00 +0000")
        );
        let links = ch.atom_ext().unwrap().links();
        assert_eq!(links[0].rel(), "self");
        assert_eq!(links[0].mime_type(), Some("application/rss+xml"));
        assert_eq!(links[1].rel(), "hub");
    }

    #[test]
    fn item_fields() {
        let ch = parsed();
        let it = &ch.items()[0];
        assert_eq!(it.title(), Some("أستانا & بيشكيك توقعان اتفاق المياه"));
        assert_eq!(it.guid().unwrap().value(), "qafila:story:0001");
        assert!(!it.guid().unwrap().is_permalink());
        assert_eq!(it.pub_date(), Some("Fri, 27 Nov 2026 11:00:00 +0000"));
        assert_eq!(it.source().unwrap().title(), Some("وكالة الأنباء"));
        assert_eq!(it.categories()[0].name(), "كازاخستان");
        assert_eq!(it.dublin_core_ext().unwrap().creators(), ["سارة"]);
        let d = it.description().unwrap();
        assert!(
            d.starts_with("<div dir=\"rtl\">") && d.contains("أيضاً في:"),
            "{d}"
        );
    }

    #[test]
    fn no_forbidden_chars_and_single_escaping() {
        let xml = render_rss(&meta(), &stories(), crate::publish::tests::built_at());
        assert!(xml.chars().all(crate::text::is_xml_char));
        assert!(xml.contains("أستانا &amp; بيشكيك") && !xml.contains("&amp;amp;"));
    }

    #[test]
    fn empty_feed_has_no_1970_build_date() {
        let xml = render_rss(&meta(), &[], crate::publish::tests::built_at());
        assert!(!xml.contains("lastBuildDate"), "{xml}");
    }

    #[test]
    fn picture_is_enclosure_and_media_content() {
        let ch = parsed();
        let it = &ch.items()[0];
        let enc = it.enclosure().unwrap();
        assert_eq!(enc.url(), "https://wafa.example/img/water.jpg");
        assert_eq!(enc.mime_type(), "image/jpeg");
        let content = &it.extensions()["media"]["content"][0];
        assert_eq!(content.attrs()["medium"], "image");
        assert_eq!(content.attrs()["width"], "800");
        assert!(it.extensions()["media"].contains_key("thumbnail"));
        assert_eq!(ch.namespaces()["media"], MEDIA_NS);
        // No picture, no media elements.
        assert!(ch.items()[1].enclosure().is_none());
        assert!(ch.items()[1].extensions().is_empty());
    }

    #[test]
    fn an_untyped_picture_is_media_content_but_no_enclosure() {
        let mut s = stories();
        let p = s[0].picture.as_mut().unwrap();
        p.url = "https://wafa.example/image?id=7".into();
        (p.mime, p.width, p.height, p.picture) = (None, None, None, true);
        let xml = render_rss(&meta(), &s[..1], crate::publish::tests::built_at());
        let ch = Channel::read_from(xml.as_bytes()).unwrap();
        let it = &ch.items()[0];
        assert!(it.enclosure().is_none(), "{xml}");
        let content = &it.extensions()["media"]["content"][0];
        assert_eq!(content.attrs()["medium"], "image");
        assert!(!content.attrs().contains_key("type"));
        assert!(it.extensions()["media"].contains_key("thumbnail"));
    }

    #[test]
    fn unsafe_media_url_is_not_published() {
        let mut s = stories();
        s[0].picture.as_mut().unwrap().url = "javascript:alert(1)".into();
        let xml = render_rss(&meta(), &s[..1], crate::publish::tests::built_at());
        assert!(
            !xml.contains("javascript") && !xml.contains("<enclosure"),
            "{xml}"
        );
    }

    #[test]
    fn unsafe_link_is_dropped() {
        let mut s = stories();
        s[0].lead.link = Some("javascript:alert(1)".into());
        let xml = render_rss(&meta(), &s[..1], crate::publish::tests::built_at());
        assert!(!xml.contains("javascript"), "{xml}");
    }

    proptest::proptest! {
        /// Whatever an outlet sends, the feed stays well-formed and the title survives (cleaned) a round trip.
        #[test]
        fn any_text_round_trips(title in ".*", desc in ".*", name in ".*", guid in ".*") {
            let mut s = stories();
            s[0].lead.title = title.clone();
            s[0].lead.description = Some(crate::publish::SafeHtml::sanitize(&desc, None));
            s[0].lead.source_name = name;
            s[0].guid = guid;
            let xml = render_rss(&meta(), &s, crate::publish::tests::built_at());
            let ch = Channel::read_from(xml.as_bytes()).unwrap();
            let want = crate::publish::report_title(&s[0].lead);
            proptest::prop_assert_eq!(ch.items()[0].title(), Some(want.as_str()));
        }
    }
}
