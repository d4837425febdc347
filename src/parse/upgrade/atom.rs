//! Atom 0.3 → Atom 1.0, and Atom 1.0 text constructs feed-rs rejects → ones it reads.
//!
//! An Atom 0.3 text construct says what it holds with two attributes: `type` (a MIME type, `text/plain` by
//! default) and `mode` (`xml` by default: inline markup; `escaped`: markup as text; `base64`). Atom 1.0 has one:
//! `type` = `text`, `html` or `xhtml`. Each construct is read to its end and written again as `text` (plain
//! characters) or `html` (an escaped HTML fragment); an empty one is left out, since feed-rs fails the whole
//! feed on an empty `<title/>`.

use base64::Engine;
use quick_xml::events::{BytesStart, BytesText, Event};

use super::{retag, with_local, Action, Captured, Dialect, Ns, Rewriter, ATOM03, ATOM10};

/// The elements that are Atom text constructs (Atom 0.3 names included).
const TEXT_CONSTRUCTS: [&str; 7] = [
    "title",
    "subtitle",
    "tagline",
    "summary",
    "content",
    "rights",
    "copyright",
];

impl Rewriter<'_> {
    pub(super) fn atom_start(
        &mut self,
        ns: Ns,
        e: BytesStart,
        empty: bool,
        root: bool,
    ) -> Option<()> {
        let old = matches!(self.dialect, Dialect::Atom03 { .. });
        let bare = matches!(self.dialect, Dialect::Atom03 { bare: true });
        let is_atom = match self.dialect {
            Dialect::Atom03 { bare } => ns == Ns::Atom03 || (bare && ns == Ns::None),
            _ => ns == Ns::Atom10 || ns == Ns::None,
        };
        let qname = e.name().0.to_owned();
        let local = e.local_name().as_ref().to_owned();
        if is_atom && TEXT_CONSTRUCTS.contains(&local.as_str()) {
            return self.text_construct(&e, &qname, &local, empty, old);
        }
        let name = if is_atom && old {
            match local.as_str() {
                "issued" => with_local(&qname, "published"),
                "modified" => with_local(&qname, "updated"),
                "url" => with_local(&qname, "uri"),
                _ => qname.clone(),
            }
        } else {
            qname.clone()
        };
        let mut tag = retag(&e, &name, |key, value| {
            // The Atom 0.3 namespace becomes the Atom 1.0 one wherever it is declared; `version` and `mode`
            // mean nothing in Atom 1.0.
            if key == "xmlns" || key.starts_with("xmlns:") {
                return Some(if value == ATOM03 { ATOM10 } else { value }.to_owned());
            }
            (!(old && root && key == "version")).then(|| value.to_owned())
        });
        if root && bare {
            tag.push_attribute(("xmlns", ATOM10));
        }
        self.apply(Action::Write(tag), empty, Vec::new())
    }

    /// Rewrites one text construct (the start tag has been read; this reads the rest).
    fn text_construct(
        &mut self,
        e: &BytesStart,
        qname: &str,
        local: &str,
        empty: bool,
        old: bool,
    ) -> Option<()> {
        let type_attr = super::attr(e, "type");
        let mode = super::attr(e, "mode");
        // `<content src="…">` points elsewhere; it has no inside to convert.
        if local == "content" && super::attr(e, "src").is_some() {
            let tag = retag(e, qname, |_, v| Some(v.to_owned()));
            return self.apply(Action::Write(tag), empty, Vec::new());
        }
        if empty {
            return Some(());
        }
        let captured = self.capture()?;
        let name = match local {
            "tagline" if old => with_local(qname, "subtitle"),
            "copyright" if old => with_local(qname, "rights"),
            _ => qname.to_owned(),
        };
        let keep_lang_and_base = |key: &str, value: &str| {
            matches!(key, "xml:lang" | "xml:base").then(|| value.to_owned())
        };
        match convert(type_attr.as_deref(), mode.as_deref(), &captured, old) {
            Conversion::Omit => Some(()),
            Conversion::Keep(kind) => {
                let mut tag = retag(e, &name, |k, v| {
                    (!matches!(k, "mode" | "type")).then(|| v.to_owned())
                });
                tag.push_attribute(("type", kind.as_str()));
                self.out.write_event(Event::Start(tag)).ok()?;
                self.out
                    .write_event(Event::Text(BytesText::from_escaped(captured.raw)))
                    .ok()?;
                self.write_end(&name)
            }
            Conversion::Emit { kind, body } => {
                let mut tag = retag(e, &name, keep_lang_and_base);
                tag.push_attribute(("type", kind));
                self.out.write_event(Event::Start(tag)).ok()?;
                self.out
                    .write_event(Event::Text(BytesText::new(&body)))
                    .ok()?;
                self.write_end(&name)
            }
        }
    }
}

