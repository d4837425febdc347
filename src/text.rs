//! The text helpers every stage shares, one of each: which characters may stand in our XML, markup escaping, HTML
//! to plain text (tags stripped, entities decoded once), cutting to a size, and hex.
//!
//! feed-rs undoes the XML escaping but leaves the HTML layer alone: a title written `&amp;amp;` arrives as `&amp;`,
//! `&nbsp;` arrives literally (the XML parser does not know HTML entities) and `<b>` tags arrive as tags. Titles
//! are plain text in our model, so tags are stripped and HTML entities decoded exactly once, by [`plain_text`]; the
//! dedup stage reads summaries through the same function. Every function is a single pass over its input (no
//! quadratic behaviour on hostile text).

use std::borrow::Cow;

/// Whether `c` may appear in an XML 1.0 document and is worth keeping in text we store or publish.
///
/// Beyond what XML forbids outright (C0 controls other than tab/LF/CR, U+FFFE/U+FFFF), this drops what XML 1.0
/// "discourages" (DEL, C1 controls, non-characters) and a stray U+FEFF: none of them carries meaning in a headline,
/// and some validators warn about them. Bidi marks (U+200E/F, U+202A–U+202E, U+2066–U+2069) and ZWJ/ZWNJ are
/// kept: Arabic and Persian text needs them.
pub(crate) fn is_xml_char(c: char) -> bool {
    let u = c as u32;
    match u {
        0x09 | 0x0A | 0x0D => true,
        0x00..=0x1F | 0x7F..=0x9F => false,
        0xFEFF => false,
        0xFDD0..=0xFDEF => false,
        _ => (u & 0xFFFE) != 0xFFFE,
    }
}

/// `s` without the characters [`is_xml_char`] refuses; whitespace is kept as it is. Borrows when there is nothing
/// to remove, which is nearly always.
pub(crate) fn drop_non_xml_chars(s: &str) -> Cow<'_, str> {
    if all_xml_chars(s) {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(s.chars().filter(|c| is_xml_char(*c)).collect())
    }
}

/// `s.chars().all(is_xml_char)`, reading bytes: every character [`is_xml_char`] refuses is an ASCII control or
/// DEL, or starts with the byte C2 (U+0080–U+009F), EF (U+FDD0–U+FDEF, U+FEFF, U+FFFE/F) or F0–F4 (the other
/// planes' last two code points); only those are decoded. (Every summary, content and link of every feed goes
/// through here, and Arabic text would otherwise be decoded character by character.) The bytes are first looked
/// at [`XML_CHUNK`] at a time, with no branch per byte (the compiler compares them as vectors), and only a chunk
/// holding one of those bytes (or a tab or line break) is read byte by byte.
pub(crate) fn all_xml_chars(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut chunks = bytes.chunks_exact(XML_CHUNK);
    let mut at = 0;
    for chunk in &mut chunks {
        let suspect = chunk
            .iter()
            .fold(0u8, |any, &b| any | u8::from(may_start_non_xml(b)));
        if suspect != 0 && !xml_chars_from(s, at, at + XML_CHUNK) {
            return false;
        }
        at += XML_CHUNK;
    }
    xml_chars_from(s, at, bytes.len())
}

/// How many bytes [`all_xml_chars`] looks at together.
const XML_CHUNK: usize = 32;

/// Whether a character starting with `b` may be one [`is_xml_char`] refuses (tab, LF and CR included: they are
/// rare enough to be sorted out byte by byte).
#[inline(always)]
fn may_start_non_xml(b: u8) -> bool {
    b < 0x20 || b == 0x7F || b == 0xC2 || b.wrapping_sub(0xEF) < 6
}

/// Whether the characters starting in `s`'s bytes `from..to` are all XML characters. `from` may fall inside a
/// character: its continuation bytes are skipped, and every byte that is decoded (an ASCII byte or one of the lead
/// bytes [`may_start_non_xml`] names) starts a character.
fn xml_chars_from(s: &str, from: usize, to: usize) -> bool {
    let bytes = s.as_bytes();
    let mut i = from;
    while i < to {
        let b = bytes[i];
        match b {
            b'\t' | b'\n' | b'\r' => {}
            0x00..=0x1F | 0x7F => return false,
            0xC2 | 0xEF | 0xF0..=0xF4 => {
                let c = s[i..].chars().next().expect("a character starts here");
                if !is_xml_char(c) {
                    return false;
                }
                i += c.len_utf8();
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    true
}

/// Escapes `s` for use as XML/HTML text or a quoted attribute value, dropping what [`is_xml_char`] refuses.
///
/// Escaping `&`, `<`, `>`, `"` and `'` everywhere is valid in XML text, XML attributes and HTML alike, so one
/// function serves all three and there is no variant to pick wrongly.
pub(crate) fn escape_markup(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if is_xml_char(c) => out.push(c),
            _ => {}
        }
    }
    out
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xF)] as char);
    }
    out
}

