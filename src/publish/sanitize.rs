//! Making outlet text safe to republish.
//!
//! Everything qafila publishes comes from feeds it does not control, so two things are done to every string before
//! it reaches a reader:
//! - characters XML 1.0 forbids (C0 controls other than tab/LF/CR, U+FFFE/U+FFFF…) are removed, because the `rss`
//!   crate and our own writers escape markup but write such characters raw, and one of them makes the whole feed
//!   ill-formed for every subscriber;
//! - outlet HTML goes through an ammonia allowlist: no scripts, styles, frames, forms, event handlers, inline
//!   styles or `javascript:`/`data:` URLs, and relative URLs are made absolute against the article, since a reader
//!   would otherwise resolve them against *our* feed's URL.
//!
//! Before ammonia, the markup is bounded ([`super::bound`]) so that its cost stays linear whatever the nesting, and
//! the result's bidi controls are balanced ([`super::bidi`]). Sanitizing runs once per item: [`SanitizeCache`]
//! keeps each published description's [`SafeHtml`] from one publish round to the next.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex};

use ammonia::{Builder, UrlRelative};

use super::bidi::balance_bidi;
use super::bound::bound_markup;
use crate::text::{drop_non_xml_chars, is_xml_char};

/// Plain text for titles, names and the like: forbidden characters removed, runs of whitespace (newlines included)
/// collapsed to one space, ends trimmed, bidi controls balanced.
pub fn clean_text(s: &str) -> String {
    let out = collapse_space(s);
    match balance_bidi(&out) {
        std::borrow::Cow::Borrowed(_) => out,
        std::borrow::Cow::Owned(balanced) => balanced,
    }
}

fn collapse_space(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for word in s.split(|c: char| c.is_whitespace()) {
        let word: String = word.chars().filter(|&c| is_xml_char(c)).collect();
        if word.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&word);
    }
    out
}

/// The allowlist. ammonia's `Builder` is not `Clone` and the relative-URL policy differs per article, so it is
/// built per call (a few small hash sets; cheap next to parsing the HTML).
fn policy(base: Option<&url::Url>) -> Builder<'static> {
    let mut b = Builder::default();
    // ammonia's defaults already drop script/style/iframe/object/form, on* attributes and `style`, allow only
    // http(s)/mailto-style schemes (no javascript:, no data:) and set rel="noopener noreferrer" on links.
    // `dir` is added because Arabic outlets mark embedded Latin passages with it.
    b.add_generic_attributes(["dir"]);
    b.link_rel(Some("noopener noreferrer"));
    b.strip_comments(true);
    match base.filter(|u| matches!(u.scheme(), "http" | "https")) {
        Some(u) => b.url_relative(UrlRelative::RewriteWithBase(u.clone())),
        None => b.url_relative(UrlRelative::Deny),
    };
    b
}

/// Sanitizes an outlet's HTML for republishing.
///
/// `base` is the article's URL: relative `href`/`src` are resolved against it. Without a base, relative URLs are
/// dropped rather than passed through, as a reader would resolve them against the wrong site.
/// The output is an HTML fragment with no XML-forbidden characters (character references such as `&#1;` are
/// decoded by the HTML parser, so the output is cleaned too, not only the input).
pub fn sanitize_html(html: &str, base: Option<&url::Url>) -> String {
    let bounded = bound_markup(&drop_non_xml_chars(html));
    let cleaned = policy(base).clean(&bounded).to_string();
    balance_bidi(&drop_non_xml_chars(cleaned.trim())).into_owned()
}

/// An outlet's HTML after [`sanitize_html`]: the only form of outlet HTML the renderers accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeHtml(Arc<str>);

impl SafeHtml {
    /// Sanitizes `html` (see [`sanitize_html`]).
    pub fn sanitize(html: &str, base: Option<&url::Url>) -> SafeHtml {
        SafeHtml(Arc::from(sanitize_html(html, base)))
    }

