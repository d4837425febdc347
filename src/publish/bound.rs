//! Bounding outlet HTML before the sanitizer sees it: nesting depth and attributes per tag.
//!
//! The HTML parser under ammonia (html5ever) does work proportional to the depth of the open-element stack for
//! every tag, and a linear duplicate check for every attribute of a tag: `<div>` × 100,000 costs minutes, a tag
//! with 30,000 attributes seconds. This pass runs first, in one linear walk, and re-writes the markup in a
//! canonical form the parser cannot read differently from us:
//! - text is copied with every `<` written as `&lt;`, so the only tags in the output are the ones written here;
//! - each kept tag is re-written as `<name a="v" …>` (lower-case name, at most [`MAX_ATTRIBUTES`] attributes with
//!   plain names, values double-quoted with `"` escaped), and every element is closed explicitly, innermost first;
//! - an element opened deeper than [`MAX_DEPTH`] is dropped with its end tag, its text kept (the content is
//!   flattened, not lost);
//! - comments, doctypes, processing instructions and `<script>`/`<style>` with their content are dropped (the
//!   sanitizer removes them anyway).
//!
//! Because the output is canonical, our reading of odd markup only affects how faithfully it is kept, never the
//! bound: the parser sees at most `MAX_DEPTH` open elements and `MAX_ATTRIBUTES` attributes per tag, whatever the
//! input. Safety remains the sanitizer's job; this pass only bounds its cost.

/// Deepest element nesting kept. News articles rarely go past 15; the parser's cost per tag grows with this.
pub(crate) const MAX_DEPTH: usize = 48;
/// Attributes kept per tag (the allowlist keeps only a few of them anyway).
pub(crate) const MAX_ATTRIBUTES: usize = 16;

/// Elements that never have content or an end tag.
const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];
/// Elements whose content is not markup and is dropped along with them.
const DROPPED_WITH_CONTENT: &[&str] = &["script", "style", "template"];
/// Elements whose content is text to the parser, not markup; kept as escaped text.
const RAW_TEXT: &[&str] = &[
    "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
];
/// Elements an HTML parser closes implicitly when another one of the same name opens (`<p>a<p>b`, `<li>`…),
/// unless a container lies in between (nested lists stay nested).
const SELF_SIBLING: &[&str] = &["p", "li", "dt", "dd", "option", "tr", "td", "th"];
const CONTAINERS: &[&str] = &[
    "ul",
    "ol",
    "dl",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "select",
    "div",
    "blockquote",
];

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | b'\x0C')
}

/// One tag as read from the input.
struct Tag<'a> {
    name: String,
    end: bool,
    attributes: Vec<(&'a str, &'a str)>,
}

/// Reads the tag starting at `s[0] == '<'` (followed by a letter, or `/` and a letter), following the HTML
/// tokenizer's tag states (quoted values may contain `>`). Returns the tag and the byte length consumed, or `None`
/// when the input ends inside the tag (the parser drops such a tag too).
fn read_tag(s: &str) -> Option<(Tag<'_>, usize)> {
    let b = s.as_bytes();
    let end = b.get(1) == Some(&b'/');
    let mut i = if end { 2 } else { 1 };
    let name_start = i;
    while i < b.len() && !is_space(b[i]) && b[i] != b'/' && b[i] != b'>' {
        i += 1;
    }
    let name = s[name_start..i].to_ascii_lowercase();
    let mut attributes = Vec::new();
    loop {
        while i < b.len() && (is_space(b[i]) || b[i] == b'/') {
            i += 1;
        }
        if *b.get(i)? == b'>' {
            let tag = Tag {
                name,
                end,
                attributes,
            };
            return Some((tag, i + 1));
        }
        // Attribute name: up to space, '/', '>' or '=' (a leading '=' belongs to the name, as in the tokenizer).
        let attr_start = i;
        i += 1;
        while i < b.len() && !is_space(b[i]) && !matches!(b[i], b'/' | b'>' | b'=') {
            i += 1;
        }
        let attr = &s[attr_start..i];
        while i < b.len() && is_space(b[i]) {
            i += 1;
        }
        let mut value = "";
        if b.get(i) == Some(&b'=') {
            i += 1;
            while i < b.len() && is_space(b[i]) {
                i += 1;
            }
            match b.get(i)? {
                q @ (b'"' | b'\'') => {
                    let close = s[i + 1..].find(*q as char)?;
                    value = &s[i + 1..i + 1 + close];
                    i += close + 2;
                }
                b'>' => {}
                _ => {
                    let start = i;
                    while i < b.len() && !is_space(b[i]) && b[i] != b'>' {
                        i += 1;
                    }
                    value = &s[start..i];
                }
            }
        }
        attributes.push((attr, value));
    }
}