/// An HTML fragment as plain text: tags (and the content of `<script>`/`<style>`) removed, a line break or block
/// boundary kept as a space, HTML entities decoded once, characters [`is_xml_char`] refuses removed, whitespace runs
/// collapsed to one space and trimmed.
pub(crate) fn plain_text(s: &str) -> String {
    let decoded = untagged_text(s);
    let mut out = String::with_capacity(decoded.len());
    // Nearly always there is nothing to drop, and each word is copied whole.
    let clean = all_xml_chars(&decoded);
    for word in words(&decoded) {
        if !out.is_empty() {
            out.push(' ');
        }
        if clean {
            out.push_str(word);
        } else {
            out.extend(word.chars().filter(|c| is_xml_char(*c)));
        }
    }
    out
}

/// An HTML fragment with its tags stripped and its entities decoded, as [`plain_text`] does before it drops what
/// [`is_xml_char`] refuses and collapses whitespace: a caller that reads every run of whitespace as one word
/// boundary anyway (folding for matching) can read this instead, when it holds only XML characters.
pub(crate) fn untagged_text(s: &str) -> Cow<'_, str> {
    match strip_tags(s) {
        Cow::Borrowed(text) => decode_entities(text, Entities::Html),
        Cow::Owned(text) if !text.contains('&') => Cow::Owned(text),
        Cow::Owned(text) => Cow::Owned(decode_entities(&text, Entities::Html).into_owned()),
    }
}

/// The words of `s`: `s.split(char::is_whitespace)` without the empty pieces, found reading bytes. Only an ASCII
/// byte or the lead byte of a character some whitespace starts with (C2: U+0085, U+00A0; E1: U+1680; E2: U+2000–
/// U+205F; E3: U+3000) can start whitespace, so only those are decoded; Arabic letters never are (every title and
/// summary is cut into words here, and decoding each character was most of it).
fn words(s: &str) -> impl Iterator<Item = &str> {
    let bytes = s.as_bytes();
    let (mut start, mut i) = (0, 0);
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let space = match bytes[i] {
                b' ' | b'\t'..=b'\r' => 1,
                0xC2 | 0xE1..=0xE3 => {
                    let c = s[i..].chars().next().expect("a character starts here");
                    if c.is_whitespace() {
                        c.len_utf8()
                    } else {
                        0
                    }
                }
                // Any other byte: a character that is not whitespace, or a continuation byte inside one.
                _ => 0,
            };
            if space == 0 {
                i += 1;
                continue;
            }
            let word = &s[start..i];
            i += space;
            start = i;
            if !word.is_empty() {
                return Some(word);
            }
        }
        let word = &s[start..];
        start = s.len();
        (!word.is_empty()).then_some(word)
    })
}

/// `s` cut to `max` characters, the cut marked with `…`.
pub(crate) fn cut_chars(s: String, max: usize) -> String {
    // No more bytes than `max` is no more characters either: most titles are never walked.
    if s.len() <= max || s.char_indices().nth(max).is_none() {
        return s;
    }
    // Room for the ellipsis: max - 1 characters of text.
    let at = s
        .char_indices()
        .nth(max.saturating_sub(1))
        .map_or(s.len(), |(i, _)| i);
    let mut cut = s[..at].trim_end().to_owned();
    cut.push('…');
    cut
}

/// `s` cut to at most `max` bytes at a character boundary.
pub(crate) fn cut_bytes(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
    s
}

/// Elements that end a line or a block when rendered: removing their tags must leave a space, or the words on
/// either side would run together ("باكو<br>أستانا").
const BREAKING: [&str; 16] = [
    "br",
    "p",
    "div",
    "li",
    "ul",
    "ol",
    "tr",
    "td",
    "th",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
];

/// Whether the tag text after `<` (`br/`, `/p`, `div class="x"`) opens or closes a [`BREAKING`] element.
fn breaks_line(tag: &str) -> bool {
    let name = tag.trim_start_matches('/');
    let end = name
        .find(|c: char| !c.is_ascii_alphanumeric())
        .unwrap_or(name.len());
    BREAKING.iter().any(|b| name[..end].eq_ignore_ascii_case(b))
}