    /// The sanitized HTML.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Sanitized descriptions kept from one publish round to the next, so that an item is sanitized once, not once per
/// round (and never once per format or country page: the renderers only read [`SafeHtml`]).
///
/// Keyed by a hash of the raw HTML and its base under per-process random keys (an outlet cannot aim a collision at
/// another item's entry). What a round did not use is forgotten at the end of the next one, so the cache holds
/// about one round's published descriptions.
#[derive(Debug, Default)]
pub struct SanitizeCache {
    state: Mutex<CacheRounds>,
    keys: std::hash::RandomState,
}

#[derive(Debug, Default)]
struct CacheRounds {
    previous: HashMap<u64, SafeHtml>,
    current: HashMap<u64, SafeHtml>,
}

impl SanitizeCache {
    /// The sanitized form of `html` (cut to `max_bytes` first, at a character boundary), from the cache when this
    /// or the previous round produced it.
    pub fn sanitize(&self, html: &str, base: Option<&url::Url>, max_bytes: usize) -> SafeHtml {
        let html = truncate_bytes(html, max_bytes);
        let key = self.keys.hash_one((html, base.map(url::Url::as_str)));
        {
            let mut rounds = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let rounds = &mut *rounds;
            if let Some(hit) = rounds.current.get(&key).cloned() {
                return hit;
            }
            if let Some(hit) = rounds.previous.remove(&key) {
                rounds.current.insert(key, hit.clone());
                return hit;
            }
        }
        let safe = SafeHtml::sanitize(html, base);
        let mut rounds = self.state.lock().unwrap_or_else(|e| e.into_inner());
        rounds.current.insert(key, safe.clone());
        safe
    }

    /// Ends a round: entries the round did not use are dropped at the end of the next one.
    pub fn end_round(&self) {
        let mut rounds = self.state.lock().unwrap_or_else(|e| e.into_inner());
        rounds.previous = std::mem::take(&mut rounds.current);
    }

    /// How many sanitized descriptions are held (for tests).
    pub fn len(&self) -> usize {
        let rounds = self.state.lock().unwrap_or_else(|e| e.into_inner());
        rounds.previous.len() + rounds.current.len()
    }

