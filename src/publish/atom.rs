//! Atom 1.0 (RFC 4287), written by hand.
//!
//! The document is small and fixed in shape, so a few `format!`s with one escaping function
//! ([`crate::text::escape_markup`]) are easier to audit than a writer crate: every interpolated value goes through
//! it, which also drops XML-forbidden characters. Entry content is the same sanitized HTML as RSS, carried as escaped text (`type="html"`).

use chrono::{DateTime, Utc};
use std::fmt::Write as _;

use super::{
    clean_text, entry_id, report_title, rfc3339, safe_link, story_author, story_html, story_media,
    FeedMeta,
};
use crate::model::StoryView;
use crate::text::escape_markup;

/// The date part of the feed's `tag:` id. Fixed forever: changing it would change the feed's id and make readers
/// treat it as a new feed.
const FEED_ID_YEAR: &str = "2026";

/// Renders the merged feed as Atom 1.0 (UTF-8, two-space indent).
pub fn render_atom(meta: &FeedMeta, stories: &[StoryView], built_at: DateTime<Utc>) -> String {
    let mut x = String::with_capacity(1024 + stories.len() * 1024);
    x.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    let lang = clean_text(&meta.language);
    let _ = writeln!(
        x,
        "<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:media=\"{MEDIA_NS}\" xml:lang=\"{}\">",
        escape_markup(&lang)
    );
    let _ = writeln!(x, "  <id>{}</id>", escape_markup(&feed_id(&meta.self_url)));
    let _ = writeln!(
        x,
        "  <title type=\"text\">{}</title>",
        escape_markup(&clean_text(&meta.title))
    );
    let desc = clean_text(&meta.description);
    if !desc.is_empty() {
        let _ = writeln!(
            x,
            "  <subtitle type=\"text\">{}</subtitle>",
            escape_markup(&desc)
        );
    }
    let _ = writeln!(x, "  <updated>{}</updated>", rfc3339(built_at));
    let _ = writeln!(
        x,
        "  <link rel=\"self\" type=\"application/atom+xml\" href=\"{}\"/>",
        escape_markup(&clean_text(&meta.self_url))
    );
    let _ = writeln!(
        x,
        "  <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
        escape_markup(&clean_text(&meta.link))
    );
    if let Some(hub) = meta.websub_hub.as_deref() {
        let _ = writeln!(
            x,
            "  <link rel=\"hub\" href=\"{}\"/>",
            escape_markup(&clean_text(hub))
        );
    }
    x.push_str("  <generator>qafila</generator>\n");
    for s in stories {
        entry(&mut x, s);
    }
    x.push_str("</feed>\n");
    x
}

/// The Media RSS namespace, declared on the feed for the pictures' `media:content` and `media:thumbnail`.
const MEDIA_NS: &str = "http://search.yahoo.com/mrss/";

/// `media:content medium="image"` (with what is known of it) and `media:thumbnail`, as the RSS feed has them.
fn media_rss(x: &mut String, p: &super::PublishedMedia) {
    let url = escape_markup(&p.url);
    let size = |x: &mut String| {
        if let (Some(w), Some(h)) = (p.width, p.height) {
            let _ = write!(x, " width=\"{w}\" height=\"{h}\"");
        }
    };
    let _ = write!(x, "    <media:content url=\"{url}\" medium=\"image\"");
    if let Some(mime) = &p.mime {
        let _ = write!(x, " type=\"{}\"", escape_markup(mime));
    }
    if let Some(bytes) = p.size {
        let _ = write!(x, " fileSize=\"{bytes}\"");
    }
    size(x);
    x.push_str("/>\n");
    let _ = write!(x, "    <media:thumbnail url=\"{url}\"");
    size(x);
    x.push_str("/>\n");
}

/// Appends one story as an `<entry>`.
fn entry(x: &mut String, s: &StoryView) {
    let lead = &s.lead;
    let link = lead.link.as_deref().and_then(safe_link);
    let published = rfc3339(lead.published);
    x.push_str("  <entry>\n");
    let _ = writeln!(x, "    <id>{}</id>", escape_markup(&entry_id(&s.guid)));
    let _ = writeln!(
        x,
        "    <title type=\"text\">{}</title>",
        escape_markup(&report_title(lead))
    );
    if let Some(u) = &link {
        let _ = writeln!(
            x,
            "    <link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>",
            escape_markup(u.as_str())
        );
    }
    // The picture as Media RSS, typed or not (a first `<img>` often has neither type nor extension), and as an
    // enclosure only when its type is known: readers decide by an enclosure's type what to do with it, and an
    // untyped one is a download of unknown kind. Sound and video always have a type.
    let media = story_media(s);
    if let Some(p) = &media.picture {
        media_rss(x, p);
    }
    let typed_picture = media.picture.iter().filter(|p| p.mime.is_some());
    for m in typed_picture.chain(&media.audio_video) {
        let _ = write!(
            x,
            "    <link rel=\"enclosure\" href=\"{}\"",
            escape_markup(&m.url)
        );
        if let Some(mime) = &m.mime {
            let _ = write!(x, " type=\"{}\"", escape_markup(mime));
        }
        if let Some(size) = m.size {
            let _ = write!(x, " length=\"{size}\"");
        }
        x.push_str("/>\n");
    }
    // The story's original date for both: a story that another outlet joins later must not look new.
    let _ = writeln!(x, "    <published>{published}</published>");
    let _ = writeln!(x, "    <updated>{published}</updated>");
    let _ = writeln!(
        x,
        "    <author><name>{}</name></author>",
        escape_markup(&story_author(s))
    );
    for e in &s.entities {
        let _ = writeln!(
            x,
            "    <category term=\"{}\" label=\"{}\"/>",
            escape_markup(&clean_text(&e.id)),
            escape_markup(&clean_text(&e.name))
        );
    }
    let body = story_html(s);
    if body.is_empty() {
        // Readers (and the W3C validator) expect some text per entry; the title is all we have. Atom also requires
        // content when there is no alternate link; an empty one satisfies it.
        let _ = writeln!(
            x,
            "    <summary type=\"text\">{}</summary>",
            escape_markup(&report_title(lead))
        );
    }
    if !body.is_empty() || link.is_none() {
        let _ = writeln!(
            x,
            "    <content type=\"html\">{}</content>",
            escape_markup(&body)
        );
    }
    x.push_str("  </entry>\n");
}