/// Removes HTML tags and comments, leaving a space for a line or block break. A `<` that does not start a tag
/// (`5 < 6`) is kept as text.
fn strip_tags(s: &str) -> Cow<'_, str> {
    if !s.contains('<') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    // Once a search has failed it fails for every later position too; remembering that keeps "<a<a<a…" linear.
    let (mut no_gt, mut no_comment_end) = (false, false);
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let after = &rest[lt + 1..];
        let starts_tag =
            after.starts_with(|c: char| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'));
        let end = if after.starts_with("!--") && !no_comment_end {
            let end = after.find("-->").map(|i| i + 3);
            no_comment_end = end.is_none();
            end
        } else if starts_tag && !no_gt {
            let end = after.find('>').map(|i| i + 1);
            no_gt = end.is_none();
            end
        } else {
            None
        };
        let Some(end) = end else {
            // Not a tag (or never closed): keep the `<` as text and go on after it.
            out.push('<');
            rest = after;
            continue;
        };
        let tag = &after[..end];
        rest = &after[end..];
        if breaks_line(tag) {
            out.push(' ');
        }
        // The text inside <script> and <style> is code, not words of the title.
        for element in ["script", "style"] {
            let name = tag.as_bytes();
            let n = element.len();
            let is_element = name.len() > n
                && name[..n].eq_ignore_ascii_case(element.as_bytes())
                && matches!(name[n], b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r');
            if is_element {
                let close = find_ascii_ci(rest, &format!("</{element}"));
                rest = match close.and_then(|i| rest[i..].find('>').map(|j| i + j + 1)) {
                    Some(after_close) => &rest[after_close..],
                    None => "",
                };
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Which named references [`decode_entities`] knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entities {
    /// The five XML predefines (`&amp;` `&lt;` `&gt;` `&quot;` `&apos;`): for XML attribute values, where an HTML
    /// name such as `&copy;` is not a reference and stays as written.
    Xml,
    /// The XML five and the HTML names news feeds use (`&nbsp;`, `&hellip;`, `&laquo;` …).
    Html,
}

/// Decodes character references once: numeric (`&#1604;`, `&#x644;`) and the named ones of `names`. Unknown names
/// and bare ampersands are left as they are, so that text like `&foo;` or `a=1&b=2` survives.
pub(crate) fn decode_entities(s: &str, names: Entities) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        // Entity names are short; looking only this far keeps hostile text linear.
        // (Searched as bytes: a fixed-length cut may fall inside a multi-byte character; `;` never does.)
        let window = &after.as_bytes()[..after.len().min(33)];
        let decoded = window
            .iter()
            .position(|b| *b == b';')
            .and_then(|semi| Some((reference(&after[..semi], names)?, semi)));
        match decoded {
            Some((c, semi)) => {
                out.push(c);
                rest = &after[semi + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// The character a reference (the text between `&` and `;`) stands for.
fn reference(name: &str, names: Entities) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse::<u32>().ok()?,
        };
        // NUL and surrogates are not characters; HTML maps them to U+FFFD.
        return Some(
            char::from_u32(code)
                .filter(|c| *c != '\0')
                .unwrap_or('\u{FFFD}'),
        );
    }
    let xml = match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => None,
    };
    if xml.is_some() || names == Entities::Xml {
        return xml;
    }
    let c = match name {
        "nbsp" => '\u{A0}',
        "shy" => '\u{AD}',
        "zwnj" => '\u{200C}',
        "zwj" => '\u{200D}',
        "lrm" => '\u{200E}',
        "rlm" => '\u{200F}',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "laquo" => '«',
        "raquo" => '»',
        "lsquo" => '‘',
        "rsquo" => '’',
        "sbquo" => '‚',
        "ldquo" => '“',
        "rdquo" => '”',
        "bdquo" => '„',
        "lsaquo" => '‹',
        "rsaquo" => '›',
        "bull" => '•',
        "middot" => '·',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "deg" => '°',
        "times" => '×',
        "divide" => '÷',
        "plusmn" => '±',
        "para" => '¶',
        "sect" => '§',
        "euro" => '€',
        "pound" => '£',
        "yen" => '¥',
        "cent" => '¢',
        "iexcl" => '¡',
        "iquest" => '¿',
        "thinsp" => '\u{2009}',
        "ensp" => '\u{2002}',
        "emsp" => '\u{2003}',
        "prime" => '′',
        "Prime" => '″',
        "dagger" => '†',
        "frac12" => '½',
        "frac14" => '¼',
        "frac34" => '¾',
        "acute" => '´',
        "uml" => '¨',
        "macr" => '¯',
        "ordf" => 'ª',
        "ordm" => 'º',
        "sup1" => '¹',
        "sup2" => '²',
        "sup3" => '³',
        "micro" => 'µ',
        "larr" => '←',
        "rarr" => '→',
        "uarr" => '↑',
        "darr" => '↓',
        "eacute" => 'é',
        "egrave" => 'è',
        "agrave" => 'à',
        "ccedil" => 'ç',
        "ouml" => 'ö',
        "uuml" => 'ü',
        _ => return None,
    };
    Some(c)
}

#[cfg(test)]
#[path = "text_tests.rs"]
mod tests;