    /// Whether the cache holds nothing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `s` cut to at most `max` bytes at a character boundary.
pub(crate) fn truncate_bytes(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn base() -> url::Url {
        url::Url::parse("https://outlet.example/ar/news/2026/11/story.html").unwrap()
    }

    #[test]
    fn clean_text_strips_controls_and_collapses_space() {
        assert_eq!(
            clean_text("  أستانا\u{1}  تعلن\n\tخطة\u{FFFE} "),
            "أستانا تعلن خطة"
        );
        assert_eq!(clean_text("\u{1}\u{2}"), "");
        assert_eq!(
            clean_text("AT&T <b>"),
            "AT&T <b>",
            "plain text is not escaped here"
        );
    }

    #[test]
    fn clean_text_keeps_bidi_marks_and_joiners() {
        let s = "\u{200F}كازاخستان\u{200C}ها";
        assert_eq!(clean_text(s), s);
    }

    #[test]
    fn sanitize_removes_active_content() {
        let out = sanitize_html(
            r#"<p onclick="x()">نص<script>alert(1)</script></p><img src=x onerror=alert(1)><a href="javascript:alert(1)">هنا</a><iframe src="https://e.vil"></iframe><p style="color:red">ب</p><a href="data:text/html,x">د</a>"#,
            Some(&base()),
        );
        for bad in [
            "<script",
            "alert",
            "onerror",
            "onclick",
            "javascript:",
            "iframe",
            "style",
            "data:",
        ] {
            assert!(!out.contains(bad), "{bad} survived in {out}");
        }
        assert!(
            out.contains("https://outlet.example/ar/news/2026/11/x"),
            "{out}"
        );
    }

    #[test]
    fn sanitize_absolutizes_and_marks_links() {
        let out = sanitize_html(r#"<a href="/news/1">خبر</a>"#, Some(&base()));
        assert_eq!(
            out,
            r#"<a href="https://outlet.example/news/1" rel="noopener noreferrer">خبر</a>"#
        );
    }

    #[test]
    fn sanitize_without_base_drops_relative_urls() {
        let out = sanitize_html(r#"<a href="/news/1">خبر</a>"#, None);
        assert!(!out.contains("href"), "{out}");
        assert!(out.contains("خبر"));
    }

    #[test]
    fn the_cache_sanitizes_each_description_once_and_forgets_unused_ones() {
        let cache = SanitizeCache::default();
        let b = base();
        let first = cache.sanitize("<p>نص <b>الخبر</b></p>", Some(&b), 1 << 16);
        let again = cache.sanitize("<p>نص <b>الخبر</b></p>", Some(&b), 1 << 16);
        assert!(Arc::ptr_eq(&first.0, &again.0), "served from the cache");
        let other_base = url::Url::parse("https://other.example/a").unwrap();
        let elsewhere = cache.sanitize("<p>نص <b>الخبر</b></p>", Some(&other_base), 1 << 16);
        assert!(
            !Arc::ptr_eq(&first.0, &elsewhere.0),
            "the base is part of the key"
        );
        cache.end_round();
        // Used in the next round: carried over, still the same value.
        let next = cache.sanitize("<p>نص <b>الخبر</b></p>", Some(&b), 1 << 16);
        assert!(Arc::ptr_eq(&first.0, &next.0));
        cache.end_round();
        cache.end_round();
        assert!(cache.is_empty(), "unused entries are dropped");
        let cut = cache.sanitize(&"ب".repeat(100), None, 11);
        assert_eq!(
            cut.as_str(),
            "ببببب",
            "cut at a character boundary before sanitizing"
        );
    }

    #[test]
    fn sanitize_strips_forbidden_chars_from_character_references() {
        let out = sanitize_html("a&#1;b\u{1}c&#xFFFE;d", None);
        assert_eq!(out, "abcd");
    }

    /// Text between `<` and `>` in the output: ammonia escapes `<` in text, so these are the tags it kept.
    fn tags(s: &str) -> Vec<String> {
        s.split('<')
            .skip(1)
            .map(|t| t.split('>').next().unwrap_or("").to_ascii_lowercase())
            .collect()
    }

    proptest! {
        #[test]
        fn clean_text_output_is_xml_safe(s in any::<String>()) {
            let out = clean_text(&s);
            prop_assert!(out.chars().all(is_xml_char));
            prop_assert!(!out.contains("  "));
        }

        #[test]
        fn sanitize_never_emits_active_content(
            parts in proptest::collection::vec(prop_oneof![
                Just("<script>alert(1)</script>".to_string()),
                Just("<img src=x onerror=alert(1)>".to_string()),
                Just("<a href=\"javascript:alert(1)\">".to_string()),
                Just("<a href=\" JaVaScRiPt:x\">".to_string()),
                Just("<a href=\"/news/1\">".to_string()),
                Just("<svg><script>x</script></svg>".to_string()),
                Just("<p title=\"<script>\">".to_string()),
                Just("<object data=\"data:text/html,x\">".to_string()),
                Just("</a>".to_string()),
                Just("&#1;".to_string()),
                any::<String>(),
            ], 0..8),
            with_base in any::<bool>(),
        ) {
            let input = parts.concat();
            let b = base();
            let out = sanitize_html(&input, with_base.then_some(&b));
            prop_assert!(out.chars().all(is_xml_char));
            prop_assert!(!out.to_ascii_lowercase().contains("<script"), "{}", out);
            for tag in tags(&out) {
                prop_assert!(!tag.contains("javascript:"), "{}", out);
                prop_assert!(!tag.contains("onerror"), "{}", out);
                prop_assert!(!tag.contains("data:"), "{}", out);
            }
        }
    }
}