/// A stable `tag:` URI for the feed, built from its public URL (`tag:qafila.example,2026:/feed.atom`), or a
/// `urn:qafila:` one when the URL has no plain host or has characters a tag URI may not hold.
fn feed_id(self_url: &str) -> String {
    let fallback = || entry_id(&format!("feed:{}", clean_text(self_url)));
    let Some(u) = safe_link(self_url) else {
        return fallback();
    };
    let host = u.host_str().unwrap_or("");
    let mut specific = u.path().to_string();
    if let Some(q) = u.query() {
        specific.push('?');
        specific.push_str(q);
    }
    let host_ok = !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-".contains(c));
    let spec_ok = specific
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || ";/?:@&=+$.-_!~*'()%,".contains(c));
    if host_ok && spec_ok {
        format!("tag:{host},{FEED_ID_YEAR}:{specific}")
    } else {
        fallback()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::tests::{built_at, meta, stories};

    #[test]
    fn feed_id_is_a_tag_uri() {
        assert_eq!(
            feed_id("https://Qafila.example/feed.atom?x=1"),
            "tag:qafila.example,2026:/feed.atom?x=1"
        );
        assert_eq!(feed_id("not a url"), "urn:qafila:feed:not%20a%20url");
        assert_eq!(
            feed_id("https://[::1]/f"),
            "urn:qafila:feed:https:%2F%2F%5B::1%5D%2Ff"
        );
    }

    #[test]
    fn entry_has_required_elements() {
        let x = render_atom(&meta(), &stories(), built_at());
        assert!(x.starts_with("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:media=\"http://search.yahoo.com/mrss/\" xml:lang=\"ar\">"));
        assert!(x.contains("<id>urn:qafila:qafila:story:0001</id>"));
        assert!(x.contains("<title type=\"text\">أستانا &amp; بيشكيك توقعان اتفاق المياه</title>"));
        assert!(x.contains("<published>2026-11-27T11:00:00Z</published>"));
        assert!(x.contains("<updated>2026-11-27T11:00:00Z</updated>"));
        assert!(x.contains("<author><name>سارة</name></author>"));
        assert!(x.contains("<category term=\"kz\" label=\"كازاخستان\"/>"));
        assert!(x.contains("<content type=\"html\">&lt;div dir=&quot;rtl&quot;&gt;"));
        assert!(x.contains("<link rel=\"hub\" href=\"https://hub.example/\"/>"));
        assert!(
            x.contains("<title type=\"text\">Tbilisi talks</title>"),
            "control char stripped"
        );
    }

    #[test]
    fn a_picture_is_an_enclosure_only_with_a_known_type() {
        let x = render_atom(&meta(), &stories(), built_at());
        assert!(x.contains("<link rel=\"enclosure\" href=\"https://wafa.example/img/water.jpg\" type=\"image/jpeg\"/>"), "{x}");
        assert!(x.contains("<media:content url=\"https://wafa.example/img/water.jpg\" medium=\"image\" type=\"image/jpeg\" width=\"800\" height=\"450\"/>"));
        assert!(x.contains("<media:thumbnail url=\"https://wafa.example/img/water.jpg\" width=\"800\" height=\"450\"/>"));

        // A first <img> with neither a type nor an image extension: a picture, never an untyped enclosure.
        let mut s = stories();
        let p = s[0].picture.as_mut().unwrap();
        p.url = "https://wafa.example/image?id=7".into();
        (p.mime, p.width, p.height, p.picture) = (None, None, None, true);
        let x = render_atom(&meta(), &s[..1], built_at());
        assert!(!x.contains("rel=\"enclosure\""), "{x}");
        assert!(
            x.contains("<media:content url=\"https://wafa.example/image?id=7\" medium=\"image\"/>")
        );
        assert!(x.contains("<media:thumbnail url=\"https://wafa.example/image?id=7\"/>"));
    }

    #[test]
    fn entry_without_link_or_body_still_has_content() {
        let mut s = stories();
        s[1].lead.link = None;
        let x = render_atom(&meta(), &s[1..], built_at());
        assert!(x.contains("<content type=\"html\"></content>"), "{x}");
    }
}
