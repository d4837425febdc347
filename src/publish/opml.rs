//! OPML 2.0 list of the outlets qafila follows (`/sources.opml`), so a reader can subscribe to them directly.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::{clean_text, rfc822, OpmlSource};
use crate::text::escape_markup;

/// Renders the sources as OPML 2.0 (UTF-8, two-space indent). `built_at` becomes `dateCreated`.
pub fn render_opml(title: &str, sources: &[OpmlSource], built_at: DateTime<Utc>) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<opml version=\"2.0\">\n  <head>\n",
    );
    let _ = writeln!(
        x,
        "    <title>{}</title>",
        escape_markup(&clean_text(title))
    );
    let _ = writeln!(x, "    <dateCreated>{}</dateCreated>", rfc822(built_at));
    x.push_str("  </head>\n  <body>\n");
    for s in sources {
        let name = escape_markup(&clean_text(&s.name));
        let _ = write!(
            x,
            "    <outline type=\"rss\" text=\"{name}\" title=\"{name}\" xmlUrl=\"{}\"",
            escape_markup(&clean_text(&s.url))
        );
        if let Some(site) = s.site.as_deref().map(clean_text).filter(|u| !u.is_empty()) {
            let _ = write!(x, " htmlUrl=\"{}\"", escape_markup(&site));
        }
        x.push_str("/>\n");
    }
    x.push_str("  </body>\n</opml>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::publish::tests::built_at;

    #[test]
    fn outlines_are_escaped() {
        let src = [
            OpmlSource {
                id: "a".into(),
                name: "قناة \"أ\" & <ب>".into(),
                url: "https://a.example/rss?x=1&y=2".into(),
                site: Some("https://a.example/".into()),
            },
            OpmlSource {
                id: "b".into(),
                name: "ب\u{1}".into(),
                url: "https://b.example/rss".into(),
                site: None,
            },
        ];
        let x = render_opml("مصادر", &src, built_at());
        assert!(x.contains("<opml version=\"2.0\">"));
        assert!(x.contains("<dateCreated>Fri, 27 Nov 2026 14:05:00 +0000</dateCreated>"));
        assert!(x.contains(
            "<outline type=\"rss\" text=\"قناة &quot;أ&quot; &amp; &lt;ب&gt;\" title=\"قناة &quot;أ&quot; &amp; &lt;ب&gt;\" \
             xmlUrl=\"https://a.example/rss?x=1&amp;y=2\" htmlUrl=\"https://a.example/\"/>"
        ));
        assert!(x.contains(
            "<outline type=\"rss\" text=\"ب\" title=\"ب\" xmlUrl=\"https://b.example/rss\"/>"
        ));
    }
}