/// A plain tag or attribute name: what we re-write. Anything else is dropped (fidelity only, never safety).
fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.as_bytes()[0].is_ascii_alphabetic()
        && name
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b':' | b'.'))
}

/// Copies text, writing `<` as `&lt;` so that no tag can hide in it.
fn push_text(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        out.push_str("&lt;");
        rest = &rest[lt + 1..];
    }
    out.push_str(rest);
}

fn push_start(out: &mut String, tag: &Tag) {
    out.push('<');
    out.push_str(&tag.name);
    for (name, value) in tag
        .attributes
        .iter()
        .filter(|(n, _)| plain_name(n))
        .take(MAX_ATTRIBUTES)
    {
        out.push(' ');
        out.push_str(&name.to_ascii_lowercase());
        out.push_str("=\"");
        out.push_str(&value.replace('"', "&quot;"));
        out.push('"');
    }
    out.push('>');
}

fn push_end(out: &mut String, name: &str) {
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Position of the first `</name` (any case) in `s`.
fn find_end_tag(s: &str, name: &str) -> Option<usize> {
    let needle = format!("</{name}");
    let (b, n) = (s.as_bytes(), needle.as_bytes());
    let mut from = 0;
    while let Some(lt) = s[from..].find("</") {
        let at = from + lt;
        if b.len() >= at + n.len() && b[at..at + n.len()].eq_ignore_ascii_case(n) {
            return Some(at);
        }
        from = at + 2;
    }
    None
}

/// Re-writes `html` in the canonical, bounded form described in the module doc. Linear in the input.
pub(crate) fn bound_markup(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + html.len() / 8);
    // Open elements we wrote, and how many start tags of each name we dropped (so their end tags go too).
    let mut open: Vec<String> = Vec::new();
    let mut dropped: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        push_text(&mut out, &rest[..lt]);
        rest = &rest[lt..];
        let b = rest.as_bytes();
        let starts_tag = b.get(1).is_some_and(u8::is_ascii_alphabetic)
            || (b.get(1) == Some(&b'/') && b.get(2).is_some_and(u8::is_ascii_alphabetic));
        if !starts_tag {
            if matches!(b.get(1), Some(b'!' | b'?' | b'/')) {
                // Comment, doctype, CDATA, processing instruction, `</ >`: dropped up to where the tokenizer
                // would end it.
                let end = if let Some(comment) = rest.strip_prefix("<!--") {
                    comment.find("-->").map_or(rest.len(), |i| i + 7)
                } else {
                    rest.find('>').map_or(rest.len(), |i| i + 1)
                };
                rest = &rest[end..];
            } else {
                out.push_str("&lt;");
                rest = &rest[1..];
            }
            continue;
        }
        let Some((tag, len)) = read_tag(rest) else {
            // The input ends inside a tag: the parser would drop it too.
            rest = "";
            break;
        };
        rest = &rest[len..];
        if !plain_name(&tag.name) {
            continue;
        }
        let name = tag.name.as_str();
        if tag.end {
            if let Some(n) = dropped.get_mut(name).filter(|n| **n > 0) {
                *n -= 1;
            } else if let Some(at) = open.iter().rposition(|o| o == name) {
                for o in open.drain(at..).rev() {
                    push_end(&mut out, &o);
                }
            }
            // A stray end tag is dropped.
            continue;
        }
        if DROPPED_WITH_CONTENT.contains(&name) {
            rest = match find_end_tag(rest, name) {
                Some(at) => &rest[at + rest[at..].find('>').map_or(rest.len() - at, |i| i + 1)..],
                None => "",
            };
            continue;
        }
        if SELF_SIBLING.contains(&name) {
            let sibling = open
                .iter()
                .rposition(|o| o == name || CONTAINERS.contains(&o.as_str()))
                .filter(|at| open[*at] == name);
            if let Some(at) = sibling {
                for o in open.drain(at..).rev() {
                    push_end(&mut out, &o);
                }
            }
        }
        if VOID.contains(&name) {
            push_start(&mut out, &tag);
            continue;
        }
        if RAW_TEXT.contains(&name) {
            // Content up to the end tag is text to the parser: kept as text, without the element.
            let (text, after) = match find_end_tag(rest, name) {
                Some(at) => (
                    &rest[..at],
                    &rest[at + rest[at..].find('>').map_or(rest.len() - at, |i| i + 1)..],
                ),
                None => (rest, ""),
            };
            push_text(&mut out, text);
            rest = after;
            continue;
        }
        if open.len() >= MAX_DEPTH {
            *dropped.entry(tag.name).or_default() += 1;
            continue;
        }
        push_start(&mut out, &tag);
        open.push(tag.name);
    }
    push_text(&mut out, rest);
    for o in open.iter().rev() {
        push_end(&mut out, o);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_markup_is_kept() {
        assert_eq!(
            bound_markup(
                r#"<p class=x>نص <a href="/a?b=1&amp;c=2" title='q"t'>رابط</a><br/>سطر</p>"#
            ),
            r#"<p class="x">نص <a href="/a?b=1&amp;c=2" title="q&quot;t">رابط</a><br>سطر</p>"#
        );
        assert_eq!(bound_markup("5 < 6 و 7 > 3"), "5 &lt; 6 و 7 > 3");
        assert_eq!(
            bound_markup("<P>a<p>b<ul><li>1<li>2</ul>"),
            "<p>a</p><p>b<ul><li>1</li><li>2</li></ul></p>"
        );
    }

    #[test]
    fn quoted_values_may_hold_angle_brackets() {
        assert_eq!(
            bound_markup(r#"<a title="x > <b>y">z</a>"#),
            r#"<a title="x > <b>y">z</a>"#
        );
    }

    #[test]
    fn comments_scripts_and_unfinished_tags_go() {
        assert_eq!(
            bound_markup("a<!-- <div> -->b<script>if (a<b) x()</script>c<!DOCTYPE html><?php x ?>d<div title=\"x"),
            "abcd"
        );
        assert_eq!(
            bound_markup("<textarea><b>x</b></textarea>"),
            "&lt;b>x&lt;/b>"
        );
    }

    #[test]
    fn deep_nesting_is_flattened_text_kept() {
        let n = 100_000;
        let html = "<div>".repeat(n) + "x" + &"</div>".repeat(n);
        let out = bound_markup(&html);
        assert_eq!(out.matches("<div>").count(), MAX_DEPTH);
        assert_eq!(out.matches("</div>").count(), MAX_DEPTH);
        assert!(out.contains('x'));
    }

    #[test]
    fn attributes_are_capped() {
        let html = format!("<p {}>x</p>", "a ".repeat(30_000));
        let out = bound_markup(&html);
        assert_eq!(out.matches("a=\"\"").count(), MAX_ATTRIBUTES);
    }

    #[test]
    fn unclosed_elements_are_closed_in_order() {
        assert_eq!(bound_markup("<b><i>x"), "<b><i>x</i></b>");
        assert_eq!(bound_markup("<b><i>x</b>y</i>"), "<b><i>x</i></b>y");
    }
}