#[derive(Debug, PartialEq)]
enum Conversion {
    /// Valid Atom 1.0 as it is, with this `type` (normalized: `""` → `text`).
    Keep(String),
    /// Nothing in it: leave the element out.
    Omit,
    /// Write it as `type="text"` or `type="html"` with this body (unescaped).
    Emit { kind: &'static str, body: String },
}

/// How a text construct with these `type`/`mode` attributes and this inside is written in Atom 1.0.
fn convert(
    type_attr: Option<&str>,
    mode: Option<&str>,
    inside: &Captured,
    old: bool,
) -> Conversion {
    if inside.text.trim().is_empty() && !inside.has_elements {
        return Conversion::Omit;
    }
    let media_type = type_attr
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| if old { "text/plain" } else { "text" }.to_owned());
    let html = matches!(
        media_type.as_str(),
        "html" | "xhtml" | "text/html" | "application/xhtml+xml"
    );
    let xml = media_type.ends_with("+xml") || media_type.ends_with("/xml");
    let kind = if html { "html" } else { "text" };
    let mode = mode.map(|m| m.trim().to_ascii_lowercase());
    match mode.as_deref() {
        Some("escaped") => Conversion::Emit {
            kind,
            body: inside.text.clone(),
        },
        Some("base64") => Conversion::Emit {
            kind,
            body: base64_text(&inside.text).unwrap_or_else(|| inside.text.clone()),
        },
        _ if !old && matches!(media_type.as_str(), "text" | "html" | "text/html" | "xhtml") => {
            Conversion::Keep(media_type)
        }
        // Inline markup (Atom 0.3's default mode, or XHTML given as a MIME type) is an HTML fragment.
        _ if inside.has_elements || html || xml => Conversion::Emit {
            kind: "html",
            body: inside.raw.clone(),
        },
        _ if media_type == "text" || media_type.starts_with("text/") => Conversion::Emit {
            kind: "text",
            body: inside.text.clone(),
        },
        // Any other media type is a base64-encoded document (RFC 4287 §3.1.1, §4.1.3.3); like feedparser, we
        // read what it decodes to as HTML (it is sanitized like any other HTML).
        _ => match base64_text(&inside.text) {
            Some(body) => Conversion::Emit { kind: "html", body },
            None => Conversion::Omit,
        },
    }
}

/// Base64 (whitespace allowed, padding optional) decoded to text; `None` if it is not base64 or not UTF-8.
pub(super) fn base64_text(encoded: &str) -> Option<String> {
    let compact: String = encoded.chars().filter(|c| !c.is_whitespace()).collect();
    let trimmed = compact.trim_end_matches('=');
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(trimmed)
        .ok()?;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inside(raw: &str, text: &str, has_elements: bool) -> Captured {
        Captured {
            raw: raw.to_owned(),
            text: text.to_owned(),
            has_elements,
        }
    }

    #[test]
    fn atom03_modes_become_text_or_html() {
        let escaped = inside("&lt;b&gt;قمة&lt;/b&gt;", "<b>قمة</b>", false);
        assert_eq!(
            convert(Some("text/html"), Some("escaped"), &escaped, true),
            Conversion::Emit {
                kind: "html",
                body: "<b>قمة</b>".into()
            }
        );
        let inline = inside("<b>قمة</b>", "قمة", true);
        assert_eq!(
            convert(Some("application/xhtml+xml"), None, &inline, true),
            Conversion::Emit {
                kind: "html",
                body: "<b>قمة</b>".into()
            }
        );
        let plain = inside("قمة &amp; باكو", "قمة & باكو", false);
        assert_eq!(
            convert(None, None, &plain, true),
            Conversion::Emit {
                kind: "text",
                body: "قمة & باكو".into()
            }
        );
        let b64 = inside("2YLZhdip", "2YLZhdip", false);
        assert_eq!(
            convert(Some("text/plain"), Some("base64"), &b64, true),
            Conversion::Emit {
                kind: "text",
                body: "قمة".into()
            }
        );
        assert_eq!(
            convert(None, None, &inside(" ", " ", false), true),
            Conversion::Omit
        );
    }

    #[test]
    fn atom10_keeps_what_feed_rs_reads_and_decodes_other_media_types() {
        let html = inside("&lt;b&gt;x&lt;/b&gt;", "<b>x</b>", false);
        assert_eq!(
            convert(Some("html"), None, &html, false),
            Conversion::Keep("html".into())
        );
        assert_eq!(
            convert(Some(""), None, &html, false),
            Conversion::Keep("text".into())
        );
        let b64 = inside(
            "RXhhbXBsZSA8Yj5BdG9tPC9iPg==",
            "RXhhbXBsZSA8Yj5BdG9tPC9iPg==",
            false,
        );
        assert_eq!(
            convert(Some("application/octet-stream"), None, &b64, false),
            Conversion::Emit {
                kind: "html",
                body: "Example <b>Atom</b>".into()
            }
        );
        assert_eq!(
            convert(Some("image/png"), None, &inside("%%%", "%%%", false), false),
            Conversion::Omit
        );
        assert_eq!(base64_text("2YLZ\n hdip"), Some("قمة".into()));
        assert_eq!(base64_text("not base64!"), None);
    }
}
