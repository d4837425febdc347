//! Finding a feed's character encoding and turning the body into UTF-8 for feed-rs.
//!
//! The order is: byte-order mark → the XML declaration's `encoding` → the HTTP `charset` → UTF-8 when the bytes
//! are valid UTF-8, else windows-1256 (these are Arabic feeds; an unlabelled legacy body is nearly always cp1256).
//!
//! Labels lie, so two checks guard against mojibake:
//! - declared single-byte (windows-1256, ISO-8859-6…) but the bytes are valid UTF-8 containing multi-byte
//!   sequences → UTF-8 (Arabic cp1256 text is practically never valid UTF-8 by accident);
//! - declared UTF-8 but the bytes are not valid UTF-8 → windows-1256.
//!
//! We always transcode ourselves and hand feed-rs UTF-8 with the declaration rewritten to say so; otherwise
//! feed-rs would decode a second time by the (possibly wrong) declaration.

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_16BE, UTF_16LE, UTF_8, WINDOWS_1256};

/// The body as UTF-8 text and the encoding it was read as.
pub(crate) struct Decoded<'a> {
    pub text: Cow<'a, str>,
    pub encoding: &'static Encoding,
}

pub(crate) fn decode<'a>(body: &'a [u8], content_type: Option<&str>) -> Decoded<'a> {
    let (encoding, start) = detect(body, content_type);
    let text = encoding.decode_without_bom_handling(&body[start..]).0;
    let text = match xml_declaration(&text) {
        // The declaration's encoding no longer describes the text: say UTF-8 (what feed-rs will now receive).
        Some(decl)
            if decl
                .encoding
                .is_some_and(|e| !e.eq_ignore_ascii_case("utf-8")) =>
        {
            let mut fixed = String::with_capacity(text.len());
            fixed.push_str(&text[..decl.start]);
            fixed.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
            fixed.push_str(&text[decl.end..]);
            Cow::Owned(fixed)
        }
        _ => text,
    };
    Decoded { text, encoding }
}

/// An HTML page as UTF-8 text: byte-order mark → HTTP `charset` → `<meta charset>` (or the `http-equiv` form) in
/// the first 2 KB → UTF-8 when the bytes are valid UTF-8, else windows-1256. The same mojibake guards as for feeds:
/// a single-byte label on bytes that are valid multi-byte UTF-8 is ignored, and so is a UTF-8 label on bytes that
/// are not UTF-8.
pub(crate) fn decode_html<'a>(body: &'a [u8], content_type: Option<&str>) -> Decoded<'a> {
    let (encoding, start) = match Encoding::for_bom(body) {
        Some((encoding, bom_len)) => (encoding, bom_len),
        None => {
            let labelled = content_type
                .and_then(http_charset)
                .or_else(|| meta_charset(&body[..body.len().min(2048)]))
                .filter(|e| *e != UTF_16LE && *e != UTF_16BE);
            let utf8 = is_utf8(body);
            let surely_utf8 = utf8 && !body.is_ascii();
            let encoding = match labelled {
                Some(label) if label != UTF_8 && !surely_utf8 => label,
                _ if utf8 => UTF_8,
                _ => WINDOWS_1256,
            };
            (encoding, 0)
        }
    };
    let text = encoding.decode_without_bom_handling(&body[start..]).0;
    Decoded { text, encoding }
}

/// The encoding an HTML head declares: `<meta charset="…">` or `<meta http-equiv="Content-Type"
/// content="text/html; charset=…">`. A scan of the meta tags' attribute text, as browsers prescan before parsing.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let head = String::from_utf8_lossy(head).to_ascii_lowercase();
    let mut rest = head.as_str();
    while let Some(at) = rest.find("<meta") {
        let tag = &rest[at + 5..];
        let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
        if let Some(found) = tag.find("charset") {
            let value = tag[found + "charset".len()..]
                .trim_start()
                .strip_prefix('=')
                .map(|v| v.trim_start().trim_start_matches(['"', '\'', ' ']));
            if let Some(value) = value {
                let label: String = value
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
                    .collect();
                if let Some(encoding) = Encoding::for_label(label.as_bytes()) {
                    return Some(encoding);
                }
            }
        }
        rest = &rest[at + 5..];
    }
    None
}

