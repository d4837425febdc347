//! RSS 2.0, written with the `rss` crate.
//!
//! The crate escapes text once and wraps descriptions in CDATA (splitting any `]]>`), but writes XML-forbidden
//! characters raw, so every string goes through [`clean_text`] or the sanitizer first.
//! Dates: `pubDate` is the lead report's original date, never the time the story last grew, so that a story
//! another outlet joins later does not jump back to the top of a reader's list as if it were new.

use chrono::{DateTime, Utc};
use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::{Category, Channel, Guid, Item, Source};

use super::{clean_text, report_title, rfc822, safe_link, story_html, FeedMeta};
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
        last_build_date: Some(rfc822(built_at)),
        generator: Some(GENERATOR.to_string()),
        items: stories.iter().map(item).collect(),
        ..Channel::default()
    };
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

/// One story as an RSS `<item>`.
fn item(s: &StoryView) -> Item {
    let lead = &s.lead;
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
