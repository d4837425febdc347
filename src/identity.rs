//! What makes two feed entries the *same item* (exact dedup), and the stable ids qafila publishes.
//!
//! Within one source an entry is known by its guid, else its link, else a hash of its title and content. Across
//! sources and URLs, an article is known by its canonical URL: scheme, `www.`, default ports, fragments, a trailing
//! slash, the order of query parameters and tracking parameters (`utm_*`, `fbclid`, `ref`…) do not make another
//! article. Story-level dedup (different articles about one event) is `dedup`'s job, not this module's.
//!
//! Keys are SHA-256 based, not `DefaultHasher`, because they are stored and published and must never change
//! between Rust versions.

use sha2::{Digest, Sha256};
use url::Url;

/// Query parameters that only say where a reader came from.
const TRACKING_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "dclid",
    "msclkid",
    "yclid",
    "igshid",
    "mc_cid",
    "mc_eid",
    "ref",
    "ref_src",
    "ref_url",
    "referrer",
    "source",
    "cmpid",
    "ocid",
    "_ga",
    "_gl",
    "at_medium",
    "at_campaign",
    "xtor",
    "ito",
    "ns_mchannel",
    "ns_source",
    "ns_campaign",
    "spm",
    "share",
    "s_cid",
];

fn is_tracking(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.starts_with("utm_") || TRACKING_PARAMS.contains(&name.as_str())
}

/// The form of an article URL under which equal articles compare equal, or `None` for a non-http(s) link.
pub(crate) fn canonical_url(link: &str) -> Option<String> {
    let url = Url::parse(link.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    let mut params: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| !is_tracking(k))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    params.sort();
    let path = url.path().trim_end_matches('/');
    let mut out = format!("//{host}");
    if let Some(port) = url.port() {
        out.push_str(&format!(":{port}"));
    }
    out.push_str(path);
    if !params.is_empty() {
        let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        out.push('?');
        out.push_str(&query.join("&"));
    }
    Some(out)
}

/// The link as readers should get it: the outlet's own URL without tracking parameters or fragment noise
/// (`utm_*`, `fbclid`…); scheme, host and the other parameters untouched. Anything unparsable is returned as is.
pub(crate) fn clean_link(link: &str) -> String {
    let Ok(mut url) = Url::parse(link.trim()) else {
        return link.to_string();
    };
    if url.query().is_some() {
        let kept: Vec<(String, String)> = url
            .query_pairs()
            .filter(|(k, _)| !is_tracking(k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        if kept.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(kept);
        }
    }
    url.to_string()
}

/// 128 bits of SHA-256 as hex: short enough to index cheaply, long enough never to collide in practice.
pub(crate) fn hash_hex(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]); // so ("ab","c") and ("a","bc") differ
    }
    crate::text::hex(&hasher.finalize()[..16])
}

/// The key of an entry within its source: guid, else canonical link, else title + content.
pub(crate) fn source_key(
    guid: Option<&str>,
    link: Option<&str>,
    title: &str,
    content: Option<&str>,
) -> String {
    if let Some(guid) = guid.map(str::trim).filter(|g| !g.is_empty()) {
        return hash_hex(&["guid", guid]);
    }
    if let Some(link) = link.and_then(canonical_url) {
        return hash_hex(&["link", &link]);
    }
    hash_hex(&["text", title.trim(), content.unwrap_or("").trim()])
}

/// The key under which an article is one item across sources: its canonical URL.
pub(crate) fn url_key(link: Option<&str>) -> Option<String> {
    link.and_then(canonical_url).map(|c| hash_hex(&["url", &c]))
}

/// The published guid of a story, derived from the key of the item that started it; it never changes when
/// later reports join. It is a URN so that it is also a valid Atom id.
pub(crate) fn story_guid(first_item_key: &str) -> String {
    format!("urn:qafila:story:{}", hash_hex(&["story", first_item_key]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_scheme_www_and_slash_do_not_make_another_article() {
        let a = canonical_url(
            "https://www.example.com/news/kz-1/?utm_source=rss&utm_medium=feed&id=7#top",
        );
        let b = canonical_url("http://example.com/news/kz-1?id=7&fbclid=abc&ref=home");
        assert_eq!(a, b);
        assert_eq!(a.as_deref(), Some("//example.com/news/kz-1?id=7"));
    }

    #[test]
    fn published_links_lose_only_tracking_parameters() {
        assert_eq!(
            clean_link("http://www.e.com/a/?fbclid=1&utm_source=rss"),
            "http://www.e.com/a/"
        );
        assert_eq!(
            clean_link("https://e.com/a?id=7&utm_medium=x#top"),
            "https://e.com/a?id=7#top"
        );
        assert_eq!(clean_link("https://e.com/a?id=7"), "https://e.com/a?id=7");
        assert_eq!(clean_link("not a url"), "not a url");
    }

    #[test]
    fn other_paths_and_parameters_do() {
        assert_ne!(
            canonical_url("https://example.com/a?id=1"),
            canonical_url("https://example.com/a?id=2")
        );
        assert_ne!(
            canonical_url("https://example.com/a"),
            canonical_url("https://example.org/a")
        );
        assert_eq!(canonical_url("mailto:x@example.com"), None);
    }

    #[test]
    fn arabic_paths_compare_by_their_percent_encoding() {
        let a = canonical_url("https://example.com/أخبار/كازاخستان");
        let b = canonical_url("https://example.com/%D8%A3%D8%AE%D8%A8%D8%A7%D8%B1/%D9%83%D8%A7%D8%B2%D8%A7%D8%AE%D8%B3%D8%AA%D8%A7%D9%86/");
        assert_eq!(a, b);
    }

    #[test]
    fn source_key_prefers_guid_then_link_then_text() {
        let with_guid = source_key(Some("g1"), Some("https://e.com/1"), "t", None);
        assert_eq!(
            with_guid,
            source_key(Some("g1"), Some("https://e.com/2"), "other", None)
        );
        let by_link = source_key(None, Some("https://e.com/1?utm_source=x"), "t", None);
        assert_eq!(
            by_link,
            source_key(None, Some("https://www.e.com/1"), "changed title", None)
        );
        let by_text = source_key(None, None, "عنوان", Some("نص"));
        assert_eq!(by_text, source_key(Some("  "), None, "عنوان", Some("نص")));
        assert_ne!(by_text, source_key(None, None, "عنوان", Some("نص آخر")));
        assert_eq!(by_text.len(), 32);
    }

    #[test]
    fn story_guid_is_stable_and_a_urn() {
        let g = story_guid("abc");
        assert_eq!(g, story_guid("abc"));
        assert!(g.starts_with("urn:qafila:story:"));
        assert_eq!(
            g,
            "urn:qafila:story:".to_string() + &hash_hex(&["story", "abc"])
        );
    }
}