/// The encoding to read the body with and where the content starts (after a BOM).
fn detect(body: &[u8], content_type: Option<&str>) -> (&'static Encoding, usize) {
    if let Some((encoding, bom_len)) = Encoding::for_bom(body) {
        return (encoding, bom_len);
    }
    // UTF-16 without a BOM still starts with "<?" in two-byte units.
    if body.starts_with(&[b'<', 0, b'?', 0]) {
        return (UTF_16LE, 0);
    }
    if body.starts_with(&[0, b'<', 0, b'?']) {
        return (UTF_16BE, 0);
    }
    let head = &body[..body.len().min(512)];
    let declared = std::str::from_utf8(head)
        .or_else(|e| std::str::from_utf8(&head[..e.valid_up_to()]))
        .ok()
        .and_then(xml_declaration)
        .and_then(|d| d.encoding)
        .and_then(|label| Encoding::for_label(label.as_bytes()));
    let labelled = declared
        .or_else(|| content_type.and_then(http_charset))
        // We got this far reading the bytes as ASCII, so a "UTF-16" label is wrong; ignore it.
        .filter(|e| *e != UTF_16LE && *e != UTF_16BE);
    let utf8 = is_utf8(body);
    // Valid UTF-8 with multi-byte sequences is UTF-8 whatever the label says (see the module doc).
    let surely_utf8 = utf8 && !body.is_ascii();
    let encoding = match labelled {
        Some(label) if label != UTF_8 && !surely_utf8 => label,
        _ if utf8 => UTF_8,
        _ => WINDOWS_1256,
    };
    (encoding, 0)
}

/// Whether the whole body is valid UTF-8. encoding_rs's check reads many bytes at a time; `std::str::from_utf8`
/// over a whole feed body was most of what decoding a UTF-8 feed cost (the decode itself only borrows it).
fn is_utf8(body: &[u8]) -> bool {
    Encoding::utf8_valid_up_to(body) == body.len()
}

/// The `charset` parameter of a Content-Type value, as an encoding.
fn http_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        Encoding::for_label(value.trim().trim_matches(['"', '\'']).as_bytes())
    })
}

/// Where an XML declaration sits in the text and the encoding it names.
pub(super) struct Declaration<'a> {
    start: usize,
    pub(super) end: usize,
    encoding: Option<&'a str>,
}

pub(super) fn xml_declaration(text: &str) -> Option<Declaration<'_>> {
    let start = text.len() - text.trim_start().len();
    let rest = &text[start..];
    if !rest.starts_with("<?xml") || !rest[5..].starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    // Search bytes, not str: a 512-byte cut may fall inside a multi-byte character.
    let close = rest.as_bytes()[..rest.len().min(512)]
        .windows(2)
        .position(|w| w == b"?>")?;
    let inner = &rest[5..close];
    let encoding = inner.find("encoding").and_then(|at| {
        let value = inner[at + "encoding".len()..]
            .trim_start()
            .strip_prefix('=')?
            .trim_start();
        let quote = value.chars().next().filter(|q| *q == '"' || *q == '\'')?;
        let value = &value[1..];
        Some(&value[..value.find(quote)?])
    });
    Some(Declaration {
        start,
        end: start + close + 2,
        encoding,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARABIC: &str = "قرغيزستان وطاجيكستان توقعان اتفاقية لترسيم الحدود";

    fn doc(decl: &str) -> String {
        format!("{decl}<rss version=\"2.0\"><channel><title>{ARABIC}</title></channel></rss>")
    }

    fn cp1256(s: &str) -> Vec<u8> {
        WINDOWS_1256.encode(s).0.into_owned()
    }

    #[test]
    fn follows_bom_then_declaration_then_http() {
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in doc("<?xml version=\"1.0\" encoding=\"UTF-16\"?>").encode_utf16() {
            utf16.extend_from_slice(&unit.to_le_bytes());
        }
        let d = decode(&utf16, Some("text/xml; charset=windows-1256"));
        assert_eq!(d.encoding, UTF_16LE);
        assert!(
            d.text.contains(ARABIC)
                && d.text
                    .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        );

        let declared = cp1256(&doc("<?xml version='1.0' encoding='windows-1256'?>"));
        let d = decode(&declared, Some("text/xml; charset=utf-8"));
        assert_eq!(d.encoding, WINDOWS_1256);
        assert!(d.text.contains(ARABIC) && !d.text.contains("windows-1256"));

        let iso = encoding_rs::ISO_8859_6.encode(&doc("")).0.into_owned();
        let d = decode(&iso, Some("application/rss+xml; charset=\"ISO-8859-6\""));
        assert_eq!(d.encoding, encoding_rs::ISO_8859_6);
        assert!(d.text.contains(ARABIC));
    }

    #[test]
    fn mislabels_do_not_make_mojibake() {
        // UTF-8 bytes declared windows-1256 (in the declaration or only in HTTP).
        let utf8 = doc("<?xml version=\"1.0\" encoding=\"windows-1256\"?>");
        let d = decode(utf8.as_bytes(), None);
        assert_eq!(d.encoding, UTF_8);
        assert!(d.text.contains(ARABIC) && d.text.contains("encoding=\"UTF-8\""));
        let unlabelled = doc("");
        let d = decode(
            unlabelled.as_bytes(),
            Some("text/xml; charset=windows-1256"),
        );
        assert!(d.text.contains(ARABIC));
        // cp1256 bytes declared UTF-8, and with no label at all.
        let legacy = cp1256(&doc("<?xml version=\"1.0\" encoding=\"utf-8\"?>"));
        let d = decode(&legacy, Some("text/xml; charset=utf-8"));
        assert_eq!(d.encoding, WINDOWS_1256);
        assert!(d.text.contains(ARABIC));
        assert!(decode(&cp1256(&doc("")), None).text.contains(ARABIC));
        // An ASCII-readable body labelled UTF-16 is not UTF-16.
        let lying = doc("<?xml version=\"1.0\" encoding=\"utf-16\"?>");
        assert!(decode(lying.as_bytes(), None).text.contains(ARABIC));
    }

    #[test]
    fn utf8_without_labels_is_borrowed() {
        let body = doc("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
        assert!(matches!(
            decode(body.as_bytes(), None).text,
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn html_pages_follow_http_then_meta_then_bytes() {
        let page =
            |meta: &str| format!("<html><head>{meta}</head><body><h1>{ARABIC}</h1></body></html>");
        let meta = cp1256(&page("<meta charset=\"windows-1256\">"));
        let d = decode_html(&meta, Some("text/html"));
        assert_eq!(d.encoding, WINDOWS_1256);
        assert!(d.text.contains(ARABIC));
        let equiv = cp1256(&page(
            "<META HTTP-EQUIV='Content-Type' CONTENT='text/html; charset=Windows-1256'>",
        ));
        assert!(decode_html(&equiv, None).text.contains(ARABIC));
        let http = cp1256(&page(""));
        let d = decode_html(&http, Some("text/html; charset=windows-1256"));
        assert_eq!(d.encoding, WINDOWS_1256);
        // No label at all: not UTF-8, so the Arabic legacy encoding.
        assert!(decode_html(&http, None).text.contains(ARABIC));
        // UTF-8 bytes under a windows-1256 meta stay UTF-8.
        let lying = page("<meta charset=\"windows-1256\">");
        let d = decode_html(lying.as_bytes(), None);
        assert_eq!(d.encoding, UTF_8);
        assert!(d.text.contains(ARABIC));
    }
}
